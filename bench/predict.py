"""Prediction throughput and latency: the SQL function against the model called directly.

    python bench/predict.py [--rows 1000000] [--max-runtime 60] [--repeat 5]

Builds a DuckDB table of ``--rows`` rows x 20 columns (14 DOUBLE, 2 BIGINT, 4 VARCHAR of 5 to
1,000 levels; seeded, generated in SQL) with a regression target, and two models on its first
100,000 rows:

- ``lgb``: one LightGBM booster (sqlml's default LightGBM configuration, 300 rounds) in a
  package of its own, written with sqlml's preprocessing;
- ``auto``: the ensemble CREATE MODEL picks within ``--max-runtime`` seconds.

For each model, each path runs in a fresh process (so its peak memory is its own), ``--repeat``
times for ``lgb`` and ``--auto-repeat`` times (default once) for ``auto``, whose ensemble takes
minutes per pass. The runs go in rounds of one run per path, in an order that rotates between
rounds, and the best time of each path is kept (``--auto-repeat 0`` skips ``auto``):

- ``sql``: ``SELECT sum(fn(c1, ..., c20)) FROM big``, the function streaming DuckDB's batches;
- ``raw``: the model called once on the whole preprocessed matrix (``booster.predict`` for
  ``lgb``, the ensemble's own predict for ``auto``), the matrix built before the clock starts;
- ``pandas``: the round trip a user would write without sqlml: the table to a DataFrame, the
  model on it, the predictions written back as a table.
- ``bound`` (``lgb`` only): what any DuckDB Python function reaches here. It is registered as
  sqlml registers ``fn`` and receives the same columns in the same batches on DuckDB's threads,
  but skips sqlml's preprocessing: the booster predicts the next slice of the ready-made matrix.
  ``sql`` against ``bound`` is what sqlml's own per-batch work costs.

Before the clock starts, the raw and bound paths build the matrix and the others read the
table once (each path runs in a fresh process, and a first scan would also time reading the
file). Peak memory is the process's peak RSS above its RSS at that point, with the model
loaded. Then the p50 and p99 latency of a one-row ``SELECT fn(literal, ...)``, beside a one-row
``SELECT hash(literal, ...)`` (a built-in function of the same values: what DuckDB itself costs
per statement). The ratios compare paths measured in the same run on the same machine: best
time against best time, and the median over rounds of the ratio within a round.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

TRAIN_ROWS = 100_000
LATENCY_RUNS = 500
NUMERIC = [f"x{i}" for i in range(14)]
INTEGER = ["n0", "n1"]
CATEGORICAL = {"c0": 5, "c1": 20, "c2": 100, "c3": 1000}
FEATURES = NUMERIC + INTEGER + list(CATEGORICAL)


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(folder: Path, rows: int, budget: int) -> None:
    """The table and both models, in ``folder/bench.duckdb``."""
    import sqlml
    from sqlml.automl.budget import Deadline
    from sqlml.automl.learners import LEARNERS, FitData
    from sqlml.automl.model import Member
    from sqlml.automl.preprocessing import transform, view
    from sqlml.runtime.predictor import load_fitted

    # Hash-based columns: reproducible, no Python loop over rows.
    numeric = [f"(hash(i, {k}) % 2000000) / 1000000.0 - 1.0 AS {c}" for k, c in enumerate(NUMERIC)]
    integer = [f"hash(i, {100 + k}) % 50 AS {c}" for k, c in enumerate(INTEGER)]
    categorical = [
        f"'L' || (hash(i, {200 + k}) % {levels}) AS {c}"
        for k, (c, levels) in enumerate(CATEGORICAL.items())
    ]
    with sqlml.connect(folder / "bench.duckdb", synchronous=True) as conn:
        conn.sql(
            f"CREATE TABLE raw AS SELECT i, {', '.join(numeric + integer + categorical)} "
            f"FROM range({rows}) t(i)"
        )
        # A target with interactions, category effects and noise.
        conn.sql(
            "CREATE TABLE big AS SELECT * EXCLUDE (i), "
            "x0 * x1 + sin(3 * x2) + abs(x3) * (n0 % 7) / 3 + (c0 = 'L1')::INT * 2 "
            "+ (hash(c2) % 10) / 5.0 + (hash(c3) % 3) / 3.0 * x4 + x5 * x5 "
            "+ (hash(i, 999) % 1000) / 2000.0 AS y FROM raw"
        )
        conn.sql("DROP TABLE raw")
        conn.sql(f"CREATE TABLE train AS SELECT * FROM big LIMIT {TRAIN_ROWS}")
        conn.sql(
            "CREATE MODEL auto FROM train TARGET y FUNCTION predict_auto "
            f"SETTINGS (MAX_RUNTIME {budget})"
        )
        # The single LightGBM model: the ensemble's package with one booster in its place.
        manifest = conn.store.get("main", "auto")
        model = load_fitted(conn.store.path("main", "auto"), manifest)
        table = conn.execute(f"SELECT {', '.join(FEATURES)}, y FROM train").arrow()
        indices, categorical = view(model.plan, "tree")
        X = transform(model.plan, [table.column(c) for c in FEATURES])
        X = X if indices is None else X[:, indices]
        learner = LEARNERS["lightgbm"]
        params = learner.portfolio("REGRESSION", TRAIN_ROWS, X.shape[1])[0][1]
        y = table.column("y").to_numpy()
        booster = learner.fit(
            params,
            FitData(X, y, "REGRESSION", 0, categorical, 0, rounds=300),
            Deadline(600),
        )
        model.members = [Member("lightgbm", "lightgbm", 1.0, None, [booster])]
        model.dense_plan, model.explanation = None, None
        single = {
            **manifest,
            "name": "lgb",
            "function": {**manifest["function"], "name": "predict_lgb"},
            "package_id": uuid.uuid4().hex,
        }
        conn.store.create(single, lambda folder: {"model": model.save(folder)})
        conn.sync_functions(force=True)
        summary = manifest["model"]["summary"]["chosen"]
    (folder / "chosen.txt").write_text(summary)


def _warm(conn, args: str) -> None:
    """Read every column once, so the timed query finds the table in DuckDB's buffer pool, as
    the raw path finds its matrix in memory (each path runs in a fresh process)."""
    conn.execute(f"SELECT sum(hash({args})) FROM big").fetchall()


def _matrices(conn, predictor) -> tuple[dict, int]:
    """The whole table preprocessed, as the model's matrices, and its row count (the table
    itself is freed before the caller measures memory)."""
    table = conn.execute(f"SELECT {', '.join(FEATURES)} FROM big").arrow()
    return predictor.model.matrices([table.column(c) for c in FEATURES]), table.num_rows


def run_path(folder: Path, model: str, path: str) -> dict:
    """One measurement, in this (fresh) process."""
    import numpy as np
    import pyarrow as pa

    import sqlml
    from sqlml.runtime.predictor import load_predictor

    conn = sqlml.connect(folder / "bench.duckdb", synchronous=True)
    manifest = conn.store.get("main", model)
    predictor = load_predictor(conn.store.path("main", model), manifest)
    fn = manifest["function"]["name"]
    args = ", ".join(FEATURES)
    out: dict = {"model": model, "path": path}
    if path == "raw":
        matrices, rows = _matrices(conn, predictor)
        base = _rss_mb()
        start = time.perf_counter()
        if model == "lgb":
            booster = predictor.model.members[0].models[0]
            total = float(booster.predict(matrices["tree"]).sum())
        else:
            total = float(predictor.model.predict_matrix(matrices).sum())
        seconds = time.perf_counter() - start
    elif path == "sql":
        rows = conn.execute("SELECT count(*) FROM big").fetchone()[0]
        conn.execute(f"SELECT {fn}({args}) FROM big LIMIT 1").fetchall()  # loads the model
        _warm(conn, args)
        base = _rss_mb()
        start = time.perf_counter()
        (total,) = conn.execute(f"SELECT sum({fn}({args})) FROM big").fetchone()
        seconds = time.perf_counter() - start
    elif path == "bound":
        # What any DuckDB Python function can reach here: it receives the same 20 columns,
        # batch by batch and on DuckDB's threads, but skips sqlml's preprocessing and only has
        # the booster predict the next ready-made slice of the preprocessed matrix.
        matrices, rows = _matrices(conn, predictor)
        X = matrices["tree"]
        booster = predictor.model.members[0].models[0]
        lock, taken = threading.Lock(), [0]

        def bound(columns):
            n = len(columns[0])
            with lock:
                start = taken[0] % (rows - n + 1)
                taken[0] += n
            return pa.array(booster.predict(X[start : start + n]))

        # Registered as sqlml registers its functions: same wrapper, types and null handling.
        from sqlml.statements import catalog

        features, _ = catalog.columns(manifest, conn.engine)
        conn.engine.register_function("bound", "bench", bound, features, pa.float64())
        conn.execute(f"SELECT bound({args}) FROM big LIMIT 1").fetchall()
        _warm(conn, args)
        base = _rss_mb()
        start = time.perf_counter()
        (total,) = conn.execute(f"SELECT sum(bound({args})) FROM big").fetchone()
        seconds = time.perf_counter() - start
    elif path == "pandas":
        rows = conn.execute("SELECT count(*) FROM big").fetchone()[0]
        _warm(conn, args)
        base = _rss_mb()
        start = time.perf_counter()
        frame = conn.duckdb.sql("SELECT * FROM big").df()
        columns = [pa.array(frame[c]) for c in FEATURES]
        frame["prediction"] = np.asarray(predictor.predict_raw(columns))
        conn.duckdb.register("scored", frame)
        conn.duckdb.execute("CREATE OR REPLACE TEMP TABLE scored_back AS SELECT * FROM scored")
        (total,) = conn.duckdb.execute("SELECT sum(prediction) FROM scored_back").fetchone()
        seconds = time.perf_counter() - start
    else:  # one-row latency, and a built-in function of the same literals as the baseline
        literal = conn.execute(f"SELECT {args} FROM big LIMIT 1").fetchone()
        values = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in literal)
        for name, query in (("", f"SELECT {fn}({values})"), ("base_", f"SELECT hash({values})")):
            conn.execute(query).fetchall()
            times = []
            for _ in range(LATENCY_RUNS):
                start = time.perf_counter()
                conn.execute(query).fetchall()
                times.append(time.perf_counter() - start)
            times.sort()
            out[f"{name}p50_ms"] = 1e3 * times[len(times) // 2]
            out[f"{name}p99_ms"] = 1e3 * times[int(len(times) * 0.99)]
        conn.close()
        return out
    out.update(
        rows=rows,
        seconds=seconds,
        rows_per_s=rows / seconds,
        peak_mb=max(_peak_mb() - base, 0.0),
        total=total,
    )
    conn.close()
    return out


def _run_one(folder: Path, model: str, path: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--run-one", str(folder), model, path],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(folder: Path, model: str, paths: tuple[str, ...], repeat: int) -> dict[str, dict]:
    """Each path ``repeat`` times, in rounds that run every path once, in an order that rotates
    from round to round: a slow spell of the shared machine then falls on all paths alike
    instead of on whichever ran during it. The best time of each path is kept (noise only ever
    slows a run down), with the median of its peak memory, and every run's time in round order
    (``by_round``) for ratios between runs of the same round."""
    runs: dict[str, list[dict]] = {p: [] for p in paths}
    for k in range(repeat):
        for path in paths[k % len(paths) :] + paths[: k % len(paths)]:
            runs[path].append(_run_one(folder, model, path))
    out = {}
    for path, results in runs.items():
        best = min(results, key=lambda r: r["seconds"])
        best["peak_mb"] = statistics.median(r["peak_mb"] for r in results)
        best["all_seconds"] = sorted(r["seconds"] for r in results)
        best["by_round"] = [r["seconds"] for r in results]
        out[path] = best
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--max-runtime", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--auto-repeat", type=int, default=1, help="runs per path for the (slow) ensemble"
    )
    parser.add_argument(
        "--folder", help="keep the table and models here (reused when already built)"
    )
    parser.add_argument("--run-one", nargs=3, metavar=("FOLDER", "MODEL", "PATH"))
    args = parser.parse_args()
    if args.run_one:
        folder, model, path = args.run_one
        print(json.dumps(run_path(Path(folder), model, path)))
        return 0
    with tempfile.TemporaryDirectory(prefix="sqlml-bench-predict-") as tmp:
        folder = Path(args.folder or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "chosen.txt").exists():
            start = time.perf_counter()
            build(folder, args.rows, args.max_runtime)
            print(f"built the table and models in {time.perf_counter() - start:.0f} s")
        print(f"auto = {(folder / 'chosen.txt').read_text()}")
        print()
        print(
            "| model | path | rows/s | best s | all runs s | peak MB | vs raw | vs raw, "
            "median of rounds | sum |\n|---|---|---|---|---|---|---|---|---|"
        )
        for model in ("lgb", "auto"):
            repeat = args.repeat if model == "lgb" else args.auto_repeat
            if repeat < 1:
                continue
            paths = (
                ("raw", "sql", "bound", "pandas") if model == "lgb" else ("raw", "sql", "pandas")
            )
            found = measure(folder, model, paths, repeat)
            for path, r in found.items():
                ratio = r["rows_per_s"] / found["raw"]["rows_per_s"]
                # raw's time over this path's in each round: both ran within seconds of each
                # other, so a slow spell of the machine mostly cancels out.
                paired = statistics.median(
                    raw / mine
                    for raw, mine in zip(found["raw"]["by_round"], r["by_round"], strict=True)
                )
                print(
                    f"| {model} | {path} | {r['rows_per_s']:,.0f} | {r['seconds']:.2f} | "
                    f"{' '.join(f'{x:.2f}' for x in r['all_seconds'])} | "
                    f"{r['peak_mb']:.0f} | {ratio:.3f} | {paired:.3f} | {r['total']:.6g} |"
                )
            latency = _run_one(folder, model, "latency")
            print(
                f"| {model} | one row | p50 {latency['p50_ms']:.2f} ms | "
                f"p99 {latency['p99_ms']:.2f} ms | | | | | built-in: p50 "
                f"{latency['base_p50_ms']:.2f} ms, p99 {latency['base_p99_ms']:.2f} ms |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
