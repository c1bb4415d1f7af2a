"""MAX_RUNTIME from the user's side: wall time from the CREATE MODEL statement to READY, and how
many candidates the search tried in it, on an idle machine and with other CPU-bound processes
keeping cores busy.

    python bench/budget.py [--rows 1000] [--max-runtime 20] [--busy 0,1,2] [--repeat 1]

The table is the first ``--rows`` rows of a shared dataset (adult by default). ``--busy N``
starts N processes that spin on the CPU for the whole run (N = 1: one core of two busy). The
statement runs through a synchronous connection, as the CLI runs it; its time includes the
export of the training data, the trainer's start-up, the search, explanation and packaging.
Printed per load: wall seconds and their ratio to MAX_RUNTIME, candidates tried, and the
phases the manifest records (export, trainer start-up, training).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
TARGETS = {"adult": "income", "bank_marketing": "subscribed", "penguins": "species"}


def _spin() -> None:
    while True:
        pass


def one_run(dataset: str, rows: int, budget: int) -> dict:
    import sqlml

    target = TARGETS[dataset]
    with (
        tempfile.TemporaryDirectory() as tmp,
        sqlml.connect(Path(tmp) / "b.duckdb", synchronous=True) as conn,
    ):
        path = (DATASETS / f"{dataset}.parquet").as_posix()
        conn.sql(f"CREATE TABLE data AS SELECT * FROM read_parquet('{path}') LIMIT {rows}")
        started = time.monotonic()
        conn.sql(
            f'CREATE MODEL m FROM data TARGET "{target}" FUNCTION f SETTINGS (MAX_RUNTIME {budget})'
        )
        wall = time.monotonic() - started
        manifest = json.loads((conn.store.path("main", "m") / "model.json").read_text())
    training = manifest["training"]
    leaderboard = manifest["model"].get("summary", {})
    return {
        "wall": wall,
        "ratio": wall / budget,
        "candidates": leaderboard.get("trials"),
        "export": training.get("export_seconds"),
        "start_up": training.get("start_up_seconds"),
        "training": training.get("seconds"),
        "chosen": leaderboard.get("chosen"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="adult", choices=sorted(TARGETS))
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--max-runtime", type=int, default=20)
    parser.add_argument("--busy", default="0,1", help="comma-separated counts of busy processes")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"{args.dataset}, {args.rows} rows, MAX_RUNTIME {args.max_runtime}")
    print(
        f"{'busy':>4} {'wall s':>7} {'/budget':>7} {'tried':>5} {'export':>6} {'start':>6} "
        f"{'train':>6}  chosen"
    )
    for busy in (int(b) for b in args.busy.split(",")):
        spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(busy)]
        for p in spinners:
            p.start()
        try:
            for _ in range(args.repeat):
                r = one_run(args.dataset, args.rows, args.max_runtime)
                print(
                    f"{busy:>4} {r['wall']:>7.1f} {r['ratio']:>7.3f} {r['candidates']:>5} "
                    f"{r['export']:>6.2f} {r['start_up'] or 0:>6.2f} {r['training']:>6.1f}  "
                    f"{r['chosen']}",
                    flush=True,
                )
        finally:
            for p in spinners:
                p.terminate()
                p.join()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
