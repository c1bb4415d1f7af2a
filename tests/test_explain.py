"""Explanations in SQL: ``<fn>_explain(...)`` per row and ``explain_model('model')`` globally."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import sqlml
from tests.conftest import PENGUIN_FEATURES, load

V1_FIXTURE = Path(__file__).parent / "fixtures" / "packages" / "v1" / "main.peng"
COLUMNS = [c.strip() for c in PENGUIN_FEATURES.split(",")]
EXPLAIN_TYPE = (
    'STRUCT("label" VARCHAR, "value" DOUBLE, expected_value DOUBLE, '
    "contributions STRUCT(feature VARCHAR, contribution DOUBLE)[])"
)


@pytest.fixture
def peng(shared_penguins):
    """The module's shared penguins connection (read-only tests)."""
    return shared_penguins[0]


@pytest.fixture(scope="module")
def more(shared_penguins):
    """The shared connection with a binary model (``f_male``) and a regression model
    (``f_mass``) trained beside ``peng``, once per module."""
    conn = shared_penguins[0]
    conn.sql(
        "CREATE MODEL is_male FROM (SELECT bill_length_mm, bill_depth_mm, island, "
        "sex = 'MALE' AS male FROM penguins WHERE sex IS NOT NULL) TARGET male "
        "FUNCTION f_male SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    conn.sql(
        "CREATE MODEL mass FROM (SELECT bill_length_mm, island, sex, body_mass_g FROM penguins) "
        "TARGET body_mass_g FUNCTION f_mass SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    return conn


@pytest.mark.slow
def test_contributions_add_up_to_the_predicted_labels_probability(peng):
    rows = peng.execute(
        f"SELECT predict_species({PENGUIN_FEATURES}), "
        f"predict_species_probabilities({PENGUIN_FEATURES}), "
        f"predict_species_explain({PENGUIN_FEATURES}), "
        f"typeof(predict_species_explain({PENGUIN_FEATURES})) FROM penguins"
    ).fetchall()
    assert len(rows) == 344
    for label, p, e, typ in rows:
        assert typ == EXPLAIN_TYPE
        assert e["label"] == label
        assert e["value"] == pytest.approx(p["probabilities"][p["labels"].index(label)], abs=1e-12)
        total = e["expected_value"] + sum(c["contribution"] for c in e["contributions"])
        assert total == pytest.approx(e["value"], abs=1e-9)
        assert sorted(c["feature"] for c in e["contributions"]) == sorted(COLUMNS)
        sizes = [abs(c["contribution"]) for c in e["contributions"]]
        assert sizes == sorted(sizes, reverse=True)


@pytest.mark.slow
def test_the_sum_in_sql_and_the_most_influential_column(peng):
    (worst, top) = peng.execute(
        "SELECT max(abs(e.expected_value + list_sum(list_transform(e.contributions, "
        "lambda c: c.contribution)) - e.value)), mode(e.contributions[1].feature) FROM "
        f"(SELECT predict_species_explain({PENGUIN_FEATURES}) AS e FROM penguins, range(10))"
    ).fetchone()
    assert worst < 1e-9
    assert top in COLUMNS and top not in ("sex", "body_mass_g")


@pytest.mark.slow
def test_regression_and_binary_rows_add_up(more):
    for fn, args in (
        ("f_mass", "bill_length_mm, island, sex"),
        ("f_male", "bill_length_mm, bill_depth_mm, island"),
    ):
        rows = more.execute(f"SELECT {fn}({args}), {fn}_explain({args}) FROM penguins").fetchall()
        for prediction, e in rows:
            total = e["expected_value"] + sum(c["contribution"] for c in e["contributions"])
            assert total == pytest.approx(e["value"], abs=1e-9 * max(1.0, abs(e["value"])))
            if fn == "f_mass":
                # The function returns the target's type (BIGINT grams): the value rounded.
                assert e["label"] is None and abs(e["value"] - prediction) <= 0.5
            else:
                # The F1 threshold decides the label: its probability may be below 0.5.
                assert e["label"] == str(prediction).lower() and 0.0 <= e["value"] <= 1.0


@pytest.mark.slow
def test_nulls_and_unseen_categories_are_explained(peng):
    (e,) = peng.execute(
        "SELECT predict_species_explain('Atlantis', NULL, 18.0, 190, NULL, 'unknown')"
    ).fetchone()
    total = e["expected_value"] + sum(c["contribution"] for c in e["contributions"])
    assert total == pytest.approx(e["value"], abs=1e-9)


@pytest.mark.slow
def test_explain_model_has_redshifts_shape(peng):
    (doc,) = peng.execute("SELECT explain_model('peng')").fetchone()
    doc = json.loads(doc)
    labels = doc["explanations"]["kernel_shap"]
    assert doc["version"] == "1.0"
    assert [labels[f"label{i}"]["label"] for i in range(3)] == ["Adelie", "Chinstrap", "Gentoo"]
    for entry in labels.values():
        assert sorted(entry["global_shap_values"]) == sorted(COLUMNS)
        assert all(v >= 0 for v in entry["global_shap_values"].values())
        assert 0 < entry["expected_value"] < 1
    assert sum(v["expected_value"] for v in labels.values()) == pytest.approx(1.0)
    # Navigated in SQL as in Redshift, with DuckDB's JSON operators.
    (values, one, typ) = peng.execute(
        "SELECT r->'explanations'->'kernel_shap'->'label0'->'global_shap_values', "
        "(r->'explanations'->'kernel_shap'->'label0'->'global_shap_values'->>'island')::DOUBLE, "
        "typeof(r) FROM (SELECT explain_model('main.PENG') AS r)"
    ).fetchone()
    assert typ == "JSON"
    assert one == pytest.approx(json.loads(values)["island"])


@pytest.mark.slow
def test_explain_model_of_binary_and_regression_models(more):
    male = json.loads(more.execute("SELECT explain_model('is_male')").fetchone()[0])
    mass = json.loads(more.execute("SELECT explain_model('mass')").fetchone()[0])
    assert list(male["explanations"]["kernel_shap"]) == ["label0"]
    assert male["explanations"]["kernel_shap"]["label0"]["label"] in (True, False)
    only = mass["explanations"]["kernel_shap"]["label0"]
    assert "label" not in only
    assert sorted(only["global_shap_values"]) == ["bill_length_mm", "island", "sex"]
    assert 3000 < only["expected_value"] < 5500  # grams: the mean body mass, roughly


@pytest.mark.slow
def test_explain_model_over_a_column_of_names(peng):
    rows = peng.execute(
        "SELECT name, explain_model(name) IS NULL FROM (VALUES ('peng'), (NULL), ('peng')) t(name)"
    ).fetchall()
    assert rows == [("peng", False), (None, True), ("peng", False)]


@pytest.mark.slow
def test_explain_model_of_an_unknown_model_suggests_one(peng):
    with pytest.raises(
        sqlml.ModelNotFound, match=r"model pengg does not exist\. Did you mean peng"
    ):
        peng.execute("SELECT explain_model('pengg')")
    with pytest.raises(sqlml.SqlmlError, match=r"explain_model\('not a name'\)"):
        peng.execute("SELECT explain_model('not a name')")


@pytest.mark.slow
def test_an_unqualified_name_in_two_schemas_must_be_qualified(conn):
    load(conn, "penguins")
    conn.sql("CREATE SCHEMA other")
    for schema in ("main", "other"):
        conn.sql(
            f"CREATE MODEL {schema}.twin FROM (SELECT species, island FROM penguins) "
            f"TARGET species FUNCTION {schema}.f_{schema} "
            "SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
        )
    with pytest.raises(sqlml.SqlmlError, match=r"main\.twin, other\.twin have this name"):
        conn.execute("SELECT explain_model('twin')")
    (doc,) = conn.execute("SELECT explain_model('other.twin')").fetchone()
    assert "kernel_shap" in json.loads(doc)["explanations"]


@pytest.mark.slow
def test_a_model_still_training_is_waited_for(training):
    (doc,) = training.execute("SELECT explain_model('slow')").fetchone()
    assert json.loads(doc) == {"explanations": "waiting for training job to complete"}
    with pytest.raises(sqlml.ModelNotReady, match="f_slow_explain"):
        training.execute("SELECT f_slow_explain('Biscoe', 40.0)")
    training.wait_model("slow")
    (doc,) = training.execute("SELECT explain_model('slow')").fetchone()
    assert "kernel_shap" in json.loads(doc)["explanations"]
    (e,) = training.execute("SELECT f_slow_explain('Biscoe', 40.0)").fetchone()
    assert [c["feature"] for c in e["contributions"]] != []


def test_a_first_format_package_explains_rows_but_has_no_global_document(tmp_path):
    store_root = tmp_path / "models"
    shutil.copytree(V1_FIXTURE, store_root / "main.peng")
    with sqlml.connect(tmp_path / "db.duckdb", model_store=store_root, synchronous=True) as conn:
        (doc,) = conn.execute("SELECT explain_model('peng')").fetchone()
        assert "not available" in json.loads(doc)["explanations"]
        (label, e) = conn.execute(
            "SELECT predict_species('Biscoe', 47.5, 15.0, 217, 5000, 'MALE'), "
            "predict_species_explain('Biscoe', 47.5, 15.0, 217, 5000, 'MALE')"
        ).fetchone()
        assert e["label"] == label == "Gentoo"
        total = e["expected_value"] + sum(c["contribution"] for c in e["contributions"])
        assert total == pytest.approx(e["value"], abs=1e-9)


@pytest.mark.slow
def test_wrong_arity_names_the_explanation_function(peng):
    with pytest.raises(sqlml.PredictionCallError, match="predict_species_explain") as info:
        peng.execute("SELECT predict_species_explain('Biscoe')")
    assert "takes 6 arguments" in str(info.value)


@pytest.mark.slow
def test_explanation_function_names_are_reserved(penguins):
    with pytest.raises(
        sqlml.FunctionAlreadyExists, match="explanation function of model main.peng"
    ):
        penguins.sql(
            "CREATE MODEL other FROM (SELECT species, island FROM penguins) TARGET species "
            "FUNCTION predict_species_explain SETTINGS (MAX_RUNTIME 3)"
        )
    penguins.sql("CREATE MACRO taken_explain(a) AS a")
    with pytest.raises(sqlml.FunctionAlreadyExists, match="taken_explain"):
        penguins.sql(
            "CREATE MODEL other FROM (SELECT species, island FROM penguins) TARGET species "
            "FUNCTION taken SETTINGS (MAX_RUNTIME 3)"
        )


@pytest.mark.slow
def test_a_dropped_models_explanations_are_gone(penguins):
    penguins.sql("DROP MODEL peng")
    # The dropped model's function says the model is gone (issue 17), not "did you mean".
    with pytest.raises(
        sqlml.ModelNotFound, match="predict_species_explain belonged to model main.peng"
    ):
        penguins.execute(f"SELECT predict_species_explain({PENGUIN_FEATURES}) FROM penguins")
    with pytest.raises(sqlml.ModelNotFound, match="does not exist"):
        penguins.execute("SELECT explain_model('peng')")
