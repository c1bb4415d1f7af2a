"""Parse errors: the error class, the message and the position of the offending token."""

from __future__ import annotations

import re

import pytest

from sqlml.errors import FeatureNotSupported, InvalidSetting, SqlmlError, SqlSyntaxError
from sqlml.sql import ast, parse, parse_one

B = "CREATE MODEL m FROM t FUNCTION f"


def syntax_error(sql: str) -> SqlSyntaxError:
    with pytest.raises(SqlSyntaxError) as info:
        parse(sql)
    return info.value


def where(err: SqlSyntaxError) -> tuple[int, int, str | None]:
    return err.line, err.col, err.token


# (sql, start of the message, line, col, token)
SYNTAX_ERRORS = [
    # required clauses; the position is just past the last token
    (
        "CREATE MODEL m FROM t TARGET y IAM_ROLE default",
        "CREATE MODEL needs a FUNCTION clause",
        1,
        48,
        None,
    ),
    ("CREATE MODEL m TARGET y FUNCTION f", "CREATE MODEL needs a FROM clause", 1, 35, None),
    ("CREATE MODEL m\nFROM t\nTARGET y", "CREATE MODEL needs a FUNCTION clause", 3, 9, None),
    ("CREATE MODEL", "Expected a model name after CREATE MODEL", 1, 13, None),
    ("CREATE MODEL 'm' FROM t FUNCTION f", "Expected a model name after CREATE MODEL", 1, 14, "m"),
    # misspelt or unknown clauses
    (
        "CREATE MODEL m\nFROM t\nTARGTE y\nFUNCTION f",
        "Unknown CREATE MODEL clause. Did you mean TARGET?",
        3,
        1,
        "TARGTE",
    ),
    (
        "CREATE MODEL m FROM t FUNCTOIN f",
        "Unknown CREATE MODEL clause. Did you mean FUNCTION?",
        1,
        23,
        "FUNCTOIN",
    ),
    (
        f"{B} SETTING (MAX_RUNTIME 5)",
        "Unknown CREATE MODEL clause. Did you mean SETTINGS?",
        1,
        34,
        "SETTING",
    ),
    (
        f"{B} iam_roles default",
        "Unknown CREATE MODEL clause. Did you mean IAM_ROLE?",
        1,
        34,
        "iam_roles",
    ),
    (
        f"{B} HYPERPARAMETER DEFAULT",
        "Unknown CREATE MODEL clause. Did you mean HYPERPARAMETERS?",
        1,
        34,
        "HYPERPARAMETER",
    ),
    (
        f"{B} OBJECTIVES 'F1'",
        "Unknown CREATE MODEL clause. Did you mean OBJECTIVE?",
        1,
        34,
        "OBJECTIVES",
    ),
    # trailing garbage
    (f"{B} xyzzy", "Unknown CREATE MODEL clause.", 1, 34, "xyzzy"),
    (f"{B} 42", "Unknown CREATE MODEL clause.", 1, 34, "42"),
    (f"{B} SETTINGS (MAX_RUNTIME 5) extra", "Unknown CREATE MODEL clause.", 1, 59, "extra"),
    ("CREATE MODEL m FROM (select 1)) FUNCTION f", "Unknown CREATE MODEL clause.", 1, 31, ")"),
    # closed vocabularies
    (
        f"{B} PROBLEM_TYPE REGRESION",
        "Unknown PROBLEM_TYPE. Did you mean REGRESSION? Valid problem types: REGRESSION, "
        "BINARY_CLASSIFICATION, MULTICLASS_CLASSIFICATION",
        1,
        47,
        "REGRESION",
    ),
    (
        f"{B} PROBLEM_TYPE (CLASSIFICATION)",
        "Unknown PROBLEM_TYPE. Did you mean BINARY_CLASSIFICATION?",
        1,
        48,
        "CLASSIFICATION",
    ),
    (
        f"{B} PROBLEM_TYPE 'REGRESSION'",
        "Unknown PROBLEM_TYPE. Valid problem types:",
        1,
        47,
        "REGRESSION",
    ),
    (f"{B} PROBLEM_TYPE (REGRESSION", "Expected ')'", 1, 58, None),
    (
        f"{B} MODEL_TYPE RANDOM_FOREST",
        "Unknown MODEL_TYPE. Valid model types: XGBOOST, MLP, LINEAR_LEARNER, KMEANS, FORECAST",
        1,
        45,
        "RANDOM_FOREST",
    ),
    (f"{B} MODEL_TYPE xgbost", "Unknown MODEL_TYPE. Did you mean XGBOOST?", 1, 45, "xgbost"),
    (
        "CREATE MODEL m\n  FROM t\n  FUNCTION f MODEL_TYPE kmean\n  AUTO OFF",
        "Unknown MODEL_TYPE. Did you mean KMEANS?",
        3,
        25,
        "kmean",
    ),
    (
        f"{B} OBJECTIVE 'rank:pairwise'",
        "Unknown OBJECTIVE 'rank:pairwise'. Valid objectives: MSE, "
        "Accuracy, F1, F1Macro, AUC, reg:squarederror",
        1,
        44,
        "rank:pairwise",
    ),
    (f"{B} OBJECTIVE 'F2'", "Unknown OBJECTIVE 'F2'. Valid objectives:", 1, 44, "F2"),
    (
        f"{B} OBJECTIVE ('binary:logistc')",
        "Unknown OBJECTIVE 'binary:logistc'. Did you mean ",
        1,
        45,
        "binary:logistc",
    ),
    (
        f"{B} OBJECTIVE F1",
        "Expected the objective, e.g. OBJECTIVE 'F1' as a quoted string",
        1,
        44,
        "F1",
    ),
    (f"{B} AUTO MAYBE", "Expected ON or OFF", 1, 39, "MAYBE"),
    (f"{B} AUTO", "Expected ON or OFF", 1, 38, None),
    # duplicated clauses (keyword case does not matter)
    (f"{B} FROM u", "The FROM clause is given twice", 1, 34, "FROM"),
    (
        "CREATE MODEL m FROM t target a FUNCTION f TARGET b",
        "The TARGET clause is given twice",
        1,
        43,
        "TARGET",
    ),
    (f"{B} AUTO ON auto off", "The AUTO clause is given twice", 1, 42, "auto"),
    (
        f"{B}\nSETTINGS (MAX_RUNTIME 5)\nSETTINGS (MAX_CELLS 5)",
        "The SETTINGS clause is given twice",
        3,
        1,
        "SETTINGS",
    ),
    # parentheses
    (
        "CREATE MODEL m FROM (SELECT a, (b FROM t FUNCTION f",
        "Missing ')' to close the query opened here",
        1,
        21,
        "(",
    ),
    (
        "CREATE MODEL m\nFROM (\n  SELECT a FROM t\nFUNCTION f",
        "Missing ')' to close the query opened here",
        2,
        6,
        "(",
    ),
    (f"{B}(int", "Missing ')' to close the argument type list opened here", 1, 33, "("),
    ("CREATE MODEL m FROM () FUNCTION f", "Empty query in parentheses", 1, 21, "("),
    ("CREATE MODEL m FROM ( /* nothing */ ) FUNCTION f", "Empty query in parentheses", 1, 21, "("),
    (f"{B}()", "Empty argument type list in parentheses", 1, 33, "("),
    (f"{B}(int,)", "Expected a data type", 1, 38, ")"),
    (f"{B}(int,,float)", "Expected a data type", 1, 38, ","),
    (f"{B}(,int)", "Expected a data type", 1, 34, ","),
    # values of the other clauses
    (f"{B} TARGET", "Expected the target column after TARGET", 1, 40, None),
    (f"{B} RETURNS", "Expected a data type after RETURNS", 1, 41, None),
    (f"{B} RETURNS 'int'", "Expected a data type after RETURNS", 1, 42, "int"),
    (f"{B} SAGEMAKER ep", "Expected the SageMaker endpoint name as a quoted string", 1, 44, "ep"),
    (f"{B} SAGEMAKER 'ep':", "Expected the model name on the multi-model endpoint", 1, 49, None),
    (
        f"{B} IAM_ROLE arn",
        "Expected IAM_ROLE default or an IAM role ARN as a quoted string",
        1,
        43,
        "arn",
    ),
    (
        f"{B} PREPROCESSORS none",
        "Expected the PREPROCESSORS JSON (or 'none') as a quoted string",
        1,
        48,
        "none",
    ),
    (f"{B} HYPERPARAMETERS EXCEPT (K '1')", "Expected DEFAULT", 1, 50, "EXCEPT"),
    (f"{B} HYPERPARAMETERS DEFAULT EXCEPT K '1'", "Expected '(' after DEFAULT EXCEPT", 1, 65, "K"),
    (
        f"{B} HYPERPARAMETERS DEFAULT EXCEPT (K)",
        "Expected the value of hyperparameter K as a quoted string",
        1,
        67,
        ")",
    ),
    (
        f"{B} HYPERPARAMETERS DEFAULT EXCEPT (K '1', k '2')",
        "Hyperparameter K is given twice",
        1,
        73,
        "k",
    ),
    (
        f"{B} HYPERPARAMETERS DEFAULT EXCEPT (K '1'",
        "Expected ',' or ')' in the hyperparameter list",
        1,
        71,
        None,
    ),
    (f"{B} SETTINGS MAX_RUNTIME 5", "Expected '(' after SETTINGS", 1, 43, "MAX_RUNTIME"),
    (f"{B} SETTINGS (MAX_RUNTIME 5", "Expected ',' or ')' in SETTINGS", 1, 57, None),
    (
        f"{B} SETTINGS (MAX_RUNTIME 5 MAX_CELLS 6)",
        "Expected ',' or ')' in SETTINGS",
        1,
        58,
        "MAX_CELLS",
    ),
    (f"{B} SETTINGS ()", "Expected a setting name", 1, 44, ")"),
    (f"{B} SETTINGS (MAX_RUNTIME)", "Expected a value for setting MAX_RUNTIME", 1, 55, ")"),
    (f"{B} SETTINGS (MAX_RUNTIME -)", "Expected a value for setting MAX_RUNTIME", 1, 57, ")"),
    # the probability-metrics doc example (reference §12.4): IAM_ROLE {default}, no closing ')'
    (
        "CREATE MODEL customer_churn_model FROM customer_activity "
        "PROBLEM_TYPE binary_classification "
        "TARGET churn FUNCTION predict_churn IAM_ROLE {default} SETTINGS (S3_BUCKET 'b'",
        "Expected IAM_ROLE default or an IAM role ARN as a quoted string",
        1,
        138,
        "{",
    ),
    (
        "CREATE MODEL m FROM t FUNCTION f IAM_ROLE default SETTINGS (S3_BUCKET 'b'",
        "Expected ',' or ')' in SETTINGS",
        1,
        74,
        None,
    ),
    ("EVALUATE MODEL m", "EVALUATE MODEL needs FROM table or FROM (query)", 1, 17, None),
    ("EVALUATE MODEL m WITH t", "EVALUATE MODEL needs FROM table", 1, 18, "WITH"),
    ("EVALUATE MODEL m FROM 'job'", "EVALUATE MODEL reads FROM a table or a (query)", 1, 28, None),
    ("EVALUATE MODEL m FROM t x", "Unexpected token after the end of the statement", 1, 25, "x"),
]


@pytest.mark.parametrize(("sql", "message", "line", "col", "token"), SYNTAX_ERRORS)
def test_syntax_errors(sql, message, line, col, token):
    err = syntax_error(sql)
    assert err.bare_message.startswith(message), err.bare_message
    assert where(err) == (line, col, token)


def test_syntax_error_str_carries_the_position():
    err = syntax_error("CREATE MODEL m\nFROM t\nTARGTE y\nFUNCTION f")
    assert str(err) == (
        "Unknown CREATE MODEL clause. Did you mean TARGET? (line 3, column 1 near 'TARGTE')"
    )
    assert err.sqlstate == "42601"
    assert isinstance(err, SqlmlError)


@pytest.mark.parametrize(
    ("written", "suggested"),
    [("'binary:logistc'", "binary:logistic"), ("'Acuracy'", "Accuracy"), ("'F1_Macr'", "F1Macro")],
)
def test_objective_did_you_mean(written, suggested):
    err = syntax_error(f"{B} OBJECTIVE {written}")
    # The suggestion is matched case-insensitively, as objectives are.
    assert f"Did you mean {suggested}?".upper() in err.bare_message.upper()


def test_missing_function_names_the_clause():
    err = syntax_error("CREATE MODEL m FROM t TARGET y")
    assert "FUNCTION" in err.bare_message
    assert err.token is None


def test_error_on_line_3_of_a_script():
    err = syntax_error("SELECT 1;\nSELECT 2;\nCREATE MODEL m FROM t FUNCTION f AUTO MAYBE;")
    assert where(err) == (3, 39, "MAYBE")


def test_error_in_second_statement_after_multi_line_first():
    script = (
        "CREATE MODEL a\n  FROM t\n  FUNCTION fa;\n"
        "-- a comment line\n"
        "CREATE MODEL b FROM t FUNCTION fb\n    PROBLEM_TYPE CLUSTERING;"
    )
    err = syntax_error(script)
    assert where(err) == (6, 18, "CLUSTERING")


def test_tabs_and_crlf_positions():
    err = syntax_error("CREATE MODEL m\r\n\tFROM t\r\n\tFUNCTION f AUTO MAYBE")
    assert where(err) == (3, 18, "MAYBE")


# -- SETTINGS values: InvalidSetting, with the position in the message -----------------------

S = f"{B} SETTINGS ("

INVALID_SETTINGS = [
    # unknown keys
    (f"{S}MAX_RUNTIM 10)", "Unknown setting 'MAX_RUNTIM'. Did you mean MAX_RUNTIME?", 44),
    (f"{S}s3_buckets 'b')", "Unknown setting 'S3_BUCKETS'. Did you mean S3_BUCKET?", 44),
    (f"{S}MAX_RUNTIME 5, max_cell 10)", "Unknown setting 'MAX_CELL'. Did you mean MAX_CELLS?", 59),
    (f"{S}FOO 1)", "Unknown setting 'FOO'. Valid settings: S3_BUCKET, TAGS", 44),
    # out of range: names the setting, the range and the value
    (
        f"{S}MAX_RUNTIME 0)",
        "The 'MAX_RUNTIME' setting must be an integer in [1, 604800]. Got 0 instead.",
        56,
    ),
    (
        f"{S}MAX_RUNTIME -5)",
        "The 'MAX_RUNTIME' setting must be an integer in [1, 604800]. Got -5 instead.",
        56,
    ),
    (
        f"{S}max_runtime 604801)",
        "The 'MAX_RUNTIME' setting must be an integer in [1, 604800]. Got 604801 instead.",
        56,
    ),
    (
        f"{S}MAX_CELLS 0)",
        "The 'MAX_CELLS' setting must be an integer in [1, 4611686018427387904]. Got 0 instead.",
        54,
    ),
    (
        f"{S}MAX_CELLS {2**62 + 1})",
        "The 'MAX_CELLS' setting must be an integer in [1, 4611686018427387904]. "
        f"Got {2**62 + 1} instead.",
        54,
    ),
    # wrong type
    (
        f"{S}MAX_RUNTIME '5400')",
        "The 'MAX_RUNTIME' setting must be an integer in [1, 604800]. Got '5400' instead.",
        56,
    ),
    (
        f"{S}MAX_RUNTIME 1.5)",
        "The 'MAX_RUNTIME' setting must be an integer in [1, 604800]. Got 1.5 instead.",
        56,
    ),
    (
        f"{S}MAX_CELLS 1e6)",
        "The 'MAX_CELLS' setting must be an integer in [1, 4611686018427387904]. "
        "Got 1000000.0 instead.",
        54,
    ),
    (
        f"{S}MAX_RUNTIME ON)",
        "The 'MAX_RUNTIME' setting must be an integer in [1, 604800]. Got 'ON' instead.",
        56,
    ),
    (
        f"{S}S3_GARBAGE_COLLECT maybe)",
        "The 'S3_GARBAGE_COLLECT' setting must be ON or OFF. Got 'maybe' instead.",
        63,
    ),
    (
        f"{S}S3_GARBAGE_COLLECT 1)",
        "The 'S3_GARBAGE_COLLECT' setting must be ON or OFF. Got 1 instead.",
        63,
    ),
    (f"{S}S3_BUCKET 5)", "The 'S3_BUCKET' setting must be a quoted string. Got 5 instead.", 54),
    (f"{S}TAGS 1.5)", "The 'TAGS' setting must be a quoted string. Got 1.5 instead.", 49),
    # duplicates, whatever the case of the key
    (f"{S}MAX_RUNTIME 5, max_runtime 6)", "Setting MAX_RUNTIME is given twice", 59),
    (f"{S}S3_BUCKET 'a', TAGS 't', s3_bucket 'b')", "Setting S3_BUCKET is given twice", 69),
]


@pytest.mark.parametrize(("sql", "message", "col"), INVALID_SETTINGS)
def test_invalid_settings(sql, message, col):
    with pytest.raises(InvalidSetting) as info:
        parse_one(sql)
    text = str(info.value)
    assert text.startswith(message), text
    assert text.endswith(f"(line 1, column {col})"), text
    assert info.value.sqlstate == "22023"


def test_invalid_setting_on_a_later_line():
    sql = f"{B}\nSETTINGS (\n  S3_BUCKET 'b',\n  MAX_RUNTIME 0\n)"
    with pytest.raises(InvalidSetting, match=r"Got 0 instead\. \(line 4, column 15\)$"):
        parse_one(sql)


# -- FeatureNotSupported ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        ("KMS_KEY_ID", "'kms_string'", "the local model store is not encrypted"),
    ],
)
def test_unsupported_settings(setting, value, reason):
    sql = f"{B} SETTINGS (S3_BUCKET 'b', {setting} {value})"
    with pytest.raises(FeatureNotSupported) as info:
        parse_one(sql)
    text = str(info.value)
    assert text.startswith(f"SETTINGS {setting.upper()} is not supported yet: {reason}"), text
    assert text.endswith("(line 1, column 59)")
    assert info.value.sqlstate == "0A000"


def test_forecast_example_parses():
    sql = (
        "CREATE MODEL forecast_sales_demand FROM sales TARGET quantity IAM_ROLE default AUTO ON "
        "MODEL_TYPE FORECAST SETTINGS (S3_BUCKET 'b', HORIZON 5, FREQUENCY 'D', "
        "PERCENTILES '0.25,0.50,0.75,0.90,mean')"
    )
    stmt = parse_one(sql)
    assert stmt.settings_dict["HORIZON"] == 5 and stmt.settings_dict["FREQUENCY"] == "D"


def test_horizon_must_be_an_integer():
    with pytest.raises(InvalidSetting, match="'HORIZON' setting must be an integer"):
        parse_one(f"{B} SETTINGS (S3_BUCKET 'b', horizon 'not even an int')")


def test_create_external_model_parses_as_written():
    stmt = parse_one(
        "CREATE EXTERNAL MODEL llm_claude FUNCTION llm_claude_func IAM_ROLE default "
        "MODEL_TYPE BEDROCK SETTINGS (MODEL_ID 'anthropic.claude-v2:1', PROMPT 'Summarize:');"
    )
    assert stmt == ast.CreateExternalModel(
        name=ast.Name("llm_claude"),
        function=ast.Name("llm_claude_func"),
        model_type="BEDROCK",
        iam_role="default",
        settings=(("MODEL_ID", "anthropic.claude-v2:1"), ("PROMPT", "Summarize:")),
    )


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("create external model m", "CREATE EXTERNAL MODEL needs a FUNCTION clause"),
        ("CREATE EXTERNAL MODEL m FUNCTION f(varchar)", "takes no declared types"),
        ("CREATE EXTERNAL MODEL m FUNCTION f MODEL_TYPE BEDRCK", "Did you mean BEDROCK?"),
        ("CREATE EXTERNAL MODEL m FUNCTION f TARGET x", "Unknown CREATE EXTERNAL MODEL clause"),
        ("CREATE EXTERNAL MODEL m FUNCTION f FUNCTION g", "The FUNCTION clause is given twice"),
    ],
)
def test_create_external_model_errors(sql, message):
    with pytest.raises(SqlSyntaxError, match=re.escape(message)):
        parse(sql)
