"""``sqlml serve`` against a real PostgreSQL on the same machine, with the same clients and data.

    python bench/server.py [--rows 1000000] [--runs 5] [--seconds 60] [--clients 32]
    python bench/server.py --quick        # a smoke run: 100,000 rows, 2 runs, 10 s

Requirements: psycopg 3 and asyncpg (the ``test`` extra: ``pip install -e '.[test]'``) and the
PostgreSQL server binaries (``initdb``, ``pg_ctl``; found in ``/usr/lib/postgresql/*/bin`` or
given with ``--pg-bin``). Run as root, the PostgreSQL cluster is initialised and run as the
``postgres`` user (``runuser``), since ``initdb`` refuses root. Everything lives in one temporary
folder, removed at the end with both servers stopped. Run it on a quiet machine: both servers
and the clients share its cores.

One run starts both servers and loads the same data into each:

- ``big``: ``--rows`` rows x 10 columns (BIGINT, 2 INTEGER, 3 DOUBLE of which one has 5 %
  NULLs, 2 VARCHAR, a DATE, a BOOLEAN), generated in DuckDB into the database file that
  ``sqlml serve`` then serves, and exported as CSV for PostgreSQL's ``COPY``;
- ``t``: 10,000 rows of five DOUBLE features ``a``..``e`` and a target ``y`` (a linear function
  plus noise). Through the server, sqlml trains ``CREATE MODEL m FROM (SELECT a, b, c, d, e, y
  FROM t) TARGET y FUNCTION f MODEL_TYPE LINEAR_LEARNER SETTINGS (MAX_RUNTIME 60, MAX_TRIALS 1)``
  and the bench waits until it is READY.

Then it measures, alternating the two servers round by round where a measure repeats:

1. **fetch**: ``SELECT * FROM big`` and every row into Python objects, with psycopg 3
   (``fetchall``: text format, the extended protocol) and asyncpg (``fetch``: binary format,
   a prepared statement), on a connection opened beforehand; after one untimed warm-up fetch per
   server, the median of ``--runs`` runs, and the ratio's median over the rounds (each round
   runs both servers back to back). The goal named by issue 20: sqlml within 1.2x of
   PostgreSQL's time.
2. **round trips**: ``SELECT 1`` executed and fetched in a loop on one psycopg connection for
   ``--round-trip-seconds``; the median over ``--runs`` rounds of the rate and of the ratio.
3. **concurrency**: ``--clients`` asyncpg connections, each running one query in a loop for
   ``--seconds``: on sqlml the prediction ``SELECT f(a, b, c, d, e) FROM t LIMIT 1000``, on
   PostgreSQL the same arithmetic a linear model does, ``SELECT 3*a - 2*b + c + 0.5*d - e + 0.1
   FROM t LIMIT 1000``. Errors (an exception, or a result without 1,000 rows) are counted and
   must be zero; throughput in queries and rows per second, and the p50 and p99 latency.

The table gives absolute figures and the ratio sqlml/PostgreSQL from this one process (the
machine is shared and noisy, so only ratios measured side by side mean much): for times a ratio
above 1 means sqlml is slower, for rates a ratio below 1 means sqlml is slower.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
USER = "sqlml"
PASSWORD = "bench-Passw0rd"
START_TIMEOUT = 300

sys.path.insert(0, str(SRC.parent))  # the repository root, for the tests' server helper
from tests.serving import Served  # noqa: E402

MODEL_ROWS = 10_000
QUERY_ROWS = 1_000
SQLML_PREDICT = f"SELECT f(a, b, c, d, e) FROM t LIMIT {QUERY_ROWS}"
PG_PREDICT = f"SELECT 3*a - 2*b + c + 0.5*d - e + 0.1 FROM t LIMIT {QUERY_ROWS}"
FETCH = "SELECT * FROM big"

BIG_SQL = """
SELECT
    i::BIGINT AS id,
    (hash(i) % 1000000)::INTEGER AS n,
    (i % 97)::INTEGER AS k,
    CASE WHEN i % 20 = 0 THEN NULL ELSE random() * 1000 END AS x,
    random() AS y,
    round(random() * 10000, 2) AS price,
    'customer_' || (hash(i, 2) % 50000)::VARCHAR AS name,
    ['red', 'green', 'blue', 'yellow'][(i % 4)::INTEGER + 1] AS colour,
    DATE '2020-01-01' + (i % 1500)::INTEGER AS day,
    i % 3 = 0 AS flag
FROM range({rows}) r(i)
"""
BIG_PG = """CREATE TABLE big (
    id bigint, n integer, k integer, x double precision, y double precision,
    price double precision, name text, colour text, day date, flag boolean)"""
T_SQL = f"""
SELECT a, b, c, d, e, 3*a - 2*b + c + 0.5*d - e + 0.1 + (random() - 0.5) * 0.2 AS y
FROM (SELECT random() AS a, random() AS b, random() AS c, random() AS d, random() AS e
      FROM range({MODEL_ROWS}))
"""
T_PG = "CREATE TABLE t (a float8, b float8, c float8, d float8, e float8, y float8)"


# -- the two servers ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(given: str | None) -> Path:
    if given:
        return Path(given)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not found:
        sys.exit("No PostgreSQL binaries in /usr/lib/postgresql/*/bin: give --pg-bin.")
    return Path(found[-1])


class Postgres:
    """A PostgreSQL cluster initialised in ``folder`` and started on a free loopback port."""

    def __init__(self, folder: Path, binaries: Path):
        self.folder, self.bin = folder, binaries
        self.data, self.log = folder / "data", folder / "postgres.log"
        self.port = free_port()
        self.as_user = os.geteuid() == 0  # initdb refuses root: run it as postgres
        folder.mkdir()
        (folder / "pw").write_text(PASSWORD + "\n")
        if self.as_user:
            shutil.chown(folder, "postgres", "postgres")
            shutil.chown(folder / "pw", "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", USER, "--pwfile", str(folder / "pw"),
            "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync",
        )  # fmt: skip
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(START_TIMEOUT),
            "-o", f"-p {self.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )  # fmt: skip
        self.version = self._run("postgres", "--version").strip()

    def _run(self, program: str, *args: str) -> str:
        command = [str(self.bin / program), *args]
        if self.as_user:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}{log}")
        return done.stdout

    def params(self) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "dbname": "postgres"}

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        except RuntimeError as e:
            print(e, file=sys.stderr)


class Sqlml(Served):
    """``sqlml serve DATABASE`` on a free port, started as the server tests start it
    (tests/serving.py: this checkout's ``src`` first on its path, the superuser's password in
    its environment)."""

    def __init__(self, database: Path):
        super().__init__(database, password=PASSWORD)

    def params(self) -> dict:
        return {"host": self.host, "port": self.port, "dbname": self.dbname}


def psycopg_connect(params: dict):
    import psycopg

    return psycopg.connect(
        **params, user=USER, password=PASSWORD, sslmode="disable", autocommit=True
    )


async def asyncpg_connect(params: dict):
    import asyncpg

    return await asyncpg.connect(
        host=params["host"],
        port=params["port"],
        database=params["dbname"],
        user=USER,
        password=PASSWORD,
        ssl=False,
        timeout=120,
        command_timeout=600,
    )


# -- the data -----------------------------------------------------------------------------------


def make_data(folder: Path, rows: int) -> tuple[Path, Path, Path]:
    """The DuckDB file sqlml serves, with ``big`` and ``t``; both tables as CSV for COPY."""
    sys.path.insert(0, str(SRC))
    import sqlml

    database = folder / "bench.duckdb"
    big_csv, t_csv = folder / "big.csv", folder / "t.csv"
    with sqlml.connect(str(database)) as conn:
        conn.sql("SELECT setseed(0.42)")
        conn.sql("CREATE TABLE big AS " + BIG_SQL.format(rows=rows))
        conn.sql("CREATE TABLE t AS " + T_SQL)
        conn.sql(f"COPY big TO '{big_csv}' (FORMAT csv, HEADER false)")
        conn.sql(f"COPY t TO '{t_csv}' (FORMAT csv, HEADER false)")
    return database, big_csv, t_csv


def load_postgres(pg: Postgres, big_csv: Path, t_csv: Path) -> None:
    with psycopg_connect(pg.params()) as conn:
        for create, table, csv in ((BIG_PG, "big", big_csv), (T_PG, "t", t_csv)):
            conn.execute(create)
            with (
                conn.cursor().copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy,
                open(csv, "rb") as f,
            ):
                while block := f.read(1 << 20):
                    copy.write(block)
        conn.execute("VACUUM ANALYZE")


CHECK = "SELECT count(*), sum(n), sum(k), count(x), sum(day - DATE '2020-01-01'), sum(flag::int) FROM big"


def check_same(sq: Sqlml, pg: Postgres) -> None:
    answers = []
    for server in (sq, pg):
        with psycopg_connect(server.params()) as conn:
            answers.append(tuple(int(v) for v in conn.execute(CHECK).fetchone()))
    if answers[0] != answers[1]:
        raise RuntimeError(f"the two tables differ: sqlml {answers[0]}, PostgreSQL {answers[1]}")


def train_model(sq: Sqlml) -> float:
    """CREATE MODEL through the server; the seconds until READY."""
    start = time.perf_counter()
    with psycopg_connect(sq.params()) as conn:
        conn.execute(
            "CREATE MODEL m FROM (SELECT a, b, c, d, e, y FROM t) TARGET y FUNCTION f "
            "MODEL_TYPE LINEAR_LEARNER SETTINGS (MAX_RUNTIME 60, MAX_TRIALS 1)"
        )
        while True:
            state = conn.execute(
                "SELECT life_cycle FROM stv_ml_model_info WHERE model_name = 'm'"
            ).fetchone()[0]
            if state == "READY":
                return time.perf_counter() - start
            if state == "FAILED" or time.perf_counter() - start > 600:
                raise RuntimeError(f"the model did not train: {state}")
            time.sleep(0.5)


# -- the measures -------------------------------------------------------------------------------


def fetch_psycopg(conn, rows: int) -> float:
    start = time.perf_counter()
    got = conn.execute(FETCH).fetchall()
    elapsed = time.perf_counter() - start
    assert len(got) == rows, len(got)
    return elapsed


def fetch_asyncpg(loop, conn, rows: int) -> float:
    start = time.perf_counter()
    got = loop.run_until_complete(conn.fetch(FETCH))
    elapsed = time.perf_counter() - start
    assert len(got) == rows, len(got)
    return elapsed


def round_trips(conn, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(50):
            conn.execute("SELECT 1").fetchone()
        count += 50
    return count / (time.perf_counter() - start)


async def concurrent(params: dict, query: str, clients: int, seconds: float) -> dict:
    conns = await asyncio.gather(*(asyncpg_connect(params) for _ in range(clients)))
    for conn in conns:  # prepared, so the clock counts the queries only
        await conn.fetch(query)
    latencies: list[float] = []
    errors: list[str] = []
    rows = 0

    async def client(conn):
        nonlocal rows
        while time.perf_counter() < deadline:
            begin = time.perf_counter()
            try:
                got = await conn.fetch(query)
            except Exception as e:  # counted: the goal is none
                errors.append(f"{type(e).__name__}: {e}")
                continue
            latencies.append(time.perf_counter() - begin)
            if len(got) != QUERY_ROWS:
                errors.append(f"{len(got)} rows instead of {QUERY_ROWS}")
            rows += len(got)

    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(client(c) for c in conns))
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in conns))
    latencies.sort()
    return {
        "queries": len(latencies) / elapsed,
        "rows": rows / elapsed,
        "errors": len(errors),
        "first_errors": errors[:3],
        "p50": latencies[len(latencies) // 2] if latencies else float("nan"),
        "p99": latencies[int(len(latencies) * 0.99)] if latencies else float("nan"),
        "count": len(latencies),
    }


# -- the run ------------------------------------------------------------------------------------


def _median_ratio(ours: list[float], theirs: list[float]) -> float:
    """The median over rounds of sqlml's figure over PostgreSQL's in the same round."""
    return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))


def measure(args, sq: Sqlml, pg: Postgres) -> list[tuple]:
    servers = {"sqlml": sq, "postgres": pg}
    table: list[tuple] = []

    # 1. the fetch, psycopg then asyncpg, rounds alternating which server goes first
    times = {(s, c): [] for s in servers for c in ("psycopg", "asyncpg")}
    loop = asyncio.new_event_loop()
    sync = {name: psycopg_connect(s.params()) for name, s in servers.items()}
    asyn = {
        name: loop.run_until_complete(asyncpg_connect(s.params())) for name, s in servers.items()
    }
    for name in servers:  # warm-up: the table read once, the statement prepared
        fetch_psycopg(sync[name], args.rows)
        fetch_asyncpg(loop, asyn[name], args.rows)
    for r in range(args.runs):
        order = list(servers) if r % 2 == 0 else list(servers)[::-1]
        for name in order:
            times[name, "psycopg"].append(fetch_psycopg(sync[name], args.rows))
            times[name, "asyncpg"].append(fetch_asyncpg(loop, asyn[name], args.rows))
        print(f"fetch round {r + 1}: " + ", ".join(
            f"{s}/{c} {v[-1]:.2f} s" for (s, c), v in times.items()
        ), flush=True)  # fmt: skip
    for client in ("psycopg", "asyncpg"):
        a = statistics.median(times["sqlml", client])
        b = statistics.median(times["postgres", client])
        ratio = _median_ratio(times["sqlml", client], times["postgres", client])
        label = f"fetch {args.rows:,} rows x 10, {client} (s, median of {args.runs})"
        table.append((label, f"{a:.2f}", f"{b:.2f}", f"{ratio:.2f}"))
    for name in servers:
        loop.run_until_complete(asyn[name].close())

    # 2. SELECT 1 round trips on one connection
    rates = {name: [] for name in servers}
    for r in range(args.runs):
        order = list(servers) if r % 2 == 0 else list(servers)[::-1]
        for name in order:
            rates[name].append(round_trips(sync[name], args.round_trip_seconds))
    for conn in sync.values():
        conn.close()
    a, b = statistics.median(rates["sqlml"]), statistics.median(rates["postgres"])
    ratio = _median_ratio(rates["sqlml"], rates["postgres"])
    print(f"round trips: sqlml {rates['sqlml']}, postgres {rates['postgres']}", flush=True)
    label = f"SELECT 1 round trips/s, psycopg, 1 connection ({args.round_trip_seconds:g} s x {args.runs})"
    table.append((label, f"{a:,.0f}", f"{b:,.0f}", f"{ratio:.2f}"))

    # 3. concurrent clients
    results = {}
    for name, query in (("sqlml", SQLML_PREDICT), ("postgres", PG_PREDICT)):
        results[name] = loop.run_until_complete(
            concurrent(servers[name].params(), query, args.clients, args.seconds)
        )
        print(f"concurrency {name}: {results[name]}", flush=True)
    loop.close()
    a, b = results["sqlml"], results["postgres"]
    prefix = f"{args.clients} clients x {args.seconds:g} s, {QUERY_ROWS:,}-row prediction"
    table.append((f"{prefix}: queries/s", f"{a['queries']:,.1f}", f"{b['queries']:,.1f}",
                  f"{a['queries'] / b['queries']:.2f}"))  # fmt: skip
    table.append((f"{prefix}: latency p50 / p99 (ms)",
                  f"{a['p50'] * 1e3:,.0f} / {a['p99'] * 1e3:,.0f}",
                  f"{b['p50'] * 1e3:,.0f} / {b['p99'] * 1e3:,.0f}",
                  f"{a['p50'] / b['p50']:.2f} / {a['p99'] / b['p99']:.2f}"))  # fmt: skip
    table.append((f"{prefix}: errors (queries run)", f"{a['errors']} ({a['count']:,})",
                  f"{b['errors']} ({b['count']:,})", ""))  # fmt: skip
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="fetch runs and round-trip rounds")
    parser.add_argument("--seconds", type=float, default=60, help="of the concurrent clients")
    parser.add_argument("--round-trip-seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--pg-bin", help="folder of initdb, pg_ctl and postgres")
    parser.add_argument(
        "--quick", action="store_true", help="100,000 rows, 2 runs, 10 s: a smoke run"
    )
    args = parser.parse_args()
    if args.quick:
        args.rows, args.runs, args.seconds, args.round_trip_seconds = 100_000, 2, 10, 2
    binaries = pg_bin(args.pg_bin)

    folder = Path(tempfile.mkdtemp(prefix="sqlml-serverbench-"))
    folder.chmod(0o755)  # the postgres user reaches its folder inside
    sq = pg = None
    try:
        start = time.perf_counter()
        database, big_csv, t_csv = make_data(folder, args.rows)
        pg = Postgres(folder / "pg", binaries)
        load_postgres(pg, big_csv, t_csv)
        sq = Sqlml(database)
        check_same(sq, pg)
        trained = train_model(sq)
        print(f"data loaded in both and the model READY ({trained:.1f} s to train) after "
              f"{time.perf_counter() - start:.0f} s; {pg.version}", flush=True)  # fmt: skip
        table = measure(args, sq, pg)
    finally:
        if sq is not None:
            sq.stop()
        if pg is not None:
            pg.stop()
        shutil.rmtree(folder, ignore_errors=True)

    print()
    print(f"python {platform.python_version()}, {os.cpu_count()} cores; PostgreSQL: {pg.version}")
    print(f"PostgreSQL's prediction query: {PG_PREDICT}")
    print()
    print("| measure | sqlml | PostgreSQL | sqlml/PostgreSQL |")
    print("|---|---|---|---|")
    for row in table:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
