"""Foundation acceptance benchmark: CREATE MODEL on 80 % of each shared dataset, predict the other
20 % in SQL from a *new process*, and print the test metric computed in SQL.

    python bench/foundation.py [--max-runtime 60] [--datasets adult,penguins] [--max-cells N]

The split is the one of ../shared/baselines.md: ``(row_number() OVER ()) % 5 = 0`` is the test fold.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlml

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
TARGETS = {
    "adult": "income",
    "amazon_employee_access": "action",
    "ames_housing": "sale_price",
    "bank_marketing": "subscribed",
    "bike_sharing_hourly": "rentals",
    "car_evaluation": "acceptability",
    "connect_4": "outcome",
    "diamonds": "price",
    "nyc_flights_2013": "arr_delay",
    "penguins": "species",
}

# Runs in a fresh interpreter: opens the database file, scores the test fold in SQL.
SCORER = r"""
import json, sys, time, sqlml
db, target, problem, positive = sys.argv[1:5]
conn = sqlml.connect(db, synchronous=True)
features = [r[0] for r in conn.execute(
    "SELECT column_name FROM information_schema.columns WHERE table_name = 'data' "
    "AND column_name NOT IN (?, 'fold') ORDER BY ordinal_position", [target]).fetchall()]
call = "predict_data(" + ", ".join(f'"{c}"' for c in features) + ")"
started = time.monotonic()
conn.sql(f"CREATE TABLE scored AS SELECT \"{target}\" AS y, {call} AS p FROM data WHERE fold = 0")
seconds = time.monotonic() - started
if problem == "REGRESSION":
    rmse, r2 = conn.execute("SELECT sqrt(avg((p - y) ** 2)), 1 - sum((p - y) ** 2) / "
                            "sum((y - (SELECT avg(y) FROM scored)) ** 2) FROM scored").fetchone()
    metrics = {"rmse": rmse, "r2": r2}
else:
    (accuracy,) = conn.execute("SELECT avg((p = y)::INT) FROM scored").fetchone()
    (balanced,) = conn.execute("SELECT avg(recall) FROM (SELECT avg((p = y)::INT) AS recall "
                               "FROM scored GROUP BY y)").fetchone()
    metrics = {"accuracy": accuracy, "balanced_accuracy": balanced}
    if problem == "BINARY_CLASSIFICATION":
        (f1,) = conn.execute(
            "SELECT 2 * count(*) FILTER (p::VARCHAR = $1 AND y::VARCHAR = $1) / "
            "nullif(count(*) FILTER (p::VARCHAR = $1) + count(*) FILTER (y::VARCHAR = $1), 0) "
            "FROM scored", [positive]).fetchone()
        metrics["f1"] = f1
(rows,) = conn.execute("SELECT count(*) FROM scored").fetchone()
print(json.dumps({"metrics": metrics, "test_rows": rows, "predict_seconds": seconds}))
"""


def run_one(name: str, target: str, folder: Path, max_runtime: int, max_cells: int | None) -> dict:
    db = folder / f"{name}.duckdb"
    settings = f"MAX_RUNTIME {max_runtime}" + (f", MAX_CELLS {max_cells}" if max_cells else "")
    with sqlml.connect(db, synchronous=True) as conn:
        conn.sql(
            f"CREATE TABLE data AS SELECT *, (row_number() OVER ()) % 5 AS fold "
            f"FROM read_parquet('{(DATASETS / f'{name}.parquet').as_posix()}')"
        )
        started = time.monotonic()
        conn.sql(
            f"CREATE MODEL m FROM (SELECT * EXCLUDE (fold) FROM data WHERE fold <> 0) "
            f'TARGET "{target}" FUNCTION predict_data SETTINGS ({settings})'
        )
        train_seconds = time.monotonic() - started
        info = dict(conn.execute("SHOW MODEL m").fetchall())
        manifest = json.loads((conn.store.path("main", "m") / "model.json").read_text())
    problem = manifest["problem_type"]
    positive = str(manifest["model"].get("positive_class"))
    out = subprocess.run(
        [sys.executable, "-c", SCORER, str(db), target, problem, positive],
        capture_output=True,
        text=True,
        check=True,
    )
    scored = json.loads(out.stdout)
    validation = {k: v for k, v in info.items() if k.startswith("validation:")}
    return {
        "dataset": name,
        "problem": problem,
        "train_rows": manifest["training"]["rows_used"],
        "train_seconds": train_seconds,
        "validation": validation,
        **scored,
    }


def fmt_metrics(metrics: dict) -> str:
    return ", ".join(
        f"{k} {v:.4f}" if abs(v) < 1000 else f"{k} {v:,.1f}" for k, v in metrics.items()
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-runtime", type=int, default=60)
    parser.add_argument("--max-cells", type=int, default=None)
    parser.add_argument("--datasets", default=",".join(TARGETS))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sqlml-bench-") as tmp:
        for name in args.datasets.split(","):
            result = run_one(name, TARGETS[name], Path(tmp), args.max_runtime, args.max_cells)
            rows.append(result)
            print(
                f"  {name}: {fmt_metrics(result['metrics'])} ({result['train_seconds']:.1f} s)",
                file=sys.stderr,
            )
    print(
        "| dataset | problem type | train rows | test rows | test metric (SQL, new process) "
        "| validation | train s | predict s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['dataset']} | {r['problem']} | {r['train_rows']:,} | {r['test_rows']:,} | "
            f"{fmt_metrics(r['metrics'])} | {fmt_metrics(r['validation'] and {k: float(v) for k, v in r['validation'].items()})} "
            f"| {r['train_seconds']:.1f} | {r['predict_seconds']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
