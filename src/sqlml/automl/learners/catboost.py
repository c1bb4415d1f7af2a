"""CatBoost: ordered boosting with its own target statistics for categorical columns, which is
what wins on tables of high-cardinality codes. Saved in CatBoost's binary ``.cbm`` format."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sqlml.automl.budget import Deadline
from sqlml.automl.learners.base import FitData, Learner, fit_threads, predict_threads, split_bias

# CatBoost's working memory grows to about ten times the data and its allocator keeps it after
# the fit; above this many rows the other boosters (which stay near one copy) train alone.
MAX_ROWS = 100_000


class _DeadlineCallback:
    def __init__(self, deadline: Deadline):
        self.deadline = deadline

    def after_iteration(self, info) -> bool:
        return not self.deadline.expired()  # False stops training


def _frame(X: np.ndarray, categorical: list[int]):
    """CatBoost wants categorical values as integers: NaN (missing, unseen) becomes -1."""
    import pandas as pd

    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    for j in categorical:
        codes = X[:, j]
        frame[f"f{j}"] = np.where(np.isnan(codes), -1, codes).astype(np.int64)
    return frame


class CatBoostLearner(Learner):
    name = "catboost"
    family = "tree"
    view = "catboost"  # full codes of high-cardinality columns: CatBoost handles rare levels
    cost = 4.0

    def portfolio(self, problem_type, n_rows, n_features):
        if n_rows > MAX_ROWS:
            return []
        # CatBoost's automatic rate for 5000 rounds is slow to converge; on k-fold tables (five
        # fits per candidate) it took 40 % of a 60 s budget, so small tables get a faster one.
        rate = 0.1 if n_rows <= 10_000 else None
        return [("catboost", {"depth": 6, "l2_leaf_reg": 3.0, "learning_rate": rate})]

    def search_space(self, trial, problem_type):
        return {
            "depth": trial.suggest_int("depth", 4, 8),
            "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 1.0, 10.0, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
        }

    def _model(self, params: dict, data: FitData):
        from catboost import CatBoostClassifier, CatBoostRegressor

        common = {
            "iterations": 5000 if data.rounds is None else data.rounds,
            "thread_count": fit_threads(),
            "random_seed": data.seed,
            "verbose": 0,
            "allow_writing_files": False,
            **({"early_stopping_rounds": 100} if data.rounds is None else {}),
            **{k: v for k, v in params.items() if v is not None},
        }
        if data.problem_type == "REGRESSION":
            return CatBoostRegressor(loss_function="RMSE", **common)
        if data.problem_type == "BINARY_CLASSIFICATION":
            return CatBoostClassifier(loss_function="Logloss", **common)
        return CatBoostClassifier(loss_function="MultiClass", **common)

    def fit(self, params, data, deadline):
        model = self._model(params, data)
        eval_set = None
        if data.X_valid is not None and data.rounds is None:
            eval_set = (_frame(data.X_valid, data.categorical), data.y_valid)
        model.fit(
            _frame(data.X, data.categorical),
            data.y,
            cat_features=data.categorical,
            eval_set=eval_set,
            use_best_model=eval_set is not None,
            callbacks=[_DeadlineCallback(deadline)],
        )
        return model

    def rounds(self, model):
        return model.tree_count_

    def predict(self, model, X, problem_type):
        frame = _frame(X, model.get_cat_feature_indices())
        threads = predict_threads()  # as the fit: see LightGBMLearner.predict
        if problem_type == "REGRESSION":
            return model.predict(frame, thread_count=threads)
        return model.predict_proba(frame, thread_count=threads)

    def contributions(self, model, X, problem_type, baseline):
        from catboost import Pool

        categorical = model.get_cat_feature_indices()
        pool = Pool(_frame(X, categorical), cat_features=categorical)
        return split_bias(
            model.get_feature_importance(pool, type="ShapValues", thread_count=predict_threads()),
            X.shape[1],
        )

    def save(self, model, directory: Path, stem: str) -> dict:
        name = f"{stem}.cbm"
        model.save_model(str(directory / name), format="cbm")
        kind = "regressor" if model.__class__.__name__ == "CatBoostRegressor" else "classifier"
        return {"file": name, "kind": kind, "rounds": model.tree_count_}

    def load(self, spec, directory):
        from catboost import CatBoostClassifier, CatBoostRegressor

        model = CatBoostRegressor() if spec["kind"] == "regressor" else CatBoostClassifier()
        model.load_model(str(directory / spec["file"]), format="cbm")
        return model
