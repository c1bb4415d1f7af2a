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
from sklearn import metrics as skm


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
    """The objective's value. ``pred`` is class probabilities (n x k) or regression values."""
    if objective == "MSE":
        return float(skm.mean_squared_error(y_true, pred))
    if objective == "AUC":
        return float(skm.roc_auc_score(y_true == positive, pred[:, positive]))
    labels = decide_labels(pred, positive, threshold)
    if objective == "Accuracy":
        return float(skm.accuracy_score(y_true, labels))
    if objective == "F1":
        return float(skm.f1_score(y_true == positive, labels == positive))
    if objective == "F1Macro":
        return float(skm.f1_score(y_true, labels, average="macro"))
    raise ValueError(f"unknown objective {objective}")


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
    best_t, best_f1 = 0.5, -1.0
    for t in np.unique(np.quantile(p, np.linspace(0.02, 0.98, 97))):
        f1 = skm.f1_score(y == positive, p > t)
        if f1 > best_f1 + 1e-12:
            best_t, best_f1 = float(t), f1
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
