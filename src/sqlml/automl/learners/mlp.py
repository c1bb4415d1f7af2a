"""A multilayer perceptron on the dense encoding (scikit-learn's, trained epoch by epoch so the
deadline and early stopping are ours). Weights are saved as a numpy ``.npz``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sqlml.automl.learners.base import Learner
from sqlml.automl.learners.linear import sigmoid, softmax

MAX_EPOCHS = 200
PATIENCE = 10
IG_STEPS = 32


class MLPModel:
    def __init__(self, weights: list[np.ndarray], biases: list[np.ndarray], y_mean=0.0, y_std=1.0):
        self.weights, self.biases = weights, biases
        self.y_mean, self.y_std = float(y_mean), float(y_std)
        self.epochs: int | None = None  # epochs trained, when known

    def output(self, X: np.ndarray) -> np.ndarray:
        h = X
        for W, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h = np.maximum(h @ W + b, 0.0)
        return h @ self.weights[-1] + self.biases[-1]

    def integrated_gradients(self, X: np.ndarray, baseline: np.ndarray) -> np.ndarray:
        """Each input's share of ``output(X) - output(baseline)`` (n x inputs x outputs): the
        gradient averaged along the straight path from the baseline (midpoint rule; a ReLU
        network is piecewise linear, so the shares sum to the difference up to a small residue
        that the caller spreads)."""
        delta = X - baseline
        hidden = list(zip(self.weights[:-1], self.biases[:-1], strict=True))
        last = self.weights[-1]
        total = np.zeros((*X.shape, last.shape[1]))
        for t in (np.arange(IG_STEPS) + 0.5) / IG_STEPS:
            h, masks = baseline + t * delta, []
            for W, b in hidden:
                a = h @ W + b
                masks.append(a > 0)
                h = np.maximum(a, 0.0)
            for c in range(last.shape[1]):
                g = np.broadcast_to(last[:, c], (len(X), last.shape[0]))
                for (W, _), mask in zip(reversed(hidden), reversed(masks), strict=True):
                    g = (g * mask) @ W.T
                total[:, :, c] += g
        return delta[:, :, None] * total / IG_STEPS


def _validation_loss(model: MLPModel, X, y, problem_type) -> float:
    z = model.output(X)
    if problem_type == "REGRESSION":
        return float(np.mean((z[:, 0] * model.y_std + model.y_mean - y) ** 2))
    p = sigmoid(z[:, 0]) if z.shape[1] == 1 else softmax(z)[np.arange(len(y)), y]
    if z.shape[1] == 1:
        p = np.where(y == 1, p, 1 - p)
    return float(-np.mean(np.log(np.clip(p, 1e-12, 1))))


class MLPLearner(Learner):
    name = "mlp"
    family = "dense"
    cost = 3.0

    def portfolio(self, problem_type, n_rows, n_features):
        return [("mlp", {"hidden": [128, 64], "alpha": 1e-4, "learning_rate": 1e-3})]

    def search_space(self, trial, problem_type):
        width = trial.suggest_categorical("width", [32, 64, 128, 256])
        return {
            "hidden": [width, width // 2],
            "alpha": trial.suggest_float("alpha", 1e-6, 1e-2, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 3e-4, 3e-3, log=True),
        }

    def fit(self, params, data, deadline):
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        kwargs = {
            "hidden_layer_sizes": tuple(params["hidden"]),
            "alpha": params["alpha"],
            "learning_rate_init": params["learning_rate"],
            "batch_size": min(256, len(data.y)),
            "random_state": data.seed,
        }
        regression = data.problem_type == "REGRESSION"
        y_mean, y_std = (
            (float(np.mean(data.y)), float(np.std(data.y)) or 1.0) if regression else (0.0, 1.0)
        )
        net = MLPRegressor(**kwargs) if regression else MLPClassifier(**kwargs)
        classes = np.arange(data.n_classes)
        rng = np.random.default_rng(data.seed)
        best, best_loss, bad = None, np.inf, 0
        epochs = MAX_EPOCHS if data.rounds is None else data.rounds
        for epoch in range(epochs):
            order = rng.permutation(len(data.y))
            target = (data.y[order] - y_mean) / y_std if regression else data.y[order]
            if regression:
                net.partial_fit(data.X[order], target)
            else:
                net.partial_fit(data.X[order], target, classes=classes)
            current = MLPModel(
                [w.copy() for w in net.coefs_], [b.copy() for b in net.intercepts_], y_mean, y_std
            )
            current.epochs = epoch + 1
            if data.X_valid is None or data.rounds is not None:
                best = current
            else:
                loss = _validation_loss(current, data.X_valid, data.y_valid, data.problem_type)
                if loss < best_loss - 1e-6:
                    best, best_loss, bad = current, loss, 0
                else:
                    bad += 1
            if bad >= PATIENCE or deadline.expired():
                break
        return best

    def rounds(self, model):
        return model.epochs

    def predict(self, model, X, problem_type):
        z = model.output(X)
        if problem_type == "REGRESSION":
            return z[:, 0] * model.y_std + model.y_mean
        if z.shape[1] == 1:
            p = sigmoid(z[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(z)

    def contributions(self, model, X, problem_type, baseline):
        baseline = np.zeros(X.shape[1]) if baseline is None else baseline
        phi = model.integrated_gradients(X, baseline)
        bias = np.broadcast_to(model.output(baseline[None, :]), (len(X), phi.shape[2])).copy()
        if problem_type == "REGRESSION":  # the network predicts the standardized target
            phi, bias = phi * model.y_std, bias * model.y_std + model.y_mean
        return phi, bias

    def save(self, model, directory: Path, stem: str) -> dict:
        name = f"{stem}.npz"
        arrays = {f"W{i}": w for i, w in enumerate(model.weights)}
        arrays.update({f"b{i}": b for i, b in enumerate(model.biases)})
        np.savez(directory / name, **arrays)
        return {
            "file": name,
            "layers": len(model.weights),
            "y_mean": model.y_mean,
            "y_std": model.y_std,
            "epochs": model.epochs,
        }

    def load(self, spec, directory):
        with np.load(directory / spec["file"], allow_pickle=False) as f:
            n = spec["layers"]
            model = MLPModel(
                [f[f"W{i}"] for i in range(n)],
                [f[f"b{i}"] for i in range(n)],
                spec["y_mean"],
                spec["y_std"],
            )
        model.epochs = spec.get("epochs")  # absent from packages written before it was saved
        return model
