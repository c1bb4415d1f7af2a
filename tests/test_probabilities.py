"""<fn>_probabilities: Redshift's probability function for classification models."""

from __future__ import annotations

import json

import numpy as np
import pytest

import sqlml
from sqlml.errors import PredictionCallError
from tests.conftest import PENGUIN_FEATURES, load

# Every test here uses a trained model: trained by a trainer process (shared fixtures included).
pytestmark = pytest.mark.slow


@pytest.fixture
def peng(shared_penguins):
    """The module's shared penguins connection (read-only tests)."""
    return shared_penguins[0]


def test_probabilities_are_sorted_sum_to_one_and_match_the_label(peng):
    rows = peng.execute(
        f"SELECT predict_species({PENGUIN_FEATURES}) AS label, "
        f"predict_species_probabilities({PENGUIN_FEATURES}) AS p FROM penguins"
    ).fetchall()
    assert len(rows) == 344
    for label, p in rows:
        assert sorted(p["labels"]) == ["Adelie", "Chinstrap", "Gentoo"]
        probabilities = p["probabilities"]
        assert sum(probabilities) == pytest.approx(1.0)
        assert probabilities == sorted(probabilities, reverse=True)
        assert all(0.0 <= v <= 1.0 for v in probabilities)
        # Multiclass: the prediction is the most probable class.
        assert p["labels"][0] == label


def test_top_label_and_probability_in_sql(peng):
    (label, top, typ) = peng.execute(
        f"SELECT p.labels[1], p.probabilities[1], typeof(p) FROM "
        f"(SELECT predict_species_probabilities({PENGUIN_FEATURES}) AS p FROM penguins "
        "WHERE island = 'Biscoe' AND flipper_length_mm > 220 LIMIT 1)"
    ).fetchone()
    assert label == "Gentoo" and top > 0.5
    assert typ == "STRUCT(labels VARCHAR[], probabilities DOUBLE[])"
    # Unnested, one row per class, as Redshift's PartiQL navigation does.
    rows = peng.execute(
        f"SELECT unnest(p.labels), unnest(p.probabilities) FROM "
        f"(SELECT predict_species_probabilities({PENGUIN_FEATURES}) AS p FROM penguins LIMIT 1)"
    ).fetchall()
    assert len(rows) == 3


def test_probabilities_equal_the_stored_model_in_python(peng, shared_penguins):
    import pyarrow.parquet as pq

    from sqlml.runtime.predictor import Predictor
    from sqlml.store import ModelStore

    store = ModelStore(shared_penguins[1].parent / "test.duckdb.models")
    directory = store.path("main", "peng")
    predictor = Predictor.load(directory, store.read(directory))
    table = pq.read_table("tests/data/penguins.parquet")
    raw = predictor.predict_raw([table.column(c.strip()) for c in PENGUIN_FEATURES.split(",")])
    classes = ["Adelie", "Chinstrap", "Gentoo"]
    for i, (p,) in enumerate(
        peng.execute(
            f"SELECT predict_species_probabilities({PENGUIN_FEATURES}) "
            "FROM read_parquet('tests/data/penguins.parquet')"
        ).fetchall()
    ):
        by_label = dict(zip(p["labels"], p["probabilities"], strict=True))
        assert [by_label[c] for c in classes] == raw[i].tolist()


def test_nulls_and_unseen_categories_get_probabilities(peng):
    (p, q) = peng.execute(
        "SELECT predict_species_probabilities(NULL, NULL, NULL, NULL, NULL, NULL), "
        "predict_species_probabilities('Atlantis', 40.0, 18.0, 190, 3700, 'unknown')"
    ).fetchone()
    for value in (p, q):
        assert sum(value["probabilities"]) == pytest.approx(1.0)


def test_binary_labels_are_text_and_the_threshold_decides_the_label(conn):
    load(conn, "penguins")
    conn.sql(
        "CREATE MODEL is_male FROM (SELECT bill_length_mm, bill_depth_mm, body_mass_g, "
        "sex = 'MALE' AS male FROM penguins WHERE sex IS NOT NULL) TARGET male "
        "FUNCTION f_male SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    model = json.loads((conn.store.path("main", "is_male") / "model.json").read_text())["model"]
    positive = str(model["positive_class"]).lower()  # the less frequent class
    negative = "true" if positive == "false" else "false"
    rows = conn.execute(
        "SELECT f_male(bill_length_mm, bill_depth_mm, body_mass_g)::VARCHAR, "
        "f_male_probabilities(bill_length_mm, bill_depth_mm, body_mass_g) FROM penguins"
    ).fetchall()
    for label, p in rows:
        assert sorted(p["labels"]) == ["false", "true"]
        by_label = dict(zip(p["labels"], p["probabilities"], strict=True))
        # The F1 objective tuned the positive class's threshold: the label follows it.
        expected = positive if by_label[positive] > model["threshold"] else negative
        assert label == expected


def test_regression_models_have_no_probability_function(conn):
    load(conn, "penguins")
    conn.sql(
        "CREATE MODEL mass FROM (SELECT bill_length_mm, body_mass_g FROM penguins) "
        "TARGET body_mass_g FUNCTION f_mass SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    assert conn.execute("SELECT f_mass(40.0)").fetchone()[0] > 0
    with pytest.raises(PredictionCallError, match="main.mass is a regression model"):
        conn.execute("SELECT f_mass_probabilities(40.0)")


def test_probability_function_of_a_dropped_model_is_gone(penguins):
    penguins.sql("DROP MODEL peng")
    # The dropped model's function says the model is gone (issue 17), not "did you mean".
    with pytest.raises(
        sqlml.ModelNotFound, match="predict_species_probabilities belonged to model main.peng"
    ):
        penguins.execute(f"SELECT predict_species_probabilities({PENGUIN_FEATURES}) FROM penguins")


def test_wrong_arity_names_the_probability_function(peng):
    with pytest.raises(sqlml.PredictionCallError, match="predict_species_probabilities") as info:
        peng.execute("SELECT predict_species_probabilities('Biscoe', 40.0)")
    assert "takes 6 arguments" in str(info.value)


def test_function_name_taken_by_a_probability_function(penguins):
    with pytest.raises(
        sqlml.FunctionAlreadyExists, match="probability function of model main.peng"
    ):
        penguins.sql(
            "CREATE MODEL other FROM (SELECT species, island FROM penguins) TARGET species "
            "FUNCTION predict_species_probabilities SETTINGS (MAX_RUNTIME 3)"
        )
    # A new model's probability function may not take an existing function's name either.
    penguins.sql("CREATE MACRO taken_probabilities(a) AS a")
    with pytest.raises(sqlml.FunctionAlreadyExists, match="taken_probabilities"):
        penguins.sql(
            "CREATE MODEL other FROM (SELECT species, island FROM penguins) TARGET species "
            "FUNCTION taken SETTINGS (MAX_RUNTIME 3)"
        )


def test_not_ready_model_has_a_stand_in_probability_function(training):
    with pytest.raises(sqlml.ModelNotReady, match="f_slow_probabilities"):
        training.execute("SELECT f_slow_probabilities('Biscoe', 40.0)")
    training.wait_model("slow")
    (p,) = training.execute("SELECT f_slow_probabilities('Biscoe', 40.0)").fetchone()
    assert sum(p["probabilities"]) == pytest.approx(1.0)


def test_probabilities_of_many_rows_stream_in_batches(peng):
    # More rows than one DuckDB vector: every batch gets its own struct array.
    (n, total) = peng.execute(
        f"SELECT count(*), sum(list_sum(p.probabilities)) FROM (SELECT "
        f"predict_species_probabilities({PENGUIN_FEATURES}) AS p FROM penguins, range(30))"
    ).fetchone()
    assert n == 344 * 30
    assert np.isclose(total, n)
