"""Remote inference: rows per second through a remote model's function and an external model's
(LLM) function, at the default batch size and concurrency, against one request per row.

A stub endpoint (tests/http_stub.py, in a process of its own) answers every request after
``--latency`` seconds (20 ms by default), whatever its size: the shape of a model server whose
time is mostly the round trip. One request per row, waiting for each answer, is what a
row-at-a-time integration does (MindsDB's users' complaint); it runs at most 1 / latency rows
per second.

    python bench/remote.py [--latency 0.02] [--rows 20000] [--llm-rows 4000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlml

TESTS = Path(__file__).resolve().parent.parent / "tests"
STUB = (
    "import sys, time; sys.path.insert(0, sys.argv[1]); from http_stub import Stub; "
    "s = Stub(latency=float(sys.argv[2])); print(s.port, flush=True); time.sleep(1e9)"
)


def start_stub(latency: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", STUB, str(TESTS), str(latency)], stdout=subprocess.PIPE, text=True
    )
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


def rate(conn, query: str, rows: int) -> tuple[float, float]:
    started = time.perf_counter()
    conn.execute(query).fetchall()
    seconds = time.perf_counter() - started
    return rows / seconds, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--llm-rows", type=int, default=4_000)
    parser.add_argument("--baseline-rows", type=int, default=200)
    args = parser.parse_args()
    proc, url = start_stub(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            conn = sqlml.connect(Path(tmp) / "bench.duckdb")
            run(conn, url, args)
            conn.close()
    finally:
        proc.terminate()
        proc.wait()


def run(conn, url: str, args) -> None:
    conn.sql(
        f"CREATE TABLE t AS SELECT i, i * 0.5 AS x, 'row ' || i AS s FROM range({args.rows}) r(i)"
    )
    remote = "FUNCTION {fn}(int, float8, varchar) RETURNS float8 SAGEMAKER 'bench'"
    conn.sql(
        f"CREATE MODEL batched {remote.format(fn='batched')} "
        f"SETTINGS (ENDPOINT '{url}/invocations')"
    )
    conn.sql(
        f"CREATE MODEL one_by_one {remote.format(fn='one_by_one')} "
        f"SETTINGS (ENDPOINT '{url}/invocations', MAX_BATCH_ROWS 1, MAX_CONCURRENCY 1)"
    )
    llm = "MODEL_TYPE OPENAI SETTINGS (ENDPOINT '{url}/v1', MODEL_ID 'stub'{extra})"
    conn.sql(f"CREATE EXTERNAL MODEL llm FUNCTION ask {llm.format(url=url, extra='')}")
    for name, concurrency in (("one", 1), ("wide", 64)):
        conn.sql(
            f"CREATE EXTERNAL MODEL llm_{name} FUNCTION ask_{name} "
            + llm.format(url=url, extra=f", MAX_CONCURRENCY {concurrency}")
        )
    base = args.baseline_rows
    results = [
        ("remote, defaults", "SELECT sum(batched(i, x, s)) FROM t", args.rows),
        ("remote, 1 row/request", f"SELECT sum(one_by_one(i, x, s)) FROM t WHERE i < {base}", base),
        (
            "external, defaults",
            f"SELECT count(ask(s)) FROM t WHERE i < {args.llm_rows}",
            args.llm_rows,
        ),
        (
            "external, concurrency 64",
            f"SELECT count(ask_wide(s)) FROM t WHERE i < {args.llm_rows}",
            args.llm_rows,
        ),
        (
            "external, 1 row/request",
            f"SELECT count(ask_one(s)) FROM t WHERE i < {base}",
            base,
        ),
    ]
    conn.execute("SELECT batched(1, 1, 'warm'), ask('warm')").fetchall()  # connections, imports
    print(f"stub latency {args.latency * 1000:.0f} ms per request")
    print(f"{'path':<28}{'rows':>8}{'seconds':>10}{'rows/s':>12}")
    rates = {}
    for name, query, rows in results:
        rates[name], seconds = rate(conn, query, rows)
        print(f"{name:<28}{rows:>8}{seconds:>10.2f}{rates[name]:>12.0f}")
    for kind, path in (
        ("remote", "defaults"),
        ("external", "defaults"),
        ("external", "concurrency 64"),
    ):
        ratio = rates[f"{kind}, {path}"] / rates[f"{kind}, 1 row/request"]
        print(f"{kind}, {path}: {ratio:.0f}x the row-at-a-time rate (goal: 50x)")


if __name__ == "__main__":
    main()
