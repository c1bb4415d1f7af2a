"""k-nearest neighbours on the dense encoding (standardized numbers, one-hot categories), with
uniform or distance weights: on small numeric tables whose classes are separated by local
geometry it sees what trees' axis-aligned splits approximate slowly.

The model is its training rows: saved as a numpy ``.npz`` (``allow_pickle=False``) and indexed
again by scikit-learn at load. Explanations are sampled Shapley values from the training mean
(``permutation_contributions``), in probability space (``link = False``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sqlml.automl.learners.base import Learner, permutation_contributions

# k-NN keeps every training row and compares each prediction with all of them: past this many
# rows it is slow to query and rarely in an ensemble, so it fits the k-fold tables only.
MAX_ROWS = 10_000
NEIGHBOURS = 10


class Neighbours:
    def __init__(self, X: np.ndarray, y: np.ndarray, params: dict, n_classes: int):
        from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

        self.X, self.y, self.params, self.n_classes = X, y, params, n_classes
        k = min(int(params.get("n_neighbors", NEIGHBOURS)), len(X))
        cls = KNeighborsClassifier if n_classes else KNeighborsRegressor
        self.index = cls(n_neighbors=k, weights=params["weights"]).fit(X, y)

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if not self.n_classes:
            return self.index.predict(X).astype(np.float64)
        out = np.zeros((len(X), self.n_classes))
        out[:, self.index.classes_.astype(np.int64)] = self.index.predict_proba(X)
        return out


class KNNLearner(Learner):
    name = "knn"
    family = "dense"
    cost = 0.3
    link = False

    def portfolio(self, problem_type, n_rows, n_features):
        if n_rows > MAX_ROWS:
            return []
        return [
            ("knn_distance", {"weights": "distance", "n_neighbors": NEIGHBOURS}),
            ("knn_uniform", {"weights": "uniform", "n_neighbors": NEIGHBOURS}),
        ]

    def fit(self, params, data, deadline):
        X = np.ascontiguousarray(data.X, dtype=np.float32)
        y = data.y.astype(np.int64) if data.classification else data.y.astype(np.float64)
        return Neighbours(X, y, params, data.n_classes if data.classification else 0)

    def predict(self, model: Neighbours, X, problem_type):
        return model.predict(X)

    def contributions(self, model: Neighbours, X, problem_type, baseline):
        baseline = np.zeros(X.shape[1]) if baseline is None else baseline
        return permutation_contributions(model.predict, X, baseline)

    def save(self, model: Neighbours, directory: Path, stem: str) -> dict:
        name = f"{stem}.knn.npz"
        np.savez(directory / name, X=model.X, y=model.y)
        return {"file": name, "params": model.params, "n_classes": model.n_classes}

    def load(self, spec, directory) -> Neighbours:
        with np.load(directory / spec["file"], allow_pickle=False) as f:
            X, y = f["X"], f["y"]
        n_classes = int(spec["n_classes"])
        if X.ndim != 2 or y.shape != (len(X),) or len(X) == 0:
            raise ValueError(f"{spec['file']} is not a valid k-NN model: its arrays do not fit")
        if n_classes and (np.any(y < 0) or np.any(y >= n_classes)):
            raise ValueError(f"{spec['file']} is not a valid k-NN model: a class is out of range")
        if spec["params"].get("weights") not in ("uniform", "distance"):
            raise ValueError(f"{spec['file']} is not a valid k-NN model: unknown weights")
        return Neighbours(X, y, spec["params"], n_classes)
