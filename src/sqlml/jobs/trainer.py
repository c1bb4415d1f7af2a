"""The trainer process: ``python -m sqlml.jobs.trainer JOB_DIR``.

It reads the job (``job.json``: the manifest draft and the budget) and the Parquet snapshot of
the training data, trains, and writes the model package into the store. It never opens the
database: training runs apart from the user's session, and the database's worker threads do not
compete with the learners' (DuckDB's idle workers slow OpenMP learners many-fold when they share
a process). A failure is written to ``error.json`` for the parent to raise.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
import traceback
from pathlib import Path

import pyarrow.parquet as pq

from sqlml.automl.budget import Deadline
from sqlml.errors import SqlmlError
from sqlml.jobs.training import ERROR_FILE, JOB_FILE, SNAPSHOT_FILE, train_package
from sqlml.store import ModelStore

log = logging.getLogger(__name__)


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run(job_dir: Path) -> int:
    job = json.loads((job_dir / JOB_FILE).read_text())
    try:
        elapsed = time.time() - job["submitted_at"]
        deadline = Deadline(max(job["budget_seconds"] - elapsed, 0.5))
        baseline = _peak_rss_mb()
        table = pq.read_table(job_dir / SNAPSHOT_FILE)
        draft = job["draft"]
        # Memory is reported beside the data's size: the peak is read when the package is written.
        draft["training"].update(arrow_mb=round(table.nbytes / 2**20, 2), rss_baseline_mb=baseline)
        train_package(
            ModelStore(Path(job["store"])), draft, table, deadline, peak_rss_mb=_peak_rss_mb
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
