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


def run(job_dir: Path) -> int:
    job = json.loads((job_dir / JOB_FILE).read_text())
    try:
        elapsed = time.time() - job["submitted_at"]
        deadline = Deadline(max(job["budget_seconds"] - elapsed, 0.5))
        table = pq.read_table(job_dir / SNAPSHOT_FILE)
        train_package(ModelStore(Path(job["store"])), job["draft"], table, deadline)
        return 0
    except SqlmlError as e:
        error = {"class": type(e).__name__, "message": str(e)}
    except Exception as e:  # noqa: BLE001 -- reported to the parent, never swallowed
        error = {"class": "InternalError", "message": f"{type(e).__name__}: {e}",
                 "traceback": traceback.format_exc()}
    (job_dir / ERROR_FILE).write_text(json.dumps(error))
    return 1


if __name__ == "__main__":
    raise SystemExit(run(Path(sys.argv[1])))
