"""Learner registry. Built-in learners are registered here; ``register_learner`` adds more.

``MODEL_TYPE`` (Redshift's vocabulary) restricts the search to families: XGBOOST to XGBoost,
MLP to the neural network, LINEAR_LEARNER to the linear models.
"""

from __future__ import annotations

from sqlml.automl.learners.base import FitData, Learner
from sqlml.automl.learners.catboost import CatBoostLearner
from sqlml.automl.learners.forest import ForestLearner
from sqlml.automl.learners.knn import KNNLearner
from sqlml.automl.learners.lightgbm import (
    LightGBMForestLearner,
    LightGBMLearner,
    LightGBMNativeLearner,
    LightGBMTargetLearner,
)
from sqlml.automl.learners.linear import LinearLearner
from sqlml.automl.learners.mlp import MLPLearner
from sqlml.automl.learners.xgboost import XGBoostLearner

LEARNERS: dict[str, Learner] = {}


def register_learner(learner: Learner) -> None:
    LEARNERS[learner.name] = learner


for _learner in (
    LightGBMLearner(),
    CatBoostLearner(),
    XGBoostLearner(),
    LightGBMForestLearner(),
    LinearLearner(),
    MLPLearner(),
    ForestLearner(),
    KNNLearner(),
    LightGBMTargetLearner(),
    LightGBMNativeLearner(),
):
    register_learner(_learner)

MODEL_TYPE_LEARNERS = {
    "XGBOOST": ("xgboost",),
    "MLP": ("mlp",),
    "LINEAR_LEARNER": ("linear",),
}

__all__ = ["LEARNERS", "MODEL_TYPE_LEARNERS", "FitData", "Learner", "register_learner"]
