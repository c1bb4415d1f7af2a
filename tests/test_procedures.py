"""Stored procedures (issue 21's last point): CREATE [OR REPLACE] / DROP PROCEDURE and CALL, with
the PL/pgSQL subset data-preparation procedures use, on real DuckDB files. The bike-sharing
tutorial's sp_correlation runs as the page writes it."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import sqlml
from sqlml import errors

TUTORIAL = Path(__file__).parent / "redshift_docs" / "04_regression_bike_sharing.sql"


def _tutorial_procedure() -> str:
    text = TUTORIAL.read_text(encoding="utf-8")
    start = text.index("CREATE OR REPLACE PROCEDURE sp_correlation")
    end = text.index("$$ LANGUAGE plpgsql;", start) + len("$$ LANGUAGE plpgsql")
    return text[start:end]


@pytest.fixture
def rs(tmp_path):
    conn = sqlml.connect(tmp_path / "rs.duckdb", dialect="redshift")
    yield conn
    conn.close()


def _trip_data(rows: int = 300) -> pa.Table:
    rng = np.random.default_rng(21)
    hour = rng.integers(0, 24, rows)
    temp = np.round(rng.normal(5, 8, rows))
    precip = np.round(rng.exponential(1, rows))
    holiday = rng.integers(0, 2, rows)
    count = np.maximum(0, 20 + 3 * hour + 2 * temp - 5 * holiday + rng.normal(0, 10, rows))
    start = datetime.datetime(2017, 1, 1)
    return pa.table(
        {
            "trip_time": pa.array([start + datetime.timedelta(hours=i) for i in range(rows)]),
            "trip_count": pa.array(count.astype(np.int64)),
            "trip_hour": pa.array(hour.astype(np.int32)),
            "temp_c": pa.array(temp),
            "precip_amount_mm": pa.array(precip),
            "is_holiday": pa.array(holiday.astype(np.int32)),
            "serial_number": pa.array(rng.permutation(rows).astype(np.int64) + 1),
        }
    )


def test_the_tutorials_correlation_procedure_runs_as_written(rs):
    data = _trip_data()
    rs.duckdb.register("generated_trips", data)
    rs.sql("CREATE TABLE trip_data AS SELECT * FROM generated_trips")
    rs.sql(_tutorial_procedure())
    called = rs.execute(
        "call sp_correlation('public', 'trip_data', 'trip_count', 'tmp_corr_table')"
    )
    assert called.columns == ["output_temp_table_name"]
    assert called.fetchall() == [("tmp_corr_table",)]
    result = rs.execute("SELECT * FROM tmp_corr_table")
    numeric = [n for n in data.column_names if n != "trip_time"]
    assert result.columns == numeric
    (row,) = result.fetchall()
    target = data.column("trip_count").to_numpy().astype(float)
    for name, value in zip(numeric, row, strict=True):
        assert isinstance(value, Decimal) and value.as_tuple().exponent == -2  # numeric(5,2)
        expected = np.corrcoef(target, data.column(name).to_numpy().astype(float))[0, 1]
        assert abs(float(value) - round(expected, 2)) <= 0.0100001, (name, value, expected)
    assert row[0] == Decimal("1.00")
    # a temporary table: another connection does not see it
    types = rs.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'tmp_corr_table'"
    ).fetchall()
    assert {t for (t,) in types} == {"DECIMAL(5,2)"}


def test_the_catalog_answers_with_postgresql_type_oids(rs):
    rs.sql(
        "CREATE TABLE t (b BOOLEAN, i8 BIGINT, i2 SMALLINT, i4 INTEGER, f4 REAL, "
        "f8 DOUBLE PRECISION, n NUMERIC(10,2), v VARCHAR(10))"
    )
    rows = rs.execute(
        "SELECT a.attname, a.atttypid FROM pg_namespace n JOIN pg_class c "
        "ON n.oid = c.relnamespace JOIN pg_attribute a ON c.oid = a.attrelid "
        "WHERE n.nspname = 'public' AND c.relname = 't' AND a.attnum > 0 ORDER BY a.attnum"
    ).fetchall()
    assert rows == [
        ("b", 16), ("i8", 20), ("i2", 21), ("i4", 23), ("f4", 700), ("f8", 701), ("n", 1700),
        ("v", 1043),
    ]  # fmt: skip


INOUT_PROC = """
CREATE OR REPLACE PROCEDURE shout(word IN varchar(20), times IN int, said INOUT varchar(200),
                                  length OUT int)
AS $body$
DECLARE
  n int := 0;
BEGIN
  said := coalesce(said, '') || repeat(upper(word), times);
  length = len(said);
  n := n + 1;
END;
$body$ LANGUAGE plpgsql SECURITY INVOKER;
"""


def test_inout_and_out_parameters_are_calls_one_row(rs):
    rs.sql(INOUT_PROC)
    result = rs.execute("CALL shout('ha', 2 + 1, 'oh ')")
    assert result.columns == ["said", "length"]
    assert result.fetchall() == [("oh HAHAHA", 9)]
    assert result.tag == "CALL"


def test_create_or_replace_replaces_and_create_refuses_a_second(rs):
    rs.sql(INOUT_PROC)
    rs.sql(INOUT_PROC.replace("upper(word)", "lower(word)"))
    assert rs.execute("CALL shout('HA', 1, NULL)").fetchall() == [("ha", 2)]
    with pytest.raises(errors.ProcedureAlreadyExists, match="CREATE OR REPLACE") as caught:
        rs.sql(INOUT_PROC.replace("CREATE OR REPLACE", "CREATE"))
    assert caught.value.sqlstate == "42723"


def test_procedures_persist_with_the_database(tmp_path):
    path = tmp_path / "kept.duckdb"
    with sqlml.connect(path, dialect="redshift") as first:
        first.sql(INOUT_PROC)
        with sqlml.connect(path, dialect="redshift") as second:  # another connection, open
            assert second.execute("CALL shout('a', 1, '')").fetchall() == [("A", 1)]
        assert ("sqlml", "procedures", "TABLE") not in first.engine.tables()
    with sqlml.connect(path) as reopened:  # a new process would open it so (DuckDB's dialect)
        assert reopened.execute("CALL shout('b', 2, '')").fetchall() == [("BB", 2)]
        reopened.sql("DROP PROCEDURE shout(varchar, int, varchar)")
        with pytest.raises(errors.ProcedureNotFound):
            reopened.sql("DROP PROCEDURE shout")
        reopened.sql("DROP PROCEDURE IF EXISTS shout")


def test_calls_with_wrong_arguments_name_the_parameters(rs):
    rs.sql(INOUT_PROC)
    with pytest.raises(errors.ProcedureNotFound, match=r"takes 3 arguments .*passed 2") as caught:
        rs.sql("CALL shout('a', 1)")
    assert caught.value.sqlstate == "42883"
    with pytest.raises(errors.ProcedureNotFound, match=r"argument 2 .*times int.*number"):
        rs.sql("CALL shout('a', true, '')")
    with pytest.raises(errors.SqlmlError, match=r"argument 2 .*cannot take 'many'") as caught:
        rs.sql("CALL shout('a', 'many', '')")
    assert caught.value.sqlstate == "22P02"


def test_an_unknown_procedure_is_42883_with_a_suggestion(rs):
    rs.sql(_tutorial_procedure())
    with pytest.raises(errors.ProcedureNotFound, match='Did you mean "sp_correlation"') as caught:
        rs.sql("CALL sp_corelation('public', 'trip_data', 'trip_count', 'tmp_corr_table')")
    assert caught.value.sqlstate == "42883"


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("LOOP EXIT; END LOOP;", "LOOP"),
        ("FOR i IN 1..3 LOOP NULL; END LOOP;", "FOR"),
        ("COMMIT;", "COMMIT"),
        ("NULL; EXCEPTION WHEN OTHERS THEN NULL;", "EXCEPTION"),
        ("OPEN c;", "cursors"),
    ],
)
def test_a_construct_not_supported_is_refused_at_create(rs, statement, named):
    text = f"CREATE PROCEDURE p() AS $$ BEGIN {statement} END; $$ LANGUAGE plpgsql"
    with pytest.raises(errors.FeatureNotSupported, match="not supported yet in stored") as caught:
        rs.sql(text)
    assert caught.value.sqlstate == "0A000"
    assert named in str(caught.value)
    with pytest.raises(errors.ProcedureNotFound):  # nothing was kept
        rs.sql("CALL p()")


def test_raise_exception_fails_the_call_with_its_message(rs):
    rs.sql(
        "CREATE PROCEDURE check_positive(x int) AS $$ BEGIN "
        "IF x > 0 THEN RAISE INFO 'x is %, fine (100%%)', x; "
        "ELSIF x = 0 THEN RAISE NOTICE 'zero'; "
        "ELSE RAISE EXCEPTION 'x must be positive, got %', x; END IF; END; $$ LANGUAGE plpgsql"
    )
    (result,) = list(rs.run("CALL check_positive(5)"))
    assert result.notices == ["x is 5, fine (100%)"]
    (result,) = list(rs.run("CALL check_positive(0)"))
    assert result.notices == ["zero"]
    with pytest.raises(errors.RaisedException, match="x must be positive, got -2") as caught:
        rs.sql("CALL check_positive(-2)")
    assert caught.value.sqlstate == "P0001"


def test_a_failing_statement_names_the_procedure_and_rolls_back(rs):
    rs.sql(
        "CREATE PROCEDURE build() AS $$ DECLARE v varchar(100) := 'no_such_table'; BEGIN "
        "CREATE TABLE half_done (x int); "
        "EXECUTE 'SELECT * FROM ' || v; "
        "END; $$ LANGUAGE plpgsql"
    )
    with pytest.raises(errors.DatabaseError) as caught:
        rs.sql("CALL build()")
    message = str(caught.value)
    assert caught.value.sqlstate == "42P01"
    assert "procedure public.build, line 1 at EXECUTE: SELECT * FROM no_such_table" in message
    # the CALL is one transaction: what ran before the failure is undone
    assert rs.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'"
    ).fetchall() == [(0,)]


def test_variables_start_null_and_execute_into_assigns(rs):
    rs.sql("CREATE TABLE items AS SELECT range AS n FROM range(5)")
    rs.sql(
        """CREATE PROCEDURE probe(seen INOUT varchar(50), total INOUT bigint) AS $$
        DECLARE
          never int;
          nothing bigint;
          counted bigint DEFAULT 0;
        BEGIN
          IF never IS NULL THEN seen := 'null'; ELSE seen := 'set'; END IF;
          EXECUTE 'SELECT sum(n) FROM items' INTO total;
          EXECUTE 'SELECT n FROM items WHERE n > 100' INTO nothing;
          SELECT count(*) INTO counted FROM items WHERE n < 3;
          seen := seen || '/' || coalesce(nothing::varchar, 'none') || '/' || counted;
          RETURN;
          seen := 'not reached';
        END; $$ LANGUAGE plpgsql"""
    )
    assert rs.execute("CALL probe(NULL, NULL)").fetchall() == [("null/none/3", 10)]


def test_values_are_bound_as_literals_not_spliced(rs):
    rs.sql("CREATE TABLE names (name varchar(100))")
    rs.sql("CREATE TABLE keep (x int)")
    rs.sql(
        "CREATE PROCEDURE add_name(who varchar(100)) AS $$ "
        "DECLARE copy varchar(100) = who; BEGIN "
        "INSERT INTO names VALUES (copy); INSERT INTO names SELECT who WHERE who = copy; "
        "END; $$ LANGUAGE plpgsql"
    )
    evil = "O'Brien'); DROP TABLE keep; --"
    rs.sql("CALL add_name('" + evil.replace("'", "''") + "')")
    assert rs.execute("SELECT name FROM names").fetchall() == [(evil,), (evil,)]
    assert rs.execute("SELECT count(*) FROM keep").fetchall() == [(0,)]


def test_a_served_user_calls_only_their_own_procedures(tmp_path):
    db = tmp_path / "served.duckdb"
    with sqlml.connect(db) as embedded:
        embedded.sql("CREATE USER alice PASSWORD 'x'")
        embedded.sql("CREATE USER bob PASSWORD 'x'")
    alice = sqlml.Connection(str(db), user="alice", served=True, dialect="redshift")
    bob = sqlml.Connection(str(db), user="bob", served=True, dialect="redshift")
    try:
        alice.sql(INOUT_PROC)
        assert alice.execute("CALL shout('a', 1, '')").fetchall() == [("A", 1)]
        with pytest.raises(errors.InsufficientPrivilege, match="not its owner") as caught:
            bob.sql("CALL shout('a', 1, '')")
        assert caught.value.sqlstate == "42501"
        with pytest.raises(errors.InsufficientPrivilege):
            bob.sql("DROP PROCEDURE shout")
        with pytest.raises(errors.InsufficientPrivilege, match="schema public only"):
            bob.sql("CREATE PROCEDURE main.p() AS $$ BEGIN NULL; END; $$ LANGUAGE plpgsql")
    finally:
        alice.close()
        bob.close()


def test_duckdb_sessions_keep_duckdbs_own_call(tmp_path):
    with sqlml.connect(tmp_path / "d.duckdb") as conn:
        assert conn.execute("CALL pragma_version()").fetchall()
        conn.sql(
            "CREATE PROCEDURE hello(msg INOUT varchar) AS $$ BEGIN msg := 'hi ' || msg; END; $$ LANGUAGE plpgsql"
        )
        assert conn.execute("CALL hello('you')").fetchall() == [("hi you",)]


def test_another_process_finds_and_calls_a_procedure(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "shared.duckdb"
    with sqlml.connect(path, dialect="redshift") as conn:
        conn.sql(INOUT_PROC)
    script = (
        "import sqlml\n"
        f"with sqlml.connect({str(path)!r}, dialect='redshift') as c:\n"
        "    print(c.execute(\"CALL shout('x', 3, '')\").fetchall())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.strip() == "[('XXX', 3)]"


def test_a_procedure_created_in_a_rolled_back_transaction_is_gone(rs):
    rs.sql("BEGIN")
    rs.sql("CREATE PROCEDURE gone() AS $$ BEGIN NULL; END; $$ LANGUAGE plpgsql")
    rs.sql("CALL gone()")  # inside the open transaction: it takes part, and is there
    rs.sql("ROLLBACK")
    with pytest.raises(errors.ProcedureNotFound):
        rs.sql("CALL gone()")
