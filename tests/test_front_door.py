"""The front door: one result per statement with its command tag, every error a SqlmlError with
a SQLSTATE and what the engine said that helps."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import sqlml
from sqlml.errors import DatabaseError, SqlmlError

WAVE1 = Path(__file__).parent / "fixtures" / "packages" / "wave1"


@pytest.fixture
def db(tmp_path):
    with sqlml.connect(tmp_path / "front.duckdb") as conn:
        yield conn


def test_each_statement_of_a_script_gives_its_tag_and_rows(db):
    script = """
        CREATE TABLE t (a INTEGER PRIMARY KEY, b VARCHAR);
        INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, NULL);
        SELECT * FROM t ORDER BY a;
        UPDATE t SET b = 'z' WHERE a > 1;
        DELETE FROM t WHERE a = 3;
        CREATE TABLE u AS SELECT * FROM t;
        BEGIN; COMMIT;
        CREATE OR REPLACE TEMP VIEW v AS SELECT 1 AS one;
        DROP VIEW v;
        SHOW MODEL ALL;
    """
    seen = []
    for result in db.run(script):
        table = result.arrow()
        seen.append((result.tag, None if table is None else table.num_rows))
    assert seen == [
        ("CREATE TABLE", None),
        ("INSERT 0 3", None),
        ("SELECT 3", 3),
        ("UPDATE 2", None),
        ("DELETE 1", None),
        ("SELECT 2", None),
        ("BEGIN", None),
        ("COMMIT", None),
        ("CREATE VIEW", None),
        ("DROP VIEW", None),
        ("SHOW MODEL", 0),
    ]


def test_rows_stream_as_arrow_batches_with_their_schema(db):
    (result,) = db.run("SELECT range AS n, range::VARCHAR AS s FROM range(5000)")
    reader = result.reader()
    assert reader.schema == pa.schema([("n", pa.int64()), ("s", pa.string())])
    assert sum(batch.num_rows for batch in reader) == 5000
    assert result.tag == "SELECT 5000"


def test_parameters_reach_the_engine(db):
    db.sql("CREATE TABLE t AS SELECT range AS n FROM range(10)")
    assert db.execute("SELECT count(*) FROM t WHERE n > ?", [6]).fetchall() == [(3,)]
    assert db.execute("INSERT INTO t VALUES (?)", [42]).tag == "INSERT 0 1"
    with pytest.raises(SqlmlError, match="Parameters can only be given with a single statement"):
        list(db.run("SELECT 1; SELECT 2", [1]))


@pytest.mark.parametrize(
    ("statement", "sqlstate", "says"),
    [
        ("SELECT * FROM missing_table", "42P01", "missing_table does not exist"),
        ("SELECT * FROM tabel", "42P01", 'Did you mean "table1"'),
        ("SELECT nope FROM table1", "42703", 'Candidate bindings: "a"'),
        ("SELEC 1", "42601", 'syntax error at or near "SELEC"'),
        ("SELECT no_such_function(1)", "42883", "no_such_function does not exist"),
        ("INSERT INTO table1 VALUES (1)", "23505", "Duplicate key"),
        ("INSERT INTO table1 VALUES (5), (5)", "23505", "duplicate key"),
        ("INSERT INTO table1 VALUES (NULL)", "23502", "NOT NULL constraint"),
        ("SELECT CAST('x' AS INTEGER)", "22P02", "Could not convert string 'x'"),
        ("SELECT * FROM missing_schema.t", "42P01", "missing_schema"),
        ("CREATE TABLE table1 (a INTEGER)", "42P07", "already exists"),
    ],
)
def test_engine_errors_carry_postgresql_sqlstates(db, statement, sqlstate, says):
    db.sql("CREATE TABLE table1 (a INTEGER PRIMARY KEY)")
    db.sql("INSERT INTO table1 VALUES (1)")
    with pytest.raises(DatabaseError, match=says) as raised:
        db.execute(statement)
    assert raised.value.sqlstate == sqlstate
    assert isinstance(raised.value, SqlmlError)
    assert not str(raised.value).startswith(("Catalog Error", "Binder Error", "Parser Error"))


def test_suggestions_are_the_hint(db):
    db.sql("CREATE TABLE table1 (a INTEGER)")
    with pytest.raises(DatabaseError) as raised:
        db.execute("SELECT * FROM tabel1")
    assert raised.value.hint == 'Did you mean "table1"?'
    with pytest.raises(DatabaseError) as raised:
        db.execute("SELECT 1 +")
    assert raised.value.hint is None
    # A misspelt first word: the statement it is close to.
    with pytest.raises(DatabaseError) as raised:
        db.execute("SELEC 1")
    assert raised.value.hint == 'Did you mean "SELECT"?'
    assert raised.value.sqlstate == "42601"


def test_a_syntax_error_points_at_its_position(db):
    with pytest.raises(DatabaseError) as raised:
        db.execute("SELECT 1,\n  2 FRM t")
    assert raised.value.sqlstate == "42601"
    # "FRM" reads as an alias of 2: the error is at "t", the 19th character.
    assert raised.value.position == len("SELECT 1,\n  2 FRM ") + 1
    long = "SELECT " + "1, " * 100 + "1 FRM t"  # DuckDB shows an excerpt of this line
    with pytest.raises(DatabaseError) as raised:
        db.execute(long)
    assert raised.value.position == long.index(" t") + 2
    script = "SELECT 1;\nSELECT 2 FRM t"
    with pytest.raises(DatabaseError) as raised:
        db.execute(script)
    assert raised.value.position == script.index(" t") + 2  # counted from the script's start


def test_errors_met_while_rows_are_read_are_translated(db):
    db.sql(
        "CREATE TABLE s AS SELECT CASE WHEN range < 3000 THEN '1' ELSE 'x' END AS v FROM range(5000)"
    )
    (result,) = db.run("SELECT CAST(v AS INTEGER) FROM s")
    with pytest.raises(DatabaseError, match="Could not convert") as raised:
        result.arrow()
    assert raised.value.sqlstate == "22P02"
    assert db.execute("SELECT count(*) FROM s").fetchall() == [(5000,)]  # the connection is free


def test_an_unread_result_is_closed_before_the_next_statement(db):
    results = db.run("SELECT * FROM range(100000); SELECT 42")
    first = next(results)
    assert first.has_rows  # not read
    second = next(results)
    assert second.arrow().to_pylist() == [{"42": 42}]


def test_a_half_read_result_is_closed_before_the_next_statement(db):
    results = db.run("SELECT * FROM range(1000000); SELECT 42")
    first = next(results)
    assert first.reader().read_next_batch().num_rows > 0
    assert next(results).arrow().to_pylist() == [{"42": 42}]
    assert db.execute("SELECT 1").fetchall() == [(1,)]


def test_sql_and_execute_keep_their_embedded_shapes(db):
    relation = db.sql("SELECT 1 AS a UNION ALL SELECT 2")
    assert relation.fetchall() == [(1,), (2,)]  # a DuckDB relation
    assert db.sql("CREATE TABLE w (a INTEGER)") is None
    result = db.execute("SELECT 7 AS seven")
    assert result.columns == ["seven"] and result.fetchone() == (7,) and result.tag == "SELECT 1"
    assert db.execute("SHOW MODEL ALL").columns[:2] == ["Schema Name", "Model Name"]


def test_an_unknown_engine_is_named(tmp_path):
    with pytest.raises(SqlmlError, match="Unknown engine 'oracle'; sqlml runs on duckdb") as e:
        sqlml.connect(tmp_path / "x.duckdb", engine="oracle")
    assert e.value.sqlstate == "22023"


def test_pivot_and_other_row_statements_keep_their_rows(db):
    db.sql("CREATE TABLE p AS SELECT range % 3 AS b, range AS a FROM range(9)")
    result = db.execute("PIVOT p ON b USING sum(a)")
    assert [float(v) for v in result.fetchone()] == [9.0, 12.0, 15.0]
    assert result.tag == "SELECT 1"
    assert db.execute("INSERT INTO p VALUES (1, 2) RETURNING a").fetchall() == [(2,)]


def test_bad_parameters_are_named(db):
    with pytest.raises(SqlmlError, match="parameters cannot be used") as raised:
        db.execute("SELECT ?", 5)
    assert raised.value.sqlstate == "22023"


def _copy_package(store: Path, name: str, **changes) -> None:
    import json
    import shutil

    target = store / f"main.{name}"
    shutil.copytree(WAVE1 / f"main.{name}", target)
    manifest = json.loads((target / "model.json").read_text())
    (target / "model.json").write_text(json.dumps({**manifest, **changes}))


def test_a_failed_transaction_can_be_rolled_back_while_models_change(tmp_path):
    with sqlml.connect(tmp_path / "t.duckdb", model_store=tmp_path / "models") as conn:
        conn.sql("CREATE TABLE t (a INTEGER PRIMARY KEY)")
        conn.sql("BEGIN")
        with pytest.raises(DatabaseError):
            conn.execute("INSERT INTO t VALUES (1), (1)")
        _copy_package(tmp_path / "models", "seg")  # a model appears meanwhile
        with pytest.raises(DatabaseError) as raised:
            conn.execute("SELECT 1")
        assert raised.value.sqlstate == "25P02"
        assert conn.execute("ROLLBACK").tag == "ROLLBACK"
        assert conn.execute("SELECT f_seg(40.0, 200, 4000)").fetchall() == [(0,)]


def test_a_model_of_an_unknown_kind_does_not_block_the_others(tmp_path):
    store = tmp_path / "models"
    _copy_package(store, "seg")
    _copy_package(store, "mass", kind="forecast_from_the_future")
    with sqlml.connect(tmp_path / "t.duckdb", model_store=store) as conn:
        assert conn.execute("SELECT f_seg(40.0, 200, 4000)").fetchall() == [(0,)]
        assert [r[1] for r in conn.execute("SHOW MODEL ALL").fetchall()] == ["mass", "seg"]
        with pytest.raises(SqlmlError, match="forecast_from_the_future"):
            conn.execute("SHOW MODEL mass")
        with pytest.raises(SqlmlError, match="f_mass already|already the prediction"):
            conn.execute("CREATE MODEL other FROM (SELECT 1 AS x, 2 AS y) TARGET y FUNCTION f_mass")
        conn.sql("DROP MODEL mass")
        assert [r[1] for r in conn.execute("SHOW MODEL ALL").fetchall()] == ["seg"]
