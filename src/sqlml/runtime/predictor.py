"""An AUTO ON model (an ensemble) as a callable: Arrow arrays in, one Arrow array out.

The hot path is one ``transform`` (vectorized Arrow compute), one call per ensemble member's
model, and a weighted sum, per batch. Other kinds' predictors live with their kind
(``kinds/``); ``load_predictor`` caches any kind's.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.automl.explain import explain
from sqlml.automl.model import FittedModel, Member
from sqlml.errors import CorruptModelPackage


def _load_legacy(manifest: dict, directory: Path) -> FittedModel:
    """Format 1's single-LightGBM package (``"learner": "lightgbm"``), as a one-member ensemble."""
    from sqlml.automl.learners import LEARNERS

    section = manifest["model"]
    plan = json.loads((directory / section["artifacts"]["preprocessing"]).read_text())
    booster = LEARNERS["lightgbm"].load({"file": section["artifacts"]["booster"]}, directory)
    classes = section["classes"]
    positive = classes.index(section["positive_class"]) if classes and len(classes) == 2 else None
    member = Member("lightgbm", "lightgbm", 1.0, None, [booster])
    return FittedModel(
        plan,
        None,
        manifest["problem_type"],
        manifest["objective"],
        classes,
        positive,
        0.5,
        [member],
    )


@contextlib.contextmanager
def reading_package(directory: Path, manifest: dict):
    """Any error reading a package's artifacts is a CorruptModelPackage naming the model."""
    try:
        yield
    except CorruptModelPackage:
        raise
    except Exception as e:  # noqa: BLE001 -- any unreadable artifact is a corrupt package
        # One line: a native loader's message may carry a C++ stack trace after its first.
        first = next((line for line in str(e).splitlines() if line.strip()), type(e).__name__)
        raise CorruptModelPackage(
            f"Model {manifest.get('schema')}.{manifest.get('name')} cannot be loaded from "
            f"{directory}: {first.strip()}"
        ) from e


def load_fitted(directory: Path, manifest: dict) -> FittedModel:
    section = manifest["model"]
    with reading_package(directory, manifest):
        if section.get("learner") == "lightgbm":
            return _load_legacy(manifest, directory)
        if section.get("format") != "ensemble/1":
            raise CorruptModelPackage(
                f"Model '{manifest['name']}' has model format {section.get('format')!r}, which "
                "this version of sqlml cannot load. Upgrade sqlml."
            )
        return FittedModel.load(section, directory, manifest["problem_type"], manifest["objective"])


class Predictor:
    def __init__(self, manifest: dict, model: FittedModel):
        self.manifest = manifest
        self.model = model
        classes = model.classes
        self._labels = pa.array(classes) if classes is not None else None
        self._label_text = None if classes is None else pc.cast(self._labels, pa.string())

    @classmethod
    def load(cls, directory: Path, manifest: dict) -> Predictor:
        return cls(manifest, load_fitted(directory, manifest))

    def predict_raw(self, columns: list) -> np.ndarray:
        """Class probabilities (n x k) or regression values, as numpy."""
        return self.model.predict_raw(columns)

    def predict(self, columns: list) -> pa.Array:
        """The label (classification) or value (regression) of every row."""
        raw = self.predict_raw(columns)
        if self._labels is None:
            return pa.array(raw, pa.float64())
        return self._labels.take(pa.array(self.model.labels(raw), pa.int64()))

    def probabilities(self, columns: list) -> pa.Array:
        """Each row's classes with their probabilities, most probable first, as
        ``kinds.base.probabilities_type()``, a struct of labels and probabilities (Redshift's
        ``_probabilities``)."""
        if self._label_text is None:
            raise TypeError(f"Model '{self.manifest['name']}' is not a classifier.")
        raw = np.asarray(self.predict_raw(columns), dtype=np.float64)
        n, k = raw.shape
        order = np.argsort(-raw, axis=1, kind="stable")  # ties keep the classes' order
        offsets = pa.array(np.arange(0, n * k + 1, k, dtype=np.int32))
        labels = self._label_text.take(pa.array(order.ravel()))
        probabilities = pa.array(np.take_along_axis(raw, order, axis=1).ravel())
        return pa.StructArray.from_arrays(
            [
                pa.ListArray.from_arrays(offsets, labels),
                pa.ListArray.from_arrays(offsets, probabilities),
            ],
            names=["labels", "probabilities"],
        )

    def explain(self, columns: list) -> pa.Array:
        """Each row's prediction as expected value plus one contribution per input column, as
        ``kinds.base.explanation_type()`` (label, value, expected_value, contributions);
        contributions are sorted by size, largest first. A classifier's row explains the
        probability of its predicted label; a regression model's, the predicted value."""
        n = len(columns[0]) if columns else 0
        if n == 0:
            return pa.array([], pa.struct(_EXPLAIN_FIELDS))
        found = explain(self.model, self.model.matrices(columns))
        if self._labels is None:
            k = np.zeros(n, dtype=np.int64)
            labels = pa.nulls(n, pa.string())
        else:
            k = self.model.labels(found.value)
            labels = self._label_text.take(pa.array(k))
        return explanation_array(found, labels, k)


def explanation_array(found, labels: pa.Array, k: np.ndarray) -> pa.Array:
    """Explanations (automl.explain.Explanation) as ``kinds.base.explanation_type()`` structs (label,
    value, expected_value, contributions): row i explains output ``k[i]`` and is labelled ``labels[i]``."""
    n = len(k)
    if n == 0:
        return pa.array([], pa.struct(_EXPLAIN_FIELDS))
    rows = np.arange(n)
    contributions = found.contributions[rows, :, k]  # (n, columns)
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")
    width = contributions.shape[1]
    offsets = pa.array(np.arange(0, n * width + 1, width, dtype=np.int32))
    entries = pa.StructArray.from_arrays(
        [
            pa.array(found.columns, pa.string()).take(pa.array(order.ravel())),
            pa.array(np.take_along_axis(contributions, order, axis=1).ravel()),
        ],
        names=["feature", "contribution"],
    )
    return pa.StructArray.from_arrays(
        [
            labels,
            pa.array(found.value[rows, k]),
            pa.array(found.expected[rows, k]),
            pa.ListArray.from_arrays(offsets, entries),
        ],
        names=[f.name for f in _EXPLAIN_FIELDS],
    )


_EXPLAIN_FIELDS = [
    pa.field("label", pa.string()),
    pa.field("value", pa.float64()),
    pa.field("expected_value", pa.float64()),
    pa.field(
        "contributions",
        pa.list_(pa.struct([("feature", pa.string()), ("contribution", pa.float64())])),
    ),
]


_cache: dict[tuple[str, str], object] = {}
_lock = threading.Lock()


def load_predictor(directory: Path | str, manifest: dict):
    """A process-wide cache of loaded models of any kind, keyed by package folder (or the
    remote location of its copy, ``store.mirror``) and package id. The kind's loader sees the
    folder as a ``PackageFolder``: every artifact it opens is checked (inside the package,
    intact) before a library parses it."""
    from sqlml import kinds
    from sqlml.store import mirror
    from sqlml.store.integrity import PackageFolder

    # A copy's location ends with its package id: keyed by the model's folder above it, so
    # that a re-created model's package replaces the old one here too.
    place = str(directory).rsplit("/", 1)[0] if mirror.is_remote(directory) else str(directory)
    key = (place, manifest["package_id"])
    with _lock:
        predictor = _cache.get(key)
        if predictor is None:
            if mirror.is_remote(directory):  # a Spark executor's first batch: copy it here
                directory = mirror.local_copy(directory, manifest)
            with reading_package(directory, manifest):
                folder = PackageFolder(directory, manifest)
                predictor = kinds.for_manifest(manifest).load(folder, manifest)
            for stale in [k for k in _cache if k[0] == key[0]]:
                del _cache[stale]
            _cache[key] = predictor
        return predictor
