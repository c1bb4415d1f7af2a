"""Learner registry. Built-in learners are registered here; ``register_learner`` adds more.

A built-in learner's module is imported the first time it is asked for: loading a model that
uses only LightGBM, or running ``SELECT 1`` in the CLI, does not import CatBoost, XGBoost and
scikit-learn (bench/startup.py).

``MODEL_TYPE`` (Redshift's vocabulary) restricts the search to families: XGBOOST to XGBoost,
MLP to the neural network, LINEAR_LEARNER to the linear models.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from sqlml.automl.learners.base import FitData, Learner

# name -> "module:class" of the built-in learners, in registration order.
_BUILT_IN = {
    "lightgbm": "lightgbm:LightGBMLearner",
    "catboost": "catboost:CatBoostLearner",
    "xgboost": "xgboost:XGBoostLearner",
    "lightgbm_rf": "lightgbm:LightGBMForestLearner",
    "linear": "linear:LinearLearner",
    "mlp": "mlp:MLPLearner",
    "forest": "forest:ForestLearner",
    "knn": "knn:KNNLearner",
    "lightgbm_target": "lightgbm:LightGBMTargetLearner",
    "lightgbm_native": "lightgbm:LightGBMNativeLearner",
}


class _Registry(Mapping):
    """Learners by name, each built on first use."""

    def __init__(self, specs: dict[str, str]):
        self._specs: dict[str, str | Learner] = dict(specs)

    def __getitem__(self, name: str) -> Learner:
        entry = self._specs[name]
        if isinstance(entry, str):
            module, _, cls = entry.partition(":")
            learner = getattr(importlib.import_module(f"{__name__}.{module}"), cls)()
            if learner.name != name:
                raise RuntimeError(f"learner {cls} is named {learner.name!r}, not {name!r}")
            self._specs[name] = entry = learner
        return entry

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def register(self, learner: Learner) -> None:
        self._specs[learner.name] = learner


LEARNERS: _Registry = _Registry(_BUILT_IN)


def register_learner(learner: Learner) -> None:
    LEARNERS.register(learner)


MODEL_TYPE_LEARNERS = {
    "XGBOOST": ("xgboost",),
    "MLP": ("mlp",),
    "LINEAR_LEARNER": ("linear",),
}

__all__ = ["LEARNERS", "MODEL_TYPE_LEARNERS", "FitData", "Learner", "register_learner"]
