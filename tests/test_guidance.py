"""PREPROCESSORS under AUTO ON: each transformer, replayed at prediction, and its mistakes."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pytest

import sqlml
from sqlml.automl.guidance import guided_profile
from sqlml.automl.preprocessing import build_plan, feature_sources, transform
from sqlml.automl.profiling import profile_column
from sqlml.runtime.predictor import load_predictor
from tests.conftest import load


def plan_for(columns: dict, guidance: dict) -> tuple[dict, np.ndarray]:
    names = list(columns)
    arrays = [pa.chunked_array([columns[n]]) for n in names]
    profiles = [profile_column(n, c) for n, c in zip(names, arrays, strict=True)]
    profiles = [guided_profile(p, guidance[p.name]) if p.name in guidance else p for p in profiles]
    plan = build_plan(arrays, profiles, guidance)
    return plan, transform(plan, arrays)


def test_each_transformer_on_a_small_frame():
    n = 60
    rng = np.random.default_rng(0)
    x = rng.normal(10, 3, size=n)
    codes = pa.array([int(v) for v in rng.integers(0, 4, size=n)])
    ident = pa.array([f"id{i}" for i in range(n)])  # identifier-like: dropped unless named
    day = pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(n)])
    with_nulls = pa.array([None if i % 5 == 0 else float(i) for i in range(n)])
    plan, X = plan_for(
        {
            "scaled": pa.array(x),
            "ranged": pa.array(x),
            "codes": codes,
            "ordinal": ident,
            "day": day,
            "filled": with_nulls,
            "flagged": with_nulls,
            "plain": pa.array(x),
        },
        {
            "scaled": ["StandardScaler"],
            "ranged": ["MinMax"],
            "codes": ["OneHotEncoder"],
            "ordinal": ["OrdinalEncoder"],
            "day": ["DateTimeVectorizer"],
            "filled": ["Imputer"],
            "flagged": ["ImputerWithIndicator"],
            "plain": ["NumericPassthrough"],
        },
    )
    features = plan["features"]

    def column(name):
        return X[:, features.index(name)].astype(np.float64)

    assert column("scaled").mean() == pytest.approx(0, abs=1e-5)
    assert column("scaled").std() == pytest.approx(1, abs=1e-5)
    assert column("ranged").min() == pytest.approx(0) and column("ranged").max() == pytest.approx(1)
    assert features.index("codes") in plan["categorical_features"]  # numbers as categories
    assert features.index("ordinal") not in plan["categorical_features"]  # kept, ordered
    assert [s["kind"] for s in plan["columns"]][3:5] == ["categorical", "datetime"]
    assert "day__year" in features and "day__epoch_days" in features
    assert not np.isnan(column("filled")).any()
    assert column("filled")[0] == pytest.approx(
        np.nanmean(with_nulls.to_numpy(zero_copy_only=False))
    )
    assert np.array_equal(
        column("flagged__missing"), [1.0 if i % 5 == 0 else 0.0 for i in range(n)]
    )
    assert np.allclose(column("plain"), x.astype(np.float32))
    assert len(feature_sources(plan)) == len(features)  # explanations find every feature's column
    # Replayed at prediction exactly: the same plan on the same rows, and on unseen NULLs.
    json.dumps(plan)  # stored as JSON


@pytest.fixture
def peng(conn):
    load(conn, "penguins")
    conn.sql(
        "CREATE TABLE dated AS SELECT *, DATE '2024-01-01' + CAST(fold * 40 AS INTEGER) AS day "
        "FROM penguins"
    )
    return conn


GUIDED = (
    "CREATE MODEL g FROM (SELECT species, island, bill_length_mm, bill_depth_mm, "
    "flipper_length_mm, body_mass_g, sex, day FROM dated) TARGET species FUNCTION f_g "
    """PREPROCESSORS '[
      {"ColumnSet": ["flipper_length_mm"], "Transformers": ["OneHotEncoder"]},
      {"ColumnSet": ["island"], "Transformers": ["OrdinalEncoder", "ImputerWithIndicator"]},
      {"ColumnSet": ["bill_length_mm"], "Transformers": ["Imputer", "StandardScaler"]},
      {"ColumnSet": ["body_mass_g"], "Transformers": ["MinMax"]},
      {"ColumnSet": ["bill_depth_mm"], "Transformers": ["NumericPassthrough"]},
      {"ColumnSet": ["day"], "Transformers": ["DateTimeVectorizer"]}]' """
    "SETTINGS (MAX_RUNTIME 6)"
)
ARGS = "island, bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, sex, day"


def test_guided_model_predicts_in_sql_as_in_python(peng):
    peng.sql(GUIDED)
    manifest = peng.store.get("main", "g")
    plan = json.loads((peng.store.path("main", "g") / "preprocessing.json").read_text())
    by_name = {s["name"]: s for s in plan["columns"]}
    assert by_name["island"]["transformers"] == ["OrdinalEncoder", "ImputerWithIndicator"]
    assert by_name["flipper_length_mm"]["kind"] == "categorical"
    assert "steps" in by_name["bill_length_mm"] and "impute" in by_name["bill_length_mm"]
    table = peng.execute(f"SELECT {ARGS} FROM dated").arrow()
    predictor = load_predictor(peng.store.path("main", "g"), manifest)
    expected = predictor.predict([table.column(i) for i in range(table.num_columns)]).to_pylist()
    got = [r[0] for r in peng.execute(f"SELECT f_g({ARGS}) FROM dated").fetchall()]
    assert got == expected
    accuracy = peng.execute(f"SELECT avg((f_g({ARGS}) = species)::INT) FROM dated").fetchone()[0]
    assert accuracy > 0.9
    (label,) = peng.execute("SELECT f_g(NULL, NULL, NULL, NULL, NULL, NULL, NULL)").fetchone()
    assert label in ("Adelie", "Chinstrap", "Gentoo")
    shown = dict(peng.execute("SHOW MODEL g").fetchall())
    assert "OneHotEncoder" in shown["Preprocessors"]


@pytest.mark.parametrize(
    ("entries", "error", "message"),
    [
        (
            '[{"ColumnSet": ["bill_length_mm", "body_mass_g"], "Transformers": ["PCA"]}]',
            sqlml.FeatureNotSupported,
            "transformer PCA is not supported yet with AUTO ON",
        ),
        (
            '[{"ColumnSet": ["bill_length_mm"], "Transformers": ["Normalizer"]}]',
            sqlml.FeatureNotSupported,
            "transformer Normalizer is not supported yet",
        ),
        (
            '[{"ColumnSet": ["island"], "Transformers": ["StandardScaler"]}]',
            sqlml.InvalidSetting,
            "StandardScaler does not apply to column 'island' of type VARCHAR: it takes numbers",
        ),
        (
            '[{"ColumnSet": ["body_mass_g"], "Transformers": ["DateTimeVectorizer"]}]',
            sqlml.InvalidSetting,
            "DateTimeVectorizer does not apply to column 'body_mass_g'",
        ),
        (
            '[{"ColumnSet": ["day"], "Transformers": ["OneHotEncoder"]}]',
            sqlml.InvalidSetting,
            "takes DateTimeVectorizer only",
        ),
        (
            '[{"ColumnSet": ["species"], "Transformers": ["OneHotEncoder"]}]',
            sqlml.InvalidSetting,
            "names column 'species', which is not a feature column",
        ),
    ],
)
def test_guidance_mistakes(peng, entries, error, message):
    with pytest.raises(error, match=message):
        peng.sql(
            f"CREATE MODEL g FROM (SELECT species, {ARGS} FROM dated) TARGET species "
            f"FUNCTION f_g PREPROCESSORS '{entries}' SETTINGS (MAX_RUNTIME 4)"
        )
    assert peng.execute("SHOW MODEL ALL").fetchall() == []


def test_preprocessors_none_with_auto_on_is_fully_automatic(peng):
    peng.sql(
        "CREATE MODEL g FROM (SELECT species, island, bill_length_mm FROM penguins) "
        "TARGET species FUNCTION f_g PREPROCESSORS 'none' SETTINGS (MAX_RUNTIME 3)"
    )
    plan = json.loads((peng.store.path("main", "g") / "preprocessing.json").read_text())
    assert all("transformers" not in s for s in plan["columns"])
