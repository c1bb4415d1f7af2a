"""XGBoost (hist trees, native categorical splits). Saved in XGBoost's UBJSON model format."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sqlml.automl.learners.base import (
    FitData,
    Learner,
    binary_as_two_columns,
    fit_threads,
    predict_threads,
    split_bias,
)


def _types(X: np.ndarray, categorical: list[int]) -> list[str]:
    categorical = set(categorical)
    return ["c" if j in categorical else "q" for j in range(X.shape[1])]


def _matrix(X: np.ndarray, categorical: list[int], y=None):
    import xgboost as xgb

    return xgb.DMatrix(
        X,
        label=y,
        feature_types=_types(X, categorical),
        enable_categorical=True,
        nthread=predict_threads(),
    )


def _binned(X: np.ndarray, categorical: list[int], y, ref=None):
    """Training data as XGBoost's histogram bins straight from ``X``: no float copy of the matrix
    is made (a DMatrix would hold one beside the bins)."""
    import xgboost as xgb

    return xgb.QuantileDMatrix(
        X,
        label=y,
        feature_types=_types(X, categorical),
        enable_categorical=True,
        nthread=fit_threads(),
        ref=ref,
    )


def _categorical(model) -> list[int]:
    """The categorical columns the booster was trained with, from its attribute."""
    try:
        attr = model.attr("categorical") or ""
    except AssertionError:  # XGBoost 3 asserts on an attribute set to "" (earlier packages)
        return []
    return [int(j) for j in attr.split(",") if j and j != "-"]


def _objective(data: FitData) -> dict:
    if data.problem_type == "REGRESSION":
        return {"objective": "reg:squarederror"}
    if data.problem_type == "BINARY_CLASSIFICATION":
        return {"objective": "binary:logistic"}
    return {"objective": "multi:softprob", "num_class": data.n_classes}


class XGBoostLearner(Learner):
    name = "xgboost"
    family = "tree"
    cost = 1.5

    def portfolio(self, problem_type, n_rows, n_features):
        return [
            (
                "xgboost",
                {
                    "eta": 0.05,
                    "max_depth": 6,
                    "subsample": 0.9,
                    "colsample_bytree": 0.8,
                    "min_child_weight": 1.0,
                },
            )
        ]

    def search_space(self, trial, problem_type):
        return {
            "eta": trial.suggest_float("eta", 0.01, 0.2, log=True),
            "max_depth": trial.suggest_int("max_depth", 3, 10),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
            "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 20.0, log=True),
            "lambda": trial.suggest_float("lambda", 1e-3, 10.0, log=True),
        }

    def fit(self, params, data, deadline):
        import xgboost as xgb

        class Stop(xgb.callback.TrainingCallback):
            def after_iteration(self, model, epoch, evals_log):
                return deadline.expired()

        full = {
            **_objective(data),
            "tree_method": "hist",
            "max_cat_to_onehot": 8,
            "nthread": fit_threads(),
            "seed": data.seed,
            "verbosity": 0,
            **params,
        }
        rounds = full.pop("num_round", 5000)
        train = _binned(data.X, data.categorical, data.y)
        evals, early = [], None
        if data.rounds is not None:
            rounds = data.rounds
        elif data.X_valid is not None:
            evals = [(_binned(data.X_valid, data.categorical, data.y_valid, train), "valid")]
            early = 100
        booster = xgb.train(
            full,
            train,
            num_boost_round=rounds,
            evals=evals,
            early_stopping_rounds=early,
            callbacks=[Stop()],
            verbose_eval=False,
        )
        best = booster.attr("best_iteration") if early is not None else None
        if best is not None:  # absent when the deadline stopped training first
            booster = booster[: int(best) + 1]
        # "-" for none: XGBoost 3 fails reading back an attribute set to "" (_categorical).
        booster.set_attr(categorical=",".join(map(str, data.categorical)) or "-")
        return booster

    def rounds(self, model):
        return model.num_boosted_rounds()

    def predict(self, model, X, problem_type):
        model.set_param({"nthread": predict_threads()})  # as the fit: see LightGBMLearner.predict
        out = model.predict(_matrix(X, _categorical(model)))
        return binary_as_two_columns(out) if problem_type == "BINARY_CLASSIFICATION" else out

    def contributions(self, model, X, problem_type, baseline):
        model.set_param({"nthread": predict_threads()})
        out = model.predict(_matrix(X, _categorical(model)), pred_contribs=True)
        return split_bias(out, X.shape[1])

    def save(self, model, directory: Path, stem: str) -> dict:
        name = f"{stem}.xgb.ubj"
        model.save_model(str(directory / name))
        return {"file": name, "rounds": model.num_boosted_rounds()}

    def load(self, spec, directory):
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(str(directory / spec["file"]))
        return booster
