"""How candidates are validated: k-fold cross-validation (with the fold models kept and bagged)
on small tables, a single hold-out on larger ones. Stratified for classification; seeded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

KFOLD_MAX_ROWS = 10_000
N_FOLDS = 5


@dataclass
class Validation:
    folds: list[tuple[np.ndarray, np.ndarray]]
    eval_idx: np.ndarray  # rows that get out-of-fold predictions, in this order
    mode: str  # "kfold" or "holdout"

    def describe(self) -> str:
        if self.mode == "kfold":
            return f"{len(self.folds)}-fold cross-validation, fold models bagged"
        return f"hold-out of {len(self.eval_idx)} rows"


def _stratifiable(y: np.ndarray, classification: bool, folds: int) -> bool:
    return classification and np.bincount(y).min(initial=len(y)) >= folds


def make_validation(y: np.ndarray, classification: bool, seed: int) -> Validation:
    n = len(y)
    if n <= KFOLD_MAX_ROWS:
        folds = min(N_FOLDS, n // 2)
        if _stratifiable(y, classification, folds):
            splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
            pairs = list(splitter.split(np.zeros(n), y))
        else:
            pairs = list(KFold(folds, shuffle=True, random_state=seed).split(np.zeros(n)))
        return Validation(pairs, np.concatenate([v for _, v in pairs]), "kfold")
    fraction = 0.2 if n <= 100_000 else 0.1
    stratify = y if _stratifiable(y, classification, 2) else None
    train, valid = train_test_split(
        np.arange(n), test_size=fraction, random_state=seed, stratify=stratify
    )
    return Validation([(train, valid)], valid, "holdout")
