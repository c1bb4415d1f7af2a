"""``sqlml serve`` with real clients: psycopg 3 (text and binary parameters of every common
type, NULLs, executemany's pipeline, server-side cursors, COPY, errors and transactions,
cancel), psql 15 (scripts, meta-commands, verbose errors), users and their passwords, TLS, and
hostile or vanishing clients, each against a real server process on a loopback port."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from tests.serving import PASSWORD, Served, environment, have, psql

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is in the test extra")
from psycopg.types.json import Json  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    served = Served(tmp_path_factory.mktemp("served") / "shop.duckdb")
    yield served
    served.stop()


@pytest.fixture(scope="module")
def trust_server(tmp_path_factory):
    """A server without passwords (--auth trust) and room for three clients, for the tests
    that speak the protocol by hand."""
    served = Served(
        tmp_path_factory.mktemp("trust") / "trust.duckdb",
        "--auth",
        "trust",
        "--max-connections",
        "3",
        password=None,
    )
    yield served
    served.stop()


def connect(served: Served, **kwargs):
    autocommit = kwargs.pop("autocommit", True)
    return psycopg.connect(served.dsn(**kwargs), autocommit=autocommit)


# -- psycopg ------------------------------------------------------------------------------------

VALUES = (
    7,
    2**40,
    2.5,
    decimal.Decimal("3.125"),
    "it's ünïcode",
    True,
    dt.date(2024, 2, 29),
    dt.datetime(2024, 1, 1, 12, 30, 1, 250000),
    dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC),
    b"\x00\x01\xff",
)
COLUMNS = (
    "i INTEGER, big BIGINT, f DOUBLE, n DECIMAL(12,3), s VARCHAR, b BOOLEAN, d DATE, "
    "ts TIMESTAMP, tz TIMESTAMPTZ, bl BLOB, j JSON"
)


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_psycopg_parameters_of_every_common_type_round_trip(server, binary):
    table = f"typed_{'bin' if binary else 'txt'}"
    with connect(server) as conn:
        conn.execute(f"CREATE OR REPLACE TABLE {table} ({COLUMNS})")
        row = (*VALUES, Json({"k": [1, 2]}))
        conn.execute(f"INSERT INTO {table} VALUES ({', '.join(['%s'] * 11)})", row, binary=binary)
        conn.execute(f"INSERT INTO {table} VALUES ({', '.join(['%s'] * 11)})", (None,) * 11)
        got = conn.execute(f"SELECT * FROM {table} ORDER BY i NULLS LAST", binary=binary).fetchall()
        assert got == [(*VALUES, {"k": [1, 2]}), (None,) * 11]
        # parameters in a WHERE clause, typed by the statement
        found = conn.execute(
            f"SELECT s FROM {table} WHERE i = %s AND d = %s AND b = %s", (7, VALUES[6], True)
        ).fetchall()
        assert found == [("it's ünïcode",)]


def test_result_columns_have_postgres_types(server):
    with connect(server) as conn:
        cur = conn.execute(
            "SELECT 1::SMALLINT a, 2 b, 3::BIGINT c, 1.5::REAL d, 2.5::DOUBLE e, 1.5::DECIMAL(5,2) f, "
            "'x' g, true h, DATE '2024-01-01' i, INTERVAL 1 DAY j, [1, 2] k, ['a', NULL] l, "
            "{'labels': ['a'], 'probabilities': [0.5]} m, '{\"x\": 1}'::JSON n"
        )
        names = [c.type_code for c in cur.description]
        assert names == [21, 23, 20, 700, 701, 1700, 25, 16, 1082, 1186, 1007, 1009, 114, 114]
        row = cur.fetchone()
        assert row[9] == dt.timedelta(days=1)
        assert row[10:] == (
            [1, 2],
            ["a", None],
            {"labels": ["a"], "probabilities": [0.5]},
            {"x": 1},
        )


MIXED = """
SELECT range AS id, CASE WHEN range % 7 = 0 THEN NULL ELSE (range * 37) % 1000 END AS n,
    CASE WHEN range % 5 = 0 THEN NULL ELSE range / 7.0 END AS x,
    CASE range % 4 WHEN 0 THEN 'nan'::DOUBLE WHEN 1 THEN 'inf'::DOUBLE ELSE 1e-7 * range END AS y,
    (range / 3.0)::REAL AS r, CASE WHEN range % 3 = 0 THEN NULL ELSE 'v ' || range END AS s,
    CASE WHEN range % 11 = 0 THEN '' ELSE 'ü' END AS u, range % 2 = 0 AS b,
    CASE WHEN range % 6 = 0 THEN NULL ELSE DATE '2024-01-01' + range::INTEGER END AS d,
    TIMESTAMP '2024-01-01' + INTERVAL (range) SECOND AS ts
FROM range({rows})
"""


def test_whole_columns_make_the_same_rows_as_value_by_value():
    """The DataRows assembled from whole Arrow columns are byte for byte those of each value
    encoded and framed on its own, in both formats, for slices with NULLs (and no columns)."""
    import duckdb

    from sqlml.server import protocol as P
    from sqlml.server import types as T

    table = duckdb.connect().sql(MIXED.format(rows=5000)).to_arrow_table().combine_chunks()
    types = [T.pg_type(f.type) for f in table.schema]
    for batch in table.slice(3, 4000).to_batches(max_chunksize=1500):
        for binary in (False, True):
            encode = T.binary_values if binary else T.text_values
            reference = T.binary_column if binary else T.text_column
            columns = [encode(c, t) for c, t in zip(batch.columns, types, strict=True)]
            data, ends = T.data_rows(columns, batch.num_rows)
            values = [reference(c, t) for c, t in zip(batch.columns, types, strict=True)]
            rows = [P.data_row([P.cell(v) for v in row]) for row in zip(*values, strict=True)]
            assert data == b"".join(rows)
            assert list(ends) == list(itertools.accumulate(len(r) for r in rows))
    assert T.data_rows([], 2)[0] == P.data_row([]) * 2


def test_float_text_reads_back_exactly_with_postgres_words():
    import pyarrow as pa

    from sqlml.server import types as T

    values = [0.1, 1.0, -2.5, 1e300, 5e-324, 1 / 3, 1e-7, 123456789.125, None]
    text = T.text_column(pa.array(values + [float("nan"), float("inf"), -float("inf")]), T.FLOAT8)
    assert [None if v is None else float(v) for v in text[: len(values)]] == values
    assert text[len(values) :] == [b"NaN", b"Infinity", b"-Infinity"]
    assert text[1] == b"1"  # as PostgreSQL writes 1.0
    assert T.text_column(pa.array([0.3], pa.float32()), T.FLOAT4) == [b"0.3"]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_thousands_of_mixed_rows_with_nulls_arrive_intact(server, binary):
    with connect(server) as conn:
        cur = conn.cursor(binary=binary)
        got = cur.execute(MIXED.format(rows=10_000) + " ORDER BY id").fetchall()
    assert len(got) == 10_000
    for i in (0, 1, 2, 3, 6, 11, 9999):
        row = got[i]
        assert row[0] == i
        assert row[1] == (None if i % 7 == 0 else (i * 37) % 1000)
        assert row[2] == (None if i % 5 == 0 else pytest.approx(i / 7.0, rel=1e-15))
        y = row[3]
        if i % 4 == 0:
            assert y != y
        else:
            assert y == (float("inf") if i % 4 == 1 else pytest.approx(1e-7 * i, rel=1e-15))
        assert row[4] == pytest.approx(i / 3.0, rel=1e-6)
        assert row[5] == (None if i % 3 == 0 else f"v {i}")
        assert row[6] == ("" if i % 11 == 0 else "ü")
        assert row[7] == (i % 2 == 0)
        assert row[8] == (None if i % 6 == 0 else dt.date(2024, 1, 1) + dt.timedelta(days=i))
        assert row[9] == dt.datetime(2024, 1, 1) + dt.timedelta(seconds=i)


def test_executemany_pipelines_every_row(server):
    with connect(server) as conn:
        conn.execute("CREATE OR REPLACE TABLE many (k INTEGER, v VARCHAR)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO many VALUES (%s, %s)", [(k, f"v{k}") for k in range(200)])
        assert conn.execute("SELECT count(*), sum(k) FROM many").fetchone() == (200, 19900)


def test_server_side_cursor_fetches_in_steps(server):
    with connect(server, autocommit=False) as conn:
        conn.execute("CREATE OR REPLACE TABLE steps AS SELECT range AS k FROM range(50)")
        conn.commit()
        with conn.cursor(name="stepper") as cur:
            cur.itersize = 7
            cur.execute("SELECT k FROM steps WHERE k >= %s ORDER BY k", (10,))
            assert cur.fetchmany(3) == [(10,), (11,), (12,)]
            assert [k for (k,) in cur] == list(range(13, 50))
        conn.commit()


def test_copy_to_and_from_the_client(server):
    with connect(server) as conn, conn.cursor() as cur:
        conn.execute("CREATE OR REPLACE TABLE copied (k INTEGER, s VARCHAR)")
        with cur.copy("COPY copied (k, s) FROM STDIN") as copy:
            copy.write_row((1, "tab\there"))
            copy.write_row((2, None))
        with cur.copy("COPY copied FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            copy.write(b'k,s\n3,"quoted, comma"\n4,\n5,""\n')
        rows = conn.execute("SELECT k, s FROM copied ORDER BY k").fetchall()
        assert rows == [(1, "tab\there"), (2, None), (3, "quoted, comma"), (4, None), (5, "")]
        with cur.copy("COPY copied TO STDOUT") as copy:
            text = b"".join(bytes(chunk) for chunk in copy)
        assert text.splitlines()[:2] == [b"1\ttab\\there", b"2\t\\N"]
        with cur.copy(
            "COPY (SELECT k, s FROM copied WHERE k >= 3 ORDER BY k) TO STDOUT (FORMAT csv, HEADER)"
        ) as copy:
            csv = b"".join(bytes(chunk) for chunk in copy)
        assert csv == b'k,s\n3,"quoted, comma"\n4,\n5,""\n'


def test_an_error_names_its_sqlstate_and_the_session_recovers(server):
    with connect(server) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable) as caught:
            conn.execute("SELECT * FROM no_such_table")
        assert caught.value.sqlstate == "42P01"
        assert "no_such_table" in str(caught.value)
        with pytest.raises(psycopg.errors.SyntaxError):
            conn.execute("SELEC 1")
        assert conn.execute("SELECT 41 + 1").fetchone() == (42,)


def test_transactions_commit_roll_back_and_fail(server):
    with connect(server, autocommit=False) as conn:
        conn.execute("CREATE OR REPLACE TABLE ledger (k INTEGER)")
        conn.commit()
        conn.execute("INSERT INTO ledger VALUES (1)")
        conn.rollback()
        conn.execute("INSERT INTO ledger VALUES (2)")
        conn.commit()
        assert conn.execute("SELECT k FROM ledger").fetchall() == [(2,)]
        conn.commit()
        conn.execute("INSERT INTO ledger VALUES (3)")
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT * FROM missing")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")
        conn.rollback()
        assert conn.execute("SELECT k FROM ledger").fetchall() == [(2,)]


def test_settings_drivers_ask_for_on_connect(server):
    with connect(server) as conn:
        assert conn.info.parameter_status("server_version") == "15.0 (sqlml)"
        assert conn.info.parameter_status("integer_datetimes") == "on"
        assert conn.execute("SHOW transaction isolation level").fetchone() == ("repeatable read",)
        conn.execute("SET application_name = 'tests'")
        assert conn.execute("SELECT current_setting('application_name')").fetchone() == ("tests",)
        assert conn.info.parameter_status("application_name") == "tests"
        assert conn.execute("SELECT version()").fetchone()[0].startswith("PostgreSQL 15.0 (sqlml")
        assert conn.execute("SELECT current_user").fetchone() == ("sqlml",)


def test_cancel_interrupts_a_running_query(server):
    with connect(server) as conn:
        finished = threading.Event()

        def cancel_until_finished():
            # A cancel that arrives before the query runs is ignored (as in PostgreSQL), so
            # it is repeated until the query has ended.
            while not finished.wait(0.5):
                conn.cancel_safe()

        canceller = threading.Thread(target=cancel_until_finished)
        canceller.start()
        try:
            with pytest.raises(psycopg.errors.QueryCanceled) as caught:
                conn.execute(
                    "SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b"
                )
        finally:
            finished.set()
            canceller.join()
        assert caught.value.sqlstate == "57014"
        assert conn.execute("SELECT 1").fetchone() == (1,)


# -- psql ---------------------------------------------------------------------------------------

pytestmark_psql = pytest.mark.skipif(not have("psql"), reason="psql is not installed")


@pytestmark_psql
def test_psql_runs_a_script_and_meta_commands(server, tmp_path):
    script = tmp_path / "build.sql"
    script.write_text(
        "CREATE OR REPLACE TABLE cities (id INTEGER PRIMARY KEY, name VARCHAR, pop DOUBLE);\n"
        "INSERT INTO cities VALUES (1, 'Lyon', 0.5), (2, 'Nantes', 0.3);\n"
        "SELECT name FROM cities ORDER BY id;\n"
    )
    out = psql(server, "-f", str(script))
    assert out.returncode == 0, out.stderr
    assert "INSERT 0 2" in out.stdout and "Lyon" in out.stdout
    # The server speaks Redshift by default, where a primary key is informational.
    assert "NOTICE:  PRIMARY KEY is accepted and not enforced, as in Redshift." in out.stderr
    tables = psql(server, "-c", r"\dt")
    assert tables.returncode == 0, tables.stderr
    assert "cities" in tables.stdout and "table" in tables.stdout
    described = psql(server, "-c", r"\d cities")
    assert described.returncode == 0, described.stderr
    assert 'Table "public.cities"' in described.stdout
    assert "not null" in described.stdout
    for meta in (r"\l", r"\dn", r"\du"):
        listed = psql(server, "-c", meta)
        assert listed.returncode == 0, (meta, listed.stderr)
    assert "shop" in psql(server, "-c", r"\l").stdout


@pytestmark_psql
def test_psql_shows_an_error_with_its_sqlstate(server):
    out = psql(server, stdin="\\set VERBOSITY verbose\nSELECT * FROM nowhere;\n")
    assert out.returncode == 3
    assert "ERROR:  42P01:" in out.stderr and "nowhere" in out.stderr


# -- users --------------------------------------------------------------------------------------


def test_users_are_created_logged_in_changed_and_dropped(server):
    with connect(server) as admin:
        admin.execute("CREATE USER alice PASSWORD 'alice-pw'")
        with connect(server, user="alice", password="alice-pw") as alice:
            assert alice.execute("SELECT current_user").fetchone() == ("alice",)
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
                alice.execute("CREATE USER mallory PASSWORD 'x'")
            assert "superuser" in str(caught.value)
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="GRANT CREATE MODEL"):
                alice.execute("GRANT CREATE MODEL TO alice")
        admin.execute("ALTER USER alice PASSWORD 'new-pw'")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            connect(server, user="alice", password="alice-pw")
        connect(server, user="alice", password="new-pw").close()
        admin.execute("DROP USER alice")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            connect(server, user="alice", password="new-pw")
    users = (server.database.parent / "shop.duckdb.models" / "users.json").read_text()
    assert PASSWORD not in users and "SCRAM-SHA-256$" in users


def test_wrong_password_and_unknown_user_fail_cleanly(server):
    for user, password in (("sqlml", "wrong"), ("nobody", PASSWORD)):
        with pytest.raises(psycopg.OperationalError) as caught:
            connect(server, user=user, password=password)
        assert f'password authentication failed for user "{user}"' in str(caught.value)
    with pytest.raises(psycopg.OperationalError, match='database "elsewhere" does not exist'):
        psycopg.connect(server.dsn(dbname="elsewhere"))
    with connect(server, dbname="postgres") as conn:  # tools that first connect to postgres
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_md5_authentication_when_chosen(tmp_path):
    served = Served(tmp_path / "md5.duckdb", "--auth", "md5")
    try:
        # the superuser was created before MD5 was on: its password has only a SCRAM verifier,
        # and the server asks for SCRAM (as PostgreSQL does)
        with connect(served) as admin:
            admin.execute("CREATE USER carol PASSWORD 'carol-pw'")
        users = (tmp_path / "md5.duckdb.models" / "users.json").read_text()
        assert '"md5": "md5' in users
        with connect(served, user="carol", password="carol-pw") as carol:
            assert carol.execute("SELECT current_user").fetchone() == ("carol",)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            connect(served, user="carol", password="wrong")
    finally:
        served.stop()


def test_serve_refuses_to_start_without_the_superuser_password(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "sqlml", "serve", str(tmp_path / "new.duckdb"), "--port", "0"],
        capture_output=True,
        text=True,
        env=environment(password=None),
        timeout=300,
    )
    assert out.returncode == 1
    assert "SQLML_SUPERUSER_PASSWORD" in out.stderr


# -- TLS ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    if not have("openssl"):
        pytest.skip("openssl is not installed (it makes the test certificate)")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "2", "-subj", "/CN=localhost"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    served = Served(
        folder / "secure.duckdb", "--tls-cert", str(cert), "--tls-key", str(key), "--require-tls"
    )
    yield served
    served.stop()


def test_tls_is_used_and_required(tls_server):
    with psycopg.connect(tls_server.dsn(sslmode="require"), autocommit=True) as conn:
        assert conn.pgconn.ssl_in_use
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="requires TLS"):
        psycopg.connect(tls_server.dsn(sslmode="disable"))


def test_a_server_without_tls_says_no_to_ssl(server):
    with pytest.raises(psycopg.OperationalError, match="does not support SSL"):
        psycopg.connect(server.dsn(sslmode="require"))


# -- the protocol by hand -----------------------------------------------------------------------


def _receive(sock: socket.socket) -> tuple[bytes, bytes]:
    header = _exactly(sock, 5)
    length = struct.unpack("!I", header[1:])[0]
    return header[:1], _exactly(sock, length - 4)


def _exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _logged_in(served: Served) -> socket.socket:
    sock = socket.create_connection((served.host, served.port), timeout=120)
    body = b"user\x00sqlml\x00database\x00" + served.dbname.encode() + b"\x00\x00"
    sock.sendall(struct.pack("!II", len(body) + 8, 196608) + body)
    while (kind := _receive(sock)[0]) != b"Z":
        assert kind in (b"R", b"S", b"K"), kind
    return sock


def _fatal_then_closed(sock: socket.socket) -> dict[str, str]:
    kind, body = _receive(sock)
    assert kind == b"E"
    fields = {f[:1].decode(): f[1:].decode() for f in body.split(b"\x00") if f}
    assert fields["S"] == "FATAL"
    assert sock.recv(1) == b""  # and the server closed the connection
    return fields


@pytest.mark.parametrize(
    "message",
    [
        b"Q" + struct.pack("!I", 2),  # a length shorter than the length field itself
        b"Q" + struct.pack("!I", 0x7FFFFFFF),  # 2 GB announced
        b"z" + struct.pack("!I", 4),  # no such message type
    ],
    ids=["short-length", "huge-length", "unknown-type"],
)
def test_a_malformed_message_closes_only_its_connection(trust_server, message):
    bystander = connect(trust_server, password="")
    sock = _logged_in(trust_server)
    sock.sendall(message)
    assert _fatal_then_closed(sock)["C"] == "08P01"
    sock.close()
    assert bystander.execute("SELECT 'still here'").fetchone() == ("still here",)
    bystander.close()


def test_a_bad_startup_packet_and_an_idle_client_hold_nothing(trust_server):
    idle = socket.create_connection((trust_server.host, trust_server.port), timeout=120)
    bad = socket.create_connection((trust_server.host, trust_server.port), timeout=120)
    bad.sendall(struct.pack("!I", 3))
    assert _fatal_then_closed(bad)["C"] == "08P01"
    with connect(trust_server, password="") as conn:  # the idle client does not hold the server
        assert conn.execute("SELECT 2").fetchone() == (2,)
    idle.close()
    bad.close()


def test_a_client_vanishing_mid_result_is_cleaned_up(trust_server):
    sock = _logged_in(trust_server)
    query = b"SELECT range, 'padding padding padding' FROM range(3000000)\x00"
    sock.sendall(b"Q" + struct.pack("!I", len(query) + 4) + query)
    assert _receive(sock)[0] == b"T"
    assert _receive(sock)[0] == b"D"
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # a reset, mid-result
    for _ in range(3):  # the slot is given back: three clients fit again
        with connect(trust_server, password="") as conn:
            assert conn.execute("SELECT count(*) FROM range(10)").fetchone() == (10,)


def _connect_when_there_is_room(served: Served):
    """A client of the trust server, once earlier tests' clients have left (a vanished
    client's slot is given back when the server notices it is gone)."""
    for _ in range(240):
        try:
            return connect(served, password="")
        except psycopg.OperationalError as e:
            if "too many clients" not in str(e):
                raise
            time.sleep(0.5)
    return connect(served, password="")


def test_too_many_clients_are_refused_until_one_leaves(trust_server):
    clients = [_connect_when_there_is_room(trust_server) for _ in range(3)]
    try:
        with pytest.raises(psycopg.OperationalError, match="too many clients"):
            connect(trust_server, password="")
        clients.pop().close()
        clients.append(connect(trust_server, password=""))
        assert clients[-1].execute("SELECT 3").fetchone() == (3,)
    finally:
        for client in clients:
            client.close()


def test_a_huge_query_runs_and_a_deeply_nested_one_fails_cleanly(server):
    """An 8 MB statement is read, translated and run; one nested 50,000 deep is refused with a
    SQLSTATE (not a crash of the session or the server), and the session goes on."""
    with connect(server) as conn:
        literal = "x" * (8 * 1024 * 1024)
        assert conn.execute(f"SELECT length('{literal}')").fetchone() == (len(literal),)
        nested = "SELECT " + "(" * 50_000 + "1" + ")" * 50_000
        with pytest.raises(psycopg.Error) as caught:
            conn.execute(nested)
        assert caught.value.sqlstate is not None and caught.value.sqlstate != "XX000"
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with connect(server) as other:
        assert other.execute("SELECT 2").fetchone() == (2,)
