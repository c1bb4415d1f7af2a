"""BYOM remote (SAGEMAKER / ENDPOINT): models served elsewhere, called through a real HTTP
server on loopback (tests/http_stub.py) in each request shape, with failures injected."""

from __future__ import annotations

import socket

import pytest
from http_stub import Stub, row_value

import sqlml

ROWS = 1000


@pytest.fixture(scope="module")
def stub():
    server = Stub()
    yield server
    server.close()


@pytest.fixture
def db(stub, tmp_path):
    stub.reset()
    conn = sqlml.connect(tmp_path / "remote.duckdb")
    conn.sql(
        f"CREATE TABLE t AS SELECT i, i::VARCHAR || 'x' AS s FROM range({ROWS}) r(i) "
        "UNION ALL SELECT NULL, NULL"
    )
    yield conn
    conn.close()


def create(db, stub, name="m", fn="f", *, fmt="CSV", types="int, varchar", returns="float8",
           settings="", path=None):  # fmt: skip
    path = path or ("/v2/models/m/infer" if fmt == "KSERVE" else "/invocations")
    extra = f", {settings}" if settings else ""
    db.sql(
        f"CREATE MODEL {name} FUNCTION {fn}({types}) RETURNS {returns} SAGEMAKER 'my-endpoint' "
        f"IAM_ROLE default SETTINGS (ENDPOINT '{stub.url}{path}', FORMAT '{fmt}'{extra})"
    )


def expected_sum() -> float:
    return sum(row_value([i, f"{i}x"]) for i in range(ROWS))


def show(db, name="m") -> dict:
    return dict(db.execute(f"SHOW MODEL {name}").fetchall())


def refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("fmt", ["CSV", "JSONLINES", "JSON", "KSERVE"])
def test_each_request_shape(db, stub, fmt):
    create(db, stub, fmt=fmt, settings="MAX_BATCH_ROWS 100")
    total, count = db.execute("SELECT sum(f(i, s)), count(*) FROM t").fetchone()
    assert (total, count) == (expected_sum(), ROWS + 1)
    assert stub.requests >= 11  # 1001 rows in batches of at most 100
    assert db.execute("SELECT f(NULL, NULL), f(2, 'abc')").fetchall() == [(0.0, 5.0)]


def test_ready_at_once_and_shown(db, stub):
    create(db, stub, settings="MAX_BATCH_ROWS 10, MAX_CONCURRENCY 3, TIMEOUT 9")
    rows = show(db)
    assert rows["Model State"] == "READY"
    assert rows["Inference Type"] == "Remote"
    assert rows["Endpoint"] == "my-endpoint"
    assert rows["Endpoint URL"] == f"{stub.url}/invocations"
    assert rows["Function Parameter Types"] == "INTEGER VARCHAR"
    assert rows["Function Return Type"] == "DOUBLE"
    assert (rows["Max Batch Rows"], rows["Max Concurrency"], rows["Timeout"]) == ("10", "3", "9 s")
    assert "TRAINING DATA:" not in rows and "Max Runtime" not in rows
    assert stub.requests == 0  # creating it calls nothing
    assert db.execute("SHOW MODEL ALL").fetchall() == [("main", "m", "READY", "f")]


def test_nulls_are_empty_csv_fields(db, stub):
    create(db, stub)
    assert db.execute("SELECT f(NULL, 'ab'), f(3, NULL)").fetchone() == (2.0, 3.0)
    assert b",ab\n" in stub.bodies[0]


def test_batches_go_out_concurrently(db, stub):
    stub.latency = 0.3
    try:
        create(db, stub, settings="MAX_BATCH_ROWS 100, MAX_CONCURRENCY 4")
        assert db.execute("SELECT sum(f(i, s)) FROM t").fetchone()[0] == expected_sum()
    finally:
        stub.latency = 0.0
    assert 1 < stub.max_in_flight <= 4


@pytest.mark.parametrize(
    ("returns", "expected"),
    [
        ("varchar(10)", "5.0"),
        ("decimal(10,2)", 5),
        ("bigint", 5),
        ("super", "5.0"),
    ],
)
def test_return_types(db, stub, returns, expected):
    create(db, stub, returns=returns)
    value = db.execute("SELECT f(2, 'abc')").fetchone()[0]
    assert value == expected or float(value) == float(expected)


def test_a_second_connection_and_process_see_it(db, stub, tmp_path):
    create(db, stub)
    other = sqlml.connect(tmp_path / "remote.duckdb")
    try:
        assert other.execute("SELECT f(1, 'a')").fetchone() == (2.0,)
    finally:
        other.close()


def test_drop_removes_the_function(db, stub):
    create(db, stub)
    db.sql("DROP MODEL m")
    with pytest.raises(sqlml.ModelNotFound, match="was dropped"):
        db.execute("SELECT f(1, 'a')")


# -- failures: each a clear error naming the endpoint, with a SQLSTATE ------------------------


def test_429_then_success_backs_off(db, stub):
    create(db, stub)
    stub.fail_first, stub.retry_after = [429, 503], "0"
    assert db.execute("SELECT f(1, 'a')").fetchone() == (2.0,)
    assert stub.requests == 3


def test_500_forever_fails_the_statement(db, stub):
    create(db, stub)
    stub.status = 500
    with pytest.raises(sqlml.RemoteEndpointError) as info:
        db.execute("SELECT sum(f(i, s)) FROM t")
    message = str(info.value)
    assert info.value.sqlstate == "38000"
    assert f"Remote model main.m: endpoint {stub.url}/invocations answered HTTP 500" in message
    assert "after 5 attempts" in message and "injected failure" in message


def test_client_error_is_not_retried(db, stub):
    create(db, stub)
    stub.status = 400
    with pytest.raises(sqlml.RemoteEndpointError, match="answered HTTP 400"):
        db.execute("SELECT f(1, 'a')")
    assert stub.requests == 1


@pytest.mark.parametrize("fmt", ["JSON", "KSERVE", "JSONLINES"])
def test_garbage_answer(db, stub, fmt):
    create(db, stub, fmt=fmt)
    stub.garbage = True
    with pytest.raises(sqlml.RemoteEndpointError, match="cannot be read as") as info:
        db.execute("SELECT f(1, 'a')")
    assert stub.url in str(info.value) and "<html>" in str(info.value)


def test_garbage_csv_answer_is_not_a_number(db, stub):
    create(db, stub)
    stub.garbage = True
    with pytest.raises(sqlml.RemoteEndpointError, match="is not DOUBLE"):
        db.execute("SELECT f(1, 'a')")


def test_one_value_too_few(db, stub):
    create(db, stub)
    stub.wrong_count = True
    with pytest.raises(sqlml.RemoteEndpointError, match="answered 9 values for a batch of 10"):
        db.execute("SELECT f(i, s) FROM t LIMIT 10").fetchall()


def test_timeout(db, stub):
    create(db, stub, settings="TIMEOUT 1")
    stub.hang = 3
    with pytest.raises(
        sqlml.RemoteEndpointTimeout, match="did not answer within TIMEOUT 1 s"
    ) as info:
        db.execute("SELECT f(1, 'a')")
    assert info.value.sqlstate == "57014"


def test_timeout_mid_statement(db, stub):
    create(db, stub, settings="TIMEOUT 1, MAX_BATCH_ROWS 100, MAX_CONCURRENCY 1")
    stub.hang, stub.hang_from = 3, 5  # four batches answer, the fifth hangs
    with pytest.raises(sqlml.RemoteEndpointTimeout, match="did not answer within TIMEOUT 1 s"):
        db.execute("SELECT f(i, s) FROM t").fetchall()
    assert stub.requests >= 5  # (DuckDB may run the scan in more than one thread)


def test_connection_refused(db):
    port = refused_port()
    db.sql(
        "CREATE MODEL m FUNCTION f(int) RETURNS int SAGEMAKER 'ep' "
        f"SETTINGS (ENDPOINT 'http://127.0.0.1:{port}/invocations')"
    )
    with pytest.raises(sqlml.RemoteEndpointUnreachable) as info:
        db.execute("SELECT f(1)")
    assert info.value.sqlstate == "08001"
    assert f"endpoint http://127.0.0.1:{port}/invocations cannot be reached" in str(info.value)


# -- statements refused: nothing left behind -------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "error", "match"),
    [
        (
            "CREATE MODEL m FUNCTION f(int) RETURNS int SAGEMAKER 'ep' IAM_ROLE default",
            sqlml.FeatureNotSupported,
            "calling SageMaker endpoint 'ep' needs AWS and is not supported yet; give the URL",
        ),
        (
            "CREATE MODEL m FROM t FUNCTION f(int) RETURNS int SAGEMAKER 'ep' "
            "SETTINGS (ENDPOINT 'http://x/y')",
            sqlml.InvalidSetting,
            "takes no FROM",
        ),
        (
            "CREATE MODEL m FUNCTION f RETURNS int SAGEMAKER 'ep' SETTINGS (ENDPOINT 'http://x/')",
            sqlml.InvalidSetting,
            "declares its function's argument types",
        ),
        (
            "CREATE MODEL m FUNCTION f(geometry) RETURNS int SAGEMAKER 'ep' "
            "SETTINGS (ENDPOINT 'http://x/')",
            sqlml.InvalidSetting,
            "type GEOMETRY is not one a remote model takes",
        ),
        (
            "CREATE MODEL m FUNCTION f(int) RETURNS int SAGEMAKER 'ep' "
            "SETTINGS (ENDPOINT 'ftp://x/')",
            sqlml.InvalidSetting,
            "is not an http:// or https:// URL",
        ),
        (
            "CREATE MODEL m FUNCTION f(int) RETURNS int SAGEMAKER 'ep' "
            "SETTINGS (ENDPOINT 'http://x/', FORMAT 'XML')",
            sqlml.InvalidSetting,
            "must be CSV or JSONLINES or JSON or KSERVE",
        ),
        (
            "CREATE MODEL m FUNCTION f(int) RETURNS int SAGEMAKER 'ep' "
            "SETTINGS (ENDPOINT 'http://x/', MAX_RUNTIME 60)",
            sqlml.InvalidSetting,
            "SETTINGS MAX_RUNTIME does not apply to remote models",
        ),
        (
            "CREATE MODEL m FROM t TARGET i FUNCTION f SETTINGS (ENDPOINT 'http://x/')",
            sqlml.InvalidSetting,
            "SETTINGS ENDPOINT does not apply to trained models",
        ),
    ],
)
def test_refused(db, sql, error, match):
    with pytest.raises(error, match=match):
        db.sql(sql)
    assert db.execute("SHOW MODEL ALL").fetchall() == []
    assert not [p for p in db.store.root.iterdir() if not p.name.startswith(".")]


def test_names_taken(db, stub):
    create(db, stub)
    with pytest.raises(sqlml.ModelAlreadyExists):
        create(db, stub, fn="g")
    with pytest.raises(sqlml.FunctionAlreadyExists):
        create(db, stub, name="m2")
    with pytest.raises(sqlml.FunctionAlreadyExists, match="already a function in the database"):
        create(db, stub, name="m3", fn="abs")
    assert [r[1] for r in db.execute("SHOW MODEL ALL").fetchall()] == ["m"]


def test_api_key_from_the_environment_never_stored(db, stub, monkeypatch):
    secret = "sk-test-remote-5f2c9a"
    monkeypatch.setenv("SQLML_TEST_REMOTE_KEY", secret)
    create(db, stub, settings="API_KEY_ENV 'SQLML_TEST_REMOTE_KEY'")
    assert db.execute("SELECT f(1, 'a')").fetchone() == (2.0,)
    assert stub.authorizations[-1] == f"Bearer {secret}"
    shown = " ".join(f"{k} {v}" for k, v in show(db).items())
    assert secret not in shown
    for path in db.store.root.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_not_evaluated_nor_explained(db, stub):
    create(db, stub)
    with pytest.raises(sqlml.FeatureNotSupported, match="models served elsewhere"):
        db.sql("EVALUATE MODEL m FROM (SELECT i, s, 1.0 AS y FROM t)")
    (document,) = db.execute("SELECT explain_model('m')").fetchone()
    assert "not available for remote models" in document


def test_two_connections_creating_one_model(db, stub, tmp_path):
    import threading

    other = sqlml.connect(tmp_path / "remote.duckdb")
    errors: list[Exception] = []
    start = threading.Barrier(2)

    def run(conn) -> None:
        start.wait()
        try:
            create(conn, stub)
        except sqlml.SqlmlError as e:
            errors.append(e)

    try:
        threads = [threading.Thread(target=run, args=(c,)) for c in (db, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other.close()
    assert len(errors) == 1
    assert isinstance(errors[0], sqlml.ModelAlreadyExists | sqlml.FunctionAlreadyExists)
    assert db.execute("SHOW MODEL ALL").fetchall() == [("main", "m", "READY", "f")]
    assert not [p for p in db.store.root.iterdir() if p.name.startswith(".tmp-")]
