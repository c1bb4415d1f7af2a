"""A stored model as a callable: Arrow arrays in, one Arrow array out.

The hot path is one ``transform`` (vectorized Arrow compute) and one booster call per batch.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pyarrow as pa

from sqlml.automl import lightgbm_learner
from sqlml.automl.metrics import decide_labels
from sqlml.automl.preprocessing import transform
from sqlml.errors import CorruptModelPackage


class Predictor:
    def __init__(self, manifest: dict, plan: dict, booster: lgb.Booster):
        self.manifest = manifest
        self.plan = plan
        self.booster = booster
        model = manifest["model"]
        self.problem_type = manifest["problem_type"]
        self.classes = model["classes"]
        self.positive = None
        if self.classes is not None and len(self.classes) == 2:
            self.positive = self.classes.index(model["positive_class"])
        self._labels = pa.array(self.classes) if self.classes is not None else None

    @classmethod
    def load(cls, directory: Path, manifest: dict) -> Predictor:
        model = manifest["model"]
        if model.get("learner") != "lightgbm":
            raise CorruptModelPackage(
                f"Model '{manifest['name']}' uses learner {model.get('learner')!r}, "
                "which this version of sqlml cannot load."
            )
        try:
            plan = json.loads((directory / model["artifacts"]["preprocessing"]).read_text())
            booster = lgb.Booster(model_file=str(directory / model["artifacts"]["booster"]))
        except (OSError, ValueError, lgb.basic.LightGBMError) as e:
            raise CorruptModelPackage(
                f"Model '{manifest['name']}' cannot be loaded from {directory}: {e}"
            ) from e
        return cls(manifest, plan, booster)

    @property
    def n_features(self) -> int:
        return len(self.manifest["features"])

    def matrix(self, columns: list) -> np.ndarray:
        return transform(self.plan, columns)

    def predict_raw(self, columns: list) -> np.ndarray:
        """Class probabilities (n x k) or regression values, as numpy."""
        X = self.matrix(columns)
        if len(X) == 0:
            k = len(self.classes) if self.classes else 0
            return np.empty((0, k)) if k else np.empty(0)
        return lightgbm_learner.predict(self.booster, X, self.problem_type)

    def predict(self, columns: list) -> pa.Array:
        """The label (classification) or value (regression) of every row."""
        raw = self.predict_raw(columns)
        if self.classes is None:
            return pa.array(raw, pa.float64())
        idx = decide_labels(raw, self.positive)
        return self._labels.take(pa.array(idx, pa.int64()))


_cache: dict[tuple[str, str], Predictor] = {}
_lock = threading.Lock()


def load_predictor(directory: Path, manifest: dict) -> Predictor:
    """A process-wide cache of loaded models, keyed by package folder and package id."""
    key = (str(directory), manifest["package_id"])
    with _lock:
        predictor = _cache.get(key)
        if predictor is None:
            predictor = Predictor.load(directory, manifest)
            for stale in [k for k in _cache if k[0] == key[0]]:
                del _cache[stale]
            _cache[key] = predictor
        return predictor
