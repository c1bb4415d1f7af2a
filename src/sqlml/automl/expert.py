"""AUTO OFF MODEL_TYPE XGBOOST (Redshift's expert mode): one XGBoost booster with the user's
objective and hyperparameters, trained on the columns as they are. No profiling, no
preprocessing, no search (reference §2.6): features and target are numbers or booleans, NULL is
a missing value. Saved as XGBoost's UBJSON model and a JSON manifest section.

What the prediction function returns follows the objective: the value for ``reg:*``, the class
(0 or 1) for ``binary:logistic`` (probability above 0.5) and ``binary:hinge``, the class index for
``multi:softmax``. Explanations are XGBoost's own TreeSHAP values in its margin space (the raw
score before the objective's link: log-odds for ``binary:logistic``, log of the mean for
``reg:tweedie``), where they add up exactly.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.automl.budget import Deadline
from sqlml.automl.explain import Explanation, document, spread
from sqlml.automl.learners.base import split_bias
from sqlml.automl.preprocessing import numeric_matrix
from sqlml.errors import TrainingDataError

FORMAT = "xgboost/1"
BOOSTER_FILE = "booster.xgb.ubj"
EXPLANATION_FILE = "explanation.json"
EXPLAIN_ROWS = 1000

PROBLEM_TYPES = {
    "binary:logistic": "BINARY_CLASSIFICATION",
    "binary:hinge": "BINARY_CLASSIFICATION",
    "multi:softmax": "MULTICLASS_CLASSIFICATION",
}
# The training metric SHOW MODEL reports (``train:<metric>``); Redshift shows train:error for
# binary:logistic. Regression objectives keep XGBoost's default metric.
EVAL_METRICS = {"binary:logistic": "error", "binary:hinge": "error", "multi:softmax": "merror"}


def problem_type(objective: str) -> str:
    return PROBLEM_TYPES.get(objective, "REGRESSION")


def check_target(
    objective: str, num_class: int | None, low, high, integral: bool, target: str, where: str
) -> None:
    """The target's values must suit the objective: ``low``/``high`` are its smallest and
    largest value, ``integral`` whether every value is a whole number."""

    def fail(needs: str) -> None:
        raise TrainingDataError(
            f"{where}: OBJECTIVE '{objective}' needs TARGET column '{target}' to hold {needs}; "
            f"its values run from {low} to {high}."
        )

    if low is None:
        raise TrainingDataError(f"{where}: TARGET column '{target}' is NULL in every row.")
    if objective.startswith("binary:") and not (integral and low >= 0 and high <= 1):
        fail("0 and 1 (or booleans)")
    if objective == "multi:softmax" and not (integral and low >= 0 and high <= num_class - 1):
        fail(f"the class numbers 0 to {num_class - 1} (NUM_CLASS '{num_class}')")
    if objective == "reg:logistic" and not (low >= 0 and high <= 1):
        fail("values from 0 to 1")
    if objective == "reg:squaredlogerror" and not low > -1:
        fail("values above -1")
    if objective == "reg:tweedie" and not low >= 0:
        fail("values of 0 or more")


def _matrix(X: np.ndarray):
    import xgboost as xgb

    return xgb.DMatrix(X, nthread=os.cpu_count() or 1)


@dataclass
class XGBoostModel:
    booster: object
    objective: str
    features: list[str]
    boolean_target: bool  # the prediction function returns booleans
    metrics: dict = field(default_factory=dict)
    classes: list | None = None  # unused: AUTO OFF models have no probability function
    explanation: dict | None = None  # explain_model's document

    def predict(self, columns: list) -> pa.Array:
        """The prediction function's values (module docstring)."""
        out = self.booster.predict(_matrix(numeric_matrix(columns)))
        if self.objective == "binary:logistic":
            out = (out > 0.5).astype(np.int64)
        elif self.objective in ("binary:hinge", "multi:softmax"):
            out = np.rint(out).astype(np.int64)
        if self.boolean_target:
            return pa.array(out.astype(bool))
        return pa.array(out)

    def explain(self, columns: list) -> Explanation:
        return self.explain_matrix(numeric_matrix(columns))

    def explain_matrix(self, X: np.ndarray) -> Explanation:
        """Contributions to the margin of each row's prediction (for multi:softmax, of the
        predicted class); XGBoost computes them in float32, so the small residue is spread over
        the columns (explain.spread)."""
        dmatrix = _matrix(X)
        phi, bias = split_bias(self.booster.predict(dmatrix, pred_contribs=True), X.shape[1])
        value = self.booster.predict(dmatrix, output_margin=True).astype(np.float64)
        if phi.shape[2] > 1:
            rows = np.arange(len(X))
            k = np.rint(self.booster.predict(dmatrix)).astype(np.int64)
            phi, bias, value = phi[rows, :, k][:, :, None], bias[rows, k][:, None], value[rows, k]
        value = value.reshape(len(X), 1)
        residue = value - bias - phi.sum(axis=1)
        return Explanation(list(self.features), bias, spread(phi, residue), value, residue)

    def global_document(self, X: np.ndarray) -> dict:
        """explain_model's document: mean absolute margin contributions over the rows of X."""
        methods = ["TreeSHAP (XGBoost pred_contribs), in the margin space"]
        return document(self.explain_matrix(X), [(0, None)], methods)

    def save(self, directory: Path) -> dict:
        self.booster.save_model(str(directory / BOOSTER_FILE))
        if self.explanation is not None:
            (directory / EXPLANATION_FILE).write_text(json.dumps(self.explanation))
        return {
            "explanation": EXPLANATION_FILE if self.explanation is not None else None,
            "format": FORMAT,
            "booster": BOOSTER_FILE,
            "objective": self.objective,
            "features": self.features,
            "rounds": self.booster.num_boosted_rounds(),
            "classes": None,
        }

    @classmethod
    def load(cls, section: dict, directory: Path, boolean_target: bool) -> XGBoostModel:
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(str(directory / section["booster"]))
        return cls(booster, section["objective"], section["features"], boolean_target)


def train_xgboost(
    table: pa.Table,
    target: str,
    boolean_target: bool,
    objective: str,
    hyperparameters: dict,
    deadline: Deadline,
    seed: int = 0,
    where: str = "CREATE MODEL",
) -> XGBoostModel:
    """One booster of ``hyperparameters['num_round']`` rounds (fewer if ``deadline`` expires)."""
    import xgboost as xgb

    y_column = table.column(target)
    if y_column.null_count:
        table = table.filter(pc.is_valid(y_column))
    names = [n for n in table.column_names if n != target]
    y = pc.cast(table.column(target), pa.float64()).to_numpy()
    low, high = (float(y.min()), float(y.max())) if len(y) else (None, None)
    integral = bool(np.all(y == np.round(y)))
    num_class = hyperparameters.get("num_class")
    check_target(objective, num_class, low, high, integral, target, where)
    X = numeric_matrix([table.column(n) for n in names])
    params = {k: v for k, v in hyperparameters.items() if k != "num_round"}
    params.update(
        objective=objective,
        seed=seed,
        nthread=os.cpu_count() or 1,
        verbosity=0,
        **({"eval_metric": EVAL_METRICS[objective]} if objective in EVAL_METRICS else {}),
    )

    class Stop(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            return deadline.expired()

    dtrain = xgb.DMatrix(X, label=y, nthread=os.cpu_count() or 1)
    history: dict = {}
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=int(hyperparameters["num_round"]),
        evals=[(dtrain, "train")],
        evals_result=history,
        callbacks=[Stop()],
        verbose_eval=False,
    )
    metrics = {f"train:{name}": float(values[-1]) for name, values in history["train"].items()}
    model = XGBoostModel(booster, objective, names, boolean_target, metrics)
    rows = np.random.default_rng(seed).choice(len(X), size=min(len(X), EXPLAIN_ROWS), replace=False)
    model.explanation = model.global_document(X[np.sort(rows)])
    return model
