"""CREATE MODEL: every clause of the reference grammar, in its documented forms."""

from __future__ import annotations

import itertools
import random

import pytest
from parser_cases import (
    AUTO_CASES,
    BASE,
    EXAMPLES,
    FROM_CASES,
    FUNCTION_CASES,
    HYPERPARAMETERS_CASES,
    IAM_ROLE_CASES,
    MODEL_TYPE_CASES,
    OBJECTIVE_CASES,
    PREPROCESSORS_CASES,
    PROBLEM_TYPE_CASES,
    RETURNS_CASES,
    SAGEMAKER_CASES,
    SETTINGS_CASES,
    TARGET_CASES,
    N,
    base,
)

from sqlml.sql import ast, parse, parse_one


def cases(table):
    return pytest.mark.parametrize(
        ("sql", "expected"), [c[1:] for c in table], ids=[c[0] for c in table]
    )


def create(sql: str) -> ast.CreateModel:
    stmt = parse_one(sql)
    assert isinstance(stmt, ast.CreateModel), stmt
    return stmt


@cases(FROM_CASES)
def test_from(sql, expected):
    assert create(sql) == expected


@cases(TARGET_CASES)
def test_target(sql, expected):
    assert create(sql) == expected


@cases(FUNCTION_CASES)
def test_function(sql, expected):
    assert create(sql) == expected


@cases(RETURNS_CASES)
def test_returns(sql, expected):
    assert create(sql) == expected


@cases(SAGEMAKER_CASES)
def test_sagemaker(sql, expected):
    assert create(sql) == expected


@cases(IAM_ROLE_CASES)
def test_iam_role(sql, expected):
    assert create(sql) == expected


@cases(AUTO_CASES)
def test_auto(sql, expected):
    assert create(sql) == expected


@cases(MODEL_TYPE_CASES)
def test_model_type(sql, expected):
    assert create(sql) == expected


@cases(PROBLEM_TYPE_CASES)
def test_problem_type(sql, expected):
    assert create(sql) == expected


@cases(OBJECTIVE_CASES)
def test_objective(sql, expected):
    assert create(sql) == expected


@cases(PREPROCESSORS_CASES)
def test_preprocessors(sql, expected):
    assert create(sql) == expected


@cases(HYPERPARAMETERS_CASES)
def test_hyperparameters(sql, expected):
    assert create(sql) == expected


@cases(SETTINGS_CASES)
def test_settings(sql, expected):
    assert create(sql) == expected


@cases(EXAMPLES)
def test_reference_examples(sql, expected):
    assert create(sql) == expected


def test_f1_macro_spellings_are_one_objective():
    spellings = ["'F1_Macro'", "'F1Macro'", "'f1_macro'", "'f1macro'", "('F1_MACRO')"]
    assert {create(f"{BASE} OBJECTIVE {s}").objective for s in spellings} == {"F1Macro"}


def test_omitted_clauses_are_none():
    stmt = create(BASE)
    assert stmt.target is None
    assert stmt.function_arg_types is None
    assert stmt.returns is None
    assert stmt.sagemaker is None
    assert stmt.iam_role is None
    assert stmt.auto is None
    assert stmt.model_type is None
    assert stmt.problem_type is None
    assert stmt.objective is None
    assert stmt.preprocessors is None
    assert stmt.hyperparameters is None
    assert stmt.settings == ()
    assert stmt.settings_dict == {}


def test_hyperparameters_default_differs_from_absent():
    assert create(f"{BASE} HYPERPARAMETERS DEFAULT").hyperparameters == ()
    assert create(BASE).hyperparameters is None


def test_settings_dict_and_types():
    stmt = create(
        f"{BASE} SETTINGS (S3_BUCKET 'b', MAX_CELLS 20, MAX_RUNTIME 30, S3_GARBAGE_COLLECT off)"
    )
    assert stmt.settings_dict == {
        "S3_BUCKET": "b",
        "MAX_CELLS": 20,
        "MAX_RUNTIME": 30,
        "S3_GARBAGE_COLLECT": "OFF",
    }
    assert type(stmt.settings_dict["MAX_CELLS"]) is int


# -- clause order, keywords, identifiers, layout ----------------------------------------------

FULL_CLAUSES = [
    "FROM (SELECT a, b, c FROM t)",
    "TARGET c",
    "FUNCTION ml.predict_c",
    "IAM_ROLE default",
    "AUTO OFF",
    "MODEL_TYPE XGBOOST",
    "OBJECTIVE 'binary:logistic'",
    "PREPROCESSORS 'none'",
    "HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '50', MAX_DEPTH '3')",
    "SETTINGS (S3_BUCKET 'b', MAX_RUNTIME 60)",
]
FULL_EXPECTED = ast.CreateModel(
    name=N("m"),
    source=ast.FromQuery("SELECT a, b, c FROM t"),
    target="c",
    function=N("predict_c", "ml"),
    iam_role="default",
    auto=False,
    model_type="XGBOOST",
    objective="binary:logistic",
    preprocessors="none",
    hyperparameters=(("num_round", "50"), ("max_depth", "3")),
    settings=(("S3_BUCKET", "b"), ("MAX_RUNTIME", 60)),
)


def test_clauses_in_canonical_order():
    assert create("CREATE MODEL m " + " ".join(FULL_CLAUSES)) == FULL_EXPECTED


def test_clauses_in_any_order():
    rng = random.Random(20240607)
    for _ in range(25):
        order = FULL_CLAUSES[:]
        rng.shuffle(order)
        assert create("CREATE MODEL m " + "\n".join(order)) == FULL_EXPECTED, order


@pytest.mark.parametrize("pair", list(itertools.permutations(FULL_CLAUSES[3:7], 2)))
def test_any_two_clauses_swap(pair):
    rest = [c for c in FULL_CLAUSES if c not in pair]
    assert create("CREATE MODEL m " + " ".join([*pair, *rest])) == FULL_EXPECTED


def test_keywords_are_case_insensitive():
    upper = "CREATE MODEL m " + " ".join(FULL_CLAUSES)
    lower = (
        "create model m from (SELECT a, b, c FROM t) target c function ml.predict_c "
        "iam_role DEFAULT auto off model_type xgboost objective 'BINARY:logistic' "
        "preprocessors 'none' hyperparameters default except (num_round '50', max_depth '3') "
        "settings (s3_bucket 'b', max_runtime 60)"
    )
    mixed = (
        "Create Model m From (SELECT a, b, c FROM t) Target c Function ml.predict_c "
        "Iam_Role Default Auto Off Model_Type XGBoost Objective 'Binary:Logistic' "
        "Preprocessors 'none' HyperParameters Default Except (Num_Round '50', Max_Depth '3') "
        "Settings (S3_Bucket 'b', Max_RunTime 60)"
    )
    assert create(upper) == create(lower) == create(mixed) == FULL_EXPECTED


def test_identifier_folding():
    stmt = create("CREATE MODEL MySchema.MyModel FROM Src.Tbl TARGET Label FUNCTION Fn.Predict")
    assert stmt.name == N("mymodel", "myschema")
    assert stmt.source == ast.FromTable(N("tbl", "src"))
    assert stmt.target == "label"
    assert stmt.function == N("predict", "fn")

    quoted = create(
        'CREATE MODEL "MySchema"."MyModel" FROM "Src"."Tbl" TARGET "Label" FUNCTION "Fn"."Predict"'
    )
    assert quoted.name == N("MyModel", "MySchema")
    assert quoted.source == ast.FromTable(N("Tbl", "Src"))
    assert quoted.target == "Label"
    assert quoted.function == N("Predict", "Fn")


def test_mixed_quoting_in_one_name():
    assert create('CREATE MODEL "Ml".Churn FROM t FUNCTION f').name == N("churn", "Ml")
    assert create('CREATE MODEL ml."Churn Model" FROM t FUNCTION f').name == N("Churn Model", "ml")


def test_quoted_identifier_with_escaped_double_quote():
    stmt = create('CREATE MODEL "say ""hi""" FROM t TARGET "a""b" FUNCTION f')
    assert stmt.name == N('say "hi"')
    assert stmt.target == 'a"b'


def test_optional_trailing_semicolon():
    assert create(BASE + ";") == create(BASE) == base()
    assert create(BASE + " ;\n") == base()


def test_comments_anywhere():
    sql = """-- leading comment
    CREATE /* c1 */ MODEL -- c2
      /* c3 */ m -- c4
    FROM /* c5 */ ( /* c6 */ SELECT a, c FROM t /* c7 */ ) -- c8
    TARGET /* c9 */ c
    FUNCTION /* c10 */ ml /* c11 */ . /* c12 */ f /* c13 */ ( /* c14 */ int /* c15 */ , float )
    RETURNS /* c16 */ int -- c17
    SAGEMAKER /* c18 */ 'ep' /* c19 */ : /* c20 */ 'mm'
    IAM_ROLE /* c21 */ default
    AUTO -- c22
      OFF
    MODEL_TYPE /* c23 */ XGBOOST
    PROBLEM_TYPE ( /* c24 */ REGRESSION /* c25 */ )
    OBJECTIVE /* c26 */ 'reg:squarederror'
    PREPROCESSORS /* c27 */ 'none'
    HYPERPARAMETERS /* c28 */ DEFAULT /* c29 */ EXCEPT /* c30 */ ( NUM_ROUND /* c31 */ '5' -- c32
      , /* c33 */ ETA '0.2' )
    SETTINGS ( -- c34
      MAX_RUNTIME /* c35 */ 60 /* c36 */ , -- c37
      S3_GARBAGE_COLLECT OFF -- c38
    ) /* c39 */ ; -- c40
    """
    assert create(sql) == ast.CreateModel(
        name=N("m"),
        source=ast.FromQuery("SELECT a, c FROM t"),
        target="c",
        function=N("f", "ml"),
        function_arg_types=("INT", "FLOAT"),
        returns="INT",
        sagemaker="ep:mm",
        iam_role="default",
        auto=False,
        model_type="XGBOOST",
        problem_type="REGRESSION",
        objective="reg:squarederror",
        preprocessors="none",
        hyperparameters=(("num_round", "5"), ("eta", "0.2")),
        settings=(("MAX_RUNTIME", 60), ("S3_GARBAGE_COLLECT", "OFF")),
    )


def test_clause_keywords_inside_comments_and_strings_are_ignored():
    stmt = create(
        "CREATE MODEL m FROM (SELECT 'TARGET x' AS s, a FROM t) -- TARGET y\n"
        "FUNCTION f /* SETTINGS (MAX_RUNTIME 0) */ PREPROCESSORS 'FUNCTION g'"
    )
    assert stmt.source == ast.FromQuery("SELECT 'TARGET x' AS s, a FROM t")
    assert stmt.target is None
    assert stmt.settings == ()
    assert stmt.preprocessors == "FUNCTION g"
    assert stmt.function == N("f")


def test_multi_line_statement_and_text():
    sql = (
        "\n\n  CREATE MODEL m\n  FROM t\n\n  FUNCTION f\n  SETTINGS (\n    MAX_RUNTIME 10\n  )  ;  "
    )
    stmt = create(sql)
    assert stmt == base(settings=(("MAX_RUNTIME", 10),))
    assert (
        stmt.text
        == "CREATE MODEL m\n  FROM t\n\n  FUNCTION f\n  SETTINGS (\n    MAX_RUNTIME 10\n  )"
    )


def test_text_is_not_compared():
    a, b = create("CREATE MODEL m FROM t FUNCTION f"), create("create   model M from T function F")
    assert a.text != b.text
    assert a == b


def test_query_text_keeps_semicolon_in_string():
    stmt = create("CREATE MODEL m FROM (SELECT a, ';' AS b FROM t) FUNCTION f;")
    assert stmt.source == ast.FromQuery("SELECT a, ';' AS b FROM t")


def test_from_query_expression_parses():
    stmt = create("CREATE MODEL m FROM (SELECT a, b FROM t WHERE a > 1) FUNCTION f")
    tree = stmt.source.expression()
    assert [c.alias_or_name for c in tree.expressions] == ["a", "b"]


def test_statement_list_of_one():
    assert parse(BASE) == [base()]
