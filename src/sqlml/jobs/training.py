"""Run one training job: Arrow training data in, a READY model package out.

Synchronous for now (the statement waits); the asynchronous trainer process will call the same
``train_package`` from a snapshot file. Nothing here touches SQL: the caller hands over the data
and a manifest draft describing the statement.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pyarrow as pa

from sqlml.automl.budget import Deadline
from sqlml.automl.train import train_model
from sqlml.store import ModelStore
from sqlml.store.manifest import library_versions, new_manifest

log = logging.getLogger(__name__)

SEED = 0


def train_package(store: ModelStore, draft: dict, table: pa.Table, deadline: Deadline) -> dict:
    """Train on ``table`` and write the package; return the final manifest.

    ``draft`` is the manifest without training results: name, schema, target, features,
    function, settings, problem_type and objective as the user gave them (or None).
    """
    started = time.monotonic()
    model = train_model(
        table,
        draft["target"],
        problem_type=draft["problem_type"],
        objective=draft["objective"],
        deadline=deadline,
        seed=SEED,
    )
    seconds = time.monotonic() - started
    log.info("trained %s.%s in %.1fs", draft["schema"], draft["name"], seconds)
    manifest = new_manifest(
        **{
            **draft,
            "problem_type": model.problem_type,
            "objective": model.objective,
            "model_type": "lightgbm",
            "metrics": model.metrics,
            "training": {**draft["training"], "seconds": round(seconds, 3)},
            "versions": library_versions("lightgbm", "numpy", "pyarrow", "scikit-learn"),
        }
    )

    def write(folder: Path) -> dict:
        return {"model": model.save(folder)}

    directory = store.create(manifest, write)
    return store.read(directory)
