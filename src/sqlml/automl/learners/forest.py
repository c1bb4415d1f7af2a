"""Random forests and extremely randomized trees (scikit-learn's), with Gini or entropy splits for
classes and squared error for numbers: with k-NN, what AutoGluon's ensembles lean on for small
numeric tables whose classes are separated by local geometry.

A forest is saved without pickle: every tree's node arrays, concatenated, in one numpy ``.npz``
(loaded with ``allow_pickle=False``). Loading checks that every child index points forward
inside its own tree and every split feature exists (scikit-learn's C code trusts both), then
hands the arrays to scikit-learn's own ``Tree`` (its ``__setstate__`` takes plain arrays), which
predicts in C, NULLs included (``missing_go_to_left``).

Explanations are Saabas path attributions: each split moves the row's prediction from the
parent node's value to the child's, and the move is the split feature's. They add up exactly
to the prediction, in probability space (``link = False``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sqlml.automl.budget import Deadline
from sqlml.automl.learners.base import FitData, Learner, fit_threads

# Forests fit on the k-fold (small) tables only: a full-depth forest's size grows with the rows,
# and on large tables LightGBM's random-forest mode (lightgbm_rf) does the same job compactly.
MAX_ROWS = 10_000
TREES = 60  # per fold: five bagged folds make 300 trees in all
CHUNK = 20  # trees grown between two looks at the deadline
# Leaves per tree: at most a quarter of the rows (at least 2,000). Full-depth trees on a noisy
# 8,000-row, 7-class table kept 130 MB of nodes per fold model; leaves of a few rows each also
# give smoother probabilities.
MAX_LEAF_NODES = 15_000
# What prediction and explanations read, in the narrowest type that holds it exactly (the
# split thresholds stay float64: scikit-learn compares float32 inputs with them).
_STORED = {
    "left_child": np.int32,
    "right_child": np.int32,
    "feature": np.int32,
    "threshold": np.float64,
    "missing_go_to_left": np.uint8,
}
_FIELDS = tuple(_STORED)


class Forest:
    """scikit-learn trees and what their outputs mean: ``classes`` (the class codes the fold
    saw, in the trees' output order) for classifiers, None for regression."""

    def __init__(self, trees: list, classes: np.ndarray | None, n_classes: int, n_features: int):
        self.trees, self.classes = trees, classes
        self.n_classes, self.n_features = n_classes, n_features
        self.values = [self._values(tree) for tree in trees]

    def _values(self, tree) -> np.ndarray:
        """Each node's output (nodes x outputs): class shares, or the mean."""
        v = np.asarray(tree.value)[:, 0, :]
        if self.classes is None:
            return v
        totals = v.sum(axis=1, keepdims=True)
        out = np.zeros((len(v), self.n_classes))
        out[:, self.classes] = v / np.where(totals > 0, totals, 1.0)
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float32)
        total = 0.0
        for tree, values in zip(self.trees, self.values, strict=True):
            total = total + values[tree.apply(X)]
        out = total / len(self.trees)
        return out[:, 0] if self.classes is None else out

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Saabas attributions (n x features x outputs) and the root's value (n x outputs)."""
        from scipy import sparse

        X = np.ascontiguousarray(X, dtype=np.float32)
        n = len(X)
        phi, bias = None, 0.0
        for tree, values in zip(self.trees, self.values, strict=True):
            left, right = np.asarray(tree.children_left), np.asarray(tree.children_right)
            feature = np.asarray(tree.feature)
            inner = np.flatnonzero(left >= 0)
            children = np.concatenate([left[inner], right[inner]])
            parents = np.concatenate([inner, inner])
            delta = values[children] - values[parents]
            path = tree.decision_path(X)
            step = np.zeros((n, self.n_features, values.shape[1]))
            for k in range(values.shape[1]):
                moves = sparse.csr_matrix(
                    (delta[:, k], (children, feature[parents])),
                    shape=(len(values), self.n_features),
                )
                step[:, :, k] = (path @ moves).toarray()
            phi = step if phi is None else phi + step
            bias = bias + values[0]
        trees = len(self.trees)
        return phi / trees, np.broadcast_to(bias / trees, (n, len(bias))).copy()


def _estimator(params: dict, data: FitData):
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )

    extra = params["trees"] == "extra"
    if data.classification:
        cls = ExtraTreesClassifier if extra else RandomForestClassifier
        max_features = "sqrt"
    else:
        cls = ExtraTreesRegressor if extra else RandomForestRegressor
        max_features = 1.0
    return cls(
        n_estimators=min(CHUNK, params.get("n_estimators", TREES)),
        criterion=params["criterion"],
        max_features=params.get("max_features", max_features),
        min_samples_leaf=params.get("min_samples_leaf", 1),
        max_leaf_nodes=min(MAX_LEAF_NODES, max(2_000, len(data.y) // 4)),
        bootstrap=not extra,
        warm_start=True,
        n_jobs=fit_threads(),
        random_state=data.seed,
    )


class ForestLearner(Learner):
    name = "forest"
    family = "tree"
    cost = 1.0
    link = False

    def portfolio(self, problem_type, n_rows, n_features):
        if n_rows > MAX_ROWS:
            return []
        criteria = ["squared_error"] if problem_type == "REGRESSION" else ["gini", "entropy"]
        out = []
        for criterion in criteria:
            for trees in ("extra", "random"):
                label = "extra_trees" if trees == "extra" else "forest"
                short = "mse" if criterion == "squared_error" else criterion
                out.append((f"{label}_{short}", {"trees": trees, "criterion": criterion}))
        return out

    def fit(self, params: dict, data: FitData, deadline: Deadline) -> Forest:
        model = _estimator(params, data)
        target = params.get("n_estimators", TREES)
        X = np.ascontiguousarray(data.X, dtype=np.float32)
        while True:
            started = deadline.clock()
            model.fit(X, data.y)
            grown = model.n_estimators
            took = deadline.clock() - started
            if grown >= target or deadline.expired():
                break
            # Grow the next chunk only if it can end in time (the last one took ``took``).
            if took * 1.2 > deadline.remaining():
                break
            model.n_estimators = min(target, grown + CHUNK)
        classes = model.classes_.astype(np.int64) if data.classification else None
        trees = [estimator.tree_ for estimator in model.estimators_]
        return Forest(trees, classes, data.n_classes, X.shape[1])

    def predict(self, model: Forest, X, problem_type):
        return model.predict(X)

    def contributions(self, model: Forest, X, problem_type, baseline):
        return model.contributions(X)

    def save(self, model: Forest, directory: Path, stem: str) -> dict:
        name = f"{stem}.forest.npz"
        states = [tree.__getstate__() for tree in model.trees]
        arrays = {
            f: np.concatenate([s["nodes"][f] for s in states]).astype(t) for f, t in _STORED.items()
        }
        np.savez(
            directory / name,
            **arrays,
            values=np.concatenate([s["values"] for s in states]).astype(np.float32),
            offsets=np.cumsum([0] + [s["node_count"] for s in states]),
            depths=np.array([s["max_depth"] for s in states], dtype=np.int64),
            classes=np.array([] if model.classes is None else model.classes, dtype=np.int64),
            shape=np.array([model.n_classes, model.n_features], dtype=np.int64),
        )
        return {"file": name, "regression": model.classes is None}

    def load(self, spec, directory) -> Forest:
        with np.load(directory / spec["file"], allow_pickle=False) as f:
            arrays = {key: f[key] for key in f.files}
        return _rebuild(arrays, bool(spec.get("regression")), spec["file"])


def _rebuild(a: dict, regression: bool, name: str) -> Forest:
    """scikit-learn trees from saved arrays, after checking everything its C code relies on."""
    from sklearn.tree._tree import NODE_DTYPE, Tree

    def bad(why: str) -> ValueError:
        return ValueError(f"{name} is not a valid forest: {why}")

    missing = {*_FIELDS, "values", "offsets", "depths", "classes", "shape"} - set(a)
    if missing:
        raise bad(f"arrays {sorted(missing)} are missing")
    n_classes, n_features = (int(v) for v in a["shape"])
    offsets, values = a["offsets"].astype(np.int64), a["values"]
    total = int(offsets[-1]) if len(offsets) else 0
    if (
        len(offsets) < 2
        or offsets[0] != 0
        or np.any(np.diff(offsets) < 1)
        or len(a["depths"]) != len(offsets) - 1
        or any(len(a[f]) != total for f in _FIELDS)
        or values.ndim != 3
        or len(values) != total
        or values.shape[1] != 1
        or n_features < 1
    ):
        raise bad("its arrays do not fit together")
    classes = None if regression else a["classes"].astype(np.int64)
    width = 1 if regression else len(classes)
    if values.shape[2] != width or (
        classes is not None and (np.any(classes < 0) or np.any(classes >= n_classes))
    ):
        raise bad("its outputs do not match its classes")
    trees = []
    for t in range(len(offsets) - 1):
        lo, hi = int(offsets[t]), int(offsets[t + 1])
        nodes = np.zeros(hi - lo, dtype=NODE_DTYPE)
        for f in _FIELDS:
            nodes[f] = a[f][lo:hi]
        index = np.arange(hi - lo)
        left, right, feature = nodes["left_child"], nodes["right_child"], nodes["feature"]
        leaf = left == -1
        inner_ok = (left > index) & (right > index) & (left < hi - lo) & (right < hi - lo)
        feature_ok = (feature >= 0) & (feature < n_features)
        if not np.all(np.where(leaf, right == -1, inner_ok & feature_ok)):
            raise bad(f"tree {t} has a child or feature out of range")
        tree = Tree(n_features, np.array([width], dtype=np.intp), 1)
        tree.__setstate__(
            {
                "max_depth": int(a["depths"][t]),
                "node_count": hi - lo,
                "nodes": nodes,
                "values": np.ascontiguousarray(values[lo:hi], dtype=np.float64),
            }
        )
        trees.append(tree)
    return Forest(trees, classes, n_classes, n_features)
