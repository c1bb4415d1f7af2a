"""sqlml on a real Spark (``local[2]``): one SparkSession for the whole module (the JVM starts
once), the penguins table read from Parquet over three partitions, models trained on DuckDB
served in Spark and the other way round, with the same predictions.

Skipped where pyspark or Java is missing.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java (17), which is not installed", allow_module_level=True)

import sqlml  # noqa: E402
from tests.conftest import _copy_penguins  # noqa: E402
from tests.test_s3 import get, keys, put, s3, s3_server  # noqa: E402, F401 -- S3 fixtures

FEATURES = "island, bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, sex"
MASS_FEATURES = "island, bill_length_mm, flipper_length_mm, sex"


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local Spark for the test session: two cores, small shuffles, a modest driver, and
    sqlml's source on the Python workers' path."""
    from pyspark.sql import SparkSession

    src = str(Path(sqlml.__file__).resolve().parents[1])
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("sqlml-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.executorEnv.PYTHONPATH", os.pathsep.join([src, *sys.path[1:]]))
        .config("spark.pyspark.python", sys.executable)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("OFF")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def rows(spark, tmp_path_factory):
    """The penguins rows with a row id, as Parquet: a DuckDB table and a Spark view (three
    partitions) over the same file."""
    folder = tmp_path_factory.mktemp("spark-rows")
    path = folder / "penguins.parquet"
    source = Path(__file__).parent / "data" / "penguins.parquet"
    with sqlml.connect() as duck:
        duck.sql(
            f"COPY (SELECT row_number() OVER () AS rid, * FROM read_parquet('{source}')) "
            f"TO '{path}' (FORMAT parquet)"
        )
    spark.read.parquet(str(path)).repartition(3).createOrReplaceTempView("penguins")
    return path


@pytest.fixture(scope="module")
def both(spark, rows, _penguins_template, tmp_path_factory):
    """A DuckDB connection and a Spark connection over one model store, which holds the
    session's DuckDB-trained penguins species model (main.peng, predict_species)."""
    db_path = tmp_path_factory.mktemp("spark-both") / "test.duckdb"
    _copy_penguins(_penguins_template, db_path)
    store = db_path.parent / f"{db_path.name}.models"
    duck = sqlml.connect(db_path, synchronous=True)
    duck.sql(f"CREATE OR REPLACE TABLE pen AS SELECT * FROM read_parquet('{rows}')")
    on_spark = sqlml.connect(spark=spark, model_store=store, synchronous=True)
    yield duck, on_spark
    on_spark.close()
    duck.close()


# -- without a model ---------------------------------------------------------------------------


def test_statements_run_in_spark_sql(spark, rows):
    with sqlml.connect(spark=spark) as conn:
        result = conn.execute("SELECT count(*) AS n, count(DISTINCT island) FROM penguins")
        assert result.fetchall() == [(344, 3)]
        assert result.tag == "SELECT 1"
        frame = conn.sql("SELECT island FROM penguins WHERE rid <= 5")
        assert frame.count() == 5  # the Spark engine's native result: a DataFrame
        assert conn.execute("SELECT ? + 1 AS x", [41]).fetchall() == [(42,)]
        assert conn.engine.capabilities.transactions is False


def test_spark_errors_have_postgres_sqlstates(spark, rows):
    with sqlml.connect(spark=spark) as conn:
        cases = [
            ("SELECT * FROM no_such_table", "42P01"),
            ("SELECT no_such_column FROM penguins", "42703"),
            ("SELEC 1", "42601"),
            ("SELECT no_such_function(1)", "42883"),
            ("SELECT CAST('x' AS INT)", "22P02"),
        ]
        for text, sqlstate in cases:
            with pytest.raises(sqlml.DatabaseError) as raised:
                conn.execute(text)
            assert raised.value.sqlstate == sqlstate, text
            assert "SQLSTATE" not in str(raised.value)


def test_a_from_query_spark_refuses_fails_create_model(spark, rows):
    with sqlml.connect(spark=spark) as conn:
        with pytest.raises(sqlml.TrainingQueryError, match="no_such_column") as raised:
            conn.sql(
                "CREATE MODEL m FROM (SELECT no_such_column, species FROM penguins) "
                "TARGET species FUNCTION f"
            )
        assert raised.value.sqlstate == "42000"
        with pytest.raises(sqlml.ModelNotFound) as missing:
            conn.sql("SHOW MODEL no_such_model")
        assert missing.value.sqlstate == "42704"
        with pytest.raises(sqlml.ModelNotFound):
            conn.sql("DROP MODEL no_such_model")
        with pytest.raises(sqlml.ModelNotFound):
            conn.execute("SELECT explain_model('no_such_model')")
        assert conn.execute("SELECT count(*) FROM stv_ml_model_info").fetchall() == [(0,)]
        # a table whose name needs quoting is read (quoted as Spark quotes: backticks)
        spark.table("penguins").createOrReplaceTempView("PenGuins")
        with pytest.raises(sqlml.ColumnNotFound, match="TARGET column 'nope'"):
            conn.sql("CREATE MODEL m FROM `PenGuins` TARGET nope FUNCTION f")


# -- a DuckDB model served in Spark --------------------------------------------------------------


def _by_rid(table) -> dict:
    data = table.to_pydict()
    names = list(data)
    return {rid: tuple(data[n][i] for n in names[1:]) for i, rid in enumerate(data[names[0]])}


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for rid, left in a.items():
        right = b[rid]
        for x, y in zip(left, right, strict=True):
            if isinstance(x, float) or isinstance(y, float):
                assert x == pytest.approx(y, rel=1e-9, abs=1e-9), rid
            elif isinstance(x, dict):
                assert x["labels"] == y["labels"], rid
                assert x["probabilities"] == pytest.approx(y["probabilities"], abs=1e-9), rid
            else:
                assert x == y, rid


@pytest.mark.slow
def test_duckdb_model_predicts_the_same_in_spark(spark, both):
    duck, _ = both
    query = (
        f"SELECT rid, predict_species({FEATURES}) AS label, "
        f"predict_species_probabilities({FEATURES}) AS p FROM {{}} ORDER BY rid"
    )
    # the user's own SparkSession calls the function: it runs in the Python workers
    on_spark = _by_rid(spark.sql(query.format("penguins")).toArrow())
    on_duck = _by_rid(duck.execute(query.format("pen")).arrow())
    assert len(on_spark) == 344
    _assert_same(on_spark, on_duck)
    # NULL features (two penguins have no measurements) and unseen categories predict
    unseen = (
        "SELECT rid, predict_species('Atlantis', bill_length_mm, NULL, flipper_length_mm, "
        "body_mass_g, 'unknown') AS label FROM {} ORDER BY rid"
    )
    _assert_same(
        _by_rid(spark.sql(unseen.format("penguins")).toArrow()),
        _by_rid(duck.execute(unseen.format("pen")).arrow()),
    )


@pytest.mark.slow
def test_show_evaluate_explain_and_catalog_on_spark(both):
    _, conn = both
    show = dict(conn.execute("SHOW MODEL main.peng").fetchall())
    assert show["Model State"] == "READY"
    evaluated = conn.execute("EVALUATE MODEL main.peng FROM (SELECT * FROM penguins)")
    assert evaluated.fetchone()[0] == 344
    # a column named in another case is found, and quoted as Spark quotes names
    evaluated = conn.execute(
        "EVALUATE MODEL main.peng FROM (SELECT island AS Island, * EXCEPT (island) FROM penguins)"
    )
    assert evaluated.fetchone()[0] == 344
    document = conn.execute("SELECT explain_model('main.peng')").fetchone()[0]
    assert "global_shap_values" in document
    info = conn.execute("SELECT schema_name, model_name, life_cycle FROM stv_ml_model_info")
    assert ("main", "peng", "READY") in info.fetchall()
    board = conn.execute("SELECT count(*) FROM sqlml_leaderboard WHERE model_name = 'peng'")
    assert board.fetchone()[0] >= 1
    explained = conn.execute(
        f"SELECT predict_species_explain({FEATURES}) AS e FROM penguins WHERE rid = 1"
    ).fetchone()[0]
    assert explained["label"] in ("Adelie", "Chinstrap", "Gentoo")


@pytest.mark.slow
def test_bad_calls_on_spark_are_sqlml_errors(both):
    _, conn = both
    with pytest.raises(sqlml.PredictionCallError, match="takes 6 arguments") as raised:
        conn.execute("SELECT predict_species(island) FROM penguins")
    assert raised.value.sqlstate == "42883"


@pytest.mark.slow
def test_function_of_a_model_not_ready_says_so_on_spark(spark, rows, tmp_path, monkeypatch):
    # A session of its own: its temporary functions are not the other tests'.
    session = spark.newSession()
    session.read.parquet(str(rows)).createOrReplaceTempView("penguins")
    monkeypatch.setenv("SQLML_PAUSE_AT", "trainer:training")  # the trainer stops there
    with sqlml.connect(spark=session, model_store=tmp_path / "models") as conn:
        conn.sql(
            "CREATE MODEL slow FROM (SELECT species, island, bill_length_mm FROM penguins) "
            "TARGET species FUNCTION f_slow SETTINGS (MAX_RUNTIME 60)"
        )
        with pytest.raises(sqlml.ModelNotReady, match="f_slow of model default.slow") as raised:
            conn.execute("SELECT f_slow(island, bill_length_mm) FROM penguins")
        assert raised.value.sqlstate == "55000"
        conn.sql("DROP MODEL slow")
        with pytest.raises(sqlml.SqlmlError) as gone:
            conn.execute("SELECT f_slow(island, bill_length_mm) FROM penguins")
        assert gone.value.sqlstate in ("42704", "42883")


# -- executors that read packages from object storage (moto's S3 server on loopback) ---------------


@pytest.fixture
def executor_env(spark, s3, tmp_path):  # noqa: F811 -- the fixture
    """What the Python workers see: the S3 server's endpoint and credentials (set in the
    environment Spark passes to the workers of functions registered from now on) and a
    package cache of the test's own. Yields a function to point the cache elsewhere."""
    import os

    environment = spark.sparkContext.environment
    saved = dict(environment)
    names = ("AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    environment.update({n: os.environ[n] for n in names})

    def cache(name: str) -> Path:
        environment["SQLML_PACKAGE_CACHE"] = str(tmp_path / name)
        return tmp_path / name

    yield cache
    environment.clear()
    environment.update(saved)


@pytest.mark.slow
def test_executors_read_packages_from_object_storage(spark, rows, both, s3, executor_env):  # noqa: F811
    duck, on_spark = both
    cache = executor_env("cache")
    session = spark.newSession()  # temporary functions of its own
    session.read.parquet(str(rows)).createOrReplaceTempView("penguins")
    manifest = on_spark.store.get("main", "peng")
    with sqlml.connect(
        spark=session, model_store=on_spark.store.root, executor_store="s3://data/exec/"
    ) as conn:
        # the driver copied the package, manifest last, under schema.name/package id
        prefix = f"exec/main.peng/{manifest['package_id']}/"
        listed = [k for k in keys(s3, "exec/") if k.startswith(prefix)]
        assert sorted(k[len(prefix) :] for k in listed) == sorted(
            [*manifest["files"], "model.json"]
        )
        query = f"SELECT rid, predict_species({FEATURES}) AS label FROM {{}} ORDER BY rid"
        spark_rows = conn.execute(query.format("penguins")).arrow()
        _assert_same(_by_rid(spark_rows), _by_rid(duck.execute(query.format("pen")).arrow()))
        # the workers loaded the copy they fetched, not the store's folder
        assert (cache / manifest["package_id"] / manifest["model"]["explanation"]).is_file()
        document = conn.execute("SELECT explain_model('main.peng')").fetchone()[0]
        assert "global_shap_values" in document

    # an object altered in the bucket is refused before any library parses it
    executor_env("cache-2")
    victim = next(k for k in listed if k.endswith(".json") and not k.endswith("model.json"))
    original = get(s3, victim)
    put(s3, victim, original + b" ")
    session = spark.newSession()
    session.read.parquet(str(rows)).createOrReplaceTempView("penguins")
    with sqlml.connect(
        spark=session, model_store=on_spark.store.root, executor_store="s3://data/exec"
    ) as conn:
        with pytest.raises(sqlml.CorruptModelPackage, match="main.peng") as raised:
            conn.execute(f"SELECT predict_species({FEATURES}) FROM penguins").fetchall()
        assert "damaged" in str(raised.value)


def test_executor_store_is_checked_at_connect(spark, tmp_path):
    with pytest.raises(sqlml.InvalidSetting, match="nosuchfs"):
        sqlml.connect(spark=spark, model_store=tmp_path / "m", executor_store="nosuchfs://x/")
    with pytest.raises(sqlml.InvalidSetting, match="duckdb engine"):
        sqlml.connect(tmp_path / "x.duckdb", executor_store="s3://data/exec")


# -- a Spark model served in DuckDB ----------------------------------------------------------------


@pytest.fixture(scope="module")
def mass(both):
    """A regression model of body mass trained from Spark (default.mass, predict_mass)."""
    _, conn = both
    conn.sql(
        f"CREATE MODEL mass FROM (SELECT body_mass_g, {MASS_FEATURES} FROM penguins "
        "WHERE rid % 5 <> 0) TARGET body_mass_g FUNCTION predict_mass "
        "SETTINGS (MAX_RUNTIME 240, MAX_TRIALS 2)"
    )
    return conn


@pytest.mark.slow
def test_spark_model_predicts_the_same_in_duckdb(spark, both, mass):
    duck, conn = both
    show = dict(conn.execute("SHOW MODEL mass").fetchall())
    assert show["Model State"] == "READY"
    query = f"SELECT rid, predict_mass({MASS_FEATURES}) AS m FROM {{}} ORDER BY rid"
    on_spark = _by_rid(spark.sql(query.format("penguins")).toArrow())
    on_duck = _by_rid(duck.execute(query.format("pen")).arrow())
    assert len(on_spark) == 344
    _assert_same(on_spark, on_duck)
    # CREATE TABLE ... AS SELECT fn(...) runs the function in the executors as well
    conn.sql(
        f"CREATE TABLE masses USING parquet AS SELECT rid, predict_mass({MASS_FEATURES}) AS m "
        "FROM penguins"
    )
    _assert_same(_by_rid(spark.table("masses").orderBy("rid").toArrow()), on_duck)
    conn.sql("DROP TABLE masses")


def test_training_sample_is_drawn_in_spark_per_class(spark, rows, tmp_path):
    import pyarrow as pa

    query = "SELECT species, island, bill_length_mm FROM penguins"
    with sqlml.connect(spark=spark) as conn:
        engine = conn.engine
        path = tmp_path / "sample.arrow"
        written, total = engine.export_training_data(query, path, 100, 7, stratify="species")
        sample = pa.ipc.open_file(pa.OSFile(str(path))).read_all()
        assert (written, total) == (sample.num_rows, 344)
        counts = dict(
            conn.execute(f"SELECT species, count(*) FROM ({query}) GROUP BY 1").fetchall()
        )
        got = sample.group_by("species").aggregate([("species", "count")]).to_pydict()
        # each class keeps its share, rounded up (as DuckDB's stratified sample does)
        assert dict(zip(got["species"], got["species_count"], strict=True)) == {
            s: -(-n * 100 // 344) for s, n in counts.items()
        }
        assert sample.schema.field("island").type == pa.string()
        written, _ = engine.export_training_data(query, path, 50, 7)
        assert written == 50


def test_cli_on_spark_refuses_a_database_file(tmp_path, capsys):
    from sqlml.cli import main

    assert main([str(tmp_path / "x.duckdb"), "--spark-master", "local[1]", "-c", "SELECT 1"]) == 1
    assert "no database file" in capsys.readouterr().err


def test_cli_executor_store_needs_spark(tmp_path, capsys):
    from sqlml.cli import main

    assert main([str(tmp_path / "x.duckdb"), "--executor-store", "s3://b/p", "-c", "SELECT 1"]) == 1
    assert "--executor-store" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_runs_on_spark(tmp_path):
    import subprocess

    src = str(Path(sqlml.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "sqlml", "--spark-master", "local[1]", "-csv"]
        + ["--model-store", str(tmp_path / "models")]
        + ["-c", "SELECT count(*) AS n FROM range(7)", "-c", "SHOW MODEL ALL"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["n", "7"]
