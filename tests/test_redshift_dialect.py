"""Redshift SQL in a session whose dialect is ``redshift``: DDL, functions, SUPER navigation,
notices for what is accepted and ignored, clear refusals, and DuckDB's own SQL still working."""

from __future__ import annotations

import datetime

import pytest

import sqlml
from sqlml.errors import FeatureNotSupported, InvalidSetting, SqlmlError
from sqlml.sql import dialects, redshift


@pytest.fixture
def rs(tmp_path):
    conn = sqlml.connect(tmp_path / "rs.duckdb", dialect="redshift", synchronous=True)
    yield conn
    conn.close()


def run(conn, text):
    result = list(conn.run(text))[-1]
    rows = result.arrow().to_pylist() if result.has_rows else None
    return rows, result.notices


def test_unknown_dialect_is_refused_with_the_choices():
    with pytest.raises(InvalidSetting, match="Unknown SQL dialect 'oracle': choose one of duckdb"):
        sqlml.connect(dialect="oracle")


def test_the_engines_dialect_is_the_identity():
    text = "SELECT a[0], GETDATE() FROM t"
    assert dialects.translate(text, "duckdb", "duckdb") == text


def test_cluster_attributes_are_ignored_with_one_notice(rs):
    rows, notices = run(
        rs,
        "CREATE TABLE public.sales (id INT IDENTITY(1,1), region VARCHAR(MAX) ENCODE zstd, "
        "amount FLOAT8 ENCODE az64, sold TIMESTAMP, PRIMARY KEY (id)) "
        "DISTSTYLE KEY DISTKEY(id) INTERLEAVED SORTKEY(id, region) BACKUP NO",
    )
    assert notices == [
        "ENCODE, DISTSTYLE KEY, DISTKEY, INTERLEAVED SORTKEY, BACKUP are accepted and ignored: "
        "the data is on one machine, and DuckDB chooses its own compression.",
        "PRIMARY KEY is accepted and not enforced, as in Redshift.",
    ]
    run(rs, "INSERT INTO sales (region, amount, sold) VALUES ('west', 1.5, '2024-03-01 10:00')")
    run(rs, "INSERT INTO sales (region, amount, sold) VALUES ('east', 2.5, '2024-03-02 11:30')")
    rows, _ = run(rs, "SELECT id, region FROM public.sales ORDER BY id")
    assert rows == [{"id": 1, "region": "west"}, {"id": 2, "region": "east"}]
    # The table is in public, Redshift's default schema; a primary key column stays NOT NULL.
    rows, _ = run(
        rs, "SELECT table_schema FROM information_schema.tables WHERE table_name = 'sales'"
    )
    assert rows == [{"table_schema": "public"}]
    with pytest.raises(SqlmlError, match="NOT NULL"):
        run(rs, "INSERT INTO sales (id, region) VALUES (NULL, 'x')")


def test_identity_with_seed_and_step_and_sortkey_auto(rs):
    _, notices = run(rs, "CREATE TABLE t (k BIGINT IDENTITY(10, 5), v INT) SORTKEY AUTO")
    assert notices and notices[0].startswith("SORTKEY is accepted and ignored")
    run(rs, "INSERT INTO t (v) VALUES (1), (2)")
    assert run(rs, "SELECT k FROM t ORDER BY v")[0] == [{"k": 10}, {"k": 15}]


def test_redshift_types(rs):
    run(
        rs,
        "CREATE TABLE ty (a CHAR(3), b BPCHAR, c FLOAT4, d TIMESTAMPTZ, e SUPER, f NVARCHAR(10))",
    )
    rows, _ = run(
        rs,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'ty' ORDER BY ordinal_position",
    )
    assert [r["data_type"] for r in rows] == [
        "VARCHAR",
        "VARCHAR",
        "FLOAT",
        "TIMESTAMP WITH TIME ZONE",
        "JSON",
        "VARCHAR",
    ]


@pytest.mark.parametrize("kind", ["GEOMETRY", "GEOGRAPHY"])
def test_spatial_types_are_refused_by_name(rs, kind):
    with pytest.raises(FeatureNotSupported, match=f"The {kind} type is not supported"):
        run(rs, f"CREATE TABLE g (id INT, shape {kind})")
    assert run(rs, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'g'")[0] == [
        {"count": 0}
    ]


def test_functions_of_the_tutorials(rs):
    run(rs, "CREATE TABLE f (a FLOAT8, s VARCHAR(20), ts TIMESTAMP, n INT)")
    run(rs, "INSERT INTO f VALUES (2.75, 'abcab', '2020-01-02 03:04:05', NULL)")
    rows, _ = run(
        rs,
        "SELECT NVL(n, 7) AS nvl, NVL2(n, 1, 2) AS nvl2, DECODE(s, 'abcab', 'yes', 'no') AS dec, "
        "LEN(s) AS len, CHARINDEX('c', s) AS ci, STRTOL('ff', 16) AS hex, TRUNC(a) AS ta, "
        "TRUNC(ts) AS tts, DATEADD(day, 2, ts) AS plus, DATEDIFF(hour, ts, '2020-01-03 03:04:05') "
        "AS hours, DATE_PART(dow, ts) AS dow, EXTRACT(doy FROM ts) AS doy, "
        "TO_CHAR(ts, 'YYYY-MM-DD') AS day, CONVERT_TIMEZONE('UTC', 'America/New_York', ts) AS ny, "
        "a::INT AS cast_int, OCTET_LENGTH(s) AS octets FROM f",
    )
    assert rows == [
        {
            "nvl": 7,
            "nvl2": 2,
            "dec": "yes",
            "len": 5,
            "ci": 3,
            "hex": 255,
            "ta": 2.0,
            "tts": datetime.date(2020, 1, 2),
            "plus": datetime.datetime(2020, 1, 4, 3, 4, 5),
            "hours": 24,
            "dow": 4,
            "doy": 2,
            "day": "2020-01-02",
            "ny": datetime.datetime(2020, 1, 1, 22, 4, 5),
            "cast_int": 3,
            "octets": 5,
        }
    ]
    rows, _ = run(
        rs,
        "SELECT TOP 1 LISTAGG(s, ',') WITHIN GROUP (ORDER BY s) AS l, MEDIAN(a) AS m, "
        "APPROXIMATE COUNT(DISTINCT s) AS c, GETDATE() > '2020-01-01' AS now_ok, "
        "SYSDATE > '2020-01-01' AS sys_ok FROM f",
    )
    assert rows == [{"l": "abcab", "m": 2.75, "c": 1, "now_ok": True, "sys_ok": True}]


def test_unnamed_columns_are_named_as_redshift_names_them(rs):
    run(rs, "CREATE TABLE u (x INT)")
    run(rs, "INSERT INTO u VALUES (1)")
    rows, _ = run(
        rs, "SELECT x, count(*), max(x), x + 1, CASE WHEN x > 0 THEN 1 END FROM u GROUP BY x"
    )
    assert list(rows[0]) == ["x", "count", "max", "?column?", "case"]


def test_super_json_functions(rs):
    rows, _ = run(
        rs,
        "SELECT JSON_EXTRACT_ARRAY_ELEMENT_TEXT('[10,20]', 1) AS second, "
        "IS_ARRAY(JSON_PARSE('[1]')) AS arr, IS_OBJECT(JSON_PARSE('[1]')) AS obj, "
        "JSON_EXTRACT_PATH_TEXT('{\"a\":{\"b\":1}}', 'a', 'b') AS path",
    )
    assert rows == [{"second": "20", "arr": True, "obj": False, "path": "1"}]


def test_temporary_tables_with_a_hash(rs):
    run(rs, "CREATE TABLE #staging (v INT)")
    run(rs, "INSERT INTO #staging VALUES (4)")
    assert run(rs, "SELECT v FROM #staging")[0] == [{"v": 4}]


def test_like_copies_the_columns(rs):
    run(rs, "CREATE TABLE src (a INT, b VARCHAR(MAX))")
    run(rs, "CREATE TABLE dst (LIKE src)")
    rows, _ = run(rs, "SELECT column_name FROM information_schema.columns WHERE table_name = 'dst'")
    assert [r["column_name"] for r in rows] == ["a", "b"]


def test_search_path(rs):
    run(rs, "CREATE SCHEMA sales")
    run(rs, "SET search_path TO '$user', sales, public")
    run(rs, "CREATE TABLE q (a INT)")
    assert run(rs, "SELECT table_schema FROM information_schema.tables WHERE table_name = 'q'")[
        0
    ] == [{"table_schema": "sales"}]


def test_duckdb_statements_keep_working(rs):
    run(rs, "CREATE TABLE d AS SELECT range AS r FROM range(3)")
    assert run(rs, "FROM d SELECT sum(r) AS s")[0] == [{"s": 3}]
    assert len(run(rs, "SUMMARIZE d")[0]) == 1
    assert run(rs, "PRAGMA version")[0]


def test_a_table_made_by_a_duckdb_session_is_visible(tmp_path):
    path = tmp_path / "both.duckdb"
    with sqlml.connect(path) as conn:
        conn.sql("CREATE TABLE old AS SELECT 1 AS a")
    with sqlml.connect(path, dialect="redshift") as conn:
        assert conn.execute("SELECT a FROM old").fetchall() == [(1,)]


def test_error_positions_are_not_given_for_translated_text(rs):
    with pytest.raises(SqlmlError) as raised:
        run(rs, "SELECT NVL(nowhere, 1) FROM (SELECT 1 AS a)")
    assert "nowhere" in str(raised.value)
    assert raised.value.position is None


@pytest.mark.parametrize(
    "text",
    [
        "SELECT a, b, count(*) FROM t WHERE c = 'x' GROUP BY a, b ORDER BY 3 DESC LIMIT 10",
        "SELECT * FROM t AS p, p.prediction.labels AS label AT index",
    ],
)
def test_translation_is_deterministic_and_cached(text):
    first = dialects.translation(text, "redshift", "duckdb")
    assert first == dialects.translation(text, "redshift", "duckdb")
    assert redshift.to_duckdb(text).sql == first[0]


def test_partiql_unnesting_counts_from_zero():
    out = redshift.to_duckdb(
        "SELECT label, index FROM t AS p, p.prediction.labels AS label AT index"
    )
    assert "UNNEST(p.prediction.labels) AS label" in out.sql
    assert "GENERATE_SUBSCRIPTS(p.prediction.labels, 1) - 1 AS index" in out.sql


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("hh24", "15"),
        ("HH24:MI:SS", "15:04:05"),
        ("D", "1"),  # Sunday is 1
        ("q", "1"),
        ("w", "3"),
        ("WW", "03"),
        ("YYYY-MM-DD", "2020-01-19"),
        ("Mon DD, YYYY", "Jan 19, 2020"),
        ("MONTH", "JANUARY"),
        ("DY", "SUN"),
        ('"Q"Q YYYY', "Q1 2020"),
        ("MM/DD/YYYY HH12:MI AM", "01/19/2020 03:04 PM"),
        ("YYY", "020"),
        ("100%", "100%"),
    ],
)
def test_to_char_formats(rs, fmt, expected):
    rows, _ = run(rs, f"SELECT TO_CHAR(TIMESTAMP '2020-01-19 15:04:05.123', '{fmt}') AS x")
    assert rows == [{"x": expected}]


def test_dates_are_read_in_redshifts_forms(rs):
    rows, _ = run(
        rs,
        "SELECT CAST('12/18/2011 12:25' AS DATE) AS a, '2011-12-18'::DATE AS b, "
        "CAST('12/18/2011 12:25' AS TIMESTAMP) AS c, CAST(NULL AS DATE) AS d",
    )
    assert rows == [
        {
            "a": datetime.date(2011, 12, 18),
            "b": datetime.date(2011, 12, 18),
            "c": datetime.datetime(2011, 12, 18, 12, 25),
            "d": None,
        }
    ]
    with pytest.raises(SqlmlError, match="garbage"):
        run(rs, "SELECT CAST('garbage' AS DATE)")


def test_like_on_a_timestamp_and_a_shuffled_row_number(rs):
    run(
        rs,
        "CREATE TABLE trips AS SELECT TIMESTAMP '2018-11-01' + range * INTERVAL 1 DAY AS t "
        "FROM range(60)",
    )
    rows, _ = run(rs, "SELECT count(*) AS n FROM trips WHERE t LIKE '2018-11%'")
    assert rows == [{"n": 30}]
    rows, _ = run(rs, "SELECT t, ROW_NUMBER() OVER (ORDER BY RANDOM()) AS serial FROM trips")
    serials = [r["serial"] for r in sorted(rows, key=lambda r: r["t"])]
    assert sorted(serials) == list(range(1, 61)) and serials != list(range(1, 61))
