"""The dense encoding for linear and neural learners, computed from the tree-family matrix.

Categorical codes become one-hot columns (the ``MAX_ONE_HOT`` most frequent levels; rarer,
unseen and NULL levels are all-zero rows with a missing indicator); numeric columns are
standardized, clipped to ``CLIP`` standard deviations and imputed with the training mean (0 after
scaling), with a missing indicator where training saw NULLs. Stored as JSON, replayed with numpy.
"""

from __future__ import annotations

import numpy as np

MAX_ONE_HOT = 30
CLIP = 5.0
BASELINE_ROWS = 20_000


def build_dense_plan(X: np.ndarray, view: list[int] | None, categorical: list[int]) -> dict:
    """The plan for the columns ``view`` of ``X`` (all when None); ``categorical`` indexes the view."""
    columns = []
    cats = set(categorical)
    for j, source in enumerate(range(X.shape[1]) if view is None else view):
        x = X[:, source]
        missing = bool(np.isnan(x).any())
        if j in cats:
            top = int(np.nanmax(x)) + 1 if not np.isnan(x).all() else 0
            columns.append({"kind": "onehot", "size": min(top, MAX_ONE_HOT), "missing": missing})
        else:
            # Accumulated in float64: float32 sums of many rows drift.
            mean = float(np.nanmean(x, dtype=np.float64)) if not np.isnan(x).all() else 0.0
            std = float(np.nanstd(x, dtype=np.float64)) if not np.isnan(x).all() else 1.0
            columns.append(
                {"kind": "scale", "mean": mean, "std": std if std > 0 else 1.0, "missing": missing}
            )
    plan = {"columns": columns}
    # The mean encoded row (from evenly spaced rows): what explanations of linear and neural
    # models measure each feature's contribution from.
    rows = np.unique(np.linspace(0, len(X) - 1, min(len(X), BASELINE_ROWS)).astype(np.int64))
    sample = X[rows] if view is None else X[rows][:, view]
    plan["baseline"] = dense_transform(plan, sample).mean(axis=0, dtype=np.float64).tolist()
    return plan


def dense_sources(plan: dict) -> list[int]:
    """For every encoded column, the index of the tree-view column it encodes."""
    out = []
    for j, col in enumerate(plan["columns"]):
        out += [j] * ((col["size"] if col["kind"] == "onehot" else 1) + col["missing"])
    return out


def dense_width(plan: dict) -> int:
    return sum((c["size"] if c["kind"] == "onehot" else 1) + c["missing"] for c in plan["columns"])


def dense_transform(plan: dict, X: np.ndarray) -> np.ndarray:
    out = np.zeros((X.shape[0], dense_width(plan)), dtype=np.float32)
    k = 0
    for j, col in enumerate(plan["columns"]):
        x = X[:, j]
        nan = np.isnan(x)
        if col["kind"] == "onehot":
            size = col["size"]
            out[:, k : k + size] = x[:, None] == np.arange(size)[None, :]
            k += size
        else:
            scaled = np.clip((x - col["mean"]) / col["std"], -CLIP, CLIP)
            out[:, k] = np.where(nan, 0.0, scaled)
            k += 1
        if col["missing"]:
            out[:, k] = nan
            k += 1
    return out
