"""Model packages on disk: manifest content, atomic writes, code-free artifacts, bad packages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import sqlml
from sqlml.runtime.predictor import Predictor
from sqlml.store import FORMAT_VERSION, ModelStore
from tests.conftest import PENGUIN_FEATURES, PENGUINS_RUNTIME

FIXTURE = Path(__file__).parent / "fixtures" / "packages" / "v1" / "main.peng"


def store_of(db_path) -> Path:
    return db_path.parent / "test.duckdb.models"


@pytest.mark.slow
def test_manifest_records_the_model(penguins, db_path):
    manifest = json.loads((store_of(db_path) / "main.peng" / "model.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["state"] == "READY"
    assert manifest["statement"].startswith("CREATE MODEL peng\nFROM (SELECT species")
    assert manifest["target"] == "species"
    assert manifest["target_type"] == "VARCHAR"
    assert [f["name"] for f in manifest["features"]] == [
        c.strip() for c in PENGUIN_FEATURES.split(",")
    ]
    assert manifest["features"][3] == {"name": "flipper_length_mm", "type": "BIGINT"}
    assert manifest["problem_type"] == "MULTICLASS_CLASSIFICATION"
    assert manifest["model"]["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert manifest["settings"]["MAX_RUNTIME"] == PENGUINS_RUNTIME
    assert manifest["training"]["rows_used"] == 276
    assert set(manifest["versions"]) >= {"python", "sqlml", "lightgbm", "numpy", "pyarrow"}
    assert "validation:accuracy" in manifest["metrics"]


@pytest.mark.slow
def test_package_holds_only_code_free_formats(penguins, db_path):
    folder = store_of(db_path) / "main.peng"
    names = sorted(p.name for p in folder.iterdir())
    assert {"model.json", "preprocessing.json", "leaderboard.json"} <= set(names)
    native = (".lgb.txt", ".cbm", ".xgb.ubj", ".npz", ".json")
    assert all(name.endswith(native) for name in names), names
    for name in names:
        if name.endswith(".npz"):
            import numpy as np

            with np.load(folder / name, allow_pickle=False) as arrays:
                assert all(arrays[k].dtype != object for k in arrays.files)
    leaderboard = json.loads((folder / "leaderboard.json").read_text())
    assert leaderboard[0]["candidate"] == "lightgbm"
    assert sum(row["ensemble_weight"] for row in leaderboard) == pytest.approx(1.0)
    # No temporary folders are left in the store.
    assert [p.name for p in store_of(db_path).iterdir() if p.name.startswith(".tmp")] == []


@pytest.mark.slow
def test_corrupt_package_is_listed_as_broken_and_reported(penguins, db_path):
    bad = store_of(db_path) / "main.broken"
    bad.mkdir()
    (bad / "model.json").write_text("{not json")
    # Other models keep working; the broken one is listed as BROKEN, with the reason.
    rows = penguins.execute("SHOW MODEL ALL").fetchall()
    assert [(r[1], r[2]) for r in rows] == [("broken", "BROKEN"), ("peng", "READY")]
    info = dict(penguins.execute("SHOW MODEL broken").fetchall())
    assert info["Model State"] == "BROKEN"
    assert "model.json cannot be read" in info["Failure Reason"]
    penguins.sql("DROP MODEL broken")  # and it can be dropped
    assert not bad.exists()


@pytest.mark.slow
def test_newer_format_is_refused_not_misread(penguins, db_path):
    path = store_of(db_path) / "main.peng" / "model.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(manifest))
    info = dict(penguins.execute("SHOW MODEL peng").fetchall())
    assert info["Model State"] == "BROKEN"
    assert "Upgrade sqlml" in info["Failure Reason"]
    with pytest.raises(sqlml.CorruptModelPackage, match="Upgrade sqlml"):
        penguins.execute(f"SELECT predict_species({PENGUIN_FEATURES}) FROM penguins")


def test_first_format_fixture_keeps_loading(tmp_path):
    """A package written by the first release must load and predict the same forever."""
    store_root = tmp_path / "models"
    shutil.copytree(FIXTURE, store_root / "main.peng")
    store = ModelStore(store_root)
    manifest = store.read(store_root / "main.peng")
    assert manifest["format_version"] == 1
    predictor = Predictor.load(store_root / "main.peng", manifest)
    import pyarrow as pa

    columns = [
        pa.array(["Biscoe", "Dream", None]),
        pa.array([47.5, 39.0, None]),
        pa.array([15.0, 18.5, None]),
        pa.array([217, 190, None], pa.int64()),
        pa.array([5000, 3700, None], pa.int64()),
        pa.array(["MALE", "FEMALE", None]),
    ]
    assert predictor.predict(columns).to_pylist() == ["Gentoo", "Adelie", "Adelie"]
    with sqlml.connect(tmp_path / "db.duckdb", model_store=store_root, synchronous=True) as conn:
        rows = conn.execute(
            "SELECT predict_species('Biscoe', 47.5, 15.0, 217, 5000, 'MALE')"
        ).fetchall()
        assert rows == [("Gentoo",)]


@pytest.mark.slow
def test_drop_removes_package_and_function(penguins, db_path):
    penguins.sql("DROP MODEL peng")
    assert not (store_of(db_path) / "main.peng").exists()
    (count,) = penguins.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'predict_species'"
    ).fetchone()
    assert count == 0
