"""The whole Redshift ML round trip through the public SQL surface, on database files on disk."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import sqlml
from sqlml.errors import DatabaseError
from tests.conftest import PENGUIN_FEATURES, PENGUINS_RUNTIME, load


def show(conn, name: str) -> dict[str, str]:
    return dict(conn.execute(f"SHOW MODEL {name}").fetchall())


@pytest.mark.slow
def test_create_show_predict_drop(penguins, db_path):
    info = show(penguins, "peng")
    assert info["Model Name"] == "peng"
    assert info["Schema Name"] == "main"
    assert info["Model State"] == "READY"
    assert info["Problem Type"] == "MulticlassClassification"
    assert info["Objective"] == "Accuracy"
    assert float(info["validation:accuracy"]) > 0.9
    assert info["Function Name"] == "predict_species"
    assert info["Function Parameters"] == PENGUIN_FEATURES.replace(",", "")
    assert info["Function Parameter Types"] == "VARCHAR DOUBLE DOUBLE BIGINT BIGINT VARCHAR"
    assert info["Target Column"] == "species"
    assert info["Max Runtime"] == str(PENGUINS_RUNTIME)
    assert info["Query"].startswith("SELECT species, island")

    (accuracy,) = penguins.execute(
        f"SELECT avg((predict_species({PENGUIN_FEATURES}) = species)::INT) "
        "FROM penguins WHERE fold = 0"
    ).fetchone()
    assert accuracy > 0.9

    assert penguins.execute("SHOW MODEL ALL").fetchall() == [
        ("main", "peng", "READY", "predict_species")
    ]
    penguins.sql("DROP MODEL peng")
    assert penguins.execute("SHOW MODEL ALL").fetchall() == []
    assert not (db_path.parent / "test.duckdb.models" / "main.peng").exists()
    # The dropped model's function says the model is gone (issue 17), not "did you mean".
    with pytest.raises(sqlml.ModelNotFound, match="predict_species belonged to model main.peng"):
        penguins.execute(f"SELECT predict_species({PENGUIN_FEATURES}) FROM penguins")


@pytest.mark.slow
def test_function_survives_a_new_process(penguins, db_path):
    expected = penguins.execute(
        f"SELECT predict_species({PENGUIN_FEATURES}) FROM penguins ORDER BY ALL"
    ).fetchall()
    penguins.close()
    code = (
        "import json, sqlml, sys\n"
        f"c = sqlml.connect({str(db_path)!r})\n"
        f"rows = c.execute('SELECT predict_species({PENGUIN_FEATURES}) FROM penguins "
        "ORDER BY ALL').fetchall()\n"
        "print(json.dumps(rows))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert [tuple(r) for r in json.loads(out.stdout)] == expected


@pytest.mark.slow
def test_second_connection_in_process_sees_new_models(db_path):
    first = sqlml.connect(db_path, synchronous=True)
    second = sqlml.connect(db_path, synchronous=True)
    try:
        load(first, "penguins")
        first.sql(
            f"CREATE MODEL m FROM (SELECT species, {PENGUIN_FEATURES} FROM penguins) "
            "TARGET species FUNCTION f_species SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
        )
        rows = second.execute(f"SELECT f_species({PENGUIN_FEATURES}) FROM penguins").fetchall()
        assert len(rows) == 344
        assert {r[0] for r in rows} <= {"Adelie", "Chinstrap", "Gentoo"}
        second.sql("DROP MODEL m")
        with pytest.raises(DatabaseError, match="f_species does not exist"):
            first.execute(f"SELECT f_species({PENGUIN_FEATURES}) FROM penguins")
    finally:
        first.close()
        second.close()


@pytest.mark.slow
def test_regression_with_dates_returns_target_type(conn):
    load(conn, "bike_sharing_hourly", "bikes")
    features = (
        "date, season, year, month, hour, holiday, weekday, working_day, weather, "
        "temperature, apparent_temperature, humidity, windspeed"
    )
    conn.sql(
        f"CREATE MODEL bikes_model FROM (SELECT {features}, rentals FROM bikes "
        "WHERE fold <> 0) TARGET rentals FUNCTION predict_rentals "
        "SETTINGS (MAX_RUNTIME 240, MAX_TRIALS 1)"
    )
    info = show(conn, "bikes_model")
    assert info["Problem Type"] == "Regression"
    assert info["Objective"] == "MSE"
    assert info["Function Return Type"] == "BIGINT"
    rmse, typ = conn.execute(
        f"SELECT sqrt(avg((predict_rentals({features}) - rentals) ** 2)), "
        f"any_value(typeof(predict_rentals({features}))) FROM bikes WHERE fold = 0"
    ).fetchone()
    assert typ == "BIGINT"
    # The target's standard deviation is about 181; a useful model is far below it.
    assert rmse < 80


@pytest.mark.slow
def test_binary_boolean_and_integer_targets(conn):
    load(conn, "penguins")
    conn.sql(
        "CREATE MODEL is_gentoo FROM (SELECT bill_length_mm, bill_depth_mm, body_mass_g, "
        "species = 'Gentoo' AS gentoo FROM penguins) TARGET gentoo FUNCTION f_gentoo "
        "SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    conn.sql(
        "CREATE MODEL is_male FROM (SELECT bill_length_mm, bill_depth_mm, body_mass_g, "
        "(sex = 'MALE')::INT AS male FROM penguins) TARGET male FUNCTION f_male "
        "SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    assert show(conn, "is_gentoo")["Problem Type"] == "BinaryClassification"
    assert show(conn, "is_male")["Problem Type"] == "BinaryClassification"
    assert "validation:f1" in show(conn, "is_gentoo")
    types = conn.execute(
        "SELECT DISTINCT typeof(f_gentoo(bill_length_mm, bill_depth_mm, body_mass_g)), "
        "typeof(f_male(bill_length_mm, bill_depth_mm, body_mass_g)) FROM penguins"
    ).fetchall()
    assert types == [("BOOLEAN", "INTEGER")]


@pytest.mark.slow
def test_problem_type_and_objective_given(conn):
    load(conn, "penguins")
    conn.sql(
        "CREATE MODEL m FROM (SELECT bill_length_mm, body_mass_g, "
        "(sex = 'MALE')::INT AS male FROM penguins) TARGET male FUNCTION f "
        "PROBLEM_TYPE REGRESSION OBJECTIVE 'mse' SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    info = show(conn, "m")
    assert info["Problem Type"] == "Regression"
    assert "validation:mse" in info


@pytest.mark.slow
def test_nulls_unseen_categories_and_castable_arguments(penguins):
    rows = penguins.execute(
        "SELECT predict_species(NULL, NULL, NULL, NULL, NULL, NULL), "
        "predict_species('Atlantis', 40.0, 18.0, 190, 3700, 'unknown'), "
        "predict_species('Biscoe', 47::INTEGER, 15::SMALLINT, 217::INTEGER, 5000::DECIMAL(9,2), "
        "'FEMALE'), "
        "predict_species('Biscoe', '47.5', '15', '217', '5000', 'FEMALE')"
    ).fetchall()
    assert all(value in ("Adelie", "Chinstrap", "Gentoo") for value in rows[0])
    assert rows[0][2] == "Gentoo"
    assert rows[0][3] == "Gentoo"


@pytest.mark.slow
def test_sql_prediction_equals_stored_model_in_python(penguins, db_path):
    import pyarrow.parquet as pq

    from sqlml.runtime.predictor import Predictor
    from sqlml.store import ModelStore

    store = ModelStore(db_path.parent / "test.duckdb.models")
    directory = store.path("main", "peng")
    predictor = Predictor.load(directory, store.read(directory))
    table = pq.read_table("tests/data/penguins.parquet")
    columns = [table.column(c.strip()) for c in PENGUIN_FEATURES.split(",")]
    python_labels = predictor.predict(columns).to_pylist()
    penguins.sql("CREATE TABLE raw AS SELECT * FROM read_parquet('tests/data/penguins.parquet')")
    sql_labels = [
        r[0]
        for r in penguins.execute(f"SELECT predict_species({PENGUIN_FEATURES}) FROM raw").fetchall()
    ]
    assert sql_labels == python_labels


@pytest.mark.slow
def test_schema_qualified_model_and_function(conn):
    load(conn, "penguins")
    conn.sql("CREATE SCHEMA ml")
    conn.sql(
        f"CREATE MODEL ml.species FROM (SELECT species, {PENGUIN_FEATURES} FROM penguins) "
        "TARGET species FUNCTION ml.predict_sp IAM_ROLE default "
        "SETTINGS (S3_BUCKET 'my-bucket', MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    info = show(conn, "ml.species")
    assert info["Schema Name"] == "ml"
    assert info["S3 Bucket"] == "my-bucket"
    assert info["IAM Role"] == "default"
    assert conn.execute("SHOW MODEL ALL").fetchall()[0][:2] == ("ml", "species")
    (n,) = conn.execute(f"SELECT count(predict_sp({PENGUIN_FEATURES})) FROM penguins").fetchone()
    assert n == 344
    conn.sql("DROP MODEL ml.species")
    assert conn.execute("SHOW MODEL ALL").fetchall() == []


@pytest.mark.slow
def test_from_table_and_case_insensitive_names(conn):
    load(conn, "car_evaluation", "Cars")
    conn.sql("CREATE TABLE cars_train AS SELECT * EXCLUDE (fold) FROM Cars")
    # One candidate, the MLP: it learns the table in about 9 trainer CPU seconds, where the
    # default first candidate (LightGBM) and the TreeSHAP explanation of its 4-class ensemble
    # take a minute.
    conn.sql(
        "create model CarModel from cars_train target ACCEPTABILITY function Predict_Car "
        "model_type mlp settings (max_runtime 300, max_trials 1);"
    )
    info = show(conn, "carmodel")
    assert info["Table"] == "cars_train"
    assert info["Target Column"] == "acceptability"
    assert info["Function Name"] == "predict_car"
    (accuracy,) = conn.execute(
        "SELECT avg((PREDICT_CAR(buying, maint, doors, persons, lug_boot, safety) "
        "= acceptability)::INT) FROM cars_train"
    ).fetchone()
    assert accuracy > 0.9


@pytest.mark.slow
def test_max_cells_samples_rows(conn):
    load(conn, "penguins")
    conn.sql(
        f"CREATE MODEL m FROM (SELECT species, {PENGUIN_FEATURES} FROM penguins) "
        "TARGET species FUNCTION f SETTINGS (MAX_CELLS 1400, MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    info = show(conn, "m")
    used, _, rest = info["Training Rows"].partition(" of ")
    # A stratified sample: each species keeps its share, rounded up (3 species).
    assert 200 <= int(used) <= 203
    assert rest.startswith("344 (random sample")
    assert info["Max Cells"] == "1400"


@pytest.mark.slow
def test_in_memory_database_with_explicit_store(tmp_path):
    store = tmp_path / "models"
    with sqlml.connect(model_store=store, synchronous=True) as conn:
        load(conn, "penguins")
        conn.sql(
            f"CREATE MODEL m FROM (SELECT species, {PENGUIN_FEATURES} FROM penguins) "
            "TARGET species FUNCTION f SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
        )
        assert (store / "main.m" / "model.json").is_file()


def test_in_memory_database_store_is_temporary():
    conn = sqlml.connect(synchronous=True)
    root = conn.store.root
    assert root.is_dir()
    conn.close()
    del conn
    import gc

    gc.collect()
    assert not root.exists()


@pytest.mark.slow
def test_every_supported_column_type(conn):
    conn.sql("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    conn.sql("""
        CREATE TABLE mixed AS
        SELECT i::SMALLINT AS small, (i * 1.5)::DECIMAL(10, 2) AS dec, i / 7.0 AS dbl,
               i % 2 = 0 AS flag, 'c' || (i % 4) AS cat,
               (['sad', 'ok', 'happy'])[1 + i % 3]::mood AS feeling,
               DATE '2020-01-01' + i::INTEGER AS day, TIMESTAMP '2020-01-01 00:00' + INTERVAL (i) HOUR AS ts,
               TIMESTAMPTZ '2020-01-01 00:00+00' + INTERVAL (i) MINUTE AS tstz,
               TIME '00:00' + INTERVAL (i) MINUTE AS tod,
               CASE WHEN i % 3 = 0 THEN NULL ELSE i END AS with_nulls,
               (i % 4) * 10.0 + (i % 2) AS y
        FROM range(600) t(i)
    """)
    conn.sql(
        "CREATE MODEL mixed_model FROM mixed TARGET y FUNCTION predict_mixed "
        "SETTINGS (MAX_RUNTIME 240, MAX_TRIALS 1)"
    )
    info = dict(conn.execute("SHOW MODEL mixed_model").fetchall())
    assert info["Function Parameter Types"] == (
        "SMALLINT DECIMAL(10,2) DOUBLE BOOLEAN VARCHAR ENUM DATE TIMESTAMP TIMESTAMPTZ TIME BIGINT"
    )
    (rmse,) = conn.execute(
        "SELECT sqrt(avg((predict_mixed(small, dec, dbl, flag, cat, feeling, day, ts, tstz, tod, "
        "with_nulls) - y) ** 2)) FROM mixed"
    ).fetchone()
    assert rmse < 3  # y ranges over 0..31 and is a function of cat and flag


@pytest.mark.slow
def test_leaderboard_is_queryable_in_sql(penguins):
    rows = penguins.execute(
        "SELECT model_name, trial, candidate, learner, status, score, ensemble_weight "
        "FROM sqlml_leaderboard ORDER BY trial"
    ).fetchall()
    assert rows[0][:5] == ("peng", 1, "lightgbm", "lightgbm", "ok")
    assert all(0.0 <= r[5] <= 1.0 for r in rows if r[4] == "ok")
    assert sum(r[6] for r in rows) == pytest.approx(1.0)
    (params,) = penguins.execute(
        "SELECT params->>'learning_rate' FROM sqlml_leaderboard WHERE trial = 1"
    ).fetchone()
    assert float(params) == 0.05
    penguins.sql("DROP MODEL peng")
    assert penguins.execute("SELECT count(*) FROM sqlml_leaderboard").fetchone() == (0,)


@pytest.mark.slow
def test_model_type_restricts_the_search_through_sql(conn):
    load(conn, "penguins")
    conn.sql(
        f"CREATE MODEL lin FROM (SELECT species, {PENGUIN_FEATURES} FROM penguins) "
        "TARGET species FUNCTION f_lin MODEL_TYPE LINEAR_LEARNER "
        "SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 3)"
    )
    info = dict(conn.execute("SHOW MODEL lin").fetchall())
    assert info["Model Type"] == "linear_learner"
    learners = conn.execute("SELECT DISTINCT learner FROM sqlml_leaderboard").fetchall()
    assert learners == [("linear",)]
    with pytest.raises(sqlml.InvalidSetting, match="MODEL_TYPE KMEANS is trained with AUTO OFF"):
        conn.sql(
            f"CREATE MODEL km FROM (SELECT species, {PENGUIN_FEATURES} FROM penguins) "
            "TARGET species FUNCTION f_km MODEL_TYPE KMEANS"
        )
