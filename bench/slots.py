"""Training slots: does a one-fit job wait behind an AutoML search?

Creates, in one database, an AUTO ON model with MAX_RUNTIME ``--search-runtime`` and right after
it a 1-second AUTO OFF XGBoost model, and prints when each is READY counted from its CREATE
MODEL statement; then the XGBoost model alone, as the baseline of the same machine at the same
moment. With one search slot (two cores), the XGBoost job used to be READY only after the search;
with its own lane it is READY in about the time it takes alone.

    python bench/slots.py [--search-runtime 30]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import sqlml
from sqlml.jobs.training import default_max_jobs

QUICK = (
    "CREATE MODEL {name} FROM (SELECT (x % 2)::INT AS a, x, y FROM points) TARGET a "
    "FUNCTION {name}_fn AUTO OFF MODEL_TYPE XGBOOST OBJECTIVE 'binary:logistic' "
    "PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '20')"
)
SEARCH = (
    "CREATE MODEL search FROM (SELECT x % 3 AS label, x, y FROM points) TARGET label "
    "FUNCTION search_fn SETTINGS (MAX_RUNTIME {runtime})"
)


def ready_after(conn, name: str, started: float) -> float:
    conn.wait_model(name)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--search-runtime", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sqlml.connect(Path(tmp) / "s.duckdb") as conn:
        conn.sql("CREATE TABLE points AS SELECT range AS x, random() AS y FROM range(20000)")
        search_started = time.monotonic()
        conn.sql(SEARCH.format(runtime=args.search_runtime))
        quick_started = time.monotonic()
        conn.sql(QUICK.format(name="quick"))
        quick = ready_after(conn, "quick", quick_started)
        search = ready_after(conn, "search", search_started)
        alone_started = time.monotonic()
        conn.sql(QUICK.format(name="alone"))
        alone = ready_after(conn, "alone", alone_started)
    print(f"search slots: {default_max_jobs()}")
    print(f"AUTO ON search, MAX_RUNTIME {args.search_runtime}: READY after {search:.1f} s")
    print(f"AUTO OFF XGBoost created during it: READY after {quick:.1f} s")
    print(f"the same XGBoost job alone: READY after {alone:.1f} s")
    print(f"ratio during / alone: {quick / alone:.2f}x")


if __name__ == "__main__":
    main()
