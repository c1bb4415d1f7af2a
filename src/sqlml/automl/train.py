"""From an Arrow table to a fitted, serializable model. Knows nothing of SQL or of any database.

``train_model`` profiles the columns, builds the preprocessing plan, encodes the target, fits one
LightGBM model early-stopped on a seeded 80/20 hold-out (stratified for classification), scores
the OBJECTIVE on the hold-out, and refits on all rows when the budget allows.

The positive class (for F1 and AUC on binary problems) is the less frequent class, as in most
business problems (churn, fraud, default); on a tie it is the larger value.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.model_selection import train_test_split

from sqlml import settings as S
from sqlml.automl import lightgbm_learner as learner
from sqlml.automl import metrics
from sqlml.automl.budget import Deadline
from sqlml.automl.preprocessing import build_plan, transform
from sqlml.automl.profiling import check_target, profile_column
from sqlml.errors import InvalidSetting, TrainingDataError

MIN_ROWS = 10
HOLDOUT_FRACTION = 0.2
BOOSTER_FILE = "model.lgb.txt"
PLAN_FILE = "preprocessing.json"


@dataclass
class TrainedModel:
    plan: dict
    problem_type: str
    objective: str
    classes: list | None
    positive_index: int | None
    booster: lgb.Booster
    params: dict
    metrics: dict
    rows_train: int
    rows_valid: int
    refit_on_all_rows: bool
    dropped: dict = field(default_factory=dict)

    def predict_raw(self, X: np.ndarray) -> np.ndarray:
        return learner.predict(self.booster, X, self.problem_type)

    def save(self, directory: Path) -> dict:
        """Write the artifacts into ``directory``; return the manifest's "model" section."""
        self.booster.save_model(str(directory / BOOSTER_FILE))
        (directory / PLAN_FILE).write_text(json.dumps(self.plan))
        return {
            "learner": "lightgbm",
            "artifacts": {"booster": BOOSTER_FILE, "preprocessing": PLAN_FILE},
            "params": self.params,
            "num_iterations": self.booster.current_iteration(),
            "features": self.plan["features"],
            "classes": self.classes,
            "positive_class": None
            if self.positive_index is None
            else self.classes[self.positive_index],
            "rows_train": self.rows_train,
            "rows_valid": self.rows_valid,
            "refit_on_all_rows": self.refit_on_all_rows,
            "dropped_columns": self.dropped,
        }


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


def _encode_target(y: pa.ChunkedArray, problem_type: str):
    if problem_type == "REGRESSION":
        return _as_float(y), None, None
    classes = sorted(pc.unique(y).to_pylist())
    codes = pc.index_in(y, value_set=pa.array(classes, type=y.type)).to_numpy().astype(np.int64)
    counts = np.bincount(codes, minlength=len(classes))
    positive = None
    if len(classes) == 2:
        positive = 0 if counts[0] < counts[1] else 1
    return codes, classes, positive


def _as_float(column) -> np.ndarray:
    return pc.cast(column, pa.float64()).to_numpy()


def _split(n: int, y: np.ndarray, classification: bool, seed: int):
    idx = np.arange(n)
    stratify = None
    if classification and np.bincount(y).min(initial=n) >= 2:
        stratify = y
    return train_test_split(idx, test_size=HOLDOUT_FRACTION, random_state=seed, stratify=stratify)


def train_model(
    table: pa.Table,
    target: str,
    *,
    problem_type: str | None = None,
    objective: str | None = None,
    deadline: Deadline,
    seed: int = 0,
) -> TrainedModel:
    y_column = table.column(target)
    if y_column.null_count == len(y_column):
        raise TrainingDataError(
            f"TARGET column '{target}' is NULL in every row of the training data."
        )
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
    objective = resolve_objective(objective, problem_type)
    names = [n for n in table.column_names if n != target]
    columns = [table.column(n) for n in names]
    profiles = [profile_column(n, c) for n, c in zip(names, columns, strict=True)]
    dropped = {p.name: p.reason for p in profiles if p.kind == "dropped"}
    if len(dropped) == len(profiles):
        raise TrainingDataError(
            "No feature column can be learned from: "
            + ", ".join(f"'{k}' is {v}" for k, v in dropped.items())
            + "."
        )
    plan = build_plan(columns, profiles)
    X = transform(plan, columns)
    y, classes, positive = _encode_target(y_column, problem_type)
    return _fit(plan, X, y, classes, positive, problem_type, objective, deadline, seed, dropped)


def _fit(plan, X, y, classes, positive, problem_type, objective, deadline, seed, dropped):
    n_classes = len(classes) if classes else 0
    params = learner.default_params(problem_type, len(y), n_classes, seed)
    train_idx, valid_idx = _split(len(y), y, classes is not None, seed)
    started = time.monotonic()
    booster = learner.fit(
        params,
        X[train_idx],
        y[train_idx],
        plan["categorical_features"],
        deadline=deadline,
        valid=(X[valid_idx], y[valid_idx]),
    )
    first_fit = time.monotonic() - started
    best = booster.best_iteration or booster.current_iteration()
    pred = learner.predict(booster, X[valid_idx], problem_type)
    value = metrics.score(objective, y[valid_idx], pred, positive)
    refit = deadline.remaining() > 1.5 * first_fit + 1.0
    if refit:
        # Refit on every row: 25 % more data supports a few more rounds than the hold-out found.
        booster = learner.fit(
            params,
            X,
            y,
            plan["categorical_features"],
            deadline=deadline,
            rounds=max(1, int(best * 1.1)),
        )
    else:
        booster = booster if booster.best_iteration <= 0 else _truncate(booster, best)
    return TrainedModel(
        plan=plan,
        problem_type=problem_type,
        objective=objective,
        classes=classes,
        positive_index=positive,
        booster=booster,
        params=params,
        metrics={metrics.metric_key(objective): value},
        rows_train=len(train_idx),
        rows_valid=len(valid_idx),
        refit_on_all_rows=refit,
        dropped=dropped,
    )


def _truncate(booster: lgb.Booster, rounds: int) -> lgb.Booster:
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=rounds))
