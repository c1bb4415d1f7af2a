"""The budgeted search: a ranked portfolio of known-good configurations first, then Optuna tuning
of the best learner with whatever time is left, every candidate validated the same way.

Every candidate becomes a :class:`Trial` (the leaderboard row). The deadline is checked inside
every fit (boosting callbacks, epochs) and between folds; ``RESERVE`` of the budget is kept for
ensembling and packaging. The search stops early when tuning stops improving: ``PATIENCE`` trials
without a better score, or ``MAX_TUNING_TRIALS`` in all, or at the user's MAX_TRIALS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from sqlml.automl.budget import Deadline
from sqlml.automl.dense import dense_transform
from sqlml.automl.learners import LEARNERS, FitData, Learner
from sqlml.automl.learners.base import fit_threads
from sqlml.automl.metrics import score, selection_score
from sqlml.automl.spill import Spill
from sqlml.automl.validation import Validation

log = logging.getLogger(__name__)

PATIENCE = 15
MAX_TUNING_TRIALS = 60
# Fitted models are kept only for the best this-many candidates and the best of each other
# configuration (the ensemble's pool): a long search would otherwise keep hundreds of bagged
# boosters.
KEEP_MODELS = 12


# A refit of the chosen models on every row trains this many times the rounds they kept (the
# data is about 1/(1 - held-out fraction) times larger).
REFIT_ROUNDS = 1.2


# The share of a candidate's time its fits may take; the rest predicts the validation rows
# (a LightGBM stopped by its deadline at 57 s of 60 then predicted for 2 s more under load).
FIT_SHARE = 0.9


def reserve_seconds(budget: float) -> float:
    """Time kept back from the search for ensembling, explaining and writing the package.
    At MAX_RUNTIME 20 with both cores busy with another job, 1.3 s was not enough (21.4 s
    from the statement, bench/budget.py --busy 2); 2 s is."""
    return min(30.0, 1.0 + 0.05 * budget)


def refit_seconds(budget: float, mode: str) -> float:
    """Time kept back from the search for refitting the chosen models on every row: a hold-out
    refit costs a whole fit, a k-fold one about one fold's."""
    return budget * (0.15 if mode == "holdout" else 0.05)


@dataclass
class Trial:
    id: int
    name: str
    learner: str
    params: dict
    target_transform: str | None = None
    status: str = "ok"  # ok, failed, skipped, incomplete
    score: float | None = None
    selection: tuple | None = None
    seconds: float = 0.0
    error: str | None = None
    oof: np.ndarray | None = field(default=None, repr=False)
    models: list = field(default_factory=list, repr=False)  # SpilledModel, one per fold

    def forget_models(self) -> None:
        for model in self.models:
            model.remove()
        self.models = []

    def record(self) -> dict:
        return {
            "trial": self.id,
            "candidate": self.name,
            "learner": self.learner,
            "params": self.params,
            "target_transform": self.target_transform,
            "status": self.status,
            "score": self.score,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


# Dense learners (linear, MLP) train on at most this many rows: they rarely win on large tables,
# and their one-hot matrix is several times the size of the tree matrix.
DENSE_MAX_ROWS = 50_000


@dataclass
class Problem:
    X: np.ndarray  # the tree-family feature matrix, every column of the plan
    views: dict[str, tuple[list[int] | None, list[int]]]  # name -> (columns of X, categorical)
    dense_plan: dict | None
    y: np.ndarray
    problem_type: str
    n_classes: int
    objective: str
    positive: int | None
    validation: Validation
    seed: int


_TRANSFORMS = {
    None: (lambda y: y, lambda p: p),
    "log1p": (np.log1p, np.expm1),
}


class Search:
    def __init__(
        self,
        problem: Problem,
        deadline: Deadline,
        learners: list[str],
        spill: Spill,
        on_trial: Callable[[Trial], None] | None = None,
        max_trials: int | None = None,
    ):
        self.problem = problem
        self.max_trials = max_trials
        self.spill = spill
        self.deadline = deadline
        self.learners = [
            LEARNERS[name] for name in learners if LEARNERS[name].supports(problem.problem_type)
        ]
        self.on_trial = on_trial
        self.trials: list[Trial] = []
        self._reserve = reserve_seconds(deadline.seconds)
        # This process's CPU time against the wall clock since the search began: how much
        # other processes slow it (slowdown()).
        self._started = (time.monotonic(), time.process_time())
        self.refit_reserve = refit_seconds(deadline.seconds, problem.validation.mode)
        self._unit_seconds: float | None = None  # seconds per unit of learner cost
        self._tuned = 0

    def trials_left(self) -> bool:
        """False once MAX_TRIALS candidates were evaluated (skipped ones do not count)."""
        done = sum(t.status != "skipped" for t in self.trials)
        return self.max_trials is None or done < self.max_trials

    @property
    def reserve(self) -> float:
        """Seconds kept for ensembling, explaining and packaging, longer on a slow machine:
        that work is CPU-bound, and takes as much longer as other processes slow this one."""
        return self._reserve * self.slowdown()

    def slowdown(self) -> float:
        """Wall-clock seconds per CPU second of this process so far (1 to 3): about 1.5 when
        two other processes keep both cores busy and the fits run on one thread. Measured only
        on the real clock (a test's injected clock keeps the reserve fixed)."""
        if self.deadline.clock is not time.monotonic:
            return 1.0
        wall = time.monotonic() - self._started[0]
        if wall < 2.0:
            return 1.0
        cpu = time.process_time() - self._started[1]
        return min(3.0, max(1.0, wall / max(cpu, 1e-3)))

    def usable(self) -> float:
        return self.deadline.remaining() - self.reserve - self.refit_reserve

    def refit(self, trial: Trial, deadline: Deadline):
        """``trial``'s configuration trained on every row, for about the rounds its validated
        models kept; None when ``deadline`` cut it short (a shorter model would be worse)."""
        p = self.problem
        learner = LEARNERS[trial.learner]
        kept = [m.rounds for m in trial.models]
        rounds = None
        if kept and None not in kept:
            rounds = max(1, int(np.ceil(np.mean(kept) * REFIT_ROUNDS)))
        rows = np.arange(len(p.y))
        if learner.family == "dense":
            rows = self._dense_sample(rows)
        X, categorical = self._rows(learner, rows)
        y = self._target(rows, trial.target_transform)
        data = FitData(X, y, p.problem_type, p.n_classes, categorical, p.seed, rounds=rounds)
        with threadpool_limits(limits=fit_threads()):  # as in _fit_folds
            model = learner.fit(trial.params, data, deadline)
        return None if deadline.expired() else model

    # -- one candidate -------------------------------------------------------------------

    def evaluate(
        self,
        name: str,
        learner: Learner,
        params: dict,
        transform: str | None = None,
        cap: float | None = None,
    ) -> Trial:
        trial = Trial(len(self.trials) + 1, name, learner.name, params, transform)
        started = self.deadline.clock()
        try:
            self._fit_folds(trial, learner, cap if cap is not None else self.usable())
        except Exception as e:  # noqa: BLE001 -- one failing candidate must not end the search
            log.warning("candidate %s failed: %s", name, e)
            trial.status, trial.error = "failed", f"{type(e).__name__}: {e}"
        trial.seconds = self.deadline.clock() - started
        if trial.status != "ok":
            trial.forget_models()
        if trial.status == "ok" and self._unit_seconds is None:
            self._unit_seconds = trial.seconds / learner.cost
        self.trials.append(trial)
        kept = {t.id for t in self.pool()}
        for worse in self.ok_trials():
            if worse.id not in kept:
                worse.forget_models()
        if self.on_trial is not None:
            self.on_trial(trial)
        return trial

    def _rows(self, learner: Learner, rows: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """The learner's matrix for ``rows``: a fresh copy per fit, so no per-view copy of the
        whole table is ever kept (memory stays near one matrix plus one fold)."""
        p = self.problem
        name = "tree" if learner.family == "dense" else learner.view
        columns, categorical = p.views[name]
        X = p.X[rows] if columns is None else p.X[np.ix_(rows, columns)]
        if learner.family == "dense":
            return dense_transform(p.dense_plan, X), []
        return X, categorical

    def _target(self, rows: np.ndarray, transform: str | None) -> np.ndarray:
        """Class codes, or regression values on the candidate's target scale."""
        y = self.problem.y[rows]
        return y if self.problem.problem_type != "REGRESSION" else _TRANSFORMS[transform][0](y)

    def _dense_sample(self, train: np.ndarray) -> np.ndarray:
        if len(train) <= DENSE_MAX_ROWS:
            return train
        rng = np.random.default_rng(self.problem.seed)
        return np.sort(rng.choice(train, DENSE_MAX_ROWS, replace=False))

    def _fit_folds(self, trial: Trial, learner: Learner, budget: float) -> None:
        p = self.problem
        _, inverse = _TRANSFORMS[trial.target_transform]
        classification = p.problem_type != "REGRESSION"
        oof = np.zeros((len(p.y), p.n_classes)) if classification else np.zeros(len(p.y))
        candidate = Deadline(max(budget, 0.1), self.deadline.clock)
        folds = p.validation.folds
        for i, (train, valid) in enumerate(folds):
            if self.usable() <= 0 or candidate.expired():
                trial.status = "incomplete"
                return
            # A fit that runs to its deadline still predicts the validation rows after it.
            fold_deadline = Deadline(
                FIT_SHARE * candidate.remaining() / (len(folds) - i), self.deadline.clock
            )
            if learner.family == "dense":
                train = self._dense_sample(train)
            X_train, categorical = self._rows(learner, train)
            X_valid, _ = self._rows(learner, valid)
            y_valid = self._target(valid, trial.target_transform)
            data = FitData(
                X_train,
                self._target(train, trial.target_transform),
                p.problem_type,
                p.n_classes,
                categorical,
                p.seed,
                X_valid,
                y_valid,
            )
            del X_train
            # NumPy's BLAS and every OpenMP pool on the fit's thread count: an MLP's matrix
            # products on two threads while other processes hold the cores took 18 s, not 4.
            with threadpool_limits(limits=fit_threads()):
                model = learner.fit(trial.params, data, fold_deadline)
                del data
                pred = learner.validation_predictions(model, p.problem_type)
                if pred is None:
                    pred = learner.predict(model, X_valid, p.problem_type)
            oof[valid] = pred if classification else inverse(pred)
            trial.models.append(self.spill.put(learner.name, model, f"trial{trial.id}_fold{i}"))
            del model
        trial.oof = oof[p.validation.eval_idx]
        y_eval = p.y[p.validation.eval_idx]
        trial.score = score(p.objective, y_eval, trial.oof, p.positive)
        trial.selection = selection_score(
            p.objective, p.problem_type, y_eval, trial.oof, p.positive
        )

    # -- the two phases ------------------------------------------------------------------

    def candidates(self) -> list[tuple[Learner, str, dict, str | None]]:
        p = self.problem
        out = []
        for learner in self.learners:
            if learner.family != "dense" and learner.view not in p.views:
                continue  # e.g. the target view, on a table without high-cardinality columns
            columns = p.views["tree"][0]
            n_features = p.X.shape[1] if columns is None else len(columns)
            for name, params in learner.portfolio(p.problem_type, len(p.y), n_features):
                out.append((learner, name, params, None))
        order = _SMALL_TABLE_ORDER if p.validation.mode == "kfold" else _PORTFOLIO_ORDER
        ranked = sorted(out, key=lambda c: order.get(c[1], 99))
        if p.problem_type == "REGRESSION" and _skewed(p.y):
            # A skewed, non-negative target is often better learned on the log scale.
            lgbm = [c for c in ranked if c[1] == "lightgbm"]
            ranked[1:1] = [(c[0], _with_transform(c[1], "log1p"), c[2], "log1p") for c in lgbm]
        return ranked

    def run_portfolio(self) -> None:
        queue = self.candidates()
        named = {c[1] for c in queue}
        while queue:
            learner, name, params, transform = queue.pop(0)
            if self.usable() <= 0 or not self.trials_left():
                break
            estimate = None if self._unit_seconds is None else self._unit_seconds * learner.cost
            if estimate is not None and estimate > self.usable():
                self.trials.append(
                    Trial(
                        len(self.trials) + 1,
                        name,
                        learner.name,
                        params,
                        transform,
                        status="skipped",
                        error=f"needs about {estimate:.0f} s; {max(self.usable(), 0):.0f} s left",
                    )
                )
                continue
            # No single candidate after the first may take more than half of what is left.
            cap = self.usable() if not self.ok_trials() else self.usable() * 0.5
            trial = self.evaluate(name, learner, params, transform, cap=cap)
            if trial.status == "ok":
                self._follow_up(trial, learner, queue, named)

    def _follow_up(self, trial: Trial, learner: Learner, queue: list, named: set) -> None:
        """Put what ``learner`` suggests after ``trial`` at the head of the queue; queued twins of
        the trial's configuration (its log-target variant) take the suggestion's parameters, as
        they would stop where it did."""
        rounds = [m.rounds for m in trial.models]
        for follow, params in reversed(learner.follow_up(trial.params, rounds)):
            for i, (other, _, other_params, transform) in enumerate(queue):
                renamed = _with_transform(follow, transform)
                if other is learner and other_params == trial.params and renamed not in named:
                    named.add(renamed)
                    queue[i] = (learner, renamed, params, transform)
            renamed = _with_transform(follow, trial.target_transform)
            if renamed not in named:
                named.add(renamed)
                queue.insert(0, (learner, renamed, params, trial.target_transform))

    def ok_trials(self) -> list[Trial]:
        return [t for t in self.trials if t.status == "ok"]

    def ranked(self) -> list[Trial]:
        """The finished candidates, best first (ties in trial order)."""
        return sorted(self.ok_trials(), key=lambda t: t.selection, reverse=True)

    def pool(self) -> list[Trial]:
        """The candidates the ensemble chooses from, best first: the best KEEP_MODELS, and the
        best of every other configuration. A forest or k-NN with poor probabilities on its own
        (zeros in its votes) often improves a blend of boosters more than another booster: on
        wine_quality_red, keeping them cut the test log loss from 0.890 to 0.800."""
        ranked = self.ranked()
        pool, seen = ranked[:KEEP_MODELS], set()
        for trial in pool:
            seen.add(_configuration(trial.name))
        for trial in ranked[KEEP_MODELS:]:
            if _configuration(trial.name) not in seen:
                seen.add(_configuration(trial.name))
                pool.append(trial)
        return pool

    def tune(self) -> None:
        """Tune each tunable learner in turn, best first, while time and patience last."""
        ranked: list[str] = []
        for trial in self.ranked():
            if trial.learner not in ranked and _tunable(LEARNERS[trial.learner], self.problem):
                ranked.append(trial.learner)
        for name in ranked:
            if self.usable() <= 1.0 or self._tuned >= MAX_TUNING_TRIALS or not self.trials_left():
                break
            self._tune_learner(LEARNERS[name])

    def _tune_learner(self, learner: Learner) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        own = [t for t in self.ok_trials() if t.learner == learner.name]
        start = max(own, key=lambda t: t.selection)
        sampler = optuna.samplers.TPESampler(seed=self.problem.seed)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        state = {"best": start.selection, "stale": 0}

        def objective(optuna_trial) -> float:
            self._tuned += 1
            params = learner.search_space(optuna_trial, self.problem.problem_type)
            trial = self.evaluate(
                f"{learner.name}_tuned_{optuna_trial.number + 1}",
                learner,
                params,
                start.target_transform,
                cap=self.usable() * 0.5,
            )
            if trial.status != "ok":
                study.stop()
                return float("-inf")
            if trial.selection > state["best"]:
                state["best"], state["stale"] = trial.selection, 0
            else:
                state["stale"] += 1
            if (
                state["stale"] >= PATIENCE
                or self.usable() <= 1.0
                or self._tuned >= MAX_TUNING_TRIALS
                or not self.trials_left()
            ):
                study.stop()
            return trial.selection[0] + 1e-6 * trial.selection[1]

        study.optimize(objective, n_trials=MAX_TUNING_TRIALS)


def _with_transform(name: str, transform: str | None) -> str:
    return name if transform is None else f"{name}_log"


def _configuration(name: str) -> str:
    """A candidate's configuration: its name without a tuning trial's number."""
    head, _, tail = name.rpartition("_")
    return head if tail.isdigit() else name


def _tunable(learner: Learner, problem: Problem) -> bool:
    try:
        learner.search_space(_Probe(), problem.problem_type)
    except NotImplementedError:
        return False
    return True


# Only tables with high-cardinality columns have the target-encoded and every-level views
# (automl.encoding); there the two ways of keeping a rare level's identity come right after
# the plain booster, for the search to choose between.
_PORTFOLIO_ORDER = {
    "lightgbm": 0,
    "lightgbm_target": 0.3,
    "lightgbm_native": 0.6,
    "catboost": 1,
    "lightgbm_large": 2,
    "xgboost": 3,
    "lightgbm_xt": 4,
    "random_forest": 5,
    "linear": 6,
    "mlp": 7,
}

# Cross-validated (small) tables: the dense learners cost seconds there and often win (one-hot
# encoded categories, smooth probabilities), so they come before the slower boosters, which on
# multiclass tables fit a tree per class per round and could otherwise use up the budget first.
_SMALL_TABLE_ORDER = {
    "lightgbm": 0,
    "lightgbm_target": 0.3,
    "lightgbm_native": 0.6,
    "linear": 1,
    "knn_distance": 2,
    "mlp": 3,
    "lightgbm_xt": 4,
    "extra_trees_gini": 5,
    "extra_trees_mse": 5,
    "catboost": 6,
    "forest_gini": 7,
    "forest_mse": 7,
    "lightgbm_large": 8,
    "xgboost": 9,
    "knn_uniform": 10,
    "extra_trees_entropy": 11,
    "forest_entropy": 12,
}


def _skewed(y: np.ndarray) -> bool:
    if len(y) < 3 or y.min() < 0:
        return False
    mean, std = y.mean(), y.std()
    return std > 0 and float(np.mean(((y - mean) / std) ** 3)) > 1.0


class _Probe:
    """Answers a search space's suggest_* calls, to learn whether a learner has one."""

    def suggest_float(self, name, low, high, **kw):
        return low

    def suggest_int(self, name, low, high, **kw):
        return low

    def suggest_categorical(self, name, choices):
        return choices[0]
