"""Training jobs: a data snapshot and a job file in, a READY model package out.

The session's side: ``submit`` starts a trainer process (:mod:`sqlml.jobs.trainer`) for a job
folder and returns at once; ``wait`` blocks until the model is READY or FAILED; ``cancel`` stops
a job. The trainer's side: ``train_package`` trains and writes the package. Nothing here touches
SQL; the job folder's layout is :mod:`sqlml.jobs.status`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlml import errors, kinds, objects
from sqlml.automl.budget import Deadline
from sqlml.jobs import status as J
from sqlml.jobs.faults import pause_at
from sqlml.lazy import ipc, pa
from sqlml.store import ModelStore
from sqlml.store.manifest import library_versions, new_manifest

log = logging.getLogger(__name__)

SEED = 0
POLL_SECONDS = 0.1


def default_max_jobs() -> int:
    """Concurrent searches: each uses every core, so one per two cores (one on a laptop).

    The limit is per lane: AUTO ON searches, which take their whole MAX_RUNTIME, queue in the
    "search" lane; jobs of one fit (AUTO OFF XGBoost, K-means: seconds) in the "direct" lane, so
    a 1-second XGBoost created while a 60-second search runs is READY in seconds rather than
    after it (bench/slots.py). At worst two trainers share the cores for those seconds."""
    return max(1, (os.cpu_count() or 1) // 2)


def submit(
    store: ModelStore,
    job_dir: Path,
    draft: dict,
    budget_seconds: float,
    max_jobs: int,
    check_names: Callable[[], None] | None = None,
    lane: str = "search",
) -> Path:
    """Start training the job built in ``job_dir`` (which holds the snapshot); return its folder.

    The job folder is renamed into place under the store lock, after checking the name is still
    free (and ``check_names()``, run under the lock: of two processes creating models with one
    name or one function at once, only the first gets it), and the trainer is started in its own session so it outlives this process. The alive
    lock is taken here and handed to the trainer, so the job is never seen without a live owner.
    """
    schema, name = draft["schema"], draft["name"]
    job = {
        "store": str(store.root),
        "draft": draft,
        "budget_seconds": budget_seconds,
        "submitted_at": time.time(),
        "max_jobs": max_jobs,
        "lane": lane,
    }
    J.write_json(job_dir / J.JOB_FILE, job)
    J.write_json(
        job_dir / J.STATUS_FILE,
        {"state": "QUEUED", "submitted_at": job["submitted_at"], "updated_at": time.time()},
    )
    fd = J.hold_lock(job_dir / J.ALIVE_FILE)
    final = J.job_path(store, schema, name)
    try:
        with store.locked():
            if check_names is not None:
                check_names()
            if store.path(schema, name).exists() or final.exists():
                raise errors.ModelAlreadyExists(
                    f"Model {schema}.{name} already exists. DROP MODEL it first or choose "
                    "another name."
                )
            os.rename(job_dir, final)
        pause_at("submit:spawn")
        log_file = open(final / J.LOG_FILE, "ab")  # noqa: SIM115 -- handed to the child
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "sqlml.jobs.trainer", str(final), str(fd)],
                pass_fds=(fd,),
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
            )
        finally:
            log_file.close()
        (final / J.PID_FILE).write_text(str(process.pid))
        # Reap the child when it ends, so no zombie lingers in a long-lived session.
        threading.Thread(target=process.wait, daemon=True).start()
    finally:
        os.close(fd)
    return final


def job_error(status: dict) -> errors.SqlmlError:
    """The exception a FAILED job's status describes (the same class the trainer raised)."""
    error = status.get("error") or {}
    cls = getattr(errors, error.get("class", ""), errors.TrainingFailed)
    if not (isinstance(cls, type) and issubclass(cls, errors.SqlmlError)):
        cls = errors.InternalError
    if error.get("traceback"):
        log.debug("trainer traceback:\n%s", error["traceback"])
    return cls(error.get("message") or "Training failed.")


def wait(store: ModelStore, schema: str, name: str, timeout: float | None = None) -> dict:
    """Block until the model is READY (return its manifest) or FAILED (raise its error)."""
    started = time.monotonic()
    job_dir = J.job_path(store, schema, name)
    while True:
        resolved = J.resolve(store, job_dir) if job_dir.exists() else None
        if resolved is None:
            manifest = store.get(schema, name)
            if manifest is not None and manifest["state"] == "BROKEN":
                raise errors.CorruptModelPackage(manifest["failure_reason"])
            if manifest is not None:
                return manifest
            if not job_dir.exists():
                raise errors.ModelNotFound(
                    f"Model {schema}.{name} does not exist (it was dropped)."
                )
        else:
            _, status = resolved
            if status["state"] == "FAILED":
                raise job_error(status)
        if timeout is not None and time.monotonic() - started > timeout:
            raise errors.TrainingTimeout(
                f"Model {schema}.{name} is still {resolved[1]['state'] if resolved else 'training'} "
                f"after waiting {timeout:g} s; it goes on training. SHOW MODEL {name} follows it."
            )
        time.sleep(POLL_SECONDS)


def cancel(store: ModelStore, job_dir: Path, grace_seconds: float = 10.0) -> None:
    """Stop the job's trainer (if it lives) and remove the job. Call with the store lock held,
    so the trainer cannot publish its package meanwhile."""
    if J.alive(job_dir):
        pid = J.trainer_pid(job_dir)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        stop = time.monotonic() + grace_seconds
        while J.alive(job_dir) and time.monotonic() < stop:
            time.sleep(0.02)
    J.remove_folder(job_dir)


def _read_snapshot(path: Path, draft: dict) -> pa.Table:
    """The snapshot as a table. The Arrow IPC file is memory-mapped, not read: the columns are
    the page cache's pages, shared with the file and unmapped once training drops the table.
    A job folder from an earlier build has a Parquet snapshot beside the job file instead."""
    legacy = path.with_name(J.LEGACY_SNAPSHOT_FILE)
    if not path.exists() and legacy.exists():
        import pyarrow.parquet as pq  # only for snapshots of older versions

        table = pq.read_table(legacy)
    else:
        table = ipc.open_file(pa.memory_map(str(path))).read_all()
    draft["training"]["arrow_mb"] = round(table.nbytes / 2**20, 2)
    return table


def train_package(
    store: ModelStore,
    draft: dict,
    snapshot: Path,
    deadline: Deadline,
    peak_rss_mb: Callable[[], float] | None = None,
    on_trial: Callable | None = None,
    still_wanted: Callable[[], bool] | None = None,
) -> dict:
    """Train on the ``snapshot`` (jobs.status) and write the package; return the final manifest.

    ``draft`` is the manifest without training results: name, schema, target, features,
    function, settings, problem_type, objective and model_type as the user gave them (or None).
    """
    started = time.monotonic()
    kind = kinds.for_manifest(draft)
    model = kind.train(
        # Passed without keeping a reference, so training frees the Arrow data once encoded.
        _read_snapshot(snapshot, draft),
        draft,
        deadline,
        seed=SEED,
        on_trial=on_trial,
        scratch=snapshot.parent,  # the job's folder: removed with the job, whatever happens
    )
    seconds = time.monotonic() - started
    log.info("trained %s.%s in %.1fs", draft["schema"], draft["name"], seconds)
    manifest = new_manifest(
        **{
            **draft,
            "problem_type": getattr(model, "problem_type", None) or draft.get("problem_type"),
            "objective": model.objective,
            "metrics": model.metrics,
            "training": {
                **draft["training"],
                "seconds": round(seconds, 3),
                **({"rss_peak_mb": peak_rss_mb()} if peak_rss_mb else {}),
            },
            "versions": library_versions(*kind.libraries),
        }
    )

    location = draft.get("s3_location")
    what = f"CREATE MODEL {draft['schema']}.{draft['name']}: S3_BUCKET"

    def write(folder: Path) -> dict:
        fields = {"model": model.save(folder)}
        if location:  # before the package is published: a READY model has its copy
            objects.upload_folder(folder, location, what)
        return fields

    directory = store.create(manifest, write, still_wanted)
    if location:
        try:
            storage = objects.Storage(location, what)
            storage.put(directory / "model.json", storage.path + "model.json")
        except errors.SqlmlError as e:  # the artifacts are there; the model is READY all the same
            log.warning("the manifest was not copied to %s: %s", location, e)
    return store.read(directory)
