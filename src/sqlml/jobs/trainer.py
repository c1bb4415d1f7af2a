"""The trainer process: ``python -m sqlml.jobs.trainer JOB_DIR ALIVE_FD``.

It inherits ``ALIVE_FD``, the descriptor holding the job's alive.lock, and keeps it open until it
exits, so the job is known to be alive exactly as long as this process is. It waits for a
training slot (QUEUED), trains on the job's data snapshot (TRAINING, with progress written
after every candidate), publishes the package into the store and removes the job folder (READY),
or records the error (FAILED). It never opens the database: training runs apart from the user's
session, and DuckDB's worker threads do not compete with the learners' (idle DuckDB workers slow
OpenMP learners many-fold when they share a process).
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from sqlml.automl.budget import Deadline
from sqlml.errors import SqlmlError
from sqlml.jobs import status as J
from sqlml.jobs.faults import pause_at
from sqlml.store import ModelStore

log = logging.getLogger(__name__)

SLOT_POLL_SECONDS = 0.2
# "cpu" makes the budget count this process's CPU seconds instead of wall-clock seconds.
CLOCK_ENV = "SQLML_TRAINER_CLOCK"


def budget_clock() -> Callable[[], float]:
    """The clock MAX_RUNTIME is measured on: wall-clock time, as MAX_RUNTIME means. With
    ``SQLML_TRAINER_CLOCK=cpu`` (what the test suite sets) it is the trainer's own CPU time, so
    the same work fits the same budget however busy the machine is: a test of what a model
    learns must not fail because another job had the cores."""
    return time.process_time if os.environ.get(CLOCK_ENV) == "cpu" else time.monotonic


def _rss_mb(field: str) -> float | None:
    """This process's resident (VmRSS) or peak resident (VmHWM) memory. Read from /proc rather than
    getrusage, whose peak survives exec and so reports the parent's peak. None off Linux."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def _trim() -> Callable[[int], object]:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # glibc: give freed heap pages back
    except (OSError, AttributeError):
        return lambda _pad: None


_MALLOC_TRIM = _trim()


def _first_in_line(store: ModelStore, job_dir: Path, submitted_at: float, lane: str) -> bool:
    """Queued jobs of a lane start in submission order: wait while an older live job of the
    same lane is still queued."""
    for other in J.job_folders(store):
        if other == job_dir:
            continue
        status = J.read_json(other / J.STATUS_FILE) or {}
        other_lane = (J.read_json(other / J.JOB_FILE) or {}).get("lane", "search")
        if (
            other_lane == lane
            and status.get("state") == "QUEUED"
            and (status.get("submitted_at", 0), other.name) < (submitted_at, job_dir.name)
            and J.alive(other)
        ):
            return False
    return True


def finish_seconds(budget: float) -> float:
    """What comes after the model is trained and before the statement sees it READY: writing
    the package (every member's file), publishing it, and this process's exit. At MAX_RUNTIME 60
    with both cores busy they took 1.5-2.5 s on ames_housing (a 9-member k-fold ensemble), which
    the search's own reserve does not cover; MAX_RUNTIME is the user's wall clock."""
    return min(10.0, 0.5 + 0.02 * budget)


class _JobDeadline(Deadline):
    """The budget, which also runs out as soon as the job's folder is gone: every fit checks
    the deadline (boosting rounds, Lloyd steps), so a dropped job stops within moments whatever
    it trains. The folder is looked at once a second at most."""

    def __init__(self, seconds: float, clock: Callable[[], float], job_dir: Path):
        super().__init__(seconds, clock)
        self.job_dir = job_dir
        self._gone, self._looked = False, 0.0

    def remaining(self) -> float:
        now = time.monotonic()
        if not self._gone and now - self._looked > 1.0:
            self._looked, self._gone = now, not self.job_dir.exists()
        return -1.0 if self._gone else super().remaining()


class JobGone(Exception):
    """The job's folder (or the whole store) was removed under the trainer: nobody wants the
    model any more, so the trainer stops."""


def _wait_for_slot(store: ModelStore, job_dir: Path, job: dict) -> int:
    while True:
        if not job_dir.exists():  # checked first: looking for slots would recreate the store
            raise JobGone(job_dir)
        lane = job.get("lane", "search")  # jobs queued before lanes existed: searches
        if _first_in_line(store, job_dir, job["submitted_at"], lane):
            fd = J.take_slot(store, job["max_jobs"], lane)
            if fd is not None:
                return fd
        time.sleep(SLOT_POLL_SECONDS)


class _Progress:
    """Writes the job's progress after each candidate and hands freed memory back to the OS."""

    def __init__(self, job_dir: Path, deadline: Deadline):
        self.job_dir, self.deadline = job_dir, deadline
        self.trials = 0
        self.best: tuple | None = None
        self.best_record: dict | None = None

    def __call__(self, trial) -> None:
        if not self.job_dir.exists():
            raise JobGone(self.job_dir)
        self.trials += 1
        if trial.status == "ok" and (self.best is None or trial.selection > self.best):
            self.best = trial.selection
            self.best_record = {"candidate": trial.name, "score": trial.score}
        J.update_status(
            self.job_dir,
            trials=self.trials,
            best=self.best_record,
            elapsed=round(self.deadline.elapsed(), 1),
            time_left=round(max(self.deadline.remaining(), 0.0), 1),
        )
        # Each candidate frees its fold matrices and dropped models; return that memory, so the
        # trainer's footprint tracks what it holds rather than its history.
        gc.collect()
        _MALLOC_TRIM(0)


def _start_up(job: dict, queued: float) -> float:
    """Wall-clock seconds between the submission and now that were not spent waiting for a
    slot: starting this process and importing the learning libraries (seconds on a busy
    machine). MAX_RUNTIME is the user's wall clock, so they come out of the budget. Nothing
    under the CPU clock, which counts from the deadline's start."""
    if os.environ.get(CLOCK_ENV) == "cpu":
        return 0.0
    return max(0.0, time.time() - job["submitted_at"] - queued)


def run(job_dir: Path) -> int:
    job = J.read_json(job_dir / J.JOB_FILE)
    if job is None:
        return 2
    store = ModelStore(Path(job["store"]))
    (job_dir / J.PID_FILE).write_text(str(os.getpid()))
    try:
        pause_at("trainer:queued")
        entered = time.time()
        _wait_for_slot(store, job_dir, job)  # the slot is held until this process ends
        queued = time.time() - entered
        # The kinds and their learning libraries load only now: a queued trainer holds a few
        # MB, not the ~200 MB of LightGBM, CatBoost, XGBoost and scikit-learn.
        from sqlml.jobs.training import train_package

        start_up = _start_up(job, queued)
        budget = job["budget_seconds"] - start_up - finish_seconds(job["budget_seconds"])
        deadline = _JobDeadline(max(budget, 0.5), budget_clock(), job_dir)
        J.update_status(job_dir, state="TRAINING", started_at=time.time(), pid=os.getpid())
        pause_at("trainer:training")
        draft = job["draft"]
        # Memory is reported beside the data's size: the peak is read when the package is written.
        draft["training"]["rss_baseline_mb"] = _rss_mb("VmRSS")
        draft["training"]["start_up_seconds"] = round(start_up, 3)
        train_package(
            store,
            draft,
            job_dir / J.SNAPSHOT_FILE,
            deadline,
            peak_rss_mb=lambda: _rss_mb("VmHWM"),
            on_trial=_Progress(job_dir, deadline),
            still_wanted=job_dir.exists,  # asked under the store lock: not dropped meanwhile
        )
        pause_at("trainer:published")
        with store.locked():
            J.remove_folder(job_dir)
        return 0
    except JobGone:
        log.info("job folder %s was removed: stopping", job_dir)
        return 1
    except SqlmlError as e:
        error = {"class": type(e).__name__, "message": str(e)}
    except Exception as e:  # noqa: BLE001 -- reported through the job's status, never swallowed
        error = {
            "class": "InternalError",
            "message": f"{type(e).__name__}: {e}",
            "traceback": traceback.format_exc(),
        }
    if not job_dir.exists():
        return 1  # dropped, or the store removed: there is nobody to tell
    with store.locked():
        if job_dir.exists():
            J.update_status(job_dir, state="FAILED", error=error)
    return 1


if __name__ == "__main__":
    # argv[2] is the inherited descriptor holding the alive lock: it stays open until exit.
    raise SystemExit(run(Path(sys.argv[1])))
