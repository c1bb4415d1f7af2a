"""From an Arrow table to a fitted, serializable model. Knows nothing of SQL or of any database.

``train_model`` profiles the columns, builds the preprocessing plans, encodes the target, runs
the budgeted search (portfolio, then tuning), builds a greedy ensemble when it beats the best
single candidate, tunes the decision threshold for the F1 objective, and returns a FittedModel.

The positive class (for F1 and AUC on binary problems) is the less frequent class, as in most
business problems (churn, fraud, default); on a tie it is the larger value.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from threadpoolctl import threadpool_limits

from sqlml import settings as S
from sqlml.automl.budget import Deadline
from sqlml.automl.dense import build_dense_plan
from sqlml.automl.encoding import add_target_encoding
from sqlml.automl.ensemble import greedy_ensemble
from sqlml.automl.explain import Explanation, explain, global_explanation
from sqlml.automl.guidance import apply_mixes, by_column, finish_plan, fit_mixes, guided_profile
from sqlml.automl.learners import LEARNERS, MODEL_TYPE_LEARNERS
from sqlml.automl.learners.base import fit_threads
from sqlml.automl.metrics import (
    apply_temperature,
    best_f1_threshold,
    fit_temperature,
    metric_key,
    score,
)
from sqlml.automl.model import FittedModel, Member
from sqlml.automl.preprocessing import build_plan, transform, view
from sqlml.automl.profiling import MIN_ROWS, check_target, profile_column
from sqlml.automl.search import Problem, Search, Trial
from sqlml.automl.spill import Spill
from sqlml.automl.validation import make_validation
from sqlml.errors import InvalidSetting, TrainingDataError, TrainingTimeout

log = logging.getLogger(__name__)

EXPLAIN_ROWS = 1000
EXPLAIN_FIRST = 16
# explain_model's sample may cost at most this share of the training before it (and at least
# EXPLAIN_MIN_SECONDS): with a generous MAX_RUNTIME it used to fill whatever was left.
EXPLAIN_SHARE = 0.25
EXPLAIN_MIN_SECONDS = 2.0
DEFAULT_LEARNERS = (
    "lightgbm",
    "lightgbm_target",
    "lightgbm_native",
    "catboost",
    "xgboost",
    "lightgbm_rf",
    "forest",
    "linear",
    "mlp",
    "knn",
)


def resolve_objective(objective: str | None, problem_type: str) -> str:
    if objective is None:
        return S.DEFAULT_OBJECTIVE[problem_type]
    allowed = S.OBJECTIVES_BY_PROBLEM[problem_type]
    if objective not in allowed:
        raise InvalidSetting(
            f"OBJECTIVE '{objective}' does not fit a {problem_type} problem; use one of "
            f"{', '.join(repr(o) for o in allowed)}."
        )
    return objective


def learners_for(model_type: str | None) -> tuple[str, ...]:
    return DEFAULT_LEARNERS if model_type is None else MODEL_TYPE_LEARNERS[model_type]


def _encode_target(y: pa.ChunkedArray, problem_type: str):
    if problem_type == "REGRESSION":
        return pc.cast(y, pa.float64()).to_numpy(), None, None
    classes = sorted(pc.unique(y).to_pylist())
    codes = pc.index_in(y, value_set=pa.array(classes, type=y.type)).to_numpy().astype(np.int64)
    counts = np.bincount(codes, minlength=len(classes))
    positive = None
    if len(classes) == 2:
        positive = 0 if counts[0] < counts[1] else 1
    return codes, classes, positive


def _prepare(table: pa.Table, target: str, problem_type: str | None, guidance: dict):
    y_column = table.column(target)
    if y_column.null_count == len(y_column):
        raise TrainingDataError(
            f"TARGET column '{target}' is NULL in every row of the training data."
        )
    if y_column.null_count:
        table = table.filter(pc.is_valid(y_column))
    if table.num_rows < MIN_ROWS:
        raise TrainingDataError(
            f"The training data has {table.num_rows} rows with a non-NULL target; "
            f"at least {MIN_ROWS} are needed."
        )
    y_column = table.column(target)
    if pa.types.is_dictionary(y_column.type):
        y_column = pc.cast(y_column, y_column.type.value_type)
    problem_type = check_target(target, y_column, problem_type)
    names = [n for n in table.column_names if n != target]
    columns = [table.column(n) for n in names]
    profiles = [profile_column(n, c) for n, c in zip(names, columns, strict=True)]
    profiles = [guided_profile(p, guidance[p.name]) if p.name in guidance else p for p in profiles]
    dropped = {p.name: p.reason for p in profiles if p.kind == "dropped"}
    if len(dropped) == len(profiles):
        raise TrainingDataError(
            "No feature column can be learned from: "
            + ", ".join(f"'{k}' is {v}" for k, v in dropped.items())
            + "."
        )
    return y_column, problem_type, columns, profiles, dropped


def train_model(
    table: pa.Table,
    target: str,
    *,
    problem_type: str | None = None,
    objective: str | None = None,
    model_type: str | None = None,
    deadline: Deadline,
    seed: int = 0,
    on_trial: Callable[[Trial], None] | None = None,
    scratch: Path | None = None,
    preprocessors: list | None = None,
    max_trials: int | None = None,
) -> FittedModel:
    """``max_trials``: the most candidates the search evaluates (SETTINGS MAX_TRIALS). ``scratch``: where the candidates' models wait until the ensemble is chosen (a temporary
    folder is made there, by default in the system's temporary directory). ``preprocessors``:
    the PREPROCESSORS entries, (columns, transformers) pairs (automl.guidance)."""
    guidance = by_column(preprocessors)
    y_column, problem_type, columns, profiles, dropped = _prepare(
        table, target, problem_type, guidance
    )
    objective = resolve_objective(objective, problem_type)
    plan = build_plan(columns, profiles, guidance)
    X = transform(plan, columns)
    mixes = fit_mixes(plan, X, preprocessors)
    if mixes:
        finish_plan(plan, mixes)
        apply_mixes(mixes, X)
    y, classes, positive = _encode_target(y_column, problem_type)
    learners = learners_for(model_type)
    del table, columns, y_column  # the Arrow data is no longer needed: free it before the search
    pa.default_memory_pool().release_unused()  # and hand its pages back to the system
    n_classes = len(classes) if classes else 0
    validation = make_validation(y, classes is not None, seed)
    X = add_target_encoding(plan, X, y, problem_type, n_classes, validation, seed)
    views = {name: view(plan, name) for name in plan["views"]}
    dense_plan = None
    if any(LEARNERS[name].family == "dense" for name in learners):
        tree_columns, tree_categorical = views["tree"]
        dense_plan = build_dense_plan(X, tree_columns, tree_categorical)
    problem = Problem(
        X=X,
        views=views,
        dense_plan=dense_plan,
        y=y,
        problem_type=problem_type,
        n_classes=n_classes,
        objective=objective,
        positive=positive,
        validation=validation,
        seed=seed,
    )
    trained_from = deadline.clock()
    with tempfile.TemporaryDirectory(prefix="sqlml-candidates-", dir=scratch) as folder:
        search = Search(
            problem, deadline, list(learners), Spill(Path(folder)), on_trial, max_trials
        )
        search.run_portfolio()
        search.tune()
        model = _assemble(search, problem, plan, dense_plan, classes)
        share = max(EXPLAIN_MIN_SECONDS, EXPLAIN_SHARE * (deadline.clock() - trained_from))
        # BLAS and OpenMP on the threads free now, as in the search's fits (Search._fit_folds).
        with threadpool_limits(limits=fit_threads()):
            model.explanation = _explain_sample(model, X, deadline, search.reserve / 2, seed, share)
    model.summary["dropped_columns"] = dropped
    return model


def _explain_sample(
    model: FittedModel, X: np.ndarray, deadline: Deadline, keep: float, seed, share: float
):
    """explain_model's document from up to ``EXPLAIN_ROWS`` training rows while more than
    ``keep`` seconds are left. TreeSHAP on a large bagged ensemble costs milliseconds per row, so
    rows are explained in batches that double in size (the first, of ``EXPLAIN_FIRST`` rows,
    always runs) and a batch that would not end in time is not started. None (and a warning) if
    explaining fails; the model itself is still good. Nor is one started that would take the
    whole past ``share`` seconds."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X), size=min(len(X), EXPLAIN_ROWS), replace=False))
    parts, start, size, per_row = [], 0, EXPLAIN_FIRST, 0.0
    began_all = deadline.clock()
    try:
        while start < len(rows):
            batch = rows[start : start + size]
            left = min(deadline.remaining() - keep, share - (deadline.clock() - began_all))
            # Half again the estimate: per-row costs measured on a busy machine vary.
            if parts and 1.5 * per_row * len(batch) > left:
                break
            began = deadline.clock()
            parts.append(explain(model, model.views_of(X[batch])))
            per_row = (deadline.clock() - began) / len(batch)
            start, size = start + len(batch), 2 * size
    except Exception as e:  # noqa: BLE001 -- an explanation is not worth losing the model
        log.warning("explaining the model failed: %s", e)
        return None
    fields = ("expected", "contributions", "value", "residue")
    joined = Explanation(
        parts[0].columns, *(np.concatenate([getattr(p, f) for p in parts]) for f in fields)
    )
    return global_explanation(model, joined)


def _refit(search: Search, members: list[Member], trials: dict) -> list[str]:
    """Train the chosen members again on every row, heaviest first, while time allows.

    Hold-out models saw only the training part, so the refit replaces them. Fold models each
    saw (k-1)/k of the rows; averaging them with the refit (half the weight each) was better than
    either alone on every shared dataset we tried. Returns the names of the members refit.
    """
    done = []
    kfold = search.problem.validation.mode == "kfold"
    folds = len(search.problem.validation.folds)
    for member in sorted(members, key=lambda m: m.weight, reverse=True):
        trial = trials[member.trial]
        estimate = 1.3 * trial.seconds / folds
        available = search.deadline.remaining() - search.reserve
        if estimate > available:
            continue
        try:
            model = search.refit(trial, Deadline(available, search.deadline.clock))
        except Exception as e:  # noqa: BLE001 -- the validated models remain usable
            log.warning("refit of %s failed: %s", member.name, e)
            continue
        if model is None:
            continue
        if kfold:
            k = len(member.models)
            member.models = [*member.models, model]
            member.model_weights = [0.5 / k] * k + [0.5]
        else:
            member.models = [model]
        done.append(member.name)
    return done


def _assemble(search: Search, problem: Problem, plan, dense_plan, classes) -> FittedModel:
    ok = search.ranked()
    if not ok:
        raise TrainingTimeout(
            f"No candidate model finished within MAX_RUNTIME {search.deadline.seconds:.0f} s. "
            "Increase MAX_RUNTIME, or lower MAX_CELLS to train on fewer rows."
        )
    y_eval = problem.y[problem.validation.eval_idx]
    pool = search.pool()
    weights, ensemble_selection = greedy_ensemble(
        [t.oof for t in pool], y_eval, problem.objective, problem.problem_type, problem.positive
    )
    if len(weights) > 1 and ensemble_selection > ok[0].selection:
        chosen = [(pool[i], w) for i, w in weights.items()]
    else:
        chosen = [(ok[0], 1.0)]
    eval_pred = sum(w * t.oof for t, w in chosen)
    temperature = 1.0
    if problem.problem_type != "REGRESSION":
        temperature = fit_temperature(y_eval, eval_pred)
        eval_pred = apply_temperature(eval_pred, temperature)
    threshold = 0.5
    if problem.objective == "F1":
        threshold = best_f1_threshold(y_eval, eval_pred, problem.positive)
    value = score(problem.objective, y_eval, eval_pred, problem.positive, threshold)
    members = [
        Member(t.name, t.learner, float(w), t.target_transform, [m.load() for m in t.models], t.id)
        for t, w in chosen
    ]
    refit = _refit(search, members, {t.id: t for t, _ in chosen})
    used_dense = any(LEARNERS[m.learner].family == "dense" for m in members)
    weights_by_trial = {t.id: float(w) for t, w in chosen}
    leaderboard = [
        {**t.record(), "ensemble_weight": weights_by_trial.get(t.id, 0.0)} for t in search.trials
    ]
    summary = {
        "validation": problem.validation.describe(),
        "trials": len(search.trials),
        "chosen": " + ".join(f"{t.name} x{w:.2f}" for t, w in chosen),
        "best_single": {"candidate": ok[0].name, "score": ok[0].score},
        "refit": refit,
        "search_seconds": round(search.deadline.elapsed(), 3),
    }
    return FittedModel(
        plan=plan,
        dense_plan=dense_plan if used_dense else None,
        problem_type=problem.problem_type,
        objective=problem.objective,
        classes=classes,
        positive=problem.positive,
        threshold=threshold,
        members=members,
        temperature=temperature,
        metrics={metric_key(problem.objective): value},
        leaderboard=leaderboard,
        summary=summary,
    )
