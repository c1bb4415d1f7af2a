"""Linear models on the dense encoding: logistic regression and ridge regression.
Coefficients are saved as a numpy ``.npz`` (loaded with ``allow_pickle=False``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sqlml.automl.learners.base import Learner


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


class LinearModel:
    """Just the coefficients: predictions are one matrix product."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray):
        self.coef = np.atleast_2d(coef).astype(np.float64)
        self.intercept = np.atleast_1d(intercept).astype(np.float64)

    def decision(self, X: np.ndarray) -> np.ndarray:
        return X @ self.coef.T + self.intercept


class LinearLearner(Learner):
    name = "linear"
    family = "dense"
    cost = 0.5

    def portfolio(self, problem_type, n_rows, n_features):
        return [("linear", {"C": 1.0})]

    def search_space(self, trial, problem_type):
        return {"C": trial.suggest_float("C", 1e-3, 100.0, log=True)}

    def fit(self, params, data, deadline):
        from sklearn.linear_model import LogisticRegression, Ridge

        if data.problem_type == "REGRESSION":
            model = Ridge(alpha=1.0 / params["C"]).fit(data.X, data.y)
            return LinearModel(model.coef_, model.intercept_)
        model = LogisticRegression(C=params["C"], max_iter=300).fit(data.X, data.y)
        return LinearModel(model.coef_, model.intercept_)

    def predict(self, model, X, problem_type):
        z = model.decision(X)
        if problem_type == "REGRESSION":
            return z[:, 0]
        if problem_type == "BINARY_CLASSIFICATION":
            p = sigmoid(z[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(z)

    def contributions(self, model, X, problem_type, baseline):
        # Exact for a linear margin: each coefficient times the input's distance from the mean.
        baseline = np.zeros(X.shape[1]) if baseline is None else baseline
        phi = (X - baseline)[:, :, None] * model.coef.T[None, :, :]
        bias = np.broadcast_to(model.decision(baseline[None, :]), (len(X), model.coef.shape[0]))
        return phi, bias

    def save(self, model, directory: Path, stem: str) -> dict:
        name = f"{stem}.npz"
        np.savez(directory / name, coef=model.coef, intercept=model.intercept)
        return {"file": name}

    def load(self, spec, directory):
        with np.load(directory / spec["file"], allow_pickle=False) as f:
            return LinearModel(f["coef"], f["intercept"])
