"""``sqlml serve`` with the drivers that speak the protocol their own way: asyncpg (binary
format, prepared statements, its type introspection), pgjdbc (a small Java program compiled
here: prepared statements, DatabaseMetaData, setFetchSize), and a model trained and called
through the server."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.serving import PASSWORD, Served, have, psql

JDBC_JAR = Path("/usr/share/java/postgresql.jar")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # DuckDB's own SQL: these tests cover the wire encoding of every DuckDB type (BLOB
    # literals, HUGEINT, lists...), which the Redshift dialect does not have.
    served = Served(tmp_path_factory.mktemp("clients") / "clients.duckdb", "--dialect", "duckdb")
    yield served
    served.stop()


# -- asyncpg ------------------------------------------------------------------------------------


def _asyncpg(server: Served, work):
    asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is in the test extra")

    async def run():
        conn = await asyncpg.connect(
            host=server.host,
            port=server.port,
            user="sqlml",
            password=PASSWORD,
            database=server.dbname,
            ssl=False,
            timeout=60,
        )
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_asyncpg_binary_values_of_every_common_type(server):
    async def work(conn):
        return await conn.fetchrow(
            "SELECT 1::SMALLINT a, 2 b, 3::BIGINT c, 1.5::REAL d, 2.5::DOUBLE e, "
            "1.25::DECIMAL(10,2) f, 'x' g, true h, DATE '2024-01-01' i, "
            "TIMESTAMP '2024-01-01 01:02:03.5' j, TIMESTAMPTZ '2024-01-01 00:00:00+00' k, "
            "INTERVAL 1 DAY l, '\\xAB'::BLOB m, [1, 2] n, ['a', NULL] o, {'p': 1} p, NULL::INTEGER q"
        )

    row = _asyncpg(server, work)
    assert tuple(row) == (
        1, 2, 3, 1.5, 2.5, decimal.Decimal("1.25"), "x", True, dt.date(2024, 1, 1),
        dt.datetime(2024, 1, 1, 1, 2, 3, 500000), dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        dt.timedelta(days=1), b"\xab", [1, 2], ["a", None], '{"p":1}', None,
    )  # fmt: skip


def test_asyncpg_prepared_statements_and_thousands_of_rows(server):
    async def work(conn):
        await conn.execute(
            "CREATE OR REPLACE TABLE numbers AS "
            "SELECT range AS i, range * 0.5 AS f, 'row ' || range AS s FROM range(5000)"
        )
        rows = await conn.fetch("SELECT * FROM numbers ORDER BY i")
        stmt = await conn.prepare("SELECT i, s FROM numbers WHERE i < $1 AND s LIKE $2 ORDER BY i")
        small, named = await stmt.fetch(10, "row %"), await stmt.fetch(3, "row 1%")
        await conn.executemany(
            "INSERT INTO numbers VALUES ($1, $2, $3)", [(-1, 0.0, "a"), (-2, 1.0, "b")]
        )
        count = await conn.fetchval("SELECT count(*) FROM numbers")
        async with conn.transaction():
            await conn.execute("DELETE FROM numbers WHERE i < 0")
        return rows, small, named, count, await conn.fetchval("SELECT count(*) FROM numbers")

    rows, small, named, count, after = _asyncpg(server, work)
    assert len(rows) == 5000 and tuple(rows[-1]) == (4999, decimal.Decimal("2499.5"), "row 4999")
    assert [r["i"] for r in small] == list(range(10))
    assert [tuple(r) for r in named] == [(1, "row 1")]
    assert (count, after) == (5002, 5000)


def test_asyncpg_errors_carry_the_sqlstate(server):
    asyncpg = pytest.importorskip("asyncpg")

    async def work(conn):
        with pytest.raises(asyncpg.exceptions.UndefinedTableError) as caught:
            await conn.fetch("SELECT * FROM nowhere")
        return caught.value.sqlstate, await conn.fetchval("SELECT 5")

    assert _asyncpg(server, work) == ("42P01", 5)


# -- pgjdbc -------------------------------------------------------------------------------------

JAVA = r"""
import java.sql.*;

public class Probe {
  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/" + args[1] + "?sslmode=disable";
    try (Connection c = DriverManager.getConnection(url, "sqlml", args[2])) {
      try (Statement s = c.createStatement()) {
        s.execute("CREATE OR REPLACE TABLE jt (id INTEGER PRIMARY KEY, name VARCHAR, price DOUBLE, day DATE)");
      }
      try (PreparedStatement p = c.prepareStatement("INSERT INTO jt VALUES (?, ?, ?, ?)")) {
        for (int i = 0; i < 20; i++) {
          p.setInt(1, i);
          p.setString(2, "n" + i);
          p.setDouble(3, i * 1.5);
          p.setDate(4, Date.valueOf("2024-01-0" + (1 + i % 9)));
          p.executeUpdate();
        }
      }
      try (PreparedStatement p = c.prepareStatement("SELECT id, name, price, day FROM jt WHERE id >= ? ORDER BY id")) {
        p.setInt(1, 18);
        try (ResultSet r = p.executeQuery()) {
          while (r.next()) System.out.println("row " + r.getInt(1) + " " + r.getString(2) + " " + r.getDouble(3) + " " + r.getDate(4));
        }
      }
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.setFetchSize(5);
        try (ResultSet r = s.executeQuery("SELECT id FROM jt ORDER BY id")) {
          int n = 0;
          while (r.next()) n++;
          System.out.println("fetched " + n);
        }
      }
      c.commit();
      c.setAutoCommit(true);
      DatabaseMetaData md = c.getMetaData();
      System.out.println("product " + md.getDatabaseProductName() + " " + md.getDatabaseProductVersion());
      try (ResultSet r = md.getSchemas()) { while (r.next()) System.out.println("schema " + r.getString("TABLE_SCHEM")); }
      try (ResultSet r = md.getTables(null, null, "%", new String[] {"TABLE"})) {
        while (r.next()) System.out.println("table " + r.getString("TABLE_SCHEM") + "." + r.getString("TABLE_NAME"));
      }
      try (ResultSet r = md.getColumns(null, null, "jt", "%")) {
        while (r.next()) System.out.println("column " + r.getString("COLUMN_NAME") + " " + r.getInt("DATA_TYPE"));
      }
      try (ResultSet r = md.getPrimaryKeys(null, null, "jt")) { while (r.next()) System.out.println("key " + r.getString("COLUMN_NAME")); }
      try (ResultSet r = md.getTypeInfo()) { int n = 0; while (r.next()) n++; System.out.println("types " + (n > 20)); }
      try (Statement s = c.createStatement()) {
        s.executeQuery("SELECT * FROM nowhere");
      } catch (SQLException e) {
        System.out.println("error " + e.getSQLState());
      }
    }
  }
}
"""


def test_jdbc_prepared_statements_metadata_and_fetch_size(server, tmp_path):
    if not (have("javac") and have("java") and JDBC_JAR.exists()):
        pytest.skip(
            f"needs javac, java and pgjdbc at {JDBC_JAR} (apt-get install libpostgresql-jdbc-java)"
        )
    (tmp_path / "Probe.java").write_text(JAVA)
    subprocess.run(
        ["javac", "-cp", str(JDBC_JAR), "Probe.java"], cwd=tmp_path, check=True, timeout=300
    )
    out = subprocess.run(
        [
            "java",
            "-cp",
            f"{JDBC_JAR}:{tmp_path}",
            "Probe",
            str(server.port),
            server.dbname,
            PASSWORD,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:3] == ["row 18 n18 27.0 2024-01-01", "row 19 n19 28.5 2024-01-02", "fetched 20"]
    assert "product PostgreSQL 15.0 (sqlml)" in lines
    assert "schema main" in lines and "table main.jt" in lines
    assert [line for line in lines if line.startswith("column ")] == [
        "column id 4", "column name 12", "column price 8", "column day 91",
    ]  # fmt: skip
    assert "key id" in lines and "types true" in lines and "error 42P01" in lines


# -- a model, trained and called through the server ---------------------------------------------


@pytest.mark.slow
def test_a_model_is_trained_and_predicts_through_the_server(server):
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE penguins AS SELECT * FROM read_parquet(%s)",
            ((DATA / "penguins.parquet").as_posix(),),
        )
        notices = []
        conn.add_notice_handler(lambda diagnostic: notices.append(diagnostic.message_primary))
        created = conn.execute(
            "CREATE MODEL peng FROM (SELECT species, island, bill_length_mm, sex FROM penguins) "
            "TARGET species FUNCTION predict_species SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
        )
        assert created.statusmessage == "CREATE MODEL"
        assert any("queued the training job" in n for n in notices)
        state = None
        for _ in range(1200):  # until the trainer is done (bounded; nothing is timed)
            state = conn.execute(
                "SELECT life_cycle FROM stv_ml_model_info WHERE model_name = 'peng'"
            ).fetchone()[0]
            if state in ("READY", "FAILED"):
                break
            time.sleep(0.5)
        assert state == "READY"
        label = conn.execute("SELECT predict_species('Biscoe', 47.5, 'MALE')").fetchone()[0]
        assert label == "Gentoo"
        probabilities = conn.execute(
            "SELECT predict_species_probabilities(island, bill_length_mm, sex) FROM penguins "
            "WHERE bill_length_mm = %s LIMIT 1",
            (decimal.Decimal("47.5"),),
        ).fetchone()[0]
        assert set(probabilities) == {"labels", "probabilities"}
        assert abs(sum(probabilities["probabilities"]) - 1) < 1e-6


def _cancel_until(conn, finished) -> None:
    # A cancel that arrives before the statement runs is ignored (as in PostgreSQL): repeat it.
    while not finished.wait(0.5):
        conn.cancel_safe()


def _canceled(conn, statement: str):
    import threading

    psycopg = pytest.importorskip("psycopg")
    finished = threading.Event()
    canceller = threading.Thread(target=_cancel_until, args=(conn, finished))
    canceller.start()
    try:
        with pytest.raises(psycopg.errors.QueryCanceled) as caught:
            conn.execute(statement)
    finally:
        finished.set()
        canceller.join()
    return caught.value


@pytest.mark.slow
def test_a_synchronous_session_waits_for_its_model_with_progress(server):
    """SET sqlml.synchronous = on: CREATE MODEL returns when the model is READY, its row saying
    so, with the progress sent as NOTICEs meanwhile; a bad value is refused."""
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(
            "CREATE OR REPLACE TABLE penguins_sync AS SELECT * FROM read_parquet(%s)",
            ((DATA / "penguins.parquet").as_posix(),),
        )
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="on or off"):
            conn.execute("SET sqlml.synchronous = sometimes")
        conn.execute("SET sqlml.synchronous = on")
        assert conn.execute("SHOW sqlml.synchronous").fetchone() == ("on",)
        notices = []
        conn.add_notice_handler(lambda diagnostic: notices.append(diagnostic.message_primary))
        row = conn.execute(
            "CREATE MODEL peng_sync FROM (SELECT species, island, bill_length_mm FROM "
            "penguins_sync) TARGET species FUNCTION predict_sync "
            "SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
        ).fetchone()
        assert row[1] == "READY" and row[2] == "predict_sync" and row[4] is not None
        assert any(n.startswith("main.peng_sync: QUEUED") or "TRAINING" in n for n in notices)
        assert notices[-1] == "main.peng_sync: READY"
        assert not any("queued the training job" in n for n in notices)
        # The function exists at once, in this session.
        assert conn.execute("SELECT predict_sync('Biscoe', 47.5)").fetchone()[0] == "Gentoo"
        conn.execute("RESET sqlml.synchronous")
        assert conn.execute("SHOW sqlml.synchronous").fetchone() == ("off",)
    if have("psql"):  # psql's \df lists the model's functions with their types, once each
        listed = psql(server, "-c", r"\df predict_sync*")
        assert listed.returncode == 0, listed.stderr
        rows = [line for line in listed.stdout.splitlines() if "predict_sync" in line]
        assert len(rows) == 3, listed.stdout
        cells = [cell.strip() for cell in rows[0].split("|")]
        assert cells == [
            "main", "predict_sync", "character varying",
            "island character varying, bill_length_mm double precision", "func",
        ]  # fmt: skip
        assert "predict_sync_probabilities | json" in listed.stdout
        detailed = psql(server, "-c", r"\df+ predict_sync")
        assert detailed.returncode == 0 and "predict_sync" in detailed.stdout, detailed.stderr


@pytest.mark.slow
def test_cancel_stops_the_wait_not_the_training_and_an_export_leaves_nothing(server):
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(
            "CREATE OR REPLACE TABLE penguins_cancel AS SELECT * FROM read_parquet(%s)",
            ((DATA / "penguins.parquet").as_posix(),),
        )
        conn.execute("SET sqlml.synchronous = on")
        error = _canceled(
            conn,
            "CREATE MODEL peng_wait FROM (SELECT species, island, bill_length_mm FROM "
            "penguins_cancel) TARGET species FUNCTION predict_wait SETTINGS (MAX_RUNTIME 600)",
        )
        assert error.sqlstate == "57014"
        assert "goes on training" in error.diag.message_primary
        state = conn.execute(
            "SELECT life_cycle FROM stv_ml_model_info WHERE model_name = 'peng_wait'"
        ).fetchone()[0]
        assert state in ("QUEUED", "TRAINING", "READY")
        conn.execute("DROP MODEL peng_wait")
        # Cancelled while the FROM query is read for training: the statement fails and leaves
        # no model, job or function behind.
        error = _canceled(
            conn,
            "CREATE MODEL never FROM (SELECT a.range % 3 AS y, a.range + b.range AS x "
            "FROM range(100000000) a, range(100000000) b) TARGET y FUNCTION predict_never",
        )
        assert error.sqlstate == "57014"
        assert (
            conn.execute(
                "SELECT count(*) FROM stv_ml_model_info WHERE model_name = 'never'"
            ).fetchone()[0]
            == 0
        )
        assert conn.execute("SELECT 1").fetchone() == (1,)
