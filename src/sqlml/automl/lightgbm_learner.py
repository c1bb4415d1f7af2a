"""One LightGBM model with sound defaults, early-stopped on a seeded hold-out, then refit.

This is the foundation's single learner; the AutoML search of later work builds on it.
"""

from __future__ import annotations

import os

import lightgbm as lgb
import numpy as np

from sqlml.automl.budget import Deadline

MAX_ROUNDS = 2000
EARLY_STOPPING_ROUNDS = 50


def _objective_params(problem_type: str, n_classes: int) -> dict:
    if problem_type == "REGRESSION":
        return {"objective": "regression"}
    if problem_type == "BINARY_CLASSIFICATION":
        return {"objective": "binary"}
    return {"objective": "multiclass", "num_class": n_classes}


def default_params(problem_type: str, n_rows: int, n_classes: int, seed: int) -> dict:
    params = {
        **_objective_params(problem_type, n_classes),
        "learning_rate": 0.05,
        "num_leaves": 31,
        # Small tables need smaller leaves, or nothing splits at all.
        "min_data_in_leaf": int(max(2, min(20, n_rows // 50))),
        "feature_fraction": 0.9,
        "bagging_fraction": 0.9,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "max_cat_to_onehot": 8,
        "cat_smooth": 10.0,
        "num_threads": os.cpu_count() or 1,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
    }
    return params


def _deadline_callback(deadline: Deadline):
    def callback(env):
        if deadline.expired():
            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list)

    callback.order = 40
    return callback


def fit(
    params: dict,
    X: np.ndarray,
    y: np.ndarray,
    categorical: list[int],
    *,
    deadline: Deadline,
    rounds: int = MAX_ROUNDS,
    valid: tuple | None = None,
) -> lgb.Booster:
    """Train a booster; with ``valid`` = (X, y), stop early on it. The deadline stops any fit."""
    train = lgb.Dataset(
        X,
        y,
        categorical_feature=categorical or "auto",
        free_raw_data=True,
        params={"verbosity": -1},
    )
    callbacks = [_deadline_callback(deadline)]
    valid_sets = []
    if valid is not None:
        valid_sets = [lgb.Dataset(valid[0], valid[1], reference=train)]
        callbacks.append(lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False))
    return lgb.train(
        params, train, num_boost_round=rounds, valid_sets=valid_sets, callbacks=callbacks
    )


def predict(booster: lgb.Booster, X: np.ndarray, problem_type: str) -> np.ndarray:
    """Class probabilities (n x k) for classification, values for regression."""
    out = booster.predict(X)
    if problem_type == "BINARY_CLASSIFICATION":
        return np.column_stack([1.0 - out, out])
    return out
