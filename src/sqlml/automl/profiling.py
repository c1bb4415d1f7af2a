"""What each column is, and what problem the target poses.

Column kinds (``ColumnProfile.kind``):

- ``numeric``: integers, floats, decimals;
- ``boolean``;
- ``categorical``: strings and enums with at most ``HIGH_CARDINALITY`` distinct values;
- ``high_cardinality``: strings with more distinct values than that;
- ``text``: free text: strings of several words on average (``TEXT_MIN_WORDS``) with many
  distinct values; encoded as length, word count and the presence of frequent words;
- ``datetime``: DATE, TIMESTAMP (with or without time zone);
- ``time``: TIME of day;
- ``dropped``: all NULL, constant, or identifier-like (a string unique in nearly every row,
  such as an order number: it cannot generalize); ``reason`` says which.

Problem-type rule, when PROBLEM_TYPE is not given (written down because users rely on it):

1. a BOOLEAN target, or any target with exactly two distinct values: binary classification;
2. a string target: multiclass classification;
3. an integer-valued numeric target with at most 20 distinct values, and at most one distinct
   value per 10 rows: multiclass classification;
4. any other numeric target: regression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml import arrowtypes
from sqlml.errors import TrainingDataError

HIGH_CARDINALITY = 255
MULTICLASS_MAX_DISTINCT = 20
MULTICLASS_MAX_DISTINCT_RATIO = 0.1
TEXT_MIN_WORDS = 4.0
IDENTIFIER_MIN_ROWS = 50
# Fewer rows with a target than this cannot be validated (five folds of two rows).
MIN_ROWS = 10
IDENTIFIER_UNIQUE_RATIO = 0.95


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    kind: str
    null_fraction: float
    distinct: int
    reason: str = ""


def arrow_kind(dtype: pa.DataType) -> str | None:
    """The broad family of an Arrow type, or None when sqlml cannot learn from it."""
    if pa.types.is_dictionary(dtype):
        return arrow_kind(dtype.value_type)
    if pa.types.is_boolean(dtype):
        return "boolean"
    if arrowtypes.is_number(dtype):
        return "numeric"
    if arrowtypes.is_text(dtype):
        return "string"
    if pa.types.is_date(dtype) or pa.types.is_timestamp(dtype):
        return "datetime"
    if pa.types.is_time(dtype):
        return "time"
    return None


def profile_column(name: str, column: pa.ChunkedArray | pa.Array) -> ColumnProfile:
    kind = arrow_kind(column.type)
    if kind is None:
        raise TrainingDataError(
            f"Column '{name}' has type {column.type}, which sqlml cannot use as a feature. "
            "Cast it to a number, string, boolean or date in the FROM query, or leave it out."
        )
    if pa.types.is_dictionary(column.type):  # dictionary-encoded: count its values, not its codes
        column = pc.cast(column, column.type.value_type)
    n = len(column)
    nulls = column.null_count
    null_fraction = nulls / n if n else 1.0
    distinct = pc.count_distinct(column).as_py() if nulls < n else 0
    if distinct == 0:
        return ColumnProfile(name, "dropped", null_fraction, 0, "all values are NULL")
    if distinct == 1 and nulls == 0:
        return ColumnProfile(name, "dropped", null_fraction, 1, "constant")
    if kind == "string":
        kind = _string_kind(column, distinct, n - nulls)
        if kind == "identifier":
            return ColumnProfile(
                name,
                "dropped",
                null_fraction,
                distinct,
                "identifier-like (a different value in nearly every row)",
            )
    return ColumnProfile(name, kind, null_fraction, distinct)


def mean_words(column) -> float:
    words = pc.list_value_length(pc.utf8_split_whitespace(column.drop_null()))
    return float(pc.mean(words).as_py() or 0.0)


def _string_kind(column, distinct: int, non_null: int) -> str:
    if distinct <= HIGH_CARDINALITY:
        return "categorical"
    if mean_words(column) >= TEXT_MIN_WORDS:
        return "text"
    if non_null >= IDENTIFIER_MIN_ROWS and distinct >= IDENTIFIER_UNIQUE_RATIO * non_null:
        return "identifier"
    return "high_cardinality"


def infer_problem_type(name: str, target: pa.ChunkedArray) -> str:
    """Apply the rule in this module's docstring to a target column without NULLs."""
    kind = arrow_kind(target.type)
    distinct = pc.count_distinct(target).as_py()
    if kind == "boolean" or distinct == 2:
        return "BINARY_CLASSIFICATION"
    if kind == "string":
        return "MULTICLASS_CLASSIFICATION"
    values = target.to_numpy().astype(np.float64) if len(target) else np.array([])
    integral = bool(np.all(np.mod(values, 1) == 0))
    if (
        integral
        and distinct <= MULTICLASS_MAX_DISTINCT
        and distinct <= MULTICLASS_MAX_DISTINCT_RATIO * len(target)
    ):
        return "MULTICLASS_CLASSIFICATION"
    return "REGRESSION"


def check_target(name: str, target: pa.ChunkedArray, problem_type: str | None) -> str:
    """Validate the (NULL-free) target column; return the problem type to solve."""
    kind = arrow_kind(target.type)
    if kind not in ("numeric", "boolean", "string"):
        raise TrainingDataError(
            f"TARGET column '{name}' has type {target.type}; a target must be a number, a string or "
            "a boolean (Redshift ML forbids date, time and binary targets too)."
        )
    distinct = pc.count_distinct(target).as_py()
    if distinct < 2:
        raise TrainingDataError(
            f"TARGET column '{name}' has a single value ({target[0].as_py()!r}) in the training "
            "data; a model needs at least two classes or values. Check the FROM query's filter."
        )
    inferred = problem_type or infer_problem_type(name, target)
    if inferred == "REGRESSION" and kind == "string":
        raise TrainingDataError(
            f"PROBLEM_TYPE REGRESSION needs a numeric target, but '{name}' is a string column."
        )
    if inferred == "BINARY_CLASSIFICATION" and distinct != 2:
        raise TrainingDataError(
            f"PROBLEM_TYPE BINARY_CLASSIFICATION needs exactly two distinct target values, but "
            f"'{name}' has {distinct}. Use MULTICLASS_CLASSIFICATION or REGRESSION."
        )
    return inferred
