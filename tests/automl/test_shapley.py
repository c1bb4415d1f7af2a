"""Explanations: contributions plus the expected value reproduce every prediction, for every
learner alone and for ensembles (fold averages, member weights, log1p targets, temperature)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from test_learners import first_params

from sqlml.automl.budget import Deadline
from sqlml.automl.dense import build_dense_plan, dense_transform
from sqlml.automl.explain import explain, global_explanation
from sqlml.automl.learners import LEARNERS, FitData
from sqlml.automl.model import FittedModel, Member
from sqlml.automl.preprocessing import build_plan, transform, view
from sqlml.automl.profiling import profile_column

PROBLEMS = ["BINARY_CLASSIFICATION", "MULTICLASS_CLASSIFICATION", "REGRESSION"]
FEATURES = ["num", "cat", "day", "text", "noise", "constant"]


def frame(problem: str, n: int = 300, seed: int = 0) -> tuple[list, np.ndarray]:
    """Feature columns of every kind (numeric with NULLs, categorical, date, text, pure noise, a
    constant the profiler drops) and a target that depends on the first four."""
    rng = np.random.default_rng(seed)
    num = rng.normal(size=n)
    cat = rng.choice(["a", "b", "c"], size=n)
    days = rng.integers(0, 365, size=n)
    text = rng.choice(["good value", "slow service", "good and fast", "slow"], size=n)
    signal = num + (cat == "b") + np.sin(days / 58) + np.char.startswith(text, "good")
    columns = [
        pa.array(np.where(rng.random(n) < 0.05, np.nan, num), from_pandas=True),
        pa.array(cat),
        pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in days]),
        pa.array(text),
        pa.array(rng.normal(size=n)),
        pa.array(np.full(n, 7.0)),
    ]
    if problem == "REGRESSION":
        y = np.exp(1 + signal / 2 + rng.normal(scale=0.1, size=n))
    elif problem == "BINARY_CLASSIFICATION":
        y = (signal + rng.normal(scale=0.3, size=n) > 1.2).astype(np.int64)
    else:
        y = np.digitize(signal, [0.6, 1.8]).astype(np.int64)
    return columns, y


def fitted(problem: str, learners: list[str], temperature: float = 1.0, log1p=()) -> tuple:
    """A FittedModel whose members are ``learners`` (equal weights), each a bag of two models
    fitted on different halves (averaged with unequal weights), as the search builds them."""
    columns, y = frame(problem)
    plan = build_plan(
        columns, [profile_column(n, c) for n, c in zip(FEATURES, columns, strict=True)]
    )
    X = transform(plan, columns)
    tree_columns, tree_categorical = view(plan, "tree")
    dense_plan = build_dense_plan(X, tree_columns, tree_categorical)
    k = 0 if problem == "REGRESSION" else len(np.unique(y))
    model = FittedModel(
        plan,
        dense_plan,
        problem,
        "MSE" if problem == "REGRESSION" else "Accuracy",
        None if problem == "REGRESSION" else list(range(k)),
        1 if problem == "BINARY_CLASSIFICATION" else None,
        0.5,
        [],
        temperature=temperature,
    )
    for name in learners:
        learner = LEARNERS[name]
        indices, categorical = view(plan, learner.view)
        inputs = X[:, indices]
        if learner.family == "dense":
            inputs = dense_transform(dense_plan, X[:, tree_columns])
        target = np.log1p(y) if name in log1p else y
        models = []
        for half in (slice(0, None, 2), slice(1, None, 2)):
            data = FitData(
                inputs[half],
                target[half],
                problem,
                k,
                [] if learner.family == "dense" else categorical,
                0,
                rounds=30,
            )
            params = first_params(learner, problem, len(y), inputs.shape[1])
            if "num_rounds" in params:  # a forest: fewer trees
                params = {**params, "num_rounds": 30}
            models.append(learner.fit(params, data, Deadline(600)))
        transform_name = "log1p" if name in log1p else None
        model.members.append(Member(name, name, 1.0, transform_name, models, 0, [0.3, 0.7]))
    for member in model.members:
        member.weight = 1.0 / len(model.members)
    return model, columns


def check_additive(model, columns, residue: float):
    found = explain(model, model.matrices(columns))
    prediction = model.predict_raw(columns)
    prediction = prediction[:, None] if prediction.ndim == 1 else prediction
    assert found.columns == FEATURES
    assert np.allclose(found.value, prediction, rtol=0, atol=1e-12)
    reconstructed = found.expected + found.contributions.sum(axis=1)
    assert np.allclose(reconstructed, prediction, rtol=0, atol=1e-9)
    # The spread residue is small: the link mapping itself is right, not patched over.
    scale = np.abs(found.contributions).sum(axis=1).mean()
    assert np.abs(found.residue).max() <= residue * max(scale, 1e-12)
    # The expected value is one number per output (it does not depend on the row).
    assert np.allclose(found.expected, found.expected[:1])
    if model.classes is not None:  # contributions to probabilities that sum to one cancel out
        assert np.allclose(found.contributions.sum(axis=2), 0.0, atol=1e-6)
        assert np.allclose(found.expected.sum(axis=1), 1.0)
    # The dropped constant column contributes nothing.
    assert np.abs(found.contributions[:, FEATURES.index("constant"), :]).max() < 1e-12
    return found


# Exact learners leave rounding only; XGBoost computes in float32; the MLP's path integral is
# a 32-point rule over a piecewise-linear network.
RESIDUE = {"mlp": 0.05, "xgboost": 1e-4}


# The target and full views exist only on tables with a high-cardinality column
# (test_encoding.py explains the learners that read them).
@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize(
    "name", [n for n in LEARNERS if LEARNERS[n].view not in ("target", "full")]
)
def test_each_learner_alone(name, problem):
    model, columns = fitted(problem, [name])
    found = check_additive(model, columns, RESIDUE.get(name, 1e-6))
    # The signal's columns matter more than pure noise.
    influence = np.abs(found.contributions).mean(axis=(0, 2))
    assert influence[FEATURES.index("num")] > influence[FEATURES.index("noise")]


def test_linear_contributions_are_exact():
    """A ridge regression's contribution of a numeric column is its coefficient times the
    standardized distance from the mean (plus its missing indicator's share)."""
    model, columns = fitted("REGRESSION", ["linear"])
    found = explain(model, model.matrices(columns))
    member = model.members[0]
    dense = model.matrices(columns)["dense"]
    baseline = np.asarray(model.dense_plan["baseline"])
    # "num" is the first dense column (standardized) followed by its missing indicator.
    coef = sum(w * m.coef[0] for m, w in zip(member.models, member.model_weights, strict=True))
    expected = (dense[:, :2] - baseline[:2]) @ coef[:2]
    assert np.allclose(found.contributions[:, 0, 0], expected, atol=1e-6)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_ensembles_with_temperature_and_log_targets(problem):
    learners = ["lightgbm", "lightgbm_rf", "xgboost", "catboost", "linear", "forest", "knn"]
    model, columns = fitted(
        problem,
        learners,
        temperature=0.7,
        log1p=("lightgbm", "linear") if problem == "REGRESSION" else (),
    )
    # The multiclass softmax and temperature are integrated numerically (Gauss-Legendre).
    check_additive(model, columns, 1e-4 if problem == "MULTICLASS_CLASSIFICATION" else 1e-5)


def test_an_ensemble_with_an_mlp_still_adds_up():
    model, columns = fitted("MULTICLASS_CLASSIFICATION", ["lightgbm", "mlp"], temperature=1.3)
    check_additive(model, columns, 0.05)


def test_global_explanation_has_redshifts_shape():
    model, columns = fitted("MULTICLASS_CLASSIFICATION", ["lightgbm"])
    found = explain(model, model.matrices(columns))
    doc = global_explanation(model, found)
    labels = doc["explanations"]["kernel_shap"]
    assert doc["version"] == "1.0" and doc["rows"] == len(found.value)
    assert sorted(labels) == ["label0", "label1", "label2"]
    assert [labels[f"label{i}"]["label"] for i in range(3)] == [0, 1, 2]
    for i in range(3):
        values = labels[f"label{i}"]["global_shap_values"]
        assert list(values) == FEATURES
        assert values["num"] == pytest.approx(np.abs(found.contributions[:, 0, i]).mean())
        assert values["constant"] == 0.0
    # Binary: one output, the positive class's probability; regression: the value.
    binary, columns = fitted("BINARY_CLASSIFICATION", ["lightgbm"])
    doc = global_explanation(binary, explain(binary, binary.matrices(columns)))
    assert list(doc["explanations"]["kernel_shap"]) == ["label0"]
    assert doc["explanations"]["kernel_shap"]["label0"]["label"] == 1
    assert doc["methods"] == ["TreeSHAP (LightGBM pred_contrib)"]
