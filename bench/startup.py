"""Start-up of the sqlml command: ``sqlml DB -c "SELECT 1"`` from process start to exit.

Printed beside two baselines run in the same loop, so that a busy machine shows as slower
baselines rather than a slower sqlml: a bare ``python -c pass`` and ``python -c "import duckdb;
duckdb.connect(DB).execute('SELECT 1')"`` (what any DuckDB-based tool pays). Each figure is the
median of ``--repeat`` runs.

The children run with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed from their
environment, as this machine sets it): an installed package has its ``.pyc`` files, and
compiling sqlml's and sqlglot's sources at every start would cost about 0.1 s more.

    python bench/startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=ENV)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "s.duckdb")
        # A first run writes the bytecode caches.
        timed([sys.executable, "-m", "sqlml", db, "-c", "SELECT 1"])
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "duckdb SELECT 1": [
                sys.executable,
                "-c",
                f"import duckdb; duckdb.connect({db!r}).execute('SELECT 1').fetchall()",
            ],
            "sqlml -c SELECT 1": [sys.executable, "-m", "sqlml", db, "-c", "SELECT 1"],
        }
        runs: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, argv in commands.items():  # interleaved: load affects all alike
                runs[name].append(timed(argv))
    medians = {name: statistics.median(values) for name, values in runs.items()}
    base = medians["duckdb SELECT 1"]
    for name, value in medians.items():
        print(f"{name:20} {value:6.3f} s  ({value / base:4.2f}x duckdb SELECT 1)")


if __name__ == "__main__":
    main()
