"""EXPORT MODEL m TO 'path' FORMAT SQLML | NATIVE | ONNX of models trained here (AUTO ON
regression and classification, AUTO OFF XGBoost, the shared penguins model with categorical
columns), each imported back into another database and its predictions compared."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import sqlml
from sqlml.errors import (
    FeatureNotSupported,
    InvalidModelFile,
    ModelSignatureMismatch,
    ObjectExists,
    ObjectNotFound,
)

pytestmark = pytest.mark.slow

TRIALS = "SETTINGS (MAX_RUNTIME 240, MAX_TRIALS 2)"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Three models on a numeric table, trained once for the module's read-only tests."""
    folder = tmp_path_factory.mktemp("export")
    conn = sqlml.connect(folder / "a.duckdb", synchronous=True)
    conn.sql(
        "CREATE TABLE t AS SELECT i, (i * 7919 % 1000) / 1000.0 AS a, "
        "(i * 104729 % 1000) / 1000.0 AS b, i % 3 = 0 AS c FROM range(400) r(i)"
    )
    conn.sql(
        "ALTER TABLE t ADD COLUMN y DOUBLE; ALTER TABLE t ADD COLUMN k VARCHAR; "
        # Steps and an exclusive or: trees win over the linear model and the MLP.
        "UPDATE t SET y = CASE WHEN a > 0.5 THEN 2 ELSE 0 END + CASE WHEN b > 0.3 THEN 1 "
        "ELSE 0 END + CASE WHEN c THEN 1 ELSE 0 END, "
        "k = CASE WHEN (a > 0.5) <> (b > 0.5) THEN 'big' ELSE 'small' END"
    )
    conn.sql(f"CREATE MODEL r FROM (SELECT a, b, c, y FROM t) TARGET y FUNCTION f_r {TRIALS}")
    conn.sql(f"CREATE MODEL k FROM (SELECT a, b, c, k FROM t) TARGET k FUNCTION f_k {TRIALS}")
    conn.sql(
        "CREATE MODEL x FROM (SELECT a, b, y FROM t) TARGET y FUNCTION f_x AUTO OFF "
        "MODEL_TYPE XGBOOST OBJECTIVE 'reg:squarederror' PREPROCESSORS 'none' "
        "HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '20') SETTINGS (MAX_RUNTIME 60)"
    )
    conn.sql(f"COPY t TO '{folder / 't.parquet'}'")
    yield conn, folder
    conn.close()


@pytest.fixture
def other(trained, tmp_path):
    """Another database with the same rows and no models."""
    _, folder = trained
    conn = sqlml.connect(tmp_path / "b.duckdb", synchronous=True)
    conn.sql(f"CREATE TABLE t AS SELECT * FROM '{folder / 't.parquet'}'")
    yield conn
    conn.close()


def _rows(conn, sql: str) -> list:
    return conn.execute(sql).fetchall()


def test_sqlml_export_imports_with_identical_predictions(trained, other, tmp_path):
    conn, _ = trained
    for name, call in [("r", "f_r(a, b, c)"), ("k", "f_k(a, b, c)"), ("x", "f_x(a, b)")]:
        target = tmp_path / f"{name}-sqlml"
        (row,) = _rows(conn, f"EXPORT MODEL {name} TO '{target}' FORMAT SQLML")
        assert row[1:3] == ("SQLML", str(target))
        other.sql(f"CREATE MODEL {name}2 FROM '{target}' FUNCTION g_{name}")
        mine = _rows(conn, f"SELECT {call} FROM t ORDER BY i")
        theirs = _rows(other, f"SELECT {call.replace('f_', 'g_')} FROM t ORDER BY i")
        assert mine == theirs
    shown = dict(_rows(other, "SHOW MODEL k2"))
    assert shown["Imported From"] == f"{tmp_path / 'k-sqlml'} (model main.k)"
    assert shown["Function Name"] == "g_k"
    # A classifier keeps its probability function under its new name.
    assert _rows(other, "SELECT g_k_probabilities(0.9, 0.1, true).labels[1]")[0][0] == "big"


def test_sqlml_export_of_a_model_with_categorical_columns(shared_penguins, tmp_path):
    conn, _ = shared_penguins
    target = tmp_path / "peng"
    conn.sql(f"EXPORT MODEL peng TO '{target}'")  # FORMAT SQLML is the default
    rows = tmp_path / "penguins.parquet"
    conn.sql(f"COPY penguins TO '{rows}'")
    features = "island, bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, sex"
    order = f"ORDER BY {features}"
    with sqlml.connect(tmp_path / "c.duckdb", synchronous=True) as other:
        other.sql(f"CREATE TABLE penguins AS SELECT * FROM '{rows}'")
        other.sql(f"CREATE MODEL p2 FROM 'file://{target}' FUNCTION g_species")
        theirs = _rows(other, f"SELECT g_species({features}) FROM penguins {order}")
    mine = _rows(conn, f"SELECT predict_species({features}) FROM penguins {order}")
    assert mine == theirs


def test_native_export_describes_loadable_files(trained, tmp_path):
    import lightgbm as lgb
    import xgboost as xgb

    conn, _ = trained
    conn.sql(f"EXPORT MODEL r TO '{tmp_path / 'r'}' FORMAT NATIVE")
    document = json.loads((tmp_path / "r" / "export.json").read_text())
    assert document["format"] == "sqlml-native/1"
    assert document["features"][0] == {"name": "a", "type": "DOUBLE"}
    files = {f["file"]: f for f in document["files"]}
    assert "preprocessing.json" in files
    boosters = [name for name, f in files.items() if f["library"] == "lightgbm"]
    assert boosters
    for name in boosters:
        assert lgb.Booster(model_file=str(tmp_path / "r" / name)).num_feature() == 3
    assert not (tmp_path / "r" / "model.json").exists()
    conn.sql(f"EXPORT MODEL x TO '{tmp_path / 'x'}' FORMAT NATIVE")
    document = json.loads((tmp_path / "x" / "export.json").read_text())
    (booster,) = [f for f in document["files"] if f["library"] == "xgboost"]
    loaded = xgb.Booster()
    loaded.load_model(str(tmp_path / "x" / booster["file"]))
    assert loaded.num_features() == 2


@pytest.mark.parametrize(
    ("name", "call", "declared", "returns"),
    [
        ("r", "f_r(a, b, c)", "float8, float8, boolean", "float8"),
        ("k", "f_k(a, b, c)", "float8, float8, boolean", "varchar"),
        ("x", "f_x(a, b)", "float8, float8", "float8"),
    ],
)
def test_onnx_export_round_trip(trained, other, tmp_path, name, call, declared, returns):
    conn, _ = trained
    target = tmp_path / name
    (row,) = _rows(conn, f"EXPORT MODEL {name} TO '{target}' FORMAT ONNX")
    document = json.loads((target / "export.json").read_text())
    assert document["rows"] == 400
    assert row[4] == document["max_abs_difference"]
    # Float32 thresholds and sums: small against the targets' spread (0 to 4), not zero.
    chosen = dict(_rows(conn, f"SHOW MODEL {name}")).get("Chosen Model")
    assert 0 <= document["max_abs_difference"] < 0.05, chosen
    assert "float32" in document["precision"]
    other.sql(
        f"CREATE MODEL {name}3 FROM '{target / 'model.onnx'}' FUNCTION h_{name}({declared}) "
        f"RETURNS {returns}"
    )
    mine = [r[0] for r in _rows(conn, f"SELECT {call} FROM t ORDER BY i")]
    theirs = [r[0] for r in _rows(other, f"SELECT {call.replace('f_', 'h_')} FROM t ORDER BY i")]
    if returns == "varchar":
        assert (
            document["labels_differing"]
            == sum(a != b for a, b in zip(mine, theirs, strict=True)) / 400
        )
        assert document["labels_differing"] <= 0.01
    else:
        difference = np.max(np.abs(np.array(mine) - np.array(theirs)))
        assert difference <= document["max_abs_difference"] + 1e-6


def test_onnx_refuses_what_does_not_convert(shared_penguins, tmp_path):
    conn, _ = shared_penguins
    with pytest.raises(FeatureNotSupported, match="not supported yet.*column 'island'"):
        conn.sql(f"EXPORT MODEL peng TO '{tmp_path / 'p'}' FORMAT ONNX")
    assert not (tmp_path / "p").exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no hidden half-export either


def test_export_never_overwrites(trained, tmp_path):
    conn, _ = trained
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("mine")
    with pytest.raises(ObjectExists, match="never overwrites"):
        conn.sql(f"EXPORT MODEL r TO '{tmp_path / 'taken'}'")
    assert (tmp_path / "taken" / "file").read_text() == "mine"
    with pytest.raises(ObjectNotFound, match="does not exist"):
        conn.sql(f"EXPORT MODEL r TO '{tmp_path / 'no' / 'such'}'")


def test_a_damaged_package_export_is_refused(trained, other, tmp_path):
    conn, _ = trained
    target = tmp_path / "r"
    conn.sql(f"EXPORT MODEL r TO '{target}'")
    damaged = tmp_path / "damaged"
    shutil.copytree(target, damaged)
    booster = next(damaged.glob("*.lgb.txt"))
    booster.write_bytes(booster.read_bytes().replace(b"tree", b"TREE", 1))
    with pytest.raises(InvalidModelFile, match="SHA-256"):
        other.sql(f"CREATE MODEL r2 FROM '{damaged}' FUNCTION g")
    assert other.execute("SHOW MODEL ALL").fetchall() == []
    with pytest.raises(ModelSignatureMismatch, match="takes 3"):
        other.sql(f"CREATE MODEL r2 FROM '{target}' FUNCTION g(float8)")
    with pytest.raises(ModelSignatureMismatch, match="returns DOUBLE"):
        other.sql(f"CREATE MODEL r2 FROM '{target}' FUNCTION g RETURNS varchar")
    assert other.execute("SHOW MODEL ALL").fetchall() == []
