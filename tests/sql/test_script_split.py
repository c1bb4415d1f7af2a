"""Splitting a script into statements: ``split_script`` and ``parse`` over whole scripts."""

from __future__ import annotations

import pytest
from parser_cases import N, base

from sqlml.sql import ast, parse, split_script


def texts(script: str) -> list[str]:
    return [chunk.text.strip() for chunk in split_script(script)]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("SELECT 1", ["SELECT 1"]),
        ("SELECT 1;", ["SELECT 1"]),
        ("SELECT 1; SELECT 2", ["SELECT 1", "SELECT 2"]),
        ("SELECT 'a;b'; SELECT 2", ["SELECT 'a;b'", "SELECT 2"]),
        ("SELECT 'it''s; here'; SELECT 2", ["SELECT 'it''s; here'", "SELECT 2"]),
        ('SELECT "a;b" FROM t; SELECT 2', ['SELECT "a;b" FROM t', "SELECT 2"]),
        ('SELECT "x"";y" FROM t; SELECT 2', ['SELECT "x"";y" FROM t', "SELECT 2"]),
        ("SELECT 1 -- a; b\n; SELECT 2", ["SELECT 1 -- a; b", "SELECT 2"]),
        ("SELECT 1 /* a;\n b; */; SELECT 2", ["SELECT 1 /* a;\n b; */", "SELECT 2"]),
        ("SELECT $$a;b$$; SELECT 2", ["SELECT $$a;b$$", "SELECT 2"]),
        ("SELECT $t$ a; $$ ;b $t$; SELECT 2", ["SELECT $t$ a; $$ ;b $t$", "SELECT 2"]),
        ("SELECT 1;;; ;\n; SELECT 2;;", ["SELECT 1", "SELECT 2"]),
        ("SELECT 1; -- only a comment\n; /* and another */ ;", ["SELECT 1"]),
        ("", []),
        ("   \n\t ", []),
        (";", []),
        ("-- nothing here\n/* at all */", []),
    ],
    ids=lambda v: repr(v)[:40] if isinstance(v, str) else None,
)
def test_split(script, expected):
    assert texts(script) == expected


def test_chunk_offsets_point_into_the_script():
    script = "SELECT 1;\n  CREATE MODEL m FROM t FUNCTION f ;\n-- c\nSHOW MODEL ALL"
    chunks = split_script(script)
    assert len(chunks) == 3
    for chunk in chunks:
        assert script[chunk.start : chunk.start + len(chunk.text)] == chunk.text
    assert [c.is_ml for c in chunks] == [False, True, True]
    assert chunks[1].tokens[0].text == "CREATE"
    assert ";" not in chunks[1].text


@pytest.mark.parametrize(
    ("sql", "is_ml"),
    [
        ("CREATE MODEL m FROM t FUNCTION f", True),
        ("create /* x */ model m", True),
        ("SHOW MODEL ALL", True),
        ("show model m", True),
        ("DROP MODEL m", True),
        ("CREATE EXTERNAL MODEL m FUNCTION f", True),
        ("CREATE EXTERNAL TABLE t (a int)", False),
        ("SHOW MODELS", False),
        ("SHOW TABLES", False),
        ("DROP TABLE model", False),
        ("CREATE TABLE model (a int)", False),
        ("SELECT 'CREATE MODEL m'", False),
        ('CREATE "MODEL" m', False),
        ("CREATE", False),
        ("-- CREATE MODEL m\nSELECT 1", False),
    ],
)
def test_ml_statement_detection(sql, is_ml):
    (chunk,) = split_script(sql)
    assert chunk.is_ml is is_ml


def test_non_ml_statements_pass_through_with_their_text():
    script = (
        "CREATE TABLE t AS SELECT 1 AS a, 'x;y' AS b;\n"
        "INSERT INTO t VALUES (2, $$p;q$$);\n"
        "SELECT * FROM t -- the end\n"
    )
    statements = parse(script)
    assert all(isinstance(s, ast.Passthrough) for s in statements)
    assert [s.sql.strip() for s in statements] == [
        "CREATE TABLE t AS SELECT 1 AS a, 'x;y' AS b",
        "INSERT INTO t VALUES (2, $$p;q$$)",
        "SELECT * FROM t -- the end",
    ]
    for s in statements:
        assert s.sql in script


def test_mixed_script_keeps_order():
    script = """
        CREATE TABLE t AS SELECT 1 AS a, 2 AS b;   -- plain SQL
        CREATE MODEL m
          FROM t
          FUNCTION f
          PREPROCESSORS '[{"ColumnSet": ["a;b"]}]';
        /* between */
        SELECT f(a) FROM t;
        SHOW MODEL m;
        DROP MODEL IF EXISTS m
    """
    statements = parse(script)
    assert [type(s).__name__ for s in statements] == [
        "Passthrough",
        "CreateModel",
        "Passthrough",
        "ShowModel",
        "DropModel",
    ]
    assert statements[0].sql.strip() == "CREATE TABLE t AS SELECT 1 AS a, 2 AS b"
    assert statements[1] == base(preprocessors='[{"ColumnSet": ["a;b"]}]')
    assert statements[2].sql.strip().endswith("SELECT f(a) FROM t")
    assert statements[3] == ast.ShowModel(N("m"))
    assert statements[4] == ast.DropModel(N("m"), if_exists=True)


def test_semicolons_inside_create_model():
    script = (
        "CREATE MODEL m FROM (SELECT a, ';' AS b, \"c;d\" FROM t /* ; */ WHERE a > 0) -- ;\n"
        'FUNCTION f PREPROCESSORS $$[{"ColumnSet": [";"]}]$$; SELECT 1'
    )
    first, second = parse(script)
    assert first == base(
        source=ast.FromQuery("SELECT a, ';' AS b, \"c;d\" FROM t /* ; */ WHERE a > 0"),
        preprocessors='[{"ColumnSet": [";"]}]',
    )
    assert second == ast.Passthrough(" SELECT 1")


def test_unterminated_quote_goes_to_the_database_whole():
    script = "CREATE MODEL m FROM t FUNCTION f; SELECT 'oops"
    assert parse(script) == [ast.Passthrough(script)]


def test_unterminated_comment_goes_to_the_database_whole():
    script = "SELECT 1; /* never closed"
    assert parse(script) == [ast.Passthrough(script)]


# -- the plain scanner (start-up without sqlglot) agrees with sqlglot's tokens ----------------

FRAGMENTS = [
    "SELECT",
    " ",
    "\n",
    "1",
    "a",
    "x_1",
    ";",
    "'",
    "''",
    "'a;b'",
    '"',
    '""',
    '"c;d"',
    "--",
    "-- c;\n",
    "/*",
    "*/",
    "/* e; */",
    "-",
    "/",
    "*",
    "$",
    "$$",
    "\\",
    "E'\\n'",
    "(",
    ")",
    "é",
    "\t",
    "//",
    "|/",
    "e'x'",
    "x'",
    "N'",
    ".",
    "CREATE",
    "MODEL",
    "model",
    "TABLE",
    "WITH",
    "copy",
    "FROM",
    "'s3://b'",
]


def _agree(script: str) -> None:
    from sqlml.sql.lexer import _plain_spans, _split_tokens, statement_complete, tokenize

    by_tokens = _split_tokens(script, "duckdb")
    plain = split_script(script)
    assert [(c.text, c.start) for c in plain] == [(c.text, c.start) for c in by_tokens]
    assert [c.is_ml for c in plain] == [c.is_ml for c in by_tokens]

    def shape(chunks):
        return [[(t.token_type, t.text, t.start, t.end) for t in c.tokens] for c in chunks]

    assert shape(plain) == shape(by_tokens)
    try:
        tokens = tokenize(script)
        expected = (
            bool(tokens) and tokens[-1].text == ";" and tokens[-1].token_type.name == ("SEMICOLON")
        )
    except Exception:  # noqa: BLE001 -- sqlglot's TokenError: an open quote or comment
        expected = False
    assert statement_complete(script) is expected, script
    if _plain_spans(script, "duckdb") is not None:
        assert all(not c.is_ml for c in plain)


@pytest.mark.parametrize(
    "script",
    [
        "SELECT 1",
        'SELECT 1; SELECT \'a;b\' -- c;\n; /* d; */ SELECT "e;""f"',
        "SELECT 1 - -1 / 2 * 3;",
        "SELECT 1; -- trailing comment",
        "SELECT 'it''s'; SELECT 2;\n",
        "SELECT 'open",
        "SELECT /* open",
        "SELECT 1 /* a /* nested */ b */; SELECT 2",
        "SELECT E'a\\'; b'; SELECT 2",
        "SELECT $1, $$a;b$$",
        "CREATE TABLE t (a int); SELECT 1",
        "SELECT 1; CREATE MODEL m FROM t FUNCTION f",
        "-- only\n/* comments */",
        "; ;",
    ],
)
def test_plain_scanner_cuts_as_sqlglot_does(script):
    _agree(script)


def test_plain_scanner_agrees_on_random_scripts():
    """Scripts drawn from fragments that matter to quoting and comments: whatever the scanner
    reads, it cuts and classifies as sqlglot's tokens do; what it cannot read goes to them."""
    import random

    rng = random.Random(20261207)
    for _ in range(20000):
        _agree("".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 14))))


# What ``sqlml db -c "SELECT 1"`` must not import (each costs 50 ms to seconds at start-up):
# sqlglot was half of it; the others belong to statements that train, import or call models.
HEAVY = ("sqlglot", "pyarrow", "numpy", "pandas", "sklearn", "lightgbm", "xgboost", "catboost",
         "statsforecast", "onnxruntime", "urllib3", "pyspark", "fsspec")  # fmt: skip


def test_plain_sql_from_the_command_line_imports_nothing_heavy(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from sqlml.cli import main\n"
        f"sys.argv = ['sqlml', {str(tmp_path / 'db.duckdb')!r}, '-c', 'SELECT 1; SELECT 2']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr
    assert "2" in done.stdout
