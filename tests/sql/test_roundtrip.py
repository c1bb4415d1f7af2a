"""``parse_one(to_sql(s)) == s`` for every statement the parser produces."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parser_cases import ALL_VALID, N

from sqlml import settings as S
from sqlml.sql import ast, parse, parse_one, to_sql
from sqlml.sql.render import quote_ident, quote_string


@pytest.mark.parametrize("sql", [c[1] for c in ALL_VALID], ids=[c[0] for c in ALL_VALID])
def test_round_trip_of_every_case(sql):
    stmt = parse_one(sql)
    rendered = to_sql(stmt)
    again = parse_one(rendered)
    assert again == stmt
    assert to_sql(again) == rendered  # rendering is canonical: a fixed point after one pass


def test_rendering_is_canonical_clause_order():
    stmt = parse_one(
        "CREATE MODEL m SETTINGS (MAX_RUNTIME 9) PREPROCESSORS 'none' AUTO OFF "
        "FUNCTION f(int) FROM t TARGET y RETURNS int IAM_ROLE 'arn:x' "
        "HYPERPARAMETERS DEFAULT OBJECTIVE 'f1' MODEL_TYPE mlp PROBLEM_TYPE regression "
        "SAGEMAKER 'e':'m'"
    )
    assert to_sql(stmt) == (
        "CREATE MODEL m\n"
        "FROM t\n"
        "TARGET y\n"
        "FUNCTION f(INT)\n"
        "RETURNS INT\n"
        "SAGEMAKER 'e':'m'\n"
        "IAM_ROLE 'arn:x'\n"
        "AUTO OFF\n"
        "MODEL_TYPE MLP\n"
        "PROBLEM_TYPE REGRESSION\n"
        "OBJECTIVE 'F1'\n"
        "PREPROCESSORS 'none'\n"
        "HYPERPARAMETERS DEFAULT\n"
        "SETTINGS (MAX_RUNTIME 9)"
    )


@pytest.mark.parametrize(
    ("stmt", "sql"),
    [
        (ast.ShowModelAll(), "SHOW MODEL ALL"),
        (ast.ShowModel(N("m", "s")), "SHOW MODEL s.m"),
        (ast.ShowModel(N("all")), 'SHOW MODEL "all"'),
        (ast.ShowModel(N("My Model")), 'SHOW MODEL "My Model"'),
        (ast.DropModel(N("m"), if_exists=True), "DROP MODEL IF EXISTS m"),
        (ast.DropModel(N('a"b', "S")), 'DROP MODEL "S"."a""b"'),
        (ast.Passthrough("SELECT 1"), "SELECT 1"),
    ],
)
def test_render_short_statements(stmt, sql):
    assert to_sql(stmt) == sql


def test_render_quoting_of_values():
    stmt = parse_one(
        """CREATE MODEL "Mixed Case" FROM 'job''s' TARGET "Y" FUNCTION f """
        """PREPROCESSORS $$[{"a": 'b'}]$$ SETTINGS (TAGS 'a''b', S3_GARBAGE_COLLECT off)"""
    )
    assert to_sql(stmt) == (
        'CREATE MODEL "Mixed Case"\n'
        "FROM 'job''s'\n"
        'TARGET "Y"\n'
        "FUNCTION f\n"
        """PREPROCESSORS '[{"a": ''b''}]'\n"""
        "SETTINGS (TAGS 'a''b', S3_GARBAGE_COLLECT OFF)"
    )


def test_passthrough_round_trip():
    for sql in ["SELECT 1", "CREATE TABLE t (a int)", "SELECT 'x;y', $$;$$"]:
        assert parse_one(to_sql(ast.Passthrough(sql))) == ast.Passthrough(sql)


def test_script_of_rendered_statements():
    statements = [parse_one(c[1]) for c in ALL_VALID]
    script = ";\n".join(to_sql(s) for s in statements) + ";"
    assert parse(script) == statements


# -- property tests --------------------------------------------------------------------------

# Lower-case words the grammar gives a meaning somewhere: a name spelt like one must survive.
KEYWORDISH = [
    "all",
    "if",
    "exists",
    "default",
    "except",
    "on",
    "off",
    "null",
    "true",
    "select",
    "from",
    "target",
    "function",
    "returns",
    "settings",
    "model",
    "auto",
    "order",
    "double",
    "character",
    "_",
    "e",
    "x",
    "n",
    "b",
]
TRICKY = "aZ_9 \"'$;.-/*()\\\n\té"

identifiers = st.one_of(
    st.sampled_from(KEYWORDISH),
    st.from_regex(r"[a-z_][a-z0-9_$]{0,10}", fullmatch=True),
    st.text(alphabet=TRICKY, min_size=1, max_size=10),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=8,
    ),
)
names = st.builds(N, identifiers, st.none() | identifiers)
strings = st.one_of(
    st.text(alphabet=TRICKY, max_size=20),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.sampled_from(["", "'", "''", "ON", "off", "$$", "a:b", ":", "ep:", "default", "none"]),
)
TYPES = [
    "INT",
    "VARCHAR",
    "FLOAT",
    "FLOAT8",
    "SUPER",
    "BOOLEAN",
    "DECIMAL(10,6)",
    "NUMERIC(5, 2)",
    "DOUBLE PRECISION",
    "CHARACTER VARYING(10)",
    "VARCHAR(256)",
    "TIMESTAMP WITH TIME ZONE",
]
QUERIES = [
    "SELECT a, b FROM t",
    "select 1 -- note\n + 2 AS x, 'it''s)' AS y",
    "SELECT * FROM (SELECT a FROM t) /* ) */ AS s WHERE a IN (1, 2)",
    'SELECT $$)$$ AS a, "b)" FROM t',
    "(SELECT a, b FROM t)",
]
SETTING_VALUES = {
    "S3_BUCKET": strings,
    "TAGS": strings,
    "S3_GARBAGE_COLLECT": st.sampled_from(["ON", "OFF"]),
    "MAX_CELLS": st.integers(1, 2**62),
    "MAX_RUNTIME": st.integers(1, 604_800),
}
settings_tuples = st.fixed_dictionaries({}, optional=SETTING_VALUES).flatmap(
    lambda d: st.permutations(list(d.items())).map(tuple)
)
hyperparameters = st.none() | st.lists(
    st.tuples(identifiers, strings), max_size=4, unique_by=lambda kv: kv[0]
).map(tuple)
sources = st.one_of(
    st.builds(ast.FromTable, names),
    st.builds(ast.FromJob, strings),
    st.builds(ast.FromQuery, st.sampled_from(QUERIES)),
)


def maybe(strategy):
    return st.none() | strategy


@st.composite
def create_models(draw) -> ast.CreateModel:
    model_type = draw(maybe(st.sampled_from(S.MODEL_TYPES)))
    source = draw(maybe(sources))
    sagemaker = draw(maybe(strings))
    if source is None and sagemaker is None:
        sagemaker = "endpoint"
    function = draw(maybe(names)) if model_type == "FORECAST" else draw(names)
    return ast.CreateModel(
        name=draw(names),
        source=source,
        function=function,
        target=draw(maybe(identifiers)),
        function_arg_types=draw(
            maybe(st.lists(st.sampled_from(TYPES), min_size=1, max_size=4).map(tuple))
        )
        if function is not None
        else None,
        returns=draw(maybe(st.sampled_from(TYPES))),
        sagemaker=sagemaker,
        iam_role=draw(maybe(st.just("default") | strings)),
        auto=draw(maybe(st.booleans())),
        model_type=model_type,
        problem_type=draw(maybe(st.sampled_from(list(S.PROBLEM_TYPES)))),
        objective=draw(maybe(st.sampled_from(S.ALL_OBJECTIVES))),
        preprocessors=draw(maybe(strings)),
        hyperparameters=draw(hyperparameters),
        settings=draw(settings_tuples),
    )


PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(create_models())
def test_create_model_round_trip(stmt):
    assert parse_one(to_sql(stmt)) == stmt


@PROPERTY
@given(names, st.booleans())
def test_show_and_drop_round_trip(name, if_exists):
    for stmt in (ast.ShowModel(name), ast.DropModel(name, if_exists=if_exists)):
        assert parse_one(to_sql(stmt)) == stmt


@PROPERTY
@given(identifiers)
def test_quote_ident_round_trip(ident):
    rendered = quote_ident(ident)
    assert parse_one(f"SHOW MODEL s.{rendered}") == ast.ShowModel(N(ident, "s"))
    if ident != ident.lower() or not ident.isascii():
        assert rendered.startswith('"')


@PROPERTY
@given(strings)
def test_quote_string_round_trip(value):
    sql = (
        f"CREATE MODEL m FROM {quote_string(value)} FUNCTION f PREPROCESSORS {quote_string(value)}"
    )
    stmt = parse_one(sql)
    assert stmt.source == ast.FromJob(value)
    assert stmt.preprocessors == value
