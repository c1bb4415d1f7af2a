"""Statements that are not ML statements reach DuckDB untouched."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.errors import DatabaseError


def test_ddl_dml_and_queries(conn):
    conn.sql("CREATE TABLE t (a INTEGER, b VARCHAR)")
    conn.sql("INSERT INTO t VALUES (1, 'x'), (2, 'y')")
    assert conn.sql("SELECT sum(a) FROM t").fetchall() == [(3,)]
    assert conn.execute("SELECT b FROM t WHERE a = ?", [2]).fetchall() == [("y",)]
    assert conn.execute("SELECT a FROM t ORDER BY a").columns == ["a"]


def test_script_returns_the_last_result(conn):
    result = conn.sql("""
        -- a comment with a ; inside
        CREATE TABLE t AS SELECT 'a;b' AS s;  /* another ; */
        INSERT INTO t VALUES ($$c;d$$);
        SELECT s FROM t ORDER BY s;
    """)
    assert result.fetchall() == [("a;b",), ("c;d",)]


def test_transactions(conn):
    conn.sql("CREATE TABLE t (a INTEGER)")
    conn.sql("BEGIN TRANSACTION; INSERT INTO t VALUES (1); ROLLBACK")
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    conn.sql("BEGIN; INSERT INTO t VALUES (1); COMMIT;")
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_copy_and_file_reads(conn, tmp_path):
    csv = tmp_path / "out.csv"
    conn.sql("CREATE TABLE t AS SELECT range AS i FROM range(5)")
    conn.sql(f"COPY t TO '{csv.as_posix()}' (HEADER)")
    assert conn.execute(f"SELECT sum(i) FROM read_csv('{csv.as_posix()}')").fetchone() == (10,)
    assert conn.execute("SELECT count(*) FROM 'tests/data/penguins.parquet'").fetchone() == (344,)


def test_database_errors_are_duckdbs_own(conn):
    with pytest.raises(DatabaseError, match="nope"):
        conn.sql("SELECT * FROM nope")


def test_underlying_duckdb_connection_is_reachable(conn):
    conn.duckdb.sql("CREATE TABLE direct AS SELECT 7 AS x")
    assert conn.execute("SELECT x FROM direct").fetchall() == [(7,)]


def test_params_only_with_one_statement(conn):
    with pytest.raises(sqlml.SqlmlError, match="single statement"):
        conn.sql("SELECT ?; SELECT ?", [1])
    with pytest.raises(sqlml.SqlmlError, match="take no parameters"):
        conn.sql("SHOW MODEL ALL", [1])


def test_fetchone_walks_rows(conn):
    result = conn.execute("SELECT * FROM range(3)")
    assert [result.fetchone(), result.fetchone()] == [(0,), (1,)]
    assert result.fetchall() == [(2,)]
    assert result.fetchone() is None


def test_empty_script(conn):
    assert conn.sql("  -- nothing\n ; ;") is None
