"""Training jobs: a Parquet snapshot and a job file in, a READY model package out.

``run_job`` (the session's side) writes the job, starts the trainer process
(:mod:`sqlml.jobs.trainer`) and waits for it; ``train_package`` (the trainer's side) trains and
writes the package. Nothing here touches SQL.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sqlml import errors
from sqlml.automl.budget import Deadline
from sqlml.automl.train import train_model
from sqlml.store import ModelStore
from sqlml.store.manifest import library_versions, new_manifest

log = logging.getLogger(__name__)

SEED = 0
JOB_FILE = "job.json"
SNAPSHOT_FILE = "snapshot.parquet"
ERROR_FILE = "error.json"


def new_job_dir(store: ModelStore) -> Path:
    path = store.root / ".jobs" / uuid.uuid4().hex
    path.mkdir(parents=True)
    return path


def run_job(store: ModelStore, job_dir: Path, draft: dict, budget_seconds: float) -> dict:
    """Train in a trainer process and wait for it; return the manifest or raise its error."""
    job = {
        "store": str(store.root),
        "draft": draft,
        "budget_seconds": budget_seconds,
        "submitted_at": time.time(),
    }
    (job_dir / JOB_FILE).write_text(json.dumps(job, default=str))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sqlml.jobs.trainer", str(job_dir)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise _job_error(job_dir, done)
        return store.get(draft["schema"], draft["name"])
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)


def _job_error(job_dir: Path, done: subprocess.CompletedProcess) -> errors.SqlmlError:
    try:
        error = json.loads((job_dir / ERROR_FILE).read_text())
    except (OSError, ValueError):
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        return errors.InternalError(
            f"The trainer process ended with exit code {done.returncode}: {tail[0]}"
        )
    cls = getattr(errors, error["class"], errors.InternalError)
    if not (isinstance(cls, type) and issubclass(cls, errors.SqlmlError)):
        cls = errors.InternalError
    if error.get("traceback"):
        log.debug("trainer traceback:\n%s", error["traceback"])
    return cls(error["message"])


def _read_snapshot(path: Path, draft: dict) -> pa.Table:
    table = pq.read_table(path)
    draft["training"]["arrow_mb"] = round(table.nbytes / 2**20, 2)
    return table


def train_package(
    store: ModelStore,
    draft: dict,
    snapshot: Path,
    deadline: Deadline,
    peak_rss_mb: Callable[[], float] | None = None,
    on_trial: Callable | None = None,
) -> dict:
    """Train on the Parquet ``snapshot`` and write the package; return the final manifest.

    ``draft`` is the manifest without training results: name, schema, target, features,
    function, settings, problem_type, objective and model_type as the user gave them (or None).
    """
    started = time.monotonic()
    model = train_model(
        # Passed without keeping a reference here, so training frees the Arrow data once encoded.
        _read_snapshot(snapshot, draft),
        draft["target"],
        problem_type=draft["problem_type"],
        objective=draft["objective"],
        model_type=draft.get("model_type"),
        deadline=deadline,
        seed=SEED,
        on_trial=on_trial,
    )
    seconds = time.monotonic() - started
    log.info("trained %s.%s in %.1fs", draft["schema"], draft["name"], seconds)
    manifest = new_manifest(
        **{
            **draft,
            "problem_type": model.problem_type,
            "objective": model.objective,
            "metrics": model.metrics,
            "training": {
                **draft["training"],
                "seconds": round(seconds, 3),
                **({"rss_peak_mb": peak_rss_mb()} if peak_rss_mb else {}),
            },
            "versions": library_versions(
                "lightgbm", "catboost", "xgboost", "scikit-learn", "numpy", "pyarrow"
            ),
        }
    )

    def write(folder: Path) -> dict:
        return {"model": model.save(folder)}

    directory = store.create(manifest, write)
    return store.read(directory)
