"""Training memory against data size, on the largest shared dataset.

    python bench/memory.py [--dataset nyc_flights_2013] [--max-runtime 60] [--fractions 0.1,0.5,1]

Trains the same table at several fractions of its rows through SQL (CREATE MODEL, MAX_CELLS high
enough to use every row), each in a fresh process, and prints the trainer process's peak resident
memory (VmHWM), its memory after start-up (Python and the libraries imported, before any data),
and the snapshot's in-memory Arrow size. The last line is the slope between the smallest and the
largest run: how many MB of peak memory each MB of Arrow data costs. The fixed part (interpreter,
library code, fitted models) does not grow with the data; the slope is what does.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from automl import DATASETS, TASKS


def run_one(name: str, fraction: float, budget: int) -> dict:
    import sqlml

    target, _ = TASKS[name]
    with (
        tempfile.TemporaryDirectory() as tmp,
        sqlml.connect(Path(tmp) / "m.duckdb", synchronous=True) as conn,
    ):
        source = (DATASETS / f"{name}.parquet").as_posix()
        conn.sql(
            f"CREATE TABLE data AS SELECT * FROM read_parquet('{source}') "
            f"USING SAMPLE {fraction * 100}% (bernoulli, 7)"
        )
        conn.sql(
            f'CREATE MODEL m FROM data TARGET "{target}" FUNCTION predict_data '
            f"SETTINGS (MAX_RUNTIME {budget}, MAX_CELLS 1000000000)"
        )
        manifest = json.loads((conn.store.path("main", "m") / "model.json").read_text())
    training = manifest["training"]
    return {
        "fraction": fraction,
        "rows": training["rows_used"],
        "arrow_mb": training["arrow_mb"],
        "startup_mb": training["rss_baseline_mb"],
        "peak_mb": training["rss_peak_mb"],
        "chosen": manifest["model"]["summary"]["chosen"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="nyc_flights_2013")
    parser.add_argument("--max-runtime", type=int, default=60)
    parser.add_argument("--fractions", default="0.1,0.5,1")
    parser.add_argument("--run-one", nargs=3, metavar=("DATASET", "FRACTION", "BUDGET"))
    args = parser.parse_args()
    if args.run_one:
        name, fraction, budget = args.run_one
        print(json.dumps(run_one(name, float(fraction), int(budget))))
        return 0
    rows = []
    for fraction in [float(f) for f in args.fractions.split(",")]:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--run-one",
                args.dataset,
                str(fraction),
                str(args.max_runtime),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    print(f"\n{args.dataset}, MAX_RUNTIME {args.max_runtime}\n")
    print("| fraction | rows | Arrow MB | trainer start-up MB | trainer peak MB | peak / Arrow |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['fraction']} | {r['rows']} | {r['arrow_mb']} | {r['startup_mb']} | "
            f"{r['peak_mb']} | {r['peak_mb'] / r['arrow_mb']:.1f} |"
        )
    small, large = rows[0], rows[-1]
    slope = (large["peak_mb"] - small["peak_mb"]) / (large["arrow_mb"] - small["arrow_mb"])
    print(f"\npeak memory grows by {slope:.2f} MB per MB of Arrow data (limit 4)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
