"""Packages written by earlier versions keep loading, predicting and explaining."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import sqlml

PACKAGES = Path(__file__).parent / "fixtures" / "packages"


@pytest.fixture(scope="module")
def wave1(tmp_path_factory):
    root = tmp_path_factory.mktemp("wave1")
    store = root / "models"
    shutil.copytree(PACKAGES / "wave1", store)
    with sqlml.connect(root / "db.duckdb", model_store=store) as conn:
        yield conn


def test_wave1_models_are_listed_ready(wave1):
    rows = wave1.execute("SHOW MODEL ALL").fetchall()
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("mass", "READY", "f_mass"),
        ("peng", "READY", "predict_species"),
        ("seg", "READY", "f_seg"),
    ]


def test_wave1_auto_on_ensemble_predicts(wave1):
    rows = wave1.execute(
        "SELECT predict_species('Biscoe', 47.5), "
        "predict_species_probabilities('Biscoe', 47.5).labels[1], "
        "predict_species_explain('Biscoe', 47.5).label"
    ).fetchall()
    assert rows == [("Gentoo", "Gentoo", "Gentoo")]
    document = json.loads(wave1.execute("SELECT explain_model('peng')").fetchone()[0])
    assert "kernel_shap" in document["explanations"]


def test_wave1_xgboost_predicts(wave1):
    assert wave1.execute("SELECT f_mass(40.0, 200, true)").fetchall() == [(4176,)]
    explained = wave1.execute("SELECT f_mass_explain(40.0, 200, true)").fetchone()[0]
    total = explained["expected_value"] + sum(c["contribution"] for c in explained["contributions"])
    assert total == pytest.approx(explained["value"], abs=1e-3)


def test_wave1_kmeans_assigns_clusters(wave1):
    assert wave1.execute("SELECT f_seg(40.0, 200, 4000)").fetchall() == [(0,)]
    shown = dict(wave1.execute("SHOW MODEL seg").fetchall())
    assert shown["Model Type"] == "kmeans"
