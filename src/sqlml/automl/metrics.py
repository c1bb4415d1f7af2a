"""Validation metrics, named as Redshift ML reports them (``validation:f1`` ...)."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def decide_labels(proba: np.ndarray, positive: int | None) -> np.ndarray:
    """Class indices from probabilities: on binary problems the positive class wins above 0.5."""
    if positive is not None:
        return np.where(proba[:, positive] > 0.5, positive, 1 - positive)
    return proba.argmax(axis=1) if len(proba) else np.empty(0, dtype=np.int64)


def score(objective: str, y_true: np.ndarray, pred: np.ndarray, positive: int | None) -> float:
    """The objective's value. ``pred`` is class probabilities (n x k) or regression values."""
    if objective == "MSE":
        return float(skm.mean_squared_error(y_true, pred))
    if objective == "AUC":
        return float(skm.roc_auc_score(y_true == positive, pred[:, positive]))
    labels = decide_labels(pred, positive)
    if objective == "Accuracy":
        return float(skm.accuracy_score(y_true, labels))
    if objective == "F1":
        return float(skm.f1_score(y_true == positive, labels == positive))
    if objective == "F1Macro":
        return float(skm.f1_score(y_true, labels, average="macro"))
    raise ValueError(f"unknown objective {objective}")


HIGHER_IS_BETTER = {"MSE": False, "AUC": True, "Accuracy": True, "F1": True, "F1Macro": True}


def metric_key(objective: str) -> str:
    """How SHOW MODEL names the validation metric of an objective."""
    return f"validation:{objective.lower()}"
