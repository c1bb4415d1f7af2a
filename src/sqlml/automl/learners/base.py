"""The learner contract: a family of models, its portfolio of known-good configurations, its
search space, and how a fitted model is saved in the library's own code-free format.

A learner is stateless; fitted models are whatever object the library returns. To add a learner,
subclass :class:`Learner` and register it in ``sqlml.automl.learners.LEARNERS``.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sqlml.automl.budget import Deadline


@dataclass
class FitData:
    """One training run's data. ``X_valid``/``y_valid`` drive early stopping when given."""

    X: np.ndarray
    y: np.ndarray
    problem_type: str
    n_classes: int
    categorical: list[int]
    seed: int
    X_valid: np.ndarray | None = None
    y_valid: np.ndarray | None = None
    # A refit on every row: train exactly this many rounds (or epochs), with no validation set.
    rounds: int | None = None

    @property
    def classification(self) -> bool:
        return self.problem_type != "REGRESSION"


class Learner(ABC):
    name: str = ""
    family: str = "tree"  # "tree": ordinal codes and NaN; "dense": one-hot, scaled, imputed
    view: str = "tree"  # which columns of the tree-family matrix it sees (preprocessing.view)
    # Relative training cost per row and feature, used to skip what cannot finish in time.
    cost: float = 1.0
    # Whether ``contributions`` are in margin space, reaching the output through the problem's
    # link (sigmoid, softmax); False: in the output's own space (probabilities, values).
    link: bool = True

    def supports(self, problem_type: str) -> bool:
        return True

    @abstractmethod
    def portfolio(self, problem_type: str, n_rows: int, n_features: int) -> list[tuple[str, dict]]:
        """Ranked (configuration name, parameters) pairs, strongest-per-second first."""

    def follow_up(self, params: dict, rounds: list[int | None]) -> list[tuple[str, dict]]:
        """Configurations to try next, given what a portfolio candidate with ``params`` kept per
        fold (``rounds``): e.g. a faster, larger model when it was still learning at its cap."""
        return []

    def search_space(self, trial, problem_type: str) -> dict:
        """Parameters sampled from an Optuna trial; learners without one are not tuned."""
        raise NotImplementedError

    @abstractmethod
    def fit(self, params: dict, data: FitData, deadline: Deadline):
        """A fitted model. Must return (not raise) when ``deadline`` expires mid-fit."""

    def rounds(self, model) -> int | None:
        """Boosting rounds (or epochs) the fitted model kept; None when training does not iterate
        or its length is a parameter. A refit on every row trains about this many."""
        return None

    @abstractmethod
    def predict(self, model, X: np.ndarray, problem_type: str) -> np.ndarray:
        """Class probabilities (n x k) or regression values (n)."""

    def validation_predictions(self, model, problem_type: str) -> np.ndarray | None:
        """``predict`` of the validation rows the fit was given (``FitData.X_valid``), when the
        fit already holds them (a booster scores them every round); None: call ``predict``."""
        return None

    def contributions(self, model, X: np.ndarray, problem_type: str, baseline: np.ndarray | None):
        """Additive feature contributions in the model's margin space (its output space when
        ``link`` is False, with k = the number of classes): ``phi`` (n x features x k)
        and ``bias`` (n x k), where ``bias + phi.sum(axis=1)`` is the margin (k = 1 unless
        multiclass) whose link (identity, sigmoid or softmax by problem type) gives ``predict``.
        ``baseline`` is the training rows' mean input; learners without an expected value of
        their own measure contributions from it."""
        raise NotImplementedError(f"{self.name} models cannot be explained yet")

    @abstractmethod
    def save(self, model, directory: Path, stem: str) -> dict:
        """Write the model under ``directory`` (file names start with ``stem``); return a spec."""

    @abstractmethod
    def load(self, spec: dict, directory: Path):
        """The fitted model from ``save``'s spec. Must not run code from the files."""


def split_bias(out: np.ndarray, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """The libraries' contribution output ((n, f + 1) or (n, k, f + 1), the bias last) as
    ``phi`` (n, f, k) and ``bias`` (n, k)."""
    out = np.asarray(out, dtype=np.float64)
    if out.ndim == 2:
        out = out.reshape(out.shape[0], -1, n_features + 1)
    return out[:, :, :n_features].transpose(0, 2, 1), out[:, :, n_features]


def binary_as_two_columns(p: np.ndarray) -> np.ndarray:
    return np.column_stack([1.0 - p, p])


def permutation_contributions(
    predict, X: np.ndarray, baseline: np.ndarray, permutations: int = 4, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Sampled Shapley values of any ``predict`` (rows -> n or n x k outputs) from ``baseline``:
    features are switched from the baseline to the row's values one at a time, in a few random
    orders, each switch credited with the change it makes. Every order telescopes from the
    baseline's output to the row's, so the contributions add up to it exactly. All the steps of
    one order are predicted in one call (a call per step cost more than the predictions)."""
    rng = np.random.default_rng(seed)
    n, f = X.shape
    base = baseline.astype(X.dtype)

    def outputs(rows):
        out = np.asarray(predict(rows), dtype=np.float64)
        return out[:, None] if out.ndim == 1 else out

    start = outputs(base[None, :])
    phi = np.zeros((n, f, start.shape[1]))
    # Rows per call: (f + 1) hybrids of each, at most ~4M cells at a time.
    chunk = max(1, 4_000_000 // ((f + 1) * max(f, 1)))
    for _ in range(permutations):
        order = rng.permutation(f)
        # steps[t, j]: whether feature j has its row's value after t switches (those of the
        # features before it in the order, and its own).
        steps = np.arange(f + 1)[:, None] > np.argsort(order)[None, :]
        for lo in range(0, n, chunk):
            rows = X[lo : lo + chunk]
            hybrid = np.where(steps[:, None, :], rows[None, :, :], base[None, None, :])
            out = outputs(hybrid.reshape(-1, f)).reshape(f + 1, len(rows), -1)
            phi[lo : lo + len(rows)][:, order, :] += (out[1:] - out[:-1]).transpose(1, 0, 2)
    return phi / permutations, np.repeat(start, n, axis=0)


def predict_threads() -> int:
    """Threads for a prediction: as :func:`fit_threads`, from one look (predictions are many
    and short; a fit's choice is worth a few samples)."""
    return fit_threads(samples=1)


def fit_threads(samples: int = 5) -> int:
    """Threads for the next fit: the cores no other process is using right now.

    OpenMP threads that wait for a core another process holds cost many times their work: on
    this project's 2-core machine, LightGBM on 3,000 rows took 0.3 s on one thread and 21 s on
    two while two other processes ran (on an idle machine two threads halve it). The kernel's
    count of runnable tasks (``/proc/loadavg``), less this process's own runnable threads (an
    OpenMP pool still spinning after the last predict), sampled a few times, says how many
    cores others hold. Elsewhere than Linux, every core.
    """
    cores = os.cpu_count() or 1
    counts = []
    for _ in range(samples):
        try:
            with open("/proc/loadavg", encoding="ascii") as f:
                running = int(f.read().split()[3].split("/")[0])
        except (OSError, ValueError, IndexError):
            return cores
        counts.append(running - _own_running())
        if len(counts) < samples:
            time.sleep(0.002)
    others = sorted(counts)[len(counts) // 2]
    return max(1, min(cores, cores - others))


def _own_running() -> int:
    """This process's threads that are running or runnable (at least this one)."""
    count = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/stat", encoding="ascii", errors="replace") as f:
                state = f.read().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            continue
        count += state == "R"
    return max(1, count)
