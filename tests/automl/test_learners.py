"""Learner conformance: every learner, every problem type it supports, the same checks."""

from __future__ import annotations

import numpy as np
import pytest

from sqlml.automl.budget import Deadline
from sqlml.automl.learners import LEARNERS, FitData

PROBLEMS = ["BINARY_CLASSIFICATION", "MULTICLASS_CLASSIFICATION", "REGRESSION"]


def make_data(problem: str, n: int = 240, seed: int = 0) -> FitData:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[:, 3] = rng.integers(0, 4, size=n)  # a categorical code column
    X[rng.random(n) < 0.05, 0] = np.nan  # some missing values
    signal = np.nan_to_num(X[:, 0]) + X[:, 1] + (X[:, 3] == 2)
    if problem == "REGRESSION":
        y, k = 3 * signal + rng.normal(scale=0.1, size=n), 0
    elif problem == "BINARY_CLASSIFICATION":
        y, k = (signal > 0.3).astype(np.int64), 2
    else:
        y, k = np.digitize(signal, [-0.5, 0.8]).astype(np.int64), 3
    cut = int(n * 0.8)
    dense = LEARNERS_DENSE_COPY(X)
    return FitData(dense[:cut], y[:cut], problem, k, [3], 0, dense[cut:], y[cut:])


def LEARNERS_DENSE_COPY(X: np.ndarray) -> np.ndarray:  # noqa: N802 -- reads as a constant table
    return X.copy()


def prepared(learner, data: FitData) -> FitData:
    """Dense learners get the dense encoding, as the search gives them."""
    if learner.family != "dense":
        return data
    from sqlml.automl.dense import build_dense_plan, dense_transform

    plan = build_dense_plan(np.vstack([data.X, data.X_valid]), None, data.categorical)
    return FitData(
        dense_transform(plan, data.X),
        data.y,
        data.problem_type,
        data.n_classes,
        [],
        data.seed,
        dense_transform(plan, data.X_valid),
        data.y_valid,
    )


def first_params(learner, problem: str, n_rows: int, n_features: int) -> dict:
    """The learner's first portfolio configuration for this size of table (learners that fit
    only large tables, or only small ones, are asked about a table they fit)."""
    options = learner.portfolio(problem, n_rows, n_features)
    return (options or learner.portfolio(problem, 1_000_000, n_features))[0][1]


CASES = [(name, problem) for name in LEARNERS for problem in PROBLEMS]


@pytest.mark.parametrize(("name", "problem"), CASES)
def test_fits_predicts_and_round_trips(name, problem, tmp_path):
    learner = LEARNERS[name]
    data = prepared(learner, make_data(problem))
    params = first_params(learner, problem, len(data.y), data.X.shape[1])
    model = learner.fit(params, data, Deadline(600))
    pred = learner.predict(model, data.X_valid, problem)
    if problem == "REGRESSION":
        assert pred.shape == (len(data.y_valid),)
        assert np.corrcoef(pred, data.y_valid)[0, 1] > 0.5
    else:
        assert pred.shape == (len(data.y_valid), data.n_classes)
        assert np.allclose(pred.sum(axis=1), 1.0)
        assert (pred.argmax(axis=1) == data.y_valid).mean() > 0.5
    spec = learner.save(model, tmp_path, "m")
    loaded = learner.load(spec, tmp_path)
    assert np.allclose(learner.predict(loaded, data.X_valid, problem), pred)
    # The rounds a refit trains: the same from the fitted model and from the saved one.
    assert learner.rounds(loaded) == learner.rounds(model)
    # One row, and rows of NULLs, predict too.
    one = learner.predict(loaded, data.X_valid[:1], problem)
    assert len(one) == 1
    nulls = np.full((2, data.X.shape[1]), np.nan)
    if learner.family == "dense":
        nulls = np.zeros_like(nulls)
    assert np.isfinite(learner.predict(loaded, nulls, problem)).all()


@pytest.mark.parametrize("name", list(LEARNERS))
def test_deterministic_under_a_seed(name):
    learner = LEARNERS[name]
    data = prepared(learner, make_data("BINARY_CLASSIFICATION"))
    params = first_params(learner, "BINARY_CLASSIFICATION", len(data.y), 4)
    first = learner.predict(
        learner.fit(params, data, Deadline(600)), data.X_valid, "BINARY_CLASSIFICATION"
    )
    second = learner.predict(
        learner.fit(params, data, Deadline(600)), data.X_valid, "BINARY_CLASSIFICATION"
    )
    assert np.allclose(first, second), np.abs(first - second).max()


@pytest.mark.parametrize("name", list(LEARNERS))
def test_an_expired_deadline_still_returns_a_model(name):
    learner = LEARNERS[name]
    data = prepared(learner, make_data("REGRESSION"))
    params = first_params(learner, "REGRESSION", len(data.y), 4)
    clock = iter([0.0] + [100.0] * 100_000).__next__
    model = learner.fit(params, data, Deadline(1, clock=clock))
    assert learner.predict(model, data.X_valid, "REGRESSION").shape == (len(data.y_valid),)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("left_child", 10**9, "out of range"),
        ("left_child", 0, "out of range"),  # a loop back to the root
        ("feature", 99, "out of range"),
        ("offsets", np.array([0, 5]), "do not fit together"),
        ("classes", np.array([0, 7]), "do not match its classes"),
    ],
)
def test_a_forest_with_impossible_trees_is_refused(field, value, message, tmp_path):
    """scikit-learn's C code follows child indices and split features unchecked: a file whose
    checksum was recomputed after editing them must be refused, not crash the process."""
    learner = LEARNERS["forest"]
    data = make_data("BINARY_CLASSIFICATION")
    model = learner.fit({"trees": "random", "criterion": "gini"}, data, Deadline(600))
    spec = learner.save(model, tmp_path, "m")
    path = tmp_path / spec["file"]
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    if field in ("left_child", "feature"):
        inner = np.flatnonzero(arrays["left_child"] >= 0)[0]
        arrays[field] = arrays[field].copy()
        arrays[field][inner] = value
    else:
        arrays[field] = value
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=message):
        learner.load(spec, tmp_path)


@pytest.mark.parametrize("name", list(LEARNERS))
def test_a_table_without_categorical_columns(name, tmp_path):
    """All-numeric tables (no categorical codes) fit, predict, and predict again once saved:
    XGBoost 3 could not read back the empty list of categorical columns it was given."""
    learner = LEARNERS[name]
    base = make_data("MULTICLASS_CLASSIFICATION")
    data = prepared(
        learner,
        FitData(base.X, base.y, base.problem_type, 3, [], 0, base.X_valid, base.y_valid),
    )
    model = learner.fit(first_params(learner, data.problem_type, 240, 4), data, Deadline(600))
    pred = learner.predict(model, data.X_valid, data.problem_type)
    spec = learner.save(model, tmp_path, "m")
    assert np.allclose(
        learner.predict(learner.load(spec, tmp_path), data.X_valid, "MULTICLASS_CLASSIFICATION"),
        pred,
    )


def test_xgboost_packages_with_an_empty_categorical_attribute_still_predict(tmp_path):
    """Packages written before the fix stored "" for no categorical columns."""
    learner = LEARNERS["xgboost"]
    data = make_data("REGRESSION")
    data = FitData(data.X, data.y, data.problem_type, 0, [], 0, data.X_valid, data.y_valid)
    model = learner.fit(first_params(learner, "REGRESSION", 240, 4), data, Deadline(600))
    model.set_attr(categorical="")
    spec = learner.save(model, tmp_path, "m")
    loaded = learner.load(spec, tmp_path)
    assert learner.predict(loaded, data.X_valid, "REGRESSION").shape == (len(data.y_valid),)


class _Stopped(Deadline):
    """A deadline that expires after ``checks`` looks: a fit cut short mid-way, on any machine."""

    def __init__(self, checks: int):
        super().__init__(3600)
        self.checks = checks

    def expired(self) -> bool:
        self.checks -= 1
        return self.checks < 0


@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize(
    ("stop", "params"),
    [
        ("early stopping", {"learning_rate": 0.3, "num_leaves": 7}),
        ("deadline", {"learning_rate": 0.01, "num_leaves": 7}),
        ("round cap", {"learning_rate": 0.01, "num_leaves": 7, "num_rounds": 15}),
    ],
)
def test_lightgbm_keeps_the_validation_predictions_it_scored(problem, stop, params):
    """The search takes these instead of predicting the validation rows again: they must be
    exactly what predict gives, whichever way the fit ended."""
    learner = LEARNERS["lightgbm"]
    data = make_data(problem, n=600)
    X_valid = data.X_valid.copy()
    deadline = _Stopped(20) if stop == "deadline" else Deadline(3600)
    model = learner.fit(params, data, deadline)
    kept = learner.validation_predictions(model, problem)
    assert kept is not None
    np.testing.assert_array_equal(kept, learner.predict(model, X_valid, problem))
    if stop == "deadline":
        assert model.current_iteration() == 21
    if stop == "early stopping":
        assert model.best_iteration < model.current_iteration()


def test_learners_without_kept_predictions_say_none():
    learner = LEARNERS["linear"]
    data = prepared(learner, make_data("REGRESSION"))
    model = learner.fit({"C": 1.0}, data, Deadline(60))
    assert learner.validation_predictions(model, "REGRESSION") is None
