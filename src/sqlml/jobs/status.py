"""Training jobs on disk: one folder per model not yet READY, under the store's ``.jobs/``.

A job folder ``<store>/.jobs/<schema>.<name>/`` holds:

- ``job.json``: the manifest draft, the training budget, when it was submitted, the limit on
  concurrent jobs it was submitted under;
- ``snapshot.arrow``: the training data, exported when CREATE MODEL ran (our analogue of
  Redshift's export to S3), as an uncompressed Arrow IPC file the trainer memory-maps (a job
  folder left by an earlier build holds ``snapshot.parquet`` instead, still read);
- ``status.json``: the state (QUEUED, TRAINING or FAILED), progress and failure, always replaced
  atomically, so a reader never waits for the trainer and never sees half a file;
- ``alive.lock``: locked (flock) by the trainer process for as long as it lives. The kernel
  releases it when the process dies, however it dies, so a QUEUED or TRAINING job whose lock is
  free has lost its trainer: readers then mark it FAILED.

The folder is built aside and renamed into place, so it appears whole. It disappears when its
package is in the store (READY) or when the model is dropped.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlml.store import ModelStore
from sqlml.store.package import hold_folder, package_key, remove_folder, write_atomic

JOBS_DIR = ".jobs"
JOB_FILE = "job.json"
SNAPSHOT_FILE = "snapshot.arrow"
LEGACY_SNAPSHOT_FILE = "snapshot.parquet"  # written by earlier versions
STATUS_FILE = "status.json"
ALIVE_FILE = "alive.lock"
PID_FILE = "trainer.pid"
LOG_FILE = "trainer.log"
SLOTS_DIR = ".slots"

DIED = (
    "The trainer process died before the model was READY (killed, out of memory, or the machine "
    "stopped). DROP MODEL it and CREATE MODEL again."
)


def jobs_root(store: ModelStore) -> Path:
    path = store.root / JOBS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_path(store: ModelStore, schema: str, name: str) -> Path:
    return jobs_root(store) / package_key(schema, name)


@contextlib.contextmanager
def new_job_folder(store: ModelStore) -> Iterator[Path]:
    """A hidden folder to build a job in, before it is renamed into place. This process holds
    it (flock) until the block ends: one nobody holds was left by a process that died, and the
    next open sweeps it. Removed when the block fails."""
    path = jobs_root(store) / f".tmp-{uuid.uuid4().hex}"
    fd = hold_folder(path)
    try:
        yield path
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    finally:
        os.close(fd)


def write_json(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, default=str))


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def update_status(job_dir: Path, **fields) -> dict:
    """Merge ``fields`` into status.json. Only the job's owner of the moment writes it (the
    trainer while it lives, a reader holding the store lock once it is dead)."""
    status = {**(read_json(job_dir / STATUS_FILE) or {}), **fields, "updated_at": time.time()}
    write_json(job_dir / STATUS_FILE, status)
    return status


def hold_lock(path: Path) -> int | None:
    """An open descriptor holding an exclusive flock on ``path``; None when someone holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return None
        raise
    return fd


def alive(job_dir: Path) -> bool:
    """True while a trainer process holds the job's alive.lock."""
    try:
        fd = hold_lock(job_dir / ALIVE_FILE)
    except FileNotFoundError:
        return False
    if fd is None:
        return True
    os.close(fd)
    return False


def trainer_pid(job_dir: Path) -> int | None:
    try:
        return int((job_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def job_folders(store: ModelStore) -> list[Path]:
    root = jobs_root(store)
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def resolve(store: ModelStore, job_dir: Path) -> tuple[dict, dict] | None:
    """The job's (job.json, status) with a dead trainer accounted for; None when the job has just
    finished or been dropped. Never waits on the trainer."""
    job = read_json(job_dir / JOB_FILE)
    status = read_json(job_dir / STATUS_FILE)
    if job is None or status is None:
        return None
    if status.get("state") in ("QUEUED", "TRAINING") and not alive(job_dir):
        with store.locked():
            # Re-read under the lock: the trainer may have finished or failed meanwhile.
            status = read_json(job_dir / STATUS_FILE)
            if status is None:
                return None
            if status.get("state") in ("QUEUED", "TRAINING") and not alive(job_dir):
                draft = job["draft"]
                if store.path(draft["schema"], draft["name"]).is_dir():
                    remove_folder(job_dir)  # READY: the trainer died after writing its package
                    return None
                status = update_status(
                    job_dir, state="FAILED", error={"class": "TrainingFailed", "message": DIED}
                )
    return job, status


def list_jobs(store: ModelStore) -> list[tuple[Path, dict, dict]]:
    out = []
    for job_dir in job_folders(store):
        resolved = resolve(store, job_dir)
        if resolved is not None:
            out.append((job_dir, *resolved))
    return out


def fingerprint(store: ModelStore) -> tuple:
    """Changes whenever a job appears, disappears or changes state."""
    out = []
    for job_dir in job_folders(store):
        status = read_json(job_dir / STATUS_FILE) or {}
        state = status.get("state")
        if state in ("QUEUED", "TRAINING") and not alive(job_dir):
            state = "DEAD"
        out.append((job_dir.name, state))
    return tuple(out)


def take_slot(store: ModelStore, limit: int, lane: str = "search") -> int | None:
    """Lock one of ``limit`` training slots of ``lane``; the open descriptor holds it (until
    the process ends). None when every slot is taken."""
    folder = jobs_root(store) / (SLOTS_DIR if lane == "search" else f"{SLOTS_DIR}-{lane}")
    folder.mkdir(exist_ok=True)
    for index in range(max(1, limit)):
        fd = hold_lock(folder / f"slot{index}.lock")
        if fd is not None:
            return fd
    return None
