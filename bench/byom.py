"""Imported models: prediction throughput of a model file called through SQL, against the same
model called directly on the whole matrix.

    python bench/byom.py [--rows 1000000] [--rounds 300] [--repeat 3]

Trains one LightGBM regression booster (``--rounds`` rounds, 10 numeric features, 50,000
rows) in plain Python, saves it as LightGBM text and converts it to ONNX (onnxmltools), imports
both with CREATE MODEL ... FROM 'file', and times ``SELECT sum(fn(c0, ..., c9)) FROM big`` over
``--rows`` rows for each, against ``booster.predict`` / onnxruntime on the whole matrix (built
before the clock starts). Best of ``--repeat``. Prints rows per second.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import sqlml

FEATURES = 10


def _best(run, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import lightgbm as lgb
    import onnxruntime as ort
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    rng = np.random.RandomState(0)
    X = rng.rand(50_000, FEATURES)
    y = X @ rng.rand(FEATURES) + np.sin(X[:, 0] * 6)
    booster = lgb.train({"objective": "regression", "verbose": -1}, lgb.Dataset(X, y), args.rounds)
    folder = Path(tempfile.mkdtemp(prefix="sqlml-byom-bench-"))
    booster.save_model(str(folder / "model.txt"))
    onx = convert_lightgbm(booster, initial_types=[("input", FloatTensorType([None, FEATURES]))])
    (folder / "model.onnx").write_bytes(onx.SerializeToString())

    conn = sqlml.connect(str(folder / "bench.duckdb"), synchronous=True)
    # Seeded values in [0, 1): a hash of the row number and the column.
    columns = ", ".join(
        f"(hash(range * {FEATURES} + {i}) % 1000000) / 1e6 AS c{i}" for i in range(FEATURES)
    )
    conn.sql(f"CREATE TABLE big AS SELECT {columns} FROM range({args.rows})")
    types = ", ".join(["float8"] * FEATURES)
    conn.sql(
        f"CREATE MODEL lgb FROM '{folder / 'model.txt'}' FUNCTION f_lgb({types}) RETURNS float8"
    )
    conn.sql(
        f"CREATE MODEL onx FROM '{folder / 'model.onnx'}' FUNCTION f_onnx({types}) RETURNS float8"
    )
    call = ", ".join(f"c{i}" for i in range(FEATURES))
    matrix = conn.execute(f"SELECT {call} FROM big").arrow()
    M = np.column_stack([c.to_numpy() for c in matrix.columns])
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    conn.execute(f"SELECT sum(f_lgb({call})), sum(f_onnx({call})) FROM big LIMIT 10")  # warm

    results = {
        "sql lightgbm": _best(
            lambda: conn.execute(f"SELECT sum(f_lgb({call})) FROM big").fetchall(), args.repeat
        ),
        "raw lightgbm": _best(lambda: booster.predict(M), args.repeat),
        "sql onnx": _best(
            lambda: conn.execute(f"SELECT sum(f_onnx({call})) FROM big").fetchall(), args.repeat
        ),
        "raw onnx": _best(lambda: session.run(None, {"input": M.astype(np.float32)}), args.repeat),
    }
    print(f"{args.rows:,} rows, {FEATURES} features, {args.rounds} rounds")
    for name, seconds in results.items():
        print(f"{name:14} {seconds:7.2f} s  {args.rows / seconds:12,.0f} rows/s")
    conn.close()


if __name__ == "__main__":
    main()
