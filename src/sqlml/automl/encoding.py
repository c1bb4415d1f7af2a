"""Out-of-fold target encoding of high-cardinality categorical columns.

A column with thousands of levels keeps only its most frequent levels' identity in the tree
view (``preprocessing.TOP_LEVELS``); what a rare level says about the target is lost there. Its
target encoding keeps it: each level becomes the smoothed mean of the target over the rows with
that level (one column per class for multiclass problems, the positive share for binary ones),

    (sum of the target over the level's rows + SMOOTHING * prior) / (rows + SMOOTHING),

and unseen or NULL levels become the prior. A training row's own target must not be in its
encoding (a tree would learn the target back from it), so training rows are encoded out of
fold: on k-fold tables with the validation's folds (a validation row is encoded from exactly
the rows its fold trains on), on hold-out tables the validation rows from every training row and
the training rows with five folds among themselves. The plan keeps the encoding of every
training row, which the prediction function replays (``preprocessing.transform``).

The encoded columns form the plan's ``target`` view: the tree view plus them, which the
``lightgbm_target`` candidate sees; the search chooses between it and the native candidates.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import KFold

from sqlml.automl.preprocessing import encode_levels
from sqlml.automl.validation import Validation

SMOOTHING = 10.0
INNER_FOLDS = 5


def _targets(y: np.ndarray, problem_type: str, n_classes: int) -> np.ndarray:
    """The target as the columns an encoding averages (rows x outputs)."""
    if problem_type == "REGRESSION":
        return y.astype(np.float64)[:, None]
    if problem_type == "BINARY_CLASSIFICATION":
        return (y == 1).astype(np.float64)[:, None]
    return np.eye(n_classes)[y]


def _means(codes: np.ndarray, T: np.ndarray, levels: int, prior: np.ndarray) -> np.ndarray:
    """Smoothed per-level means (levels x outputs) from the rows ``codes`` (NaN: no level)."""
    known = ~np.isnan(codes)
    c = codes[known].astype(np.int64)
    counts = np.bincount(c, minlength=levels).astype(np.float64)
    sums = np.stack([np.bincount(c, T[known, k], minlength=levels) for k in range(T.shape[1])], 1)
    return (sums + SMOOTHING * prior) / (counts[:, None] + SMOOTHING)


def _fold_pairs(validation: Validation, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rows whose targets encode, rows encoded) pairs covering every row once."""
    if validation.mode == "kfold":
        return list(validation.folds)
    (train, valid), *_ = validation.folds
    pairs = [(train, valid)]
    for inner_train, inner_valid in KFold(INNER_FOLDS, shuffle=True, random_state=seed).split(
        train
    ):
        pairs.append((train[inner_train], train[inner_valid]))
    return pairs


def encodable(plan: dict) -> list[dict]:
    """The plan's columns that get a target encoding: high-cardinality ones, unless the user's
    PREPROCESSORS transform the matrix as a whole (Normalizer, PCA) or that column."""
    if plan.get("mixes") or "views" not in plan:
        return []
    return [
        s for s in plan["columns"] if s["kind"] == "high_cardinality" and not s.get("transformers")
    ]


def add_target_encoding(
    plan: dict,
    X: np.ndarray,
    y: np.ndarray,
    problem_type: str,
    n_classes: int,
    validation: Validation,
    seed: int,
) -> np.ndarray:
    """``X`` with the out-of-fold encodings of the plan's high-cardinality columns appended;
    the plan gains each column's encoding and the ``target`` view. ``X`` itself when no column
    qualifies."""
    specs = encodable(plan)
    if not specs:
        return X
    T = _targets(y, problem_type, n_classes)
    prior = T.mean(axis=0)
    pairs = _fold_pairs(validation, seed)
    parts, names = [], []
    for spec in specs:
        code = X[:, plan["features"].index(f"{spec['name']}__code")].astype(np.float64)
        levels = len(spec["levels"])
        encoded = np.empty((len(y), T.shape[1]))
        for fit_rows, rows in pairs:
            fold_prior = T[fit_rows].mean(axis=0)
            means = _means(code[fit_rows], T[fit_rows], levels, fold_prior)
            encoded[rows] = encode_levels(code[rows], means, fold_prior)
        spec["target_means"] = _means(code, T, levels, prior).tolist()
        spec["target_prior"] = prior.tolist()
        parts.append(encoded.astype(X.dtype))
        outputs = [""] if T.shape[1] == 1 else [f"_{k}" for k in range(T.shape[1])]
        names += [f"{spec['name']}__target{o}" for o in outputs]
    first = len(plan["features"])
    plan["features"] = plan["features"] + names
    tree = plan["views"]["tree"]
    plan["views"]["target"] = {
        "columns": tree["columns"] + list(range(first, first + len(names))),
        "categorical": tree["categorical"],
    }
    return np.hstack([X, *parts])
