"""Prediction on Spark: rows per second per core of ``SELECT sum(fn(...))`` in Spark SQL against
the raw booster on the same rows, and against the pandas UDF a Spark user would write.

    python bench/spark_predict.py [--rows 10000000] [--cores 2] [--max-runtime 60] [--repeat 3]
                                  [--auto-rows N] [--folder F]

The table and the two models are ``bench/predict.py``'s (``--rows`` rows x 20 columns: 14
DOUBLE, 2 BIGINT, 4 VARCHAR of 5 to 1,000 levels; ``auto``, the ensemble CREATE MODEL picks in
``--max-runtime`` seconds, and ``lgb``, one LightGBM of 300 rounds), built in DuckDB, written
to Parquet and read by a Spark ``local[--cores]`` session, cached in Spark's memory before any
clock starts. Paths, each timed ``--repeat`` times in rotating order (best time kept):

- ``sql``: ``SELECT sum(fn(c1, ..., c20)) FROM big`` through sqlml's Spark engine (the Arrow
  UDF behind the model's SQL function, in Spark's Python workers);
- ``sql_pandas``: the same sqlml function registered as a ``pandas_udf`` instead (Series in,
  Series out), to choose between Spark's two vectorized UDF kinds;
- ``user`` (``lgb`` only): the hand-written pandas UDF a Spark user would write: a LightGBM
  booster of the same parameters trained on pandas with category columns, loaded once per
  worker, predicting each batch's DataFrame;
- ``raw``: the model called on the whole preprocessed matrix in the driver, on one thread
  (``booster.predict`` for ``lgb``, the ensemble's own predict for ``auto``).

``--auto-rows N`` scores the AutoML model on the first N rows only (its ensemble may predict
40 times slower than the single LightGBM: 10 M rows would take its raw path alone an hour).

Spark's figures are divided by ``--cores`` (its task slots), raw's by one: rows per second per
core. Every library runs one thread per process (``OMP_NUM_THREADS=1``), so Spark's
parallelism is its tasks, as on a cluster. On a busy machine Spark's tasks get less than
``--cores`` cores, so the bench also reports rows per CPU second: Spark's CPU is that of its
whole process tree (the JVM, which also reads the cached table and moves the Arrow batches,
and every Python worker), read from ``/proc`` before and after each query; raw's is the
bench process's own.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from predict import CATEGORICAL, FEATURES, INTEGER, NUMERIC, TRAIN_ROWS, build  # noqa: E402

USER_PARAMS = {
    "objective": "regression",
    "learning_rate": 0.05,
    "num_leaves": 63,
    "min_data_in_leaf": 20,
    "verbose": -1,
    "num_threads": 1,
}


def _spark(cores: int, src: str):
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("sqlml-bench")
        .config("spark.driver.memory", "8g")  # 10 M rows cached in memory, not spilled
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.executorEnv.PYTHONPATH", os.pathsep.join([src, *sys.path]))
        .config("spark.pyspark.python", sys.executable)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _user_model(conn, folder: Path) -> tuple[Path, dict[str, list[str]]]:
    """What a Spark user would do without sqlml: LightGBM on pandas with category columns."""
    import lightgbm as lgb
    import pandas as pd

    frame = conn.execute(f"SELECT {', '.join(FEATURES)}, y FROM train").arrow().to_pandas()
    categories = {c: sorted(frame[c].dropna().unique().tolist()) for c in CATEGORICAL}
    for c, levels in categories.items():
        frame[c] = pd.Categorical(frame[c], categories=levels)
    data = lgb.Dataset(frame[FEATURES], frame["y"], categorical_feature=list(CATEGORICAL))
    booster = lgb.train(USER_PARAMS, data, num_boost_round=300)
    path = folder / "user_lgb.txt"
    booster.save_model(str(path))
    return path, categories


def _user_udf(path: str, categories: dict[str, list[str]]):
    """The hand-written pandas UDF: the booster loaded once per Python worker."""
    from pyspark.sql.functions import pandas_udf

    def predict(*columns):
        import lightgbm as lgb
        import pandas as pd

        # A worker keeps its modules between tasks: the booster is cached on one of them.
        cache = sys.modules["lightgbm"].__dict__.setdefault("_bench_boosters", {})
        booster = cache.get(path)
        if booster is None:
            booster = cache[path] = lgb.Booster(model_file=path)
        frame = pd.concat(columns, axis=1, keys=FEATURES)
        for c, levels in categories.items():
            frame[c] = pd.Categorical(frame[c], categories=levels)
        return pd.Series(booster.predict(frame, num_threads=1))

    return pandas_udf(predict, "double")


def _sqlml_pandas_udf(directory: Path, manifest: dict):
    """sqlml's prediction function as a pandas UDF (Series converted to Arrow and back)."""
    from pyspark.sql.functions import pandas_udf

    from sqlml.functions import _predict

    fn = _predict(directory, manifest, "predict")

    def predict(*columns):
        import pyarrow as pa

        return fn([pa.Array.from_pandas(c) for c in columns]).to_pandas()

    return pandas_udf(predict, "double")


def _tree_cpu(root: int) -> float:
    """CPU seconds used so far by process ``root`` and all its descendants (Linux)."""
    parents, used = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        used[int(entry)] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    total = 0
    for pid, ticks in used.items():
        node = pid
        while node > 1 and node != root:
            node = parents.get(node, 0)
        total += ticks if node == root else 0
    return total / os.sysconf("SC_CLK_TCK")


def _raw(conn, predictor, model: str, rows: int) -> tuple[float, float]:
    table = conn.execute(f"SELECT {', '.join(FEATURES)} FROM big LIMIT {rows}").arrow()
    matrices = predictor.model.matrices([table.column(c) for c in FEATURES])
    assert table.num_rows == rows
    del table
    start, cpu = time.perf_counter(), time.process_time()
    if model == "lgb":
        booster = predictor.model.members[0].models[0]
        booster.predict(matrices["tree"], num_threads=1).sum()
    else:
        predictor.model.predict_matrix(matrices).sum()
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--max-runtime", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--folder", default=None, help="keep the table and models here")
    parser.add_argument("--skip-auto", action="store_true", help="measure the LightGBM only")
    parser.add_argument(
        "--auto-rows",
        type=int,
        default=None,
        help="score the AutoML model on the first N rows only (default: all; its raw predict "
        "alone may take an hour on 10 M rows)",
    )
    args = parser.parse_args()

    import sqlml
    from sqlml.runtime.predictor import load_predictor

    folder = Path(args.folder or tempfile.mkdtemp(prefix="sqlml-spark-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "bench.duckdb").exists():
        t = time.perf_counter()
        build(folder, max(args.rows, TRAIN_ROWS), args.max_runtime)
        print(f"built in {time.perf_counter() - t:.0f} s", flush=True)
    duck = sqlml.connect(folder / "bench.duckdb", synchronous=True)
    parquet = folder / "big.parquet"
    if not parquet.exists():
        duck.sql(f"COPY big TO '{parquet}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)")
    user_path, categories = _user_model(duck, folder)

    src = str(Path(sqlml.__file__).resolve().parents[1])
    spark = _spark(args.cores, src)
    big = spark.read.parquet(str(parquet)).repartition(args.cores * 4).cache()
    rows = big.count()
    big.createOrReplaceTempView("big")
    auto_rows = min(args.auto_rows or rows, rows)
    if auto_rows < rows:  # a cached table of its own, spread over the same partitions
        part = spark.read.parquet(str(parquet)).limit(auto_rows).repartition(args.cores * 4)
        part.cache().count()
        part.createOrReplaceTempView("big_auto")
    conn = sqlml.connect(spark=spark, model_store=folder / "bench.duckdb.models")
    numbers = set(NUMERIC + INTEGER)
    cast = ", ".join(f"CAST({c} AS DOUBLE)" if c in numbers else c for c in FEATURES)
    spark.udf.register("user_lgb", _user_udf(str(user_path), categories))

    models = ["lgb"] if args.skip_auto else ["lgb", "auto"]
    print(f"{rows:,} rows x {len(FEATURES)} columns, Spark local[{args.cores}]", flush=True)
    print(f"auto: {(folder / 'chosen.txt').read_text().strip()}")
    root = spark.sparkContext._gateway.proc.pid  # the JVM (driver and executor in local mode)
    print("model | path | best s | rows/s/core | vs raw | vs user | rows/CPU s | vs raw (CPU)")
    for model in models:
        table, n = (
            ("big_auto", auto_rows) if model == "auto" and auto_rows < rows else ("big", rows)
        )
        manifest = conn.store.get("main", model)
        directory = conn.store.path("main", model)
        predictor = load_predictor(directory, manifest)
        fn = manifest["function"]["name"]
        spark.udf.register(f"{fn}_pandas", _sqlml_pandas_udf(directory, manifest))
        queries = {
            "sql": f"SELECT sum({fn}({', '.join(FEATURES)})) FROM {table}",
            "sql_pandas": f"SELECT sum({fn}_pandas({cast})) FROM {table}",
        }
        if model == "lgb":
            queries["user"] = f"SELECT sum(user_lgb({cast})) FROM {table}"
        for q in queries.values():  # workers started, packages loaded
            spark.sql(
                q.replace(f"FROM {table}", f"FROM (SELECT * FROM {table} LIMIT 1000)")
            ).collect()
        print(f"{model}: {n:,} rows", flush=True)
        best: dict[str, float] = {}
        cpu: dict[str, float] = {}
        paths = [*queries, "raw"]
        for round_ in range(args.repeat):
            order = paths[round_ % len(paths) :] + paths[: round_ % len(paths)]
            for path in order:
                if path == "raw":
                    seconds, used = _raw(duck, predictor, model, n)
                else:
                    start, before = time.perf_counter(), _tree_cpu(root)
                    spark.sql(queries[path]).collect()
                    seconds = time.perf_counter() - start
                    used = _tree_cpu(root) - before
                best[path] = min(best.get(path, float("inf")), seconds)
                cpu[path] = min(cpu.get(path, float("inf")), used)
        per_core = {p: n / s / (1 if p == "raw" else args.cores) for p, s in best.items()}
        for path, seconds in best.items():
            vs_user = f"{per_core[path] / per_core['user']:.2f}" if "user" in per_core else "-"
            per_cpu = n / cpu[path]
            print(
                f"{model} | {path} | {seconds:.2f} | {per_core[path]:,.0f} | "
                f"{per_core[path] / per_core['raw']:.2f} | {vs_user} | {per_cpu:,.0f} | "
                f"{per_cpu * cpu['raw'] / n:.2f}",
                flush=True,
            )
    conn.close()
    duck.close()
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
