"""Target encoding of high-cardinality columns: out of fold at training, replayed exactly at
prediction (unseen and NULL levels as the prior), explained, and chosen by the search."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sqlml.automl.budget import Deadline
from sqlml.automl.encoding import SMOOTHING, add_target_encoding
from sqlml.automl.explain import explain
from sqlml.automl.learners import LEARNERS, FitData
from sqlml.automl.model import FittedModel, Member
from sqlml.automl.preprocessing import build_plan, feature_sources, transform, view
from sqlml.automl.profiling import profile_column
from sqlml.automl.train import train_model
from sqlml.automl.validation import make_validation

LEVELS = 600


def table(n: int, seed: int = 0, problem: str = "BINARY_CLASSIFICATION"):
    """A 600-level "model" column whose level decides the target, beside a weak number."""
    rng = np.random.default_rng(seed)
    level = rng.integers(0, LEVELS, size=n)
    effect = np.random.default_rng(99).normal(size=LEVELS)  # the same per level for every seed
    num = rng.normal(size=n)
    signal = effect[level] * 2 + 0.3 * num
    names = np.array([f"model-{i:04d}" for i in range(LEVELS)])[level]
    if problem == "REGRESSION":
        y = signal + rng.normal(scale=0.1, size=n)
    elif problem == "BINARY_CLASSIFICATION":
        y = (signal + rng.normal(scale=0.3, size=n) > 0).astype(np.int64)
    else:
        y = np.digitize(signal, [-1.0, 1.0]).astype(np.int64)
    return [pa.array(names), pa.array(num)], y


def encoded(problem: str, n: int = 3000):
    columns, y = table(n, problem=problem)
    profiles = [profile_column(name, c) for name, c in zip(["model", "num"], columns, strict=True)]
    assert profiles[0].kind == "high_cardinality"
    plan = build_plan(columns, profiles)
    X = transform(plan, columns)
    k = 0 if problem == "REGRESSION" else len(np.unique(y))
    validation = make_validation(y, k > 0, 0)
    X = add_target_encoding(plan, X, y, problem, k, validation, 0)
    return columns, y, plan, X, validation


def test_training_rows_are_encoded_out_of_fold():
    columns, y, plan, X, validation = encoded("BINARY_CLASSIFICATION")
    assert plan["features"][-1] == "model__target"
    assert feature_sources(plan)[-1] == 0  # explained as the "model" column
    codes = X[:, plan["features"].index("model__code")]
    for train, valid in validation.folds:
        prior = (y[train] == 1).mean()
        for row in valid[:50]:
            same = train[codes[train] == codes[row]]
            want = (np.sum(y[same] == 1) + SMOOTHING * prior) / (len(same) + SMOOTHING)
            assert X[row, -1] == pytest.approx(want, rel=1e-5)


def test_holdout_tables_encode_training_rows_among_themselves():
    columns, y = table(12_000)
    profiles = [profile_column(name, c) for name, c in zip(["model", "num"], columns, strict=True)]
    plan = build_plan(columns, profiles)
    validation = make_validation(y, True, 0)
    assert validation.mode == "holdout"
    X = add_target_encoding(
        plan, transform(plan, columns), y, "BINARY_CLASSIFICATION", 2, validation, 0
    )
    ((train, valid),) = validation.folds
    codes = X[:, plan["features"].index("model__code")]
    prior = (y[train] == 1).mean()
    row = valid[0]
    same = train[codes[train] == codes[row]]
    want = (np.sum(y[same] == 1) + SMOOTHING * prior) / (len(same) + SMOOTHING)
    assert X[row, -1] == pytest.approx(want, rel=1e-5)
    # A training row's encoding never includes its own target: change it, and it stays.
    flipped = y.copy()
    flipped[train[0]] = 1 - flipped[train[0]]
    X2 = add_target_encoding(
        build_plan(columns, profiles),
        transform(plan, columns),
        flipped,
        "BINARY_CLASSIFICATION",
        2,
        validation,
        0,
    )
    assert X2[train[0], -1] == X[train[0], -1]


@pytest.mark.parametrize(
    ("problem", "outputs"),
    [("REGRESSION", 1), ("BINARY_CLASSIFICATION", 1), ("MULTICLASS_CLASSIFICATION", 3)],
)
def test_prediction_replays_the_full_encoding_and_the_prior(problem, outputs):
    columns, y, plan, X, _ = encoded(problem)
    width = len(plan["features"])
    assert X.shape[1] == width and plan["features"][-outputs:][0].startswith("model__target")
    spec = plan["columns"][0]
    means, prior = np.asarray(spec["target_means"]), np.asarray(spec["target_prior"])
    new = [pa.array(["model-0003", "never seen", None]), pa.array([0.0, 1.0, None])]
    out = transform(plan, new)
    assert out.shape == (3, width)
    level = spec["levels"].index("model-0003")
    assert np.allclose(out[0, -outputs:], means[level], atol=1e-6)
    assert np.allclose(out[1, -outputs:], prior, atol=1e-6)
    assert np.allclose(out[2, -outputs:], prior, atol=1e-6)
    # The target view is the tree view plus the encodings; the slots path computes it alone.
    columns_of_view, _ = view(plan, "target")
    assert columns_of_view[-outputs:] == list(range(width - outputs, width))
    from sqlml.automl.preprocessing import view_slots

    direct = transform(plan, new, slots=view_slots(plan, columns_of_view))
    assert np.array_equal(direct, out[:, columns_of_view], equal_nan=True)


def test_no_high_cardinality_column_no_encoding():
    rng = np.random.default_rng(0)
    columns = [pa.array(rng.choice(["a", "b"], 100)), pa.array(rng.normal(size=100))]
    y = rng.integers(0, 2, 100)
    plan = build_plan(columns, [profile_column(n, c) for n, c in zip("ab", columns, strict=True)])
    X = transform(plan, columns)
    same = add_target_encoding(
        plan, X, y, "BINARY_CLASSIFICATION", 2, make_validation(y, True, 0), 0
    )
    assert same is X and "target" not in plan["views"] and "full" not in plan["views"]


@pytest.mark.parametrize("name", ["lightgbm_target", "lightgbm_native"])
@pytest.mark.parametrize("problem", ["BINARY_CLASSIFICATION", "MULTICLASS_CLASSIFICATION"])
def test_explanations_add_up_and_credit_the_column(name, problem):
    columns, y, plan, X, validation = encoded(problem)
    learner = LEARNERS[name]
    indices, categorical = view(plan, learner.view)
    k = len(np.unique(y))
    train, _ = validation.folds[0]
    params = learner.portfolio(problem, len(y), len(indices))[0][1]
    data = FitData(X[train][:, indices], y[train], problem, k, categorical, 0, rounds=60)
    fitted = learner.fit(params, data, Deadline(600))
    model = FittedModel(
        plan,
        None,
        problem,
        "Accuracy",
        list(range(k)),
        1 if k == 2 else None,
        0.5,
        [Member(name, name, 1.0, None, [fitted], 0)],
    )
    rows = [c.slice(0, 200) for c in columns]
    found = explain(model, model.matrices(rows))
    prediction = model.predict_raw(rows)
    assert np.allclose(found.expected + found.contributions.sum(axis=1), prediction, atol=1e-9)
    influence = np.abs(found.contributions).mean(axis=(0, 2))
    assert found.columns == ["model", "num"] and influence[0] > influence[1]


@pytest.mark.slow
def test_the_search_tries_both_and_predicts_unseen_levels(tmp_path):
    columns, y = table(3000)
    data = pa.table({"model": columns[0], "num": columns[1], "y": pa.array(y)})
    model = train_model(data, "y", deadline=Deadline(120), max_trials=4)
    tried = [row["candidate"] for row in model.leaderboard]
    assert tried[:3] == ["lightgbm", "lightgbm_target", "lightgbm_native"]
    test_columns, test_y = table(2000, seed=1)
    assert (model.labels(model.predict_raw(test_columns)) == test_y).mean() > 0.8
    # The package keeps the encoding: a saved and loaded model predicts the same, unseen
    # levels included.
    section = model.save(tmp_path)
    loaded = FittedModel.load(section, tmp_path, model.problem_type, model.objective)
    rows = [pa.array(["no such model", "model-0001"]), pa.array([0.0, 1.0])]
    assert np.array_equal(loaded.predict_raw(rows), model.predict_raw(rows))
    assert np.isfinite(model.predict_raw(rows)).all()
