"""PREPROCESSORS under AUTO ON: each transformer, replayed at prediction, and its mistakes."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pytest

import sqlml
from sqlml.automl.guidance import guided_profile
from sqlml.automl.preprocessing import build_plan, feature_sources, transform, view_slots
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
    "SETTINGS (MAX_RUNTIME 240, MAX_TRIALS 2)"
)
ARGS = "island, bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, sex, day"


@pytest.mark.slow
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
            '[{"ColumnSet": ["island", "body_mass_g"], "Transformers": ["PCA"]}]',
            sqlml.InvalidSetting,
            "PCA does not apply to column 'island' of type VARCHAR",
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


@pytest.mark.slow
def test_preprocessors_none_with_auto_on_is_fully_automatic(peng):
    peng.sql(
        "CREATE MODEL g FROM (SELECT species, island, bill_length_mm FROM penguins) "
        "TARGET species FUNCTION f_g PREPROCESSORS 'none' "
        "SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    plan = json.loads((peng.store.path("main", "g") / "preprocessing.json").read_text())
    assert all("transformers" not in s for s in plan["columns"])


def test_normalizer_and_pca_on_a_small_frame():
    rng = np.random.default_rng(1)
    base = rng.normal(size=200)
    columns = {
        "a": pa.array(base + rng.normal(scale=0.01, size=200)),
        "b": pa.array(2 * base + rng.normal(scale=0.01, size=200)),
        "c": pa.array(rng.normal(size=200)),
        "u": pa.array(rng.normal(size=200) + 3),
        "v": pa.array(rng.normal(size=200) - 3),
    }
    names = list(columns)
    arrays = [pa.chunked_array([columns[n]]) for n in names]
    entries = [(["a", "b"], ["StandardScaler", "PCA"]), (["u", "v"], ["Normalizer"])]
    from sqlml.automl.guidance import apply_mixes, by_column, finish_plan, fit_mixes

    guidance = by_column(entries)
    profiles = [profile_column(n, c) for n, c in zip(names, arrays, strict=True)]
    profiles = [guided_profile(p, guidance[p.name]) if p.name in guidance else p for p in profiles]
    plan = build_plan(arrays, profiles, guidance)
    X = transform(plan, arrays)
    mixes = fit_mixes(plan, X, entries)
    finish_plan(plan, mixes)
    apply_mixes(mixes, X)
    # a and b are one direction: one component keeps 95 % of their variance.
    assert len(mixes[0]["components"]) == 1
    assert plan["features"][:2] == ["pca0_0", "b"]
    assert 1 not in plan["views"]["tree"]["columns"]  # the unused slot is in no view
    assert np.allclose(np.hypot(X[:, 3], X[:, 4]), 1.0, atol=1e-6)
    # The stored plan replays exactly what training computed.
    assert np.array_equal(transform(json.loads(json.dumps(plan)), arrays), X)
    # A view of it cannot be computed alone: the mixes need every feature first.
    assert view_slots(plan, plan["views"]["tree"]["columns"]) is None
    with pytest.raises(ValueError, match="Normalizer or PCA"):
        transform(plan, arrays, slots=list(range(len(plan["features"]))))
    sources = feature_sources(plan)
    assert sources[0] == -1  # the component belongs to the set "PCA(a, b)"


@pytest.mark.slow
def test_pca_model_predicts_and_explains_in_sql(peng):
    peng.sql(
        "CREATE MODEL g FROM (SELECT species, island, bill_length_mm, bill_depth_mm, "
        "flipper_length_mm, body_mass_g FROM penguins) TARGET species FUNCTION f_g "
        """PREPROCESSORS '[{"ColumnSet": ["bill_length_mm", "bill_depth_mm",
          "flipper_length_mm", "body_mass_g"], "Transformers": ["StandardScaler", "PCA"]}]' """
        # One candidate; the explanation of training rows (costly through PCA) then takes what
        # is left of MAX_RUNTIME, so that stays moderate.
        "SETTINGS (MAX_RUNTIME 24, MAX_TRIALS 1)"
    )
    args = "island, bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g"
    table = peng.execute(f"SELECT {args} FROM penguins").arrow()
    predictor = load_predictor(peng.store.path("main", "g"), peng.store.get("main", "g"))
    expected = predictor.predict([table.column(i) for i in range(table.num_columns)]).to_pylist()
    rows = peng.execute(f"SELECT f_g({args}), f_g_explain({args}) FROM penguins").fetchall()
    assert [r[0] for r in rows] == expected
    group = "PCA(bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g)"
    for _, e in rows:
        features = {c["feature"]: c["contribution"] for c in e["contributions"]}
        assert group in features and features["bill_length_mm"] == 0.0
        total = e["expected_value"] + sum(features.values())
        assert total == pytest.approx(e["value"], abs=1e-9)
    doc = json.loads(peng.execute("SELECT explain_model('g')").fetchone()[0])
    assert group in doc["explanations"]["kernel_shap"]["label0"]["global_shap_values"]
