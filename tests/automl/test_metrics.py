"""The objectives, computed with numpy, agree with scikit-learn's definitions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from sqlml.automl.metrics import best_f1_threshold, score


def _old_best_f1_threshold(y, proba, positive):
    """The threshold search as it was written with scikit-learn, one threshold at a time."""
    p = proba[:, positive]
    best_t, best_f1 = 0.5, -1.0
    for t in np.unique(np.quantile(p, np.linspace(0.02, 0.98, 97))):
        f1 = skm.f1_score(y == positive, p > t)
        if f1 > best_f1 + 1e-12:
            best_t, best_f1 = float(t), f1
    return best_t


@pytest.mark.parametrize("seed", range(40))
def test_scores_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(5, 300)), int(rng.integers(2, 5))
    y = rng.integers(0, k, n)
    proba = rng.dirichlet(np.ones(k), n)
    if seed % 3 == 0:
        proba = np.round(proba, 1)  # ties
    labels = proba.argmax(axis=1)
    assert score("Accuracy", y, proba, None) == pytest.approx(skm.accuracy_score(y, labels))
    macro = skm.f1_score(y, labels, average="macro")
    assert score("F1Macro", y, proba, None) == pytest.approx(macro)
    if k == 2:
        decided = np.where(proba[:, 1] > 0.5, 1, 0)
        assert score("F1", y, proba, 1) == pytest.approx(skm.f1_score(y == 1, decided == 1))
        if len(set(y)) == 2:
            auc = skm.roc_auc_score(y == 1, proba[:, 1])
            assert score("AUC", y, proba, 1) == pytest.approx(auc)
        assert best_f1_threshold(y, proba, 1) == _old_best_f1_threshold(y, proba, 1)
    truth, pred = rng.normal(size=n), rng.normal(size=n)
    assert score("MSE", truth, pred, None) == pytest.approx(skm.mean_squared_error(truth, pred))


def test_f1_with_nothing_to_find_is_zero_and_auc_needs_both_classes():
    y = np.zeros(4, dtype=np.int64)
    proba = np.tile([0.9, 0.1], (4, 1))
    assert score("F1", y, proba, 1) == 0.0
    with pytest.raises(ValueError, match="both classes"):
        score("AUC", y, proba, 1)
