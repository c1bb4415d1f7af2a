"""EVALUATE MODEL: metrics in SQL, equal to scikit-learn's on the prediction functions' output."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

import sqlml
from tests.conftest import PENGUIN_FEATURES, load

CLASSES = ["Adelie", "Chinstrap", "Gentoo"]

# Every test here uses a trained model: trained by a trainer process (shared fixtures included).
pytestmark = pytest.mark.slow


@pytest.fixture
def peng(shared_penguins):
    """The module's shared penguins connection (read-only tests)."""
    return shared_penguins[0]


def _row(conn, sql: str) -> dict:
    result = conn.execute(sql)
    return dict(zip(result.columns, result.fetchone(), strict=True))


def _evaluated(conn, sql: str) -> tuple[dict, list[str]]:
    """The result's one row, and the notices that came with it."""
    for statement in conn.run(sql):
        return statement.arrow().to_pylist()[0], list(statement.notices)
    raise AssertionError("no result")


def test_multiclass_metrics_equal_scikit_learns(peng):
    got = _row(peng, "EVALUATE MODEL peng FROM (SELECT * FROM penguins WHERE fold = 0)")
    rows = peng.execute(
        f"SELECT species, predict_species({PENGUIN_FEATURES}), "
        f"predict_species_probabilities({PENGUIN_FEATURES}) FROM penguins WHERE fold = 0"
    ).fetchall()
    y = [r[0] for r in rows]
    labels = [r[1] for r in rows]
    proba = np.array(
        [
            [dict(zip(r[2]["labels"], r[2]["probabilities"], strict=True))[c] for c in CLASSES]
            for r in rows
        ]
    )
    proba /= proba.sum(axis=1, keepdims=True)  # as EVALUATE MODEL does (float32 learners)
    assert got["rows"] == len(rows) and got["rows_without_target"] == 0
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, labels))
    for name, fn in [
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1_score", skm.f1_score),
    ]:
        assert got[name] == pytest.approx(fn(y, labels, average="macro", labels=CLASSES))
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=CLASSES))
    assert got["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", labels=CLASSES)
    )
    matrix = got["confusion_matrix"]
    assert matrix["labels"] == CLASSES
    assert matrix["counts"] == skm.confusion_matrix(y, labels, labels=CLASSES).tolist()


def test_binary_metrics_use_the_positive_class_and_the_threshold(conn):
    load(conn, "penguins")
    conn.sql(
        "CREATE MODEL gentoo FROM (SELECT bill_length_mm, bill_depth_mm, body_mass_g, "
        "species = 'Gentoo' AS is_gentoo FROM penguins WHERE fold <> 0) TARGET is_gentoo "
        "FUNCTION f_gentoo SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    test = (
        "SELECT bill_length_mm, bill_depth_mm, body_mass_g, species = 'Gentoo' AS is_gentoo "
        "FROM penguins WHERE fold = 0"
    )
    got = _row(conn, f"EVALUATE MODEL gentoo FROM ({test})")
    rows = conn.execute(
        "SELECT is_gentoo, f_gentoo(bill_length_mm, bill_depth_mm, body_mass_g), "
        f"f_gentoo_probabilities(bill_length_mm, bill_depth_mm, body_mass_g) FROM ({test})"
    ).fetchall()
    y = np.array([r[0] for r in rows if r[0] is not None])
    labels = np.array([r[1] for r in rows if r[0] is not None])
    p_true = np.array(
        [
            dict(zip(r[2]["labels"], r[2]["probabilities"], strict=True))["true"]
            for r in rows
            if r[0] is not None
        ]
    )
    # Gentoo is the less frequent class, so the positive one.
    assert got["precision"] == pytest.approx(skm.precision_score(y, labels))
    assert got["recall"] == pytest.approx(skm.recall_score(y, labels))
    assert got["f1_score"] == pytest.approx(skm.f1_score(y, labels))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p_true))
    assert got["confusion_matrix"]["labels"] == ["false", "true"]


def test_regression_metrics_equal_scikit_learns(conn):
    load(conn, "penguins")
    query = "SELECT bill_length_mm, flipper_length_mm, body_mass_g::DOUBLE AS mass FROM penguins"
    conn.sql(
        f"CREATE MODEL mass FROM ({query} WHERE fold <> 0) TARGET mass FUNCTION f_mass "
        "SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    got = _row(conn, f"EVALUATE MODEL mass FROM ({query} WHERE fold = 0)")
    rows = conn.execute(
        f"SELECT mass, f_mass(bill_length_mm, flipper_length_mm) FROM ({query} WHERE fold = 0) "
        "WHERE mass IS NOT NULL"
    ).fetchall()
    y, pred = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    assert got["rows"] == len(rows)
    assert got["mean_absolute_error"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert got["mean_squared_error"] == pytest.approx(skm.mean_squared_error(y, pred))
    assert got["root_mean_squared_error"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert got["r2_score"] == pytest.approx(skm.r2_score(y, pred))


def test_rows_without_a_target_are_left_out_and_counted(peng):
    got = _row(
        peng,
        "EVALUATE MODEL peng FROM (SELECT * REPLACE (CASE WHEN fold = 1 THEN NULL "
        "ELSE species END AS species) FROM penguins)",
    )
    (with_null,) = peng.execute("SELECT count(*) FROM penguins WHERE fold = 1").fetchone()
    assert got["rows_without_target"] == with_null
    assert got["rows"] == 344 - with_null


def test_from_a_table_and_column_names_in_any_case(penguins):
    penguins.sql(
        'CREATE TABLE holdout AS SELECT species AS "SPECIES", * EXCLUDE (species) FROM penguins'
    )
    got = _row(penguins, "EVALUATE MODEL PENG FROM holdout")
    assert got["rows"] == 344


def test_missing_columns_are_named(peng):
    with pytest.raises(sqlml.ColumnNotFound, match="no column species") as info:
        peng.sql(
            "EVALUATE MODEL peng FROM (SELECT island, bill_length_mm, bill_depth_mm, "
            "flipper_length_mm, body_mass_g, sex FROM penguins)"
        )
    assert "TARGET column species" in str(info.value)
    with pytest.raises(sqlml.ColumnNotFound, match="no column island, sex"):
        peng.sql("EVALUATE MODEL peng FROM (SELECT * EXCLUDE (island, sex) FROM penguins)")


def test_target_values_the_model_never_saw_count_as_errors(peng):
    query = (
        "SELECT * REPLACE (CASE WHEN species = 'Gentoo' THEN 'Emperor' ELSE species END AS "
        "species) FROM penguins WHERE fold = 0"
    )
    got, notices = _evaluated(peng, f"EVALUATE MODEL peng FROM ({query})")
    gentoo, rows = peng.execute(
        f"SELECT count(*) FILTER (species = 'Emperor'), count(*) FROM ({query})"
    ).fetchone()
    assert got["unseen_classes"] == ["Emperor"]
    assert got["accuracy"] <= (rows - gentoo) / rows
    assert got["confusion_matrix"]["labels"] == [*CLASSES, "Emperor"]
    assert sum(got["confusion_matrix"]["counts"][3]) == gentoo
    assert got["roc_auc"] is None
    assert any("Emperor were never seen in training" in n for n in notices)


def test_rows_it_was_trained_on_are_noted(peng):
    held_out = _row(peng, "EVALUATE MODEL peng FROM (SELECT * FROM penguins WHERE fold = 0)")
    assert held_out["rows_in_training"] == 0
    got, notices = _evaluated(peng, "EVALUATE MODEL peng FROM penguins")
    assert got["rows_in_training"] >= 250  # the fold <> 0 rows
    (notice,) = notices
    assert "also occur in the model's training data" in notice


def test_bad_statements_and_unknown_models(peng):
    with pytest.raises(sqlml.SqlSyntaxError, match="EVALUATE MODEL needs FROM"):
        peng.sql("EVALUATE MODEL peng")
    with pytest.raises(sqlml.ModelNotFound, match="Did you mean peng"):
        peng.sql("EVALUATE MODEL pen FROM penguins")
    with pytest.raises(sqlml.TrainingQueryError, match="FROM query failed"):
        peng.sql("EVALUATE MODEL peng FROM (SELECT * FROM no_such_table)")
    with pytest.raises(sqlml.TrainingDataError, match="no row has a non-NULL target"):
        peng.sql("EVALUATE MODEL peng FROM (SELECT * FROM penguins WHERE false)")


def test_a_model_not_ready_cannot_be_evaluated(training):
    with pytest.raises(sqlml.ModelNotReady, match="not READY"):
        training.sql("EVALUATE MODEL slow FROM penguins")
    training.wait_model("slow")
    assert training.execute("EVALUATE MODEL slow FROM penguins").fetchone()[0] == 344
