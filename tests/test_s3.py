"""Redshift's COPY and UNLOAD in a redshift session, against a real S3-compatible server (moto's,
on loopback) and real local files."""

from __future__ import annotations

import gzip
import io
import json

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sqlml
from sqlml import errors
from sqlml.session import Connection
from sqlml.sql import parse, to_sql

KEY_ID = "AKIAEXAMPLEKEY123456"
SECRET = "s3cr3t-Example-Secret-Value"


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch):
    """A boto3 client of the server, with the environment sqlml reads set for the test, and a
    fresh bucket ``data``."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    for bucket in client.list_buckets().get("Buckets", []):
        for obj in client.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
            client.delete_object(Bucket=bucket["Name"], Key=obj["Key"])
        client.delete_bucket(Bucket=bucket["Name"])
    client.create_bucket(Bucket="data")
    return client


@pytest.fixture
def rs(tmp_path):
    connection = sqlml.connect(str(tmp_path / "rs.duckdb"), dialect="redshift")
    connection.sql("CREATE TABLE people (id INTEGER, name VARCHAR, born DATE)")
    yield connection
    connection.close()


def put(client, key: str, body: str | bytes) -> None:
    client.put_object(Bucket="data", Key=key, Body=body.encode() if isinstance(body, str) else body)


def get(client, key: str) -> bytes:
    return client.get_object(Bucket="data", Key=key)["Body"].read()


def keys(client, prefix: str = "") -> list[str]:
    listed = client.list_objects_v2(Bucket="data", Prefix=prefix).get("Contents", [])
    return sorted(o["Key"] for o in listed)


def rows(conn, table: str = "people") -> list[tuple]:
    return conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def error_of(conn, sql: str) -> errors.SqlmlError:
    with pytest.raises(errors.SqlmlError) as caught:
        conn.execute(sql)
    return caught.value


PIPE = "1|ann|2020-01-02\n2|bob|\n3|\\N|2021-05-06\n"
LOADED = [
    (1, "ann", pa.scalar("2020-01-02").cast(pa.date32()).as_py()),
    (2, "bob", None),
    (3, None, pa.scalar("2021-05-06").cast(pa.date32()).as_py()),
]


# -- COPY from S3 ----------------------------------------------------------------------------


def test_copy_pipe_delimited_text_by_default(s3, rs):
    put(s3, "people.txt", PIPE)
    result = rs.execute("COPY people FROM 's3://data/people.txt' IAM_ROLE default")
    assert result.tag == "COPY 3"
    assert rows(rs) == LOADED


def test_copy_csv_with_header_delimiter_and_gzip(s3, rs):
    text = 'id;name;born\n1;"ann; the first";2020-01-02\n2;bob;\n'
    put(s3, "in/people.csv.gz", gzip.compress(text.encode()))
    rs.execute(
        "COPY people FROM 's3://data/in/people.csv.gz' "
        "IAM_ROLE 'arn:aws:iam::123456789012:role/load' "
        "FORMAT AS CSV DELIMITER AS ';' IGNOREHEADER AS 1 GZIP REGION AS 'us-east-1'"
    )
    assert [r[:2] for r in rows(rs)] == [(1, "ann; the first"), (2, "bob")]


def test_copy_parquet(s3, rs):
    table = pa.table({"a": [5, 6], "b": ["x", "y"], "c": ["2020-01-01", None]})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    put(s3, "p/part.parquet", sink.getvalue())
    assert rs.execute("COPY people FROM 's3://data/p/' FORMAT AS PARQUET").tag == "COPY 2"
    assert [r[:2] for r in rows(rs)] == [(5, "x"), (6, "y")]


def test_copy_json_auto_by_key_names(s3, rs):
    records = [{"name": "ann", "id": 1, "extra": True}, {"id": 2, "born": "2020-03-04"}]
    put(s3, "people.json", "\n".join(json.dumps(r) for r in records))
    rs.execute("COPY people FROM 's3://data/people.json' JSON 'auto'")
    assert [r[:2] for r in rows(rs)] == [(1, "ann"), (2, None)]
    put(s3, "upper.json", json.dumps({"ID": 3, "Name": "cy"}))
    rs.execute("COPY people FROM 's3://data/upper.json' FORMAT JSON 'auto ignorecase'")
    assert rows(rs)[-1][:2] == (3, "cy")


def test_copy_bzip2_and_zstd(s3, rs, tmp_path):
    import bz2

    put(s3, "c/a.bz2", bz2.compress(b"1|a|\n2|b|\n"))
    assert rs.execute("COPY people FROM 's3://data/c/a.bz2' BZIP2").tag == "COPY 2"
    rs.execute(f"UNLOAD ('select * from people') TO '{tmp_path}/z_' ZSTD PARALLEL OFF")
    assert (tmp_path / "z_000.zst").exists()
    assert rs.execute(f"COPY people FROM '{tmp_path}/z_' ZSTD").tag == "COPY 2"
    error = error_of(rs, "COPY people FROM 's3://data/c/a.bz2' GZIP")
    assert error.sqlstate == "22P04" and "s3://data/c/a.bz2" in str(error)
    assert "sqlml-copy-" not in str(error)  # the download's own name is not shown


def test_copy_a_prefix_loads_every_object_under_it(s3, rs):
    put(s3, "load/part_00", "1|a|\n")
    put(s3, "load/part_01", "2|b|\n3|c|\n")
    put(s3, "other/part_02", "9|z|\n")
    assert rs.execute("COPY people FROM 's3://data/load/part'").tag == "COPY 3"
    assert [r[0] for r in rows(rs)] == [1, 2, 3]


def test_copy_a_whole_bucket_and_a_local_folder(s3, rs, tmp_path):
    put(s3, "a", "1|a|\n")
    put(s3, "deep/b", "2|b|\n")
    assert rs.execute("COPY people FROM 's3://data'").tag == "COPY 2"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.txt").write_text("3|c|\n")
    (tmp_path / "in2.txt").write_text("9|not this|\n")  # a sibling with the folder's prefix
    assert rs.execute(f"COPY people FROM '{tmp_path}/in'").tag == "COPY 1"
    assert [r[0] for r in rows(rs)] == [1, 2, 3]


def test_copy_leaves_identity_columns_to_their_sequence(s3, rs):
    rs.sql("CREATE TABLE ided (id INT IDENTITY(1, 1), name VARCHAR(10), born DATE)")
    put(s3, "ided.csv", "name,born\nann,12/18/2011\nbob,2012-01-02\n")
    rs.execute("COPY ided FROM 's3://data/ided.csv' CSV IGNOREHEADER 1 NULL AS 'NULL'")
    assert [(r[0], r[1], str(r[2])) for r in rows(rs, "ided")] == [
        (1, "ann", "2011-12-18"),  # DATEFORMAT 'auto' reads MM/DD/YYYY, as Redshift's does
        (2, "bob", "2012-01-02"),
    ]
    put(s3, "ided2.csv", "7,cy,\n")
    rs.execute("COPY ided FROM 's3://data/ided2.csv' CSV EXPLICIT_IDS")
    assert rows(rs, "ided")[-1][:2] == (7, "cy")


def test_copy_with_a_column_list_and_null_options(s3, rs):
    put(s3, "two.txt", "ann,7\n,8\n   ,9\n")
    rs.execute(
        "COPY people (name, id) FROM 's3://data/two.txt' DELIMITER ',' EMPTYASNULL BLANKSASNULL"
    )
    assert rows(rs) == [(7, "ann", None), (8, None, None), (9, None, None)]


def test_copy_dateformat_and_manifest(s3, rs):
    put(s3, "d/a", "1|ann|02/01/2020\n")
    put(s3, "d/b", "2|bob|03/04/2021\n")
    manifest = {"entries": [{"url": "s3://data/d/a", "mandatory": True}, {"url": "s3://data/d/b"}]}
    put(s3, "d.manifest", json.dumps(manifest))
    rs.execute("COPY people FROM 's3://data/d.manifest' MANIFEST DATEFORMAT 'MM/DD/YYYY'")
    assert [str(r[2]) for r in rows(rs)] == ["2020-02-01", "2021-03-04"]


# -- COPY from files -------------------------------------------------------------------------


def test_copy_from_file_url_and_plain_paths(tmp_path, rs, monkeypatch):
    (tmp_path / "people.txt").write_text(PIPE)
    assert rs.execute(f"COPY people FROM 'file://{tmp_path}/people.txt'").tag == "COPY 3"
    monkeypatch.chdir(tmp_path)
    assert rs.execute("COPY people FROM 'people.txt'").tag == "COPY 3"
    assert rs.execute(f"COPY people FROM '{tmp_path}/people.txt'").tag == "COPY 3"
    assert len(rows(rs)) == 9


# -- UNLOAD ----------------------------------------------------------------------------------


def fill(conn) -> None:
    conn.sql("INSERT INTO people VALUES (1, 'ann', '2020-01-02'), (2, 'o''neil', NULL)")


def test_unload_csv_with_header_to_s3(s3, rs):
    fill(rs)
    result = rs.execute(
        "UNLOAD ('select id, name from people where name <> ''x'' order by id') "
        "TO 's3://data/out/people_' IAM_ROLE default FORMAT AS CSV HEADER"
    )
    assert result.tag == "UNLOAD 2"
    assert keys(s3, "out/") == ["out/people_0000_part_00"]
    assert get(s3, "out/people_0000_part_00").decode() == "id,name\n1,ann\n2,o'neil\n"


def test_unload_parallel_off_parquet_and_manifest(s3, rs):
    fill(rs)
    rs.execute(
        "UNLOAD ('select * from people') TO 's3://data/pq/' FORMAT PARQUET PARALLEL OFF MANIFEST"
    )
    assert keys(s3, "pq/") == ["pq/000.parquet", "pq/manifest"]
    table = pq.read_table(io.BytesIO(get(s3, "pq/000.parquet")))
    assert table.column_names == ["id", "name", "born"] and table.num_rows == 2
    manifest = json.loads(get(s3, "pq/manifest"))
    assert [e["url"] for e in manifest["entries"]] == ["s3://data/pq/000.parquet"]


def test_unload_refuses_to_overwrite_without_allowoverwrite(s3, rs):
    fill(rs)
    statement = "UNLOAD ('select * from people') TO 's3://data/o/x_'"
    rs.execute(statement)
    error = error_of(rs, statement)
    assert isinstance(error, errors.ObjectExists) and error.sqlstate == "58P02"
    assert "s3://data/o/x_0000_part_00" in str(error) and "ALLOWOVERWRITE" in str(error)
    rs.sql("DELETE FROM people WHERE id = 2")
    assert rs.execute(statement + " ALLOWOVERWRITE").tag == "UNLOAD 1"
    assert get(s3, "o/x_0000_part_00") == b"1|ann|2020-01-02\n"
    put(s3, "o/x_stale", "old")
    rs.execute(statement + " CLEANPATH GZIP")
    assert keys(s3, "o/") == ["o/x_0000_part_00.gz"]


def test_unload_to_local_path_then_copy_back(tmp_path, rs):
    fill(rs)
    rs.execute(f"UNLOAD ('select * from people') TO '{tmp_path}/local/p_' FORMAT CSV HEADER")
    assert (tmp_path / "local" / "p_0000_part_00").read_text().startswith("id,name,born\n")
    rs.sql("CREATE TABLE back (id INTEGER, name VARCHAR, born DATE)")
    rs.execute(f"COPY back FROM 'file://{tmp_path}/local/p_' CSV IGNOREHEADER 1")
    assert rows(rs, "back") == rows(rs)


def test_round_trip_through_s3(s3, rs):
    fill(rs)
    rs.execute("UNLOAD ('select * from people') TO 's3://data/rt/' PARQUET")
    rs.execute("UNLOAD ('select * from people') TO 's3://data/rt_text/'")
    rs.sql("CREATE TABLE back (id INTEGER, name VARCHAR, born DATE)")
    rs.execute("COPY back FROM 's3://data/rt/' FORMAT PARQUET")
    rs.execute("COPY back FROM 's3://data/rt_text/' EMPTYASNULL")
    assert rows(rs, "back") == sorted(rows(rs) * 2)


# -- mistakes --------------------------------------------------------------------------------


def test_a_missing_bucket_or_object_names_the_url_and_no_credential(s3, rs):
    error = error_of(rs, "COPY people FROM 's3://nobucket/x.csv'")
    assert isinstance(error, errors.ObjectNotFound) and error.sqlstate == "58P01"
    assert "nobucket" in str(error) and "does not exist" in str(error)
    error = error_of(rs, "COPY people FROM 's3://data/missing/key' CREDENTIALS 'a=b'")
    assert error.sqlstate == "58P01" and "s3://data/missing/key" in str(error)
    found = [error]
    error = error_of(rs, "UNLOAD ('select 1') TO 's3://nobucket/p_'")
    assert error.sqlstate == "58P01" and "nobucket" in str(error)
    for e in [*found, error]:
        assert KEY_ID not in str(e) and SECRET not in str(e)


def test_a_wrong_endpoint_is_a_clear_storage_error(s3, rs, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    error = error_of(rs, "COPY people FROM 's3://data/x'")
    assert error.sqlstate == "58030" and "s3://data/x" in str(error)
    assert KEY_ID not in str(error) and SECRET not in str(error)


def test_wrong_column_count_names_table_object_and_line(s3, rs):
    put(s3, "bad.txt", "1|ann|2020-01-02\n2|bob|2020-01-02|extra\n")
    error = error_of(rs, "COPY people FROM 's3://data/bad.txt'")
    assert isinstance(error, errors.BadLoadFormat) and error.sqlstate == "22P04"
    assert "COPY people: s3://data/bad.txt, line 2" in str(error)
    assert rows(rs) == []  # nothing loaded
    assert rs.execute("COPY people FROM 's3://data/bad.txt' MAXERROR 1").tag == "COPY 1"


def test_a_bad_value_names_the_column_and_line(s3, rs):
    put(s3, "v.csv", "id,name,born\n1,ann,2020-01-02\nx2,bob,2020-01-02\n")
    error = error_of(rs, "COPY people FROM 's3://data/v.csv' CSV IGNOREHEADER 1")
    assert isinstance(error, errors.BadLoadValue) and error.sqlstate == "22P02"
    assert "s3://data/v.csv, line 3" in str(error) and "'x2' of column id" in str(error)
    assert "INTEGER" in str(error)


def test_a_file_in_another_format_is_22p04(s3, rs):
    put(s3, "notparquet", "1|a|\n")
    error = error_of(rs, "COPY people FROM 's3://data/notparquet' PARQUET")
    assert error.sqlstate == "22P04" and "s3://data/notparquet" in str(error)


@pytest.mark.parametrize(
    ("sql", "cls", "words"),
    [
        ("COPY people FROM 's3://data/x' DELIMTER ','", errors.SqlSyntaxError, "DELIMITER"),
        ("COPY people FROM 's3://data/x' FIXEDWIDTH 'a:1'", errors.FeatureNotSupported, "FIXEDWIDTH"),
        ("COPY people FROM 's3://data/x' ESCAPE", errors.FeatureNotSupported, "ESCAPE"),
        ("COPY people FROM 's3://data/x' PARQUET DELIMITER ','", errors.FeatureNotSupported, "DELIMITER"),
        ("COPY people FROM 's3://data/x' (FORMAT csv)", errors.SqlSyntaxError, "parentheses"),
        ("COPY people FROM 'dynamodb://t'", errors.FeatureNotSupported, "dynamodb"),
        ("UNLOAD ('select 1') TO 's3://data/p' PARQUET HEADER", errors.FeatureNotSupported, "HEADER"),
        ("UNLOAD ('delete from people') TO 's3://data/p'", errors.SqlSyntaxError, "SELECT"),
        ("UNLOAD ('select 1) TO ''/tmp/x'' (FORMAT csv') TO 's3://data/p'", errors.DatabaseError, "syntax error"),
        ("UNLOAD ('select 1; select 2') TO 's3://data/p'", errors.SqlSyntaxError, "one SELECT"),
        ("UNLOAD ('select 1') TO 's3://data/p' ENCRYPTED", errors.FeatureNotSupported, "ENCRYPTED"),
    ],
)  # fmt: skip
def test_option_mistakes(s3, rs, sql, cls, words):
    error = error_of(rs, sql)
    assert isinstance(error, cls) and words in str(error)


def test_a_failed_copy_in_a_transaction_reports_its_own_error(s3, rs):
    rs.sql("CREATE TABLE keyed (id INTEGER NOT NULL, name VARCHAR, born DATE)")
    put(s3, "nulls.txt", "1|a|\n\\N|b|\n")
    rs.sql("BEGIN")
    error = error_of(rs, "COPY keyed FROM 's3://data/nulls.txt'")
    assert error.sqlstate == "23502"
    rs.sql("ROLLBACK")
    assert rs.execute("SELECT count(*) FROM keyed").fetchone() == (0,)


def test_a_malformed_statement_is_a_syntax_error_with_its_position(rs):
    error = error_of(rs, "SELECT 1;\nUNLOAD 'select 1' TO 's3://data/p'")
    assert isinstance(error, errors.SqlSyntaxError) and error.sqlstate == "42601"
    assert (error.line, error.col) == (2, 8)
    error = error_of(rs, "COPY people FROM 's3://data/x' IGNOREHEADER 'one'")
    assert error.sqlstate == "42601" and (error.line, error.col) == (1, 45)


def test_a_served_user_may_not_touch_the_servers_files(tmp_path):
    path = str(tmp_path / "served.duckdb")
    with sqlml.connect(path) as admin:
        admin.users.create("alice", "pw", superuser=False)
    conn = Connection(path, user="alice", served=True, dialect="redshift")  # a server's session
    try:
        conn.sql("CREATE TABLE t (a INTEGER)")
        error = error_of(conn, f"COPY t FROM '{tmp_path}/x'")
        assert isinstance(error, errors.InsufficientPrivilege) and error.sqlstate == "42501"
        error = error_of(conn, f"UNLOAD ('select 1') TO '{tmp_path}/y'")
        assert error.sqlstate == "42501"
    finally:
        conn.close()


# -- the grammar and the dialect -------------------------------------------------------------


def test_copy_and_unload_render_back_to_what_parses_the_same():
    for sql in [
        "COPY s.t (a, b) FROM 's3://b/k' IAM_ROLE default FORMAT AS CSV DELIMITER ';' "
        "IGNOREHEADER 1 GZIP NULL AS '\\N' COMPUPDATE OFF MAXERROR 3",
        "COPY t FROM '/x' JSON 'auto ignorecase' ACCESS_KEY_ID 'k' SECRET_ACCESS_KEY 's'",
        "UNLOAD ('select * from t where a = ''x''') TO 's3://b/p_' PARQUET PARALLEL OFF "
        "MAXFILESIZE 100 MB MANIFEST VERBOSE ALLOWOVERWRITE EXTENSION 'pq'",
    ]:
        (stmt,) = parse(sql, "redshift")
        assert parse(to_sql(stmt), "redshift") == [stmt]
    (unload,) = parse("UNLOAD ('select ''x''') TO 's3://b/p'", "redshift")
    assert unload.query == "select 'x'"
    (copy,) = parse("COPY t FROM 's3://b/k' SECRET_ACCESS_KEY 'hidden'", "redshift")
    assert "hidden" not in repr(copy)


def test_under_duckdb_copy_is_duckdbs_own(tmp_path):
    with sqlml.connect(str(tmp_path / "d.duckdb"), dialect="duckdb") as conn:
        conn.sql("CREATE TABLE t (a INTEGER, b VARCHAR)")
        (tmp_path / "t.csv").write_text("a,b\n1,x\n")
        assert conn.execute(f"COPY t FROM '{tmp_path}/t.csv' (FORMAT csv, HEADER)").tag == "COPY 1"
        assert conn.execute(f"COPY t TO '{tmp_path}/u.csv' (HEADER)").tag == "COPY 1"
        assert parse("COPY t FROM 's3://b/k' CSV", "duckdb")[0].__class__.__name__ == "Passthrough"
    with sqlml.connect(str(tmp_path / "r.duckdb"), dialect="redshift") as conn:  # COPY ... TO
        conn.sql("CREATE TABLE t (a INTEGER)")
        conn.sql("INSERT INTO t VALUES (1)")
        assert conn.execute(f"COPY t TO '{tmp_path}/r.csv'").tag == "COPY 1"


# -- training on loaded data -----------------------------------------------------------------


@pytest.mark.slow
def test_a_model_trains_on_copy_loaded_data(s3, tmp_path):
    lines = [f"{i}|{i % 7}|{(i * 13) % 10}|{'yes' if (i % 7) > 3 else 'no'}" for i in range(120)]
    put(s3, "train/rows", "\n".join(lines) + "\n")
    with sqlml.connect(str(tmp_path / "m.duckdb"), synchronous=True, dialect="redshift") as conn:
        conn.sql("CREATE TABLE train (id INTEGER, a INTEGER, b INTEGER, label VARCHAR)")
        assert conn.execute("COPY train FROM 's3://data/train/' IAM_ROLE default").tag == "COPY 120"
        s3.create_bucket(Bucket="models")
        conn.sql(
            "CREATE MODEL m FROM (SELECT a, b, label FROM train) TARGET label FUNCTION predict_m "
            "IAM_ROLE default SETTINGS (S3_BUCKET 'models', MAX_RUNTIME 120, MAX_TRIALS 1)"
        )
        (accuracy,) = conn.execute(
            "SELECT avg(CASE WHEN predict_m(a, b) = label THEN 1.0 ELSE 0 END) FROM train"
        ).fetchone()
        assert accuracy > 0.9
        shown = dict(conn.execute("SHOW MODEL m").fetchall())
        schema = shown["Schema Name"]  # Redshift's public
        assert shown["S3 Model Path"] == f"s3://models/sqlml/{schema}/m/"
    folder = f"sqlml/{schema}/m/"
    listed = s3.list_objects_v2(Bucket="models", Prefix=folder)["Contents"]
    copied = {o["Key"].removeprefix(folder) for o in listed}
    assert "model.json" in copied and len(copied) > 1
    manifest = s3.get_object(Bucket="models", Key=folder + "model.json")["Body"].read()
    assert KEY_ID.encode() not in manifest and SECRET.encode() not in manifest
    assert json.loads(manifest)["s3_location"] == f"s3://models/{folder}"


def test_create_model_with_a_bucket_that_is_not_there_says_it_is_not_copied(s3, rs):
    rs.sql("CREATE TABLE t AS SELECT range AS a, range % 2 AS y FROM range(40)")
    sql = "CREATE MODEL m FROM t TARGET y FUNCTION f SETTINGS (S3_BUCKET '<DOC-EXAMPLE-BUCKET>')"
    (result,) = [(r.tag, r.notices) for r in rs.run(sql)]
    assert result[0] == "CREATE MODEL"
    assert "not copied to S3" in result[1][0] and "<DOC-EXAMPLE-BUCKET>" in result[1][0]
    assert KEY_ID not in result[1][0] and SECRET not in result[1][0]
    rs.sql("DROP MODEL m")


# -- through the server ----------------------------------------------------------------------


def test_copy_and_unload_through_the_server(s3, tmp_path):
    psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is in the test extra")
    from tests.serving import Served

    put(s3, "srv/rows", PIPE)
    served = Served(tmp_path / "srv.duckdb")  # a redshift session by default
    try:
        with psycopg.connect(served.dsn(), autocommit=True) as admin:
            notices = []
            admin.add_notice_handler(lambda d: notices.append(d.message_primary))
            cur = admin.cursor()
            cur.execute("CREATE TABLE people (id INTEGER, name VARCHAR, born DATE)")
            cur.execute("COPY people FROM 's3://data/srv/' IAM_ROLE default")
            assert (cur.statusmessage, cur.rowcount) == ("COPY 3", 3)
            cur.execute("UNLOAD ('select * from people') TO 's3://data/srv_out/' PARQUET")
            assert cur.statusmessage == "UNLOAD 3"
            assert any("3 record(s) unloaded" in n for n in notices)
            cur.execute("CREATE USER bob PASSWORD 'bob-pw'")
        with psycopg.connect(served.dsn("bob", "bob-pw"), autocommit=True) as bob:
            bob.execute("COPY people FROM 's3://data/srv/'")  # S3: any user
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="superuser"):
                bob.execute(f"COPY people FROM '{tmp_path}/anything'")
            with pytest.raises(psycopg.errors.lookup("22P04"), match="line 1"):
                bob.execute("COPY people (id, name) FROM 's3://data/srv/rows'")
    finally:
        served.stop()
    assert keys(s3, "srv_out/") == ["srv_out/0000_part_00.parquet"]
