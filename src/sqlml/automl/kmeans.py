"""AUTO OFF MODEL_TYPE KMEANS: K-means clustering of number and boolean columns (reference §2.7).

The PREPROCESSORS entries scale columns before the Euclidean distances are taken: StandardScaler
(mean 0, variance 1), MinMax (to [0, 1]) and NumericPassthrough, applied in the order listed and
fitted on the training rows; columns in no entry pass through. A NULL becomes the column's
training mean (after scaling). Clustering is scikit-learn's Lloyd K-means; when a whole trial
may not fit in what is left of MAX_RUNTIME it runs ``STEP_ITERATIONS`` iterations at a time from
the centers so far, so that the deadline is kept inside the fit: when it passes, the best
trial's centers so far are the model (and ``stopped_early`` says so). The model is its centers. The prediction function returns the id (0
to K - 1) of each row's nearest center. Saved as a numpy ``.npz`` (centers) and a JSON manifest
section (the scaling steps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from sqlml.automl.budget import Deadline
from sqlml.automl.guidance import SCALERS, by_column, fit_scaler
from sqlml.automl.preprocessing import numeric_matrix
from sqlml.errors import TrainingDataError

FORMAT = "kmeans/1"
CENTERS_FILE = "centers.npz"
# Lloyd iterations between two looks at the deadline.
STEP_ITERATIONS = 10


def _fit_steps(x: np.ndarray, transformers: list[str]) -> list[dict]:
    steps = []
    for name in transformers:
        shift, scale = fit_scaler(name, x) if name in SCALERS else (0.0, 1.0)
        steps.append({"kind": name, "shift": shift, "scale": scale})
        x = (x - shift) / scale
    return steps


@dataclass
class KMeansModel:
    centers: np.ndarray  # k x columns, in the scaled space
    steps: list[list[dict]]  # per column, the scaling steps in order
    fill: list[float]  # per column, the (scaled) training mean that replaces NULL
    features: list[str]
    metrics: dict = field(default_factory=dict)
    sizes: list[int] = field(default_factory=list)  # training rows per cluster
    stopped_early: bool = False  # MAX_RUNTIME ended the iterations or trials
    objective: str | None = None
    classes: list | None = None
    explanation: dict | None = None

    def scaled(self, columns: list) -> np.ndarray:
        X = numeric_matrix(columns, np.float64)
        for j, steps in enumerate(self.steps):
            for step in steps:
                X[:, j] = (X[:, j] - step["shift"]) / step["scale"]
            X[np.isnan(X[:, j]), j] = self.fill[j]
        return X

    def assign(self, X: np.ndarray) -> np.ndarray:
        # |x - c|^2 = |x|^2 - 2 x.c + |c|^2; |x|^2 does not change the argmin.
        distances = -2.0 * X @ self.centers.T + (self.centers**2).sum(axis=1)
        return distances.argmin(axis=1).astype(np.int32)

    def predict(self, columns: list) -> pa.Array:
        return pa.array(self.assign(self.scaled(columns)), pa.int32())

    def save(self, directory: Path) -> dict:
        np.savez(directory / CENTERS_FILE, centers=self.centers)
        return {
            "format": FORMAT,
            "centers": CENTERS_FILE,
            "steps": self.steps,
            "fill": self.fill,
            "features": self.features,
            "sizes": self.sizes,
            "stopped_early": self.stopped_early,
            "classes": None,
            "explanation": None,
        }

    @classmethod
    def load(cls, section: dict, directory: Path) -> KMeansModel:
        with np.load(directory / section["centers"], allow_pickle=False) as f:
            centers = f["centers"]
        return cls(
            centers,
            section["steps"],
            section["fill"],
            section["features"],
            sizes=section["sizes"],
            stopped_early=section.get("stopped_early", False),
        )


def _same_clustering(labels: np.ndarray, best: np.ndarray, k: int) -> bool:
    """True when ``labels`` is ``best`` with its clusters renumbered (scikit-learn's rule for
    not preferring a trial that found the same clusters again)."""
    return len(np.unique(labels.astype(np.int64) * k + best)) == len(np.unique(labels))


def _lloyd(X: np.ndarray, k: int, hyperparameters: dict, seed: int, deadline: Deadline):
    """Centers of the best of the trials (lowest inertia), and whether the deadline cut the
    iterations or the trials short. The first trial's first step always runs.

    While the budget affords a whole trial (twice a probe iteration's time, times the iteration
    limit), a trial is one scikit-learn fit, and the result is exactly scikit-learn's
    ``KMeans(n_init=trials, random_state=seed)``: one random state draws every trial's initial
    centers in turn, as scikit-learn's loop does, and the best trial is chosen by its rule.
    Otherwise the trial runs ``STEP_ITERATIONS`` at a time, each step starting from the last
    one's centers, with the deadline checked between steps."""
    from sklearn.cluster import KMeans

    trials = hyperparameters.get("local_lloyd_num_trials", "auto")
    init = "random" if hyperparameters["init_method"] != "kmeans++" else "k-means++"
    n_trials = (10 if init == "random" else 1) if trials == "auto" else int(trials)
    max_iter = int(hyperparameters["local_lloyd_max_iter"])
    tol = float(hyperparameters["local_lloyd_tol"])

    def fit(start, iterations: int, state):
        return KMeans(
            n_clusters=k, init=start, n_init=1, max_iter=iterations, tol=tol, random_state=state
        ).fit(X)

    began = deadline.clock()
    fit(init, 1, np.random.RandomState(seed + 1))  # a probe, on its own random state
    per_iteration = deadline.clock() - began
    state = np.random.RandomState(seed)
    best, stopped = None, False
    for _ in range(n_trials):
        if best is not None and deadline.expired():
            return best.cluster_centers_, True
        if deadline.remaining() > 2 * per_iteration * max_iter:
            fitted = fit(init, max_iter, state)
        else:
            fitted, done, start = None, 0, init
            while True:
                step = min(STEP_ITERATIONS, max_iter - done)
                fitted = fit(start, step, state)
                done += fitted.n_iter_
                if fitted.n_iter_ < step or done >= max_iter:
                    break  # converged, or out of iterations
                if deadline.expired():
                    stopped = True
                    break
                start = fitted.cluster_centers_
        if best is None or (
            fitted.inertia_ < best.inertia_
            and not _same_clustering(fitted.labels_, best.labels_, k)
        ):
            best = fitted
        if stopped:
            break
    return best.cluster_centers_, stopped


def train_kmeans(
    table: pa.Table,
    hyperparameters: dict,
    preprocessors: list | None,
    deadline: Deadline,
    seed: int = 0,
    where: str = "CREATE MODEL",
) -> KMeansModel:
    names = list(table.column_names)
    k = int(hyperparameters["k"])
    if table.num_rows < k:
        raise TrainingDataError(
            f"{where}: K '{k}' clusters need at least {k} rows; the training data has "
            f"{table.num_rows}."
        )
    X = numeric_matrix([table.column(n) for n in names], np.float64)
    chosen = by_column(preprocessors)
    steps, fill = [], []
    for j, name in enumerate(names):
        column_steps = _fit_steps(X[:, j], chosen.get(name, ["NumericPassthrough"]))
        for step in column_steps:
            X[:, j] = (X[:, j] - step["shift"]) / step["scale"]
        seen = X[~np.isnan(X[:, j]), j]
        fill.append(float(seen.mean()) if len(seen) else 0.0)
        X[np.isnan(X[:, j]), j] = fill[-1]
        steps.append(column_steps)
    centers, stopped = _lloyd(X, k, hyperparameters, seed, deadline)
    model = KMeansModel(centers, steps, fill, names, stopped_early=stopped)
    labels = model.assign(X)  # the same assignment the prediction function makes
    model.sizes = np.bincount(labels, minlength=k).tolist()
    squared = ((X - model.centers[labels]) ** 2).sum(axis=1)
    for metric in hyperparameters.get("eval_metrics", ["msd"]):
        model.metrics[f"train:{metric}"] = float(
            squared.mean() if metric == "msd" else squared.sum()
        )
    return model
