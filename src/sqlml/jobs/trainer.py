"""The trainer process: ``python -m sqlml.jobs.trainer JOB_DIR``.

It reads the job (``job.json``: the manifest draft and the budget) and the Parquet snapshot of
the training data, trains, and writes the model package into the store. It never opens the
database: training runs apart from the user's session, and the database's worker threads do not
compete with the learners' (DuckDB's idle workers slow OpenMP learners many-fold when they share
a process). A failure is written to ``error.json`` for the parent to raise.
"""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from sqlml.automl.budget import Deadline
from sqlml.errors import SqlmlError
from sqlml.jobs.training import ERROR_FILE, JOB_FILE, SNAPSHOT_FILE, train_package
from sqlml.store import ModelStore

log = logging.getLogger(__name__)


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


def _trim() -> Callable[[], object]:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # glibc: give freed heap pages back
    except (OSError, AttributeError):
        return lambda *_: None


_MALLOC_TRIM = _trim()


def _after_trial(trial) -> None:
    # Each candidate frees its fold matrices and dropped models; return that memory to the OS
    # so the trainer's footprint tracks what it holds, not its history.
    gc.collect()
    _MALLOC_TRIM(0)


def run(job_dir: Path) -> int:
    job = json.loads((job_dir / JOB_FILE).read_text())
    try:
        elapsed = time.time() - job["submitted_at"]
        deadline = Deadline(max(job["budget_seconds"] - elapsed, 0.5))
        draft = job["draft"]
        # Memory is reported beside the data's size: the peak is read when the package is written.
        draft["training"]["rss_baseline_mb"] = _rss_mb("VmRSS")
        train_package(
            ModelStore(Path(job["store"])),
            draft,
            job_dir / SNAPSHOT_FILE,
            deadline,
            peak_rss_mb=lambda: _rss_mb("VmHWM"),
            on_trial=_after_trial,
        )
        return 0
    except SqlmlError as e:
        error = {"class": type(e).__name__, "message": str(e)}
    except Exception as e:  # noqa: BLE001 -- reported to the parent, never swallowed
        error = {
            "class": "InternalError",
            "message": f"{type(e).__name__}: {e}",
            "traceback": traceback.format_exc(),
        }
    (job_dir / ERROR_FILE).write_text(json.dumps(error))
    return 1


if __name__ == "__main__":
    raise SystemExit(run(Path(sys.argv[1])))
