"""LightGBM: gradient-boosted trees, and random forests / extremely randomized trees through
LightGBM's ``rf`` mode, all saved as LightGBM's text model format."""

from __future__ import annotations

import re
from pathlib import Path

import lightgbm as lgb
import numpy as np

from sqlml.automl.budget import Deadline
from sqlml.automl.learners.base import (
    FitData,
    Learner,
    binary_as_two_columns,
    fit_threads,
    predict_threads,
    split_bias,
)
from sqlml.automl.learners.forest import MAX_ROWS as FOREST_ROWS

MAX_ROUNDS = 5000
# A model that kept this share of its rounds was still improving when it stopped.
SATURATED = 0.95
BIN_SAMPLE_ROWS = 50_000


def _objective(data: FitData) -> dict:
    if data.problem_type == "REGRESSION":
        return {"objective": "regression"}
    if data.problem_type == "BINARY_CLASSIFICATION":
        return {"objective": "binary"}
    return {"objective": "multiclass", "num_class": data.n_classes}


def _deadline_callback(deadline: Deadline):
    def callback(env):
        if deadline.expired():
            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list)

    callback.order = 40
    return callback


def _keep_best_validation(kept: dict):
    """A callback that keeps the validation rows' predictions at the best round so far, read
    from what the booster scores every round anyway (``eval_valid`` hands them to a metric
    function). Predicting them again after the fit costs a quarter of the fit on a large
    model, more on a busy machine: connect_4's first LightGBM spent 12-20 s predicting after
    its 50 s fit. Run before early stopping (order 30) ends the training."""

    def callback(env):
        scores = [r for r in env.evaluation_result_list if r[0] != "training"]
        if not scores:
            return
        value, higher_is_better = scores[0][2], scores[0][3]
        best = kept.get("score")
        if best is None or (value > best if higher_is_better else value < best):
            kept["score"], kept["iteration"] = value, env.iteration
            env.model.eval_valid(feval=lambda preds, _: _keep(kept, preds))

    callback.order = 25
    return callback


def _keep(kept: dict, predictions) -> tuple[str, float, bool]:
    kept["predictions"] = np.array(predictions, dtype=np.float64, copy=True)
    return "kept", 0.0, False


class LightGBMLearner(Learner):
    name = "lightgbm"
    family = "tree"
    cost = 1.0

    def portfolio(self, problem_type, n_rows, n_features):
        small = n_rows < 5000
        return [
            (
                "lightgbm",
                {
                    "learning_rate": 0.05,
                    "num_leaves": 31,
                    "min_data_in_leaf": 5 if small else 20,
                    "feature_fraction": 0.9,
                    "bagging_fraction": 0.9,
                    "bagging_freq": 1,
                    "lambda_l2": 1.0,
                },
            ),
            (
                "lightgbm_large",
                {
                    # k-fold tables fit five times per candidate: a faster rate leaves time
                    "learning_rate": 0.05 if n_rows <= 10_000 else 0.03,
                    "num_leaves": 128,
                    "min_data_in_leaf": 3,
                    "feature_fraction": 0.7,
                    "bagging_fraction": 0.9,
                    "bagging_freq": 1,
                    "lambda_l2": 2.0,
                    "max_bin": 255,
                },
            ),
            (
                "lightgbm_xt",
                {
                    "learning_rate": 0.05,
                    "num_leaves": 63,
                    "extra_trees": True,
                    "min_data_in_leaf": 5,
                    "feature_fraction": 0.6,
                    "lambda_l2": 1.0,
                },
            ),
        ]

    def follow_up(self, params, rounds):
        # Still improving after MAX_ROUNDS: the table has more structure than a 31-leaf model
        # learns at this rate (e.g. a 3,000-level model name beside numeric columns). A larger
        # tree at twice the rate usually gets further in a fraction of the time, so it goes next
        # rather than after the slower learners.
        if params.get("extra_trees") or params.get("num_leaves", 31) >= 128:
            return []  # randomized splits learn slowly by design; large trees were the answer
        if not rounds or None in rounds:
            return []
        if max(rounds) < SATURATED * params.get("num_rounds", MAX_ROUNDS):
            return []
        faster = {
            **params,
            "learning_rate": min(2 * params.get("learning_rate", 0.05), 0.15),
            "num_leaves": 4 * params.get("num_leaves", 31),
            "min_data_in_leaf": 3,
            "feature_fraction": 0.8,
        }
        return [(f"{self.name}_fast", faster)]

    def search_space(self, trial, problem_type):
        return {
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.15, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 8, 256, log=True),
            "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 2, 60, log=True),
            "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
            "bagging_fraction": trial.suggest_float("bagging_fraction", 0.5, 1.0),
            "bagging_freq": 1,
            "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 10.0, log=True),
            "extra_trees": trial.suggest_categorical("extra_trees", [False, True]),
        }

    def fit(self, params, data, deadline):
        full = {
            **_objective(data),
            "max_cat_to_onehot": 8,
            "cat_smooth": 10.0,
            "num_threads": fit_threads(),
            "seed": data.seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
            **params,
        }
        if len(data.y) < 200:  # tiny tables: leaves must be allowed to be small
            full["min_data_in_leaf"] = min(full.get("min_data_in_leaf", 20), 3)
        dataset_params = {
            "verbosity": -1,
            "max_bin": full.get("max_bin", 255),
            # Bin edges from 50k sampled rows (default 200k): 255 bins are still placed from ~200
            # values each, and building the sample costs a third of the memory.
            "bin_construct_sample_cnt": BIN_SAMPLE_ROWS,
        }
        train = lgb.Dataset(
            data.X, data.y, categorical_feature=data.categorical or "auto", params=dataset_params
        )
        callbacks = [_deadline_callback(deadline)]
        kept: dict = {}
        valid_sets = []
        rounds = full.pop("num_rounds", MAX_ROUNDS)
        if data.rounds is not None:
            rounds = data.rounds
        elif data.X_valid is not None:
            valid_sets = [
                lgb.Dataset(data.X_valid, data.y_valid, reference=train, params=dataset_params)
            ]
            callbacks.append(lgb.early_stopping(100, verbose=False))
            callbacks.append(_keep_best_validation(kept))
        # The training booster itself is returned (no round trip through a model string, which
        # for a large model holds several copies at once); it predicts and saves its best
        # iteration by default, and its data is freed with it once the search spills it to disk.
        model = lgb.train(
            full,
            train,
            num_boost_round=rounds,
            valid_sets=valid_sets,
            callbacks=callbacks,
            keep_training_booster=True,
        )
        if valid_sets:
            if model.best_iteration in (0, model.current_iteration()):
                # Stopped by the deadline or the round cap: the last round is the one kept.
                model.eval_valid(feval=lambda preds, _: _keep(kept, preds))
            elif kept.get("iteration", -2) + 1 != model.best_iteration:
                kept.pop("predictions", None)  # another round was chosen: predict as usual
            model.sqlml_validation = kept.get("predictions")
        return model

    def rounds(self, model):
        # A training booster that early-stopped keeps its best iteration apart (a loaded one
        # says -1 and has only the rounds that were saved).
        best = model.best_iteration
        return best if best > 0 else model.current_iteration()

    def validation_predictions(self, model, problem_type):
        out = getattr(model, "sqlml_validation", None)
        if out is None:
            return None
        return binary_as_two_columns(out) if problem_type == "BINARY_CLASSIFICATION" else out

    def predict(self, model, X, problem_type):
        # As many threads as the fit would get: OpenMP threads that wait for cores other
        # processes hold made one validation predict take 20 s instead of 1 (connect_4, busy).
        out = model.predict(X, num_threads=predict_threads())
        return binary_as_two_columns(out) if problem_type == "BINARY_CLASSIFICATION" else out

    def contributions(self, model, X, problem_type, baseline):
        # TreeSHAP; a multiclass model's output is class-major: (n, k * (f + 1)).
        return split_bias(
            model.predict(X, pred_contrib=True, num_threads=predict_threads()), X.shape[1]
        )

    def save(self, model, directory: Path, stem: str) -> dict:
        name = f"{stem}.lgb.txt"
        model.save_model(str(directory / name))
        return {"file": name, "rounds": self.rounds(model)}

    def load(self, spec, directory):
        text = (directory / spec["file"]).read_bytes()
        check_model_text(text, spec["file"])
        return lgb.Booster(model_str=text.decode("utf-8"))


_TREE_SIZES = re.compile(rb"^tree_sizes=([0-9 ]*)$", re.MULTILINE)


def check_model_text(text: bytes, name: str) -> None:
    """Refuse a LightGBM model file whose trees do not add up. LightGBM's parser trusts the tree
    sizes its header lists and reads past the end of a truncated file, which kills the process
    (not an exception); a damaged file must be refused before it parses it."""
    header_end = text.find(b"\n\n")
    sizes = _TREE_SIZES.search(text, 0, max(header_end, 0))
    if header_end < 0 or not text.startswith(b"tree\n"):
        raise ValueError(f"{name} is not a LightGBM model file")
    if sizes is not None:
        start = header_end + 2
        end = start + sum(int(n) for n in sizes.group(1).split())
        if not text.startswith(b"end of trees", end):
            raise ValueError(f"{name} is damaged: its trees do not add up to its header's sizes")
    elif b"\nend of trees\n" not in text:
        raise ValueError(f"{name} is damaged: it has no end of trees")
    # The parameters section is parsed unchecked too: the file must end as LightGBM ends it.
    last = text.rstrip(b"\n").rpartition(b"\n")[2]
    if b"\nend of parameters\n" not in text or not last.startswith(b"pandas_categorical:"):
        raise ValueError(f"{name} is damaged: it ends before LightGBM's closing lines")


class LightGBMForestLearner(LightGBMLearner):
    """Random forest in LightGBM's ``rf`` boosting mode: bagged full-depth trees, no shrinkage."""

    name = "lightgbm_rf"
    cost = 0.6

    def portfolio(self, problem_type, n_rows, n_features):
        if n_rows <= FOREST_ROWS:
            return []  # scikit-learn's forests (learners.forest) fit the small tables
        return [
            (
                "random_forest",
                {
                    "boosting": "rf",
                    "num_leaves": 512,
                    "min_data_in_leaf": 2,
                    "bagging_fraction": 0.632,
                    "bagging_freq": 1,
                    "feature_fraction": 0.6,
                    "num_rounds": 300,
                },
            )
        ]

    def search_space(self, trial, problem_type):
        raise NotImplementedError

    def rounds(self, model):
        return None  # a forest's size is its num_rounds parameter

    def contributions(self, model, X, problem_type, baseline):
        # A forest predicts its trees' average, but LightGBM 4's contributions (like its raw
        # score) are their sum.
        phi, bias = super().contributions(model, X, problem_type, baseline)
        trees = model.current_iteration()
        return phi / trees, bias / trees

    def fit(self, params, data, deadline):
        # A forest does not early-stop: every tree counts equally.
        data = FitData(
            data.X,
            data.y,
            data.problem_type,
            data.n_classes,
            data.categorical,
            data.seed,
            rounds=params.get("num_rounds"),
        )
        return super().fit(params, data, deadline)


class LightGBMTargetLearner(LightGBMLearner):
    """LightGBM on the tree view plus the out-of-fold target encodings of the high-cardinality
    columns (automl.encoding): a rare level is known by what its rows' targets were."""

    name = "lightgbm_target"
    view = "target"

    def portfolio(self, problem_type, n_rows, n_features):
        return [("lightgbm_target", super().portfolio(problem_type, n_rows, n_features)[0][1])]


class LightGBMNativeLearner(LightGBMLearner):
    """LightGBM with every level of a high-cardinality column as one category (its own
    many-vs-many categorical splits, smoothed), as AutoGluon hands such columns to it."""

    name = "lightgbm_native"
    view = "full"

    def portfolio(self, problem_type, n_rows, n_features):
        params = super().portfolio(problem_type, n_rows, n_features)[0][1]
        # LightGBM's defaults (groups of at least 100 rows, smoothing 10) merge rare levels
        # until their identity is gone: on 600 levels of 5 rows each, 56 % accuracy where
        # these settings reach 86 % (tests/automl/test_encoding.py's table).
        rare = {"min_data_per_group": 5, "cat_smooth": 5.0, "cat_l2": 1.0, "max_cat_threshold": 128}
        return [("lightgbm_native", {**params, **rare})]
