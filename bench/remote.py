"""Remote inference: rows per second through a remote model's function and an external model's
(LLM) function, at the default batch size and concurrency, against one request per row.

A stub endpoint (tests/http_stub.py, in a process of its own) answers every request after
``--latency`` seconds (20 ms by default), whatever its size: the shape of a model server whose
time is mostly the round trip. One request per row, waiting for each answer, is what a
row-at-a-time integration does (MindsDB's users' complaint); it runs at most 1 / latency rows
per second.

The external model is measured both ways an OpenAI-compatible server is asked: ``API 'CHAT'``
(the default: one prompt per request, as the chat protocol requires) and ``API 'COMPLETIONS'``
(16 prompts per request by default). The stub stands for a server elsewhere; its CPU is not
ours, but on a small machine it shares the cores with the client, so its cost is printed: it is
one asyncio loop serving kept-alive connections, about 0.2 ms of CPU per chat request
(``http.server`` with a thread per connection cost about 0.35 ms). The client's CPU per request
is printed beside it (the process's user + system time over the run, DuckDB included).

    python bench/remote.py [--latency 0.02] [--rows 20000] [--llm-rows 4000]
"""

from __future__ import annotations

import argparse
import os
import resource
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
TICK = os.sysconf("SC_CLK_TCK")


def start_stub(latency: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", STUB, str(TESTS), str(latency)], stdout=subprocess.PIPE, text=True
    )
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU of this process, or of process ``pid`` (Linux)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


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
            run(conn, url, proc.pid, args)
            conn.close()
    finally:
        proc.terminate()
        proc.wait()


def create_models(conn, url: str) -> None:
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
    for fn, extra in (
        ("ask", ""),
        ("ask_wide", ", MAX_CONCURRENCY 64"),
        ("ask_wider", ", MAX_CONCURRENCY 128"),
        ("ask_batched", ", API 'COMPLETIONS'"),
        ("ask_one", ", MAX_CONCURRENCY 1"),
    ):
        conn.sql(f"CREATE EXTERNAL MODEL m_{fn} FUNCTION {fn} {llm.format(url=url, extra=extra)}")


def run(conn, url: str, stub_pid: int, args) -> None:
    conn.sql(
        f"CREATE TABLE t AS SELECT i, i * 0.5 AS x, 'row ' || i AS s FROM range({args.rows}) r(i)"
    )
    create_models(conn, url)
    base, llm_rows = args.baseline_rows, args.llm_rows
    llm = "SELECT count({fn}(s)) FROM t WHERE i < {n}"
    results = [
        ("remote, defaults", "SELECT sum(batched(i, x, s)) FROM t", args.rows),
        ("remote, 1 row/request", f"SELECT sum(one_by_one(i, x, s)) FROM t WHERE i < {base}", base),
        ("external chat, defaults", llm.format(fn="ask", n=llm_rows), llm_rows),
        ("external chat, 64 in flight", llm.format(fn="ask_wide", n=llm_rows), llm_rows),
        ("external chat, 128 in flight", llm.format(fn="ask_wider", n=llm_rows), llm_rows),
        ("external completions, defaults", llm.format(fn="ask_batched", n=llm_rows), llm_rows),
        ("external, 1 row/request", llm.format(fn="ask_one", n=base), base),
    ]
    # Connections, imports:
    conn.execute("SELECT batched(1, 1, 'warm'), ask('warm'), ask_batched('warm')").fetchall()
    print(
        f"stub latency {args.latency * 1000:.0f} ms per request; load average "
        + " ".join(f"{v:.2f}" for v in os.getloadavg())
    )
    print(f"{'path':<32}{'rows':>7}{'seconds':>9}{'rows/s':>9}{'client us/row':>15}"
          f"{'stub us/row':>13}")  # fmt: skip
    rates = {}
    for name, query, rows in results:
        cpu, stub_cpu = cpu_seconds(), cpu_seconds(stub_pid)
        started = time.perf_counter()
        conn.execute(query).fetchall()
        seconds = time.perf_counter() - started
        cpu, stub_cpu = cpu_seconds() - cpu, cpu_seconds(stub_pid) - stub_cpu
        rates[name] = rows / seconds
        print(
            f"{name:<32}{rows:>7}{seconds:>9.2f}{rates[name]:>9.0f}"
            f"{cpu / rows * 1e6:>15.0f}{stub_cpu / rows * 1e6:>13.0f}"
        )
    for path in ("remote, defaults", "external chat, defaults", "external chat, 64 in flight",
                 "external chat, 128 in flight", "external completions, defaults"):  # fmt: skip
        kind = path.split(",")[0].split()[0]
        ratio = rates[path] / rates[f"{kind}, 1 row/request"]
        print(f"{path}: {ratio:.0f}x the row-at-a-time rate (goal: 50x)")
    print("load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
