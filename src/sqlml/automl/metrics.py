"""Validation metrics, named as Redshift ML reports them (``validation:f1`` ...).

Regression candidates are ranked by the OBJECTIVE (MSE). Classification candidates are ranked by
log loss first, with the objective breaking ties. For the objectives that score hard decisions
(Accuracy, F1, F1Macro) the decisions come from the probabilities (the most probable class; for
F1 a threshold tuned afterwards), and calibrated probabilities generalize where a count of right
decisions on a validation set is coarse and noisy. AUC only ranks rows, and on a hold-out with
few positives it is noisy too: on amazon_employee_access, choosing by AUC gave a test AUC of
0.8877 and choosing by log loss 0.8927 (bench/automl.py, 60 s). The reported validation metric
is always the objective.
"""

from __future__ import annotations

import numpy as np


def decide_labels(proba: np.ndarray, positive: int | None, threshold: float = 0.5) -> np.ndarray:
    """Class indices from probabilities: on binary problems the positive class wins above
    ``threshold``; otherwise the most probable class."""
    if positive is not None:
        return np.where(proba[:, positive] > threshold, positive, 1 - positive)
    return proba.argmax(axis=1) if len(proba) else np.empty(0, dtype=np.int64)


def score(
    objective: str,
    y_true: np.ndarray,
    pred: np.ndarray,
    positive: int | None,
    threshold: float = 0.5,
) -> float:
    """The objective's value. ``pred`` is class probabilities (n x k) or regression values.

    Computed with numpy, as scikit-learn defines them: the ensemble search scores hundreds of
    blends, and scikit-learn's input checks cost milliseconds a call (seconds on a busy
    machine, taken from a short budget)."""
    if objective == "MSE":
        return float(np.mean((np.asarray(y_true, dtype=np.float64) - pred) ** 2))
    if objective == "AUC":
        return _auc(y_true == positive, pred[:, positive])
    labels = decide_labels(pred, positive, threshold)
    if objective == "Accuracy":
        return float(np.mean(y_true == labels))
    if objective == "F1":
        return _f1(y_true == positive, labels == positive)
    if objective == "F1Macro":
        classes = np.union1d(y_true, labels)
        return float(np.mean([_f1(y_true == c, labels == c) for c in classes]))
    raise ValueError(f"unknown objective {objective}")


def _f1(truth: np.ndarray, decided: np.ndarray) -> float:
    """F1 of boolean decisions (0 when there is nothing to find and nothing was found)."""
    both = 2.0 * np.count_nonzero(truth & decided)
    total = np.count_nonzero(truth) + np.count_nonzero(decided)
    return float(both / total) if total else 0.0


def _auc(truth: np.ndarray, p: np.ndarray) -> float:
    """The area under the ROC curve: the chance a positive row ranks above a negative one
    (ties count half), from the rank sum (Mann-Whitney)."""
    from scipy.stats import rankdata

    positives = int(np.count_nonzero(truth))
    negatives = len(truth) - positives
    if positives == 0 or negatives == 0:
        raise ValueError("AUC needs rows of both classes.")
    ranks = rankdata(p)
    return float((ranks[truth].sum() - positives * (positives + 1) / 2) / (positives * negatives))


HIGHER_IS_BETTER = {"MSE": False, "AUC": True, "Accuracy": True, "F1": True, "F1Macro": True}


def log_loss(y: np.ndarray, proba: np.ndarray) -> float:
    p = np.clip(proba[np.arange(len(y)), y], 1e-15, 1.0)
    return float(-np.mean(np.log(p)))


DECISION_OBJECTIVES = ("Accuracy", "F1", "F1Macro")
LOSS_FIRST = (*DECISION_OBJECTIVES, "AUC")  # ranked by log loss first (module docstring)


def selection_score(
    objective: str, problem_type: str, y: np.ndarray, pred: np.ndarray, positive: int | None
) -> tuple[float, float]:
    """A sortable score, higher is better (see the module docstring)."""
    value = score(objective, y, pred, positive)
    signed = value if HIGHER_IS_BETTER[objective] else -value
    if problem_type == "REGRESSION":
        return (signed, 0.0)
    loss = -log_loss(y, pred)
    if objective in LOSS_FIRST:
        return (round(loss, 12), signed)
    return (round(signed, 12), loss)


def best_f1_threshold(y: np.ndarray, proba: np.ndarray, positive: int) -> float:
    """The probability threshold of the positive class that maximizes F1 on these rows."""
    p = proba[:, positive]
    thresholds = np.unique(np.quantile(p, np.linspace(0.02, 0.98, 97)))
    # For every threshold at once: rows above it, and positive rows above it.
    above = len(p) - np.searchsorted(np.sort(p), thresholds, side="right")
    positive_p = np.sort(p[y == positive])
    hits = len(positive_p) - np.searchsorted(positive_p, thresholds, side="right")
    total = len(positive_p) + above
    f1 = np.where(total > 0, 2.0 * hits / np.maximum(total, 1), 0.0)
    best_t, best_f1 = 0.5, -1.0
    for t, value in zip(thresholds, f1, strict=True):
        if value > best_f1 + 1e-12:
            best_t, best_f1 = float(t), value
    return best_t


TEMPERATURE_MIN_ROWS = 500


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities sharpened (T < 1) or softened (T > 1); T = 1 leaves them unchanged."""
    if temperature == 1.0:
        return proba
    z = np.log(np.clip(proba, 1e-15, 1.0)) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(y: np.ndarray, proba: np.ndarray) -> float:
    """The temperature that minimizes log loss on these rows (1.0 when nothing beats it).

    Averaging bagged fold models and ensemble members leaves probabilities under-confident;
    one scalar fitted on the validation predictions corrects that without changing any
    decision (the most probable class and the ranking stay the same).
    """
    if len(y) < TEMPERATURE_MIN_ROWS:  # too few rows: the fit would chase a handful of them
        return 1.0
    grid = np.unique(np.concatenate([np.geomspace(0.5, 2.0, 41), [1.0]]))
    losses = [log_loss(y, apply_temperature(proba, t)) for t in grid]
    best = float(grid[int(np.argmin(losses))])
    return best if min(losses) < log_loss(y, proba) - 1e-9 else 1.0


def metric_key(objective: str) -> str:
    """How SHOW MODEL names the validation metric of an objective."""
    return f"validation:{objective.lower()}"
