"""CREATE EXTERNAL MODEL: LLMs behind an OpenAI-compatible endpoint, a real HTTP server on
loopback (tests/http_stub.py) answering chat completions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from http_stub import Stub

import sqlml

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def stub():
    server = Stub()
    yield server
    server.close()


@pytest.fixture
def db_file(tmp_path) -> Path:
    return tmp_path / "llm.duckdb"


@pytest.fixture
def db(stub, db_file):
    stub.reset()
    conn = sqlml.connect(db_file)
    conn.sql(
        "CREATE TABLE reviews AS SELECT * FROM (VALUES ('great food'), ('slow service'), "
        "('great food'), (NULL), ('great food'), ('slow service')) v(txt)"
    )
    yield conn
    conn.close()


def create(db, stub, settings: str = "", name: str = "llm", fn: str = "ask", kind="OPENAI"):
    extra = f", {settings}" if settings else ""
    db.sql(
        f"CREATE EXTERNAL MODEL {name} FUNCTION {fn} IAM_ROLE default MODEL_TYPE {kind} "
        f"SETTINGS (ENDPOINT '{stub.url}/v1', MODEL_ID 'stub-model'{extra})"
    )


def show(db, name="llm") -> dict:
    return dict(db.execute(f"SHOW MODEL {name}").fetchall())


def test_unified_with_prompt_and_suffix(db, stub):
    create(db, stub, "PROMPT 'Summarize:', SUFFIX 'in one word.'")
    assert db.execute("SELECT ask('great food')").fetchone() == (
        "echo: Summarize: great food in one word.",
    )
    request = json.loads(stub.bodies[-1])
    assert request["model"] == "stub-model"
    assert request["messages"] == [
        {"role": "user", "content": "Summarize: great food in one word."}
    ]


def test_identical_prompts_asked_once_and_usage_counted(db, stub):
    create(db, stub)
    rows = db.execute("SELECT txt, ask(txt) FROM reviews").fetchall()
    assert [(t, a) for t, a in rows if t] == [(t, f"echo: {t}") for t, _ in rows if t]
    assert [a for t, a in rows if t is None] == [None]
    assert stub.requests == 2  # five texts, two distinct; NULL asks nothing
    shown = show(db)
    assert shown["Requests"] == "2"
    assert shown["Prompts Answered From Earlier Requests"] == "3"
    assert (shown["Input Tokens"], shown["Output Tokens"]) == ("4", "6")


def test_usage_adds_up_across_connections_and_processes(db, stub, db_file):
    create(db, stub)
    db.execute("SELECT ask('one two three')").fetchall()
    db.close()
    script = (
        "import sqlml, sys; c = sqlml.connect(sys.argv[1]); "
        "print(c.execute(\"SELECT ask('four five')\").fetchone()[0])"
    )
    env_path = str(Path(sqlml.__file__).parent.parent)
    out = subprocess.run(
        [sys.executable, "-c", script, str(db_file)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "echo: four five"
    again = sqlml.connect(db_file)
    try:
        shown = show(again)
    finally:
        again.close()
    assert (shown["Requests"], shown["Input Tokens"], shown["Output Tokens"]) == ("2", "5", "7")


def test_response_type_super_is_conversation_shaped(db, stub):
    create(db, stub, "RESPONSE_TYPE SUPER")
    text, stop, total = db.execute(
        "SELECT r->>'$.output.message.content[0].text', r->>'$.stopReason', "
        "(r->>'$.usage.totalTokens')::INT FROM (SELECT ask('hello there') AS r)"
    ).fetchone()
    assert (text, stop, total) == ("echo: hello there", "stop", 5)


def test_raw_request(db, stub):
    create(db, stub, "REQUEST_TYPE RAW, RESPONSE_TYPE SUPER")
    body = {"messages": [{"role": "user", "content": "raw hi"}], "temperature": 0}
    answer = db.execute(f"SELECT ask('{json.dumps(body)}')").fetchone()[0]
    assert json.loads(answer)["choices"][0]["message"]["content"].startswith("echo: raw hi")
    assert json.loads(stub.bodies[-1])["model"] == "stub-model"


def test_inference_config(db, stub):
    create(db, stub, """INFERENCE_CONFIG '{"temperature": 0.5, "maxTokens": 7}'""")
    answer = db.execute("SELECT ask('hi')").fetchone()[0]
    assert answer == 'echo: hi {"max_tokens": 7, "temperature": 0.5}'
    assert show(db)["Inference Config"] == '{"temperature": 0.5, "maxTokens": 7}'


def test_bedrock_as_written_needs_an_endpoint(db, stub):
    with pytest.raises(sqlml.FeatureNotSupported, match="calling Amazon Bedrock needs AWS") as info:
        db.sql(
            "CREATE EXTERNAL MODEL llm_claude FUNCTION llm_claude_func IAM_ROLE default "
            "MODEL_TYPE BEDROCK SETTINGS (MODEL_ID 'anthropic.claude-v2:1', PROMPT 'Summarize:')"
        )
    assert info.value.sqlstate == "0A000"
    assert db.execute("SHOW MODEL ALL").fetchall() == []
    create(db, stub, "PROMPT 'Summarize:'", kind="BEDROCK")
    assert db.execute("SELECT ask('x')").fetchone() == ("echo: Summarize: x",)


def test_api_key_from_the_environment_never_stored_or_printed(db, stub, monkeypatch):
    secret = "sk-test-llm-8d1e77"
    monkeypatch.setenv("SQLML_TEST_LLM_KEY", secret)
    create(db, stub, "API_KEY_ENV 'SQLML_TEST_LLM_KEY'")
    db.execute("SELECT ask('hi')").fetchall()
    assert stub.authorizations[-1] == f"Bearer {secret}"
    stub.status = 401
    with pytest.raises(sqlml.RemoteEndpointError) as info:
        db.execute("SELECT ask('again')")
    assert "HTTP 401" in str(info.value) and secret not in str(info.value)
    shown = show(db)
    assert shown["API Key"] == "from environment variable SQLML_TEST_LLM_KEY"
    assert secret not in json.dumps(shown)
    for path in db.store.root.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_api_key_variable_unset(db, stub, monkeypatch):
    monkeypatch.delenv("SQLML_TEST_UNSET_KEY", raising=False)
    create(db, stub, "API_KEY_ENV 'SQLML_TEST_UNSET_KEY'")
    with pytest.raises(sqlml.InvalidSetting, match="SQLML_TEST_UNSET_KEY"):
        db.execute("SELECT ask('hi')")


def test_429_backs_off_then_answers(db, stub):
    create(db, stub)
    stub.fail_first, stub.retry_after = [429, 429], "0"
    assert db.execute("SELECT ask('hi')").fetchone() == ("echo: hi",)
    assert stub.requests == 3


def test_a_server_that_limits_concurrency_sets_the_pace(db, stub):
    """64 requests in flight (the default) against a server that serves 4 at a time and answers
    429 to the rest: 429s halve what the endpoint keeps in flight, so every prompt is answered
    within the retries (without the window, most of 64 workers would meet 429 five times)."""
    stub.latency, stub.max_concurrent = 0.02, 4
    try:
        create(db, stub)
        rows = db.execute(
            "SELECT i, ask('prompt ' || i) FROM range(300) r(i) ORDER BY i"
        ).fetchall()
        assert [a for _, a in rows] == [f"echo: prompt {i}" for i in range(300)]
        assert stub.throttled > 0  # the server did push back
        assert stub.requests - stub.throttled == 300
    finally:
        stub.latency = 0.0


def test_failures_name_the_endpoint(db, stub):
    create(db, stub)
    stub.status = 503
    with pytest.raises(sqlml.RemoteEndpointError, match=r"answered HTTP 503.*after 5 attempts"):
        db.execute("SELECT ask(txt) FROM reviews").fetchall()
    stub.status, stub.garbage = None, True
    with pytest.raises(sqlml.RemoteEndpointError) as info:
        db.execute("SELECT ask('hi')")
    assert f"endpoint {stub.url}/v1/chat/completions" in str(info.value)
    assert "not an OpenAI chat completion" in str(info.value)
    assert show(db)["Requests"] == "0"  # no partial results counted


@pytest.mark.parametrize(
    ("settings", "error", "match"),
    [
        ("", sqlml.InvalidSetting, "MODEL_TYPE is required"),
        ("MODEL_TYPE OPENAI SETTINGS (MODEL_ID 'x')", sqlml.FeatureNotSupported, "ENDPOINT"),
        (
            "MODEL_TYPE OPENAI SETTINGS (ENDPOINT 'http://x/v1')",
            sqlml.InvalidSetting,
            r"MODEL_ID '\.\.\.'\) is required",
        ),
        (
            "MODEL_TYPE OPENAI SETTINGS (ENDPOINT 'http://x/v1', MODEL_ID 'm', REQUEST_TYPE RAW)",
            sqlml.InvalidSetting,
            "REQUEST_TYPE RAW takes and returns SUPER",
        ),
        (
            "MODEL_TYPE OPENAI SETTINGS (ENDPOINT 'http://x/v1', MODEL_ID 'm', FORMAT 'CSV')",
            sqlml.InvalidSetting,
            "SETTINGS FORMAT does not apply to external models",
        ),
        (
            "MODEL_TYPE OPENAI SETTINGS (ENDPOINT 'http://x/v1', MODEL_ID 'm', "
            """INFERENCE_CONFIG '{"Temperature": 1}')""",
            sqlml.InvalidSetting,
            "case-sensitive",
        ),
    ],
)
def test_refused(db, settings, error, match):
    with pytest.raises(error, match=match):
        db.sql(f"CREATE EXTERNAL MODEL m FUNCTION f {settings}")
    assert db.execute("SHOW MODEL ALL").fetchall() == []


def test_drop_and_names(db, stub):
    create(db, stub)
    with pytest.raises(sqlml.ModelAlreadyExists):
        create(db, stub, fn="other")
    with pytest.raises(sqlml.FunctionAlreadyExists):
        create(db, stub, name="llm2")
    db.execute("SELECT ask('hi')").fetchall()
    assert list((db.store.root / ".usage").glob("*.json"))
    db.sql("DROP MODEL llm")
    assert db.execute("SHOW MODEL ALL").fetchall() == []
    assert not list((db.store.root / ".usage").glob("*"))
    create(db, stub)  # the name is free again, and its usage starts at zero
    assert show(db)["Requests"] == "0"


# -- the inference-config argument (Redshift's fn(text [, inference_config [, fields]])) ------


def test_inference_config_argument(db, stub):
    create(db, stub, """INFERENCE_CONFIG '{"temperature": 0.1}'""")
    rows = db.execute(
        "SELECT ask('q'), ask('q', {'temperature': 0.5}), "
        """ask('q', json_object('maxTokens', 5), '{"top_k": 3}')"""
    ).fetchone()
    assert rows == (
        'echo: q {"temperature": 0.1}',
        'echo: q {"temperature": 0.5}',
        'echo: q {"max_tokens": 5, "temperature": 0.1}',
    )
    assert json.loads(stub.bodies[-1])["top_k"] == 3
    assert show(db)["Function Parameters"] == (
        "input_text inference_config additional_model_request_fields"
    )
    with pytest.raises(sqlml.InvalidSetting, match="key 'Temperature' is not one of"):
        db.execute("SELECT ask('q', {'Temperature': 0.5})")


def test_redshift_statement_and_call_as_written(stub, tmp_path):
    stub.reset()
    conn = sqlml.connect(tmp_path / "rs.duckdb", dialect="redshift")
    try:
        conn.sql(
            "CREATE EXTERNAL MODEL llm_claude FUNCTION llm_claude_func IAM_ROLE default "
            "MODEL_TYPE BEDROCK SETTINGS (MODEL_ID 'anthropic.claude-v2:1', PROMPT 'Summarize:', "
            f"ENDPOINT '{stub.url}/v1')"
        )
        conn.sql("CREATE TABLE t (txt VARCHAR(100))")
        conn.sql("INSERT INTO t VALUES ('a b')")
        answer = conn.execute(
            "SELECT llm_claude_func('Text: ' || txt, object('temperature', 0.7, 'maxTokens', 500)) "
            "FROM t"
        ).fetchone()[0]
    finally:
        conn.close()
    assert answer == 'echo: Summarize: Text: a b {"max_tokens": 500, "temperature": 0.7}'


def test_another_connection_leaves_arguments_out_too(db, stub, db_file):
    create(db, stub)
    other = sqlml.connect(db_file)
    try:
        assert other.execute("SELECT ask('x'), ask('x', NULL)").fetchone() == ("echo: x",) * 2
    finally:
        other.close()


@pytest.mark.slow
def test_served(stub, db_file):
    import psycopg
    from serving import Served

    stub.reset()
    conn = sqlml.connect(db_file)
    create(conn, stub)
    conn.close()
    served = Served(db_file, "--dialect", "duckdb")
    try:
        with psycopg.connect(served.dsn(), autocommit=True) as client:
            row = client.execute(
                "SELECT ask('q'), ask('q', '{\"temperature\": 0.5}'::JSON)"
            ).fetchone()
    finally:
        served.stop()
    assert row == ("echo: q", 'echo: q {"temperature": 0.5}')


def test_identical_prompts_asked_once_per_statement(db, stub):
    create(db, stub)
    db.sql("CREATE TABLE many AS SELECT (i % 3)::VARCHAR AS txt FROM range(5000) r(i)")
    assert db.execute("SELECT count(DISTINCT ask(txt)) FROM many").fetchone() == (3,)
    assert stub.requests == 3  # three vectors of rows, three distinct prompts
    db.execute("SELECT count(ask(txt)) FROM many").fetchall()
    assert stub.requests == 6  # a new statement asks again
    shown = show(db)
    assert (shown["Requests"], shown["Prompts Answered From Earlier Requests"]) == ("6", "9994")


def test_api_key_from_a_file(db, stub, tmp_path):
    key_file = tmp_path / "openai_key"
    secret = "sk-test-file-41aa0c"
    key_file.write_text(secret + "\n")
    create(db, stub, f"API_KEY_FILE '{key_file}'")
    db.execute("SELECT ask('hi')").fetchall()
    assert stub.authorizations[-1] == f"Bearer {secret}"
    assert show(db)["API Key"] == f"from file {key_file}"
    for path in db.store.root.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    key_file.unlink()
    with pytest.raises(sqlml.InvalidSetting, match="cannot be read") as info:
        db.execute("SELECT ask('again')")
    assert secret not in str(info.value)


# -- API 'COMPLETIONS': prompts batched in one request ---------------------------------------


@pytest.fixture
def texts(db):
    """Ten distinct texts, each twice, and a NULL."""
    db.sql(
        "CREATE TABLE texts AS SELECT i, CASE WHEN i = 20 THEN NULL ELSE 'text ' || (i % 10) END "
        "AS txt FROM range(21) r(i)"
    )
    return db


def test_completions_batched_answers_by_index(texts, stub):
    create(texts, stub, "API 'COMPLETIONS', MAX_BATCH_ROWS 4, PROMPT 'Say:'")
    stub.shuffle_choices = True  # the server answers a batch's choices in reverse order
    rows = texts.execute("SELECT txt, ask(txt) FROM texts ORDER BY i").fetchall()
    assert rows == [(t, None if t is None else f"echo: Say: {t}") for t, _ in rows]
    assert stub.paths == ["/v1/completions"] * 3  # ten distinct prompts, four per request
    batches = [json.loads(b) for b in stub.bodies]
    assert sorted(len(b["prompt"]) for b in batches) == [2, 4, 4]
    assert sorted(p for b in batches for p in b["prompt"]) == [f"Say: text {i}" for i in range(10)]
    assert {b["model"] for b in batches} == {"stub-model"}
    shown = show(texts)
    assert (shown["API"], shown["Max Batch Rows"]) == ("COMPLETIONS", "4")
    assert shown["Requests"] == "3"
    assert shown["Prompts Answered From Earlier Requests"] == "10"
    # Three words per prompt; the stub answers one more token per prompt than it was given.
    assert (shown["Input Tokens"], shown["Output Tokens"]) == ("30", "40")


def test_completions_default_batch_and_identical_prompts_once(db, stub):
    create(db, stub, "API 'COMPLETIONS'")
    db.sql("CREATE TABLE many AS SELECT (i % 40)::VARCHAR AS txt FROM range(5000) r(i)")
    assert db.execute("SELECT count(DISTINCT ask(txt)) FROM many").fetchone() == (40,)
    assert stub.requests == 3  # 40 distinct prompts, 16 per request by default, in one vector
    shown = show(db)
    assert (shown["Requests"], shown["Prompts Answered From Earlier Requests"]) == ("3", "4960")


def test_completions_configuration_per_row_splits_batches(texts, stub):
    create(texts, stub, """API 'COMPLETIONS', INFERENCE_CONFIG '{"maxTokens": 9}'""")
    rows = texts.execute(
        "SELECT i, ask(txt, CASE WHEN i % 2 = 0 THEN {'temperature': 0.5} END) FROM texts "
        "WHERE i < 4 ORDER BY i"
    ).fetchall()
    assert rows == [
        (0, 'echo: text 0 {"max_tokens": 9, "temperature": 0.5}'),
        (1, 'echo: text 1 {"max_tokens": 9}'),
        (2, 'echo: text 2 {"max_tokens": 9, "temperature": 0.5}'),
        (3, 'echo: text 3 {"max_tokens": 9}'),
    ]
    temperatures = sorted((json.loads(b).get("temperature") for b in stub.bodies), key=str)
    assert temperatures == [0.5, None]  # two configurations, two requests


def test_completions_batch_missing_a_choice_fails_the_statement(texts, stub):
    create(texts, stub, "API 'COMPLETIONS', MAX_BATCH_ROWS 4")
    stub.wrong_count = True
    with pytest.raises(sqlml.RemoteEndpointError) as info:
        texts.execute("SELECT ask(txt) FROM texts").fetchall()
    message = str(info.value)
    assert f"endpoint {stub.url}/v1/completions answered" in message
    assert "choices for" in message and "MAX_BATCH_ROWS 1" in message
    assert show(texts)["Requests"] == "0"  # no partial results counted


def test_completions_one_batch_failing_fails_the_statement(texts, stub):
    create(texts, stub, "API 'COMPLETIONS', MAX_BATCH_ROWS 4")
    stub.fail_requests = {2: 400}
    with pytest.raises(sqlml.RemoteEndpointError, match="answered HTTP 400"):
        texts.execute("SELECT ask(txt) FROM texts").fetchall()
    assert show(texts)["Requests"] == "0"
    stub.reset()  # the next statement asks every prompt again and answers
    assert texts.execute("SELECT count(ask(txt)) FROM texts").fetchone() == (20,)
    assert stub.requests == 3


def test_completions_429_on_a_batch_backs_off(texts, stub):
    create(texts, stub, "API 'COMPLETIONS', MAX_BATCH_ROWS 4")
    stub.fail_first, stub.retry_after = [429], "0"
    rows = texts.execute("SELECT txt, ask(txt) FROM texts WHERE i < 10").fetchall()
    assert all(a == f"echo: {t}" for t, a in rows)
    assert stub.requests == 4  # three batches, one of them asked twice
    assert show(texts)["Requests"] == "3"


def test_completions_response_super(texts, stub):
    create(texts, stub, "API 'COMPLETIONS', MAX_BATCH_ROWS 4, RESPONSE_TYPE SUPER")
    rows = texts.execute(
        "SELECT r->>'$.output.message.content[0].text', r->>'$.stopReason', "
        "r->'$.usage.inputTokens' FROM (SELECT ask(txt) AS r FROM texts WHERE i < 4)"
    ).fetchall()
    # A batch's usage is the whole request's: a row's own tokens are not known (JSON null).
    assert sorted(rows) == [(f"echo: text {i}", "length", "null") for i in range(4)]
    one = texts.execute("SELECT ask('alone here')->'$.usage.inputTokens'").fetchone()
    assert one == ("2",)


def test_completions_url_and_raw(db, stub):
    create(db, stub, "API 'COMPLETIONS', REQUEST_TYPE RAW, RESPONSE_TYPE SUPER")
    answer = db.execute("""SELECT ask('{"prompt": ["a", "b"]}')""").fetchone()[0]
    assert [c["text"] for c in json.loads(answer)["choices"]] == ["echo: a", "echo: b"]
    assert stub.paths == ["/v1/completions"]


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ("MAX_BATCH_ROWS 8", "MAX_BATCH_ROWS applies to API 'COMPLETIONS'"),
        (
            "API 'COMPLETIONS', MAX_BATCH_ROWS 8, REQUEST_TYPE RAW, RESPONSE_TYPE SUPER",
            "MAX_BATCH_ROWS applies to API 'COMPLETIONS' with REQUEST_TYPE UNIFIED",
        ),
        ("API 'EMBEDDINGS'", "must be CHAT or COMPLETIONS"),
    ],
)
def test_batch_settings_refused(db, settings, match):
    with pytest.raises(sqlml.InvalidSetting, match=match):
        db.sql(
            "CREATE EXTERNAL MODEL m FUNCTION f MODEL_TYPE OPENAI SETTINGS "
            f"(ENDPOINT 'http://x/v1', MODEL_ID 'm', {settings})"
        )
    assert db.execute("SHOW MODEL ALL").fetchall() == []
