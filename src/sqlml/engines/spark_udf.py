"""The body of a prediction function as Spark's Python workers run it.

Spark hands an Arrow UDF one Arrow array per argument for a batch of rows
(``spark.sql.execution.arrow.maxRecordsPerBatch``) and wants one Arrow array back. The
function sqlml registers (``functions.py``: list of Arrow arrays -> Arrow array) is pickled with
this wrapper and shipped to every worker; it loads the model package once per worker process
(``runtime.predictor.load_predictor``'s module-level cache, keyed by package folder and package
id) and reuses it for every batch and task the worker runs.

Kept free of pyspark imports: a worker imports it only to run the function.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa


def _argument(column) -> pa.Array:
    """An argument as DuckDB would hand it: one chunk, plain (not large) strings."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_large_string(column.type):
        return column.cast(pa.string())
    return column


def _cast(values: pa.Array, to: pa.DataType) -> pa.Array:
    """``values`` as ``to``: a regression model's predictions of an integer (or decimal)
    target rounded half to even first, as DuckDB casts a function's DOUBLE result to the
    target's type, so that both engines return the same values."""
    if pa.types.is_floating(values.type) and (pa.types.is_integer(to) or pa.types.is_decimal(to)):
        import pyarrow.compute as pc

        digits = to.scale if pa.types.is_decimal(to) else 0
        values = pc.round(values, ndigits=digits, round_mode="half_to_even")
    return values.cast(to)


def batch_function(fn: Callable[[list], pa.Array], returns: pa.DataType) -> Callable:
    """``fn`` as a function of the batch's argument arrays, returning arrays of ``returns``."""

    # No annotations: PySpark reads a UDF's type hints as its kind of UDF.
    def call(*columns):
        out = fn([_argument(c) for c in columns])
        if isinstance(out, pa.ChunkedArray):
            out = out.combine_chunks()
        if isinstance(out, pa.ExtensionArray):  # JSON: Spark's STRING
            out = out.storage
        if out.type != returns:
            out = _cast(out, returns)
        return out

    return call
