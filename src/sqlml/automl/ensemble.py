"""Greedy ensemble selection (Caruana et al., 2004) over out-of-fold predictions.

Start from the best single candidate, then repeatedly add (with replacement) the candidate whose
addition scores best, for a fixed number of rounds; weights are how often each was picked. Keeping
the rounds few keeps the ensemble small and fast to score.
"""

from __future__ import annotations

import numpy as np

from sqlml.automl.metrics import selection_score

ROUNDS = 25


def greedy_ensemble(
    preds: list[np.ndarray], y: np.ndarray, objective: str, problem_type: str, positive: int | None
) -> tuple[dict[int, float], tuple]:
    """Weights by candidate index, and the ensemble's selection score."""
    scores = [selection_score(objective, problem_type, y, p, positive) for p in preds]
    best = max(range(len(preds)), key=lambda i: scores[i])
    picked, path = [best], [scores[best]]
    total = preds[best].astype(np.float64).copy()
    for _ in range(ROUNDS):
        n = len(picked) + 1
        trial = [
            selection_score(objective, problem_type, y, (total + p) / n, positive) for p in preds
        ]
        choice = max(range(len(preds)), key=lambda i: trial[i])
        picked.append(choice)
        path.append(trial[choice])
        total += preds[choice]
    # Keep the best prefix of the greedy path (the first one, if several tie).
    stop = max(range(len(path)), key=lambda k: (path[k], -k)) + 1
    counts = np.bincount(picked[:stop], minlength=len(preds))
    weights = {i: c / counts.sum() for i, c in enumerate(counts) if c}
    return weights, path[stop - 1]
