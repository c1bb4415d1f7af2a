"""Profiling and preprocessing on small generated tables (no database)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from sqlml.automl.preprocessing import (
    TOP_LEVELS,
    build_plan,
    numeric_matrix,
    transform,
    view,
    view_slots,
)
from sqlml.automl.profiling import check_target, infer_problem_type, profile_column
from sqlml.errors import TrainingDataError


def kinds(table: pa.Table) -> dict[str, str]:
    return {n: profile_column(n, table.column(n)).kind for n in table.column_names}


def test_every_column_kind():
    n = 300
    table = pa.table(
        {
            "num": pa.array(np.arange(n, dtype=np.float64)),
            "flag": pa.array([i % 2 == 0 for i in range(n)]),
            "cat": pa.array([f"c{i % 5}" for i in range(n)]),
            "many": pa.array([f"id{i % 270}" for i in range(n)]),
            "ids": pa.array([f"id{i}" for i in range(n)]),
            "text": pa.array([f"a few words of free text {i}" for i in range(n)]),
            "day": pa.array([dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(n)]),
            "at": pa.array([dt.datetime(2020, 1, 1, i % 24) for i in range(n)]),
            "tod": pa.array([dt.time(i % 24, 30) for i in range(n)]),
            "nulls": pa.array([None] * n, pa.float64()),
            "const": pa.array([7] * n),
            "enum": pa.array([f"e{i % 3}" for i in range(n)]).dictionary_encode(),
        }
    )
    assert kinds(table) == {
        "num": "numeric",
        "flag": "boolean",
        "cat": "categorical",
        "many": "high_cardinality",
        "ids": "dropped",
        "text": "text",
        "day": "datetime",
        "at": "datetime",
        "tod": "time",
        "nulls": "dropped",
        "const": "dropped",
        "enum": "categorical",
    }
    assert profile_column("nulls", table.column("nulls")).reason == "all values are NULL"
    assert profile_column("const", table.column("const")).reason == "constant"
    assert profile_column("ids", table.column("ids")).reason.startswith("identifier-like")


def test_plan_replays_identically_and_handles_unseen_and_null():
    train = [pa.array(["a", "b", "a", None, "c"]), pa.array([1.0, None, 3.0, 4.0, 5.0])]
    profiles = [profile_column("s", train[0]), profile_column("x", train[1])]
    plan = build_plan(train, profiles)
    assert plan["features"] == ["s", "x"]
    assert plan["categorical_features"] == [0]
    X = transform(plan, train)
    assert X[:, 0].tolist()[:3] == [0.0, 1.0, 0.0]  # 'a' is the most frequent level
    assert np.isnan(X[3, 0]) and np.isnan(X[1, 1])
    new = transform(plan, [pa.array(["zzz", "c"]), pa.array([None, 2], pa.int64())])
    assert np.isnan(new[0, 0]) and new[1, 0] == 2.0
    assert np.isnan(new[0, 1]) and new[1, 1] == 2.0


def test_high_cardinality_keeps_top_levels_and_frequency():
    values = [f"v{i}" for i in range(400)] * 2 + ["v0"] * 10
    column = pa.array(values)
    profile = profile_column("h", column)
    plan = build_plan([column], [profile])
    assert plan["features"] == ["h", "h__frequency", "h__code"]
    X = transform(plan, [pa.array(["v0", "v399", "never"])])
    assert X[0, 0] == 0 and X[1, 0] == TOP_LEVELS  # rare level shares the "other" code
    assert X[0, 1] == pytest.approx(12 / 810) and X[2, 1] == 0.0
    assert np.isnan(X[2, 0])
    code = plan["columns"][0]["levels"].index("v399")
    assert X[1, 2] == code and np.isnan(X[2, 2])  # the full code, seen by CatBoost only
    tree, _ = view(plan, "tree")
    catboost, categorical = view(plan, "catboost")
    assert tree == [0, 1] and catboost == [1, 2] and categorical == [1]


def test_dates_become_calendar_parts():
    column = pa.array([dt.date(2024, 2, 29), None])
    plan = build_plan(
        [column], [profile_column("d", pa.array([dt.date(2024, 2, 29), dt.date(2024, 3, 1)]))]
    )
    X = transform(plan, [column])
    assert plan["features"] == [
        "d__year",
        "d__month",
        "d__day",
        "d__weekday",
        "d__dayofyear",
        "d__epoch_days",
    ]
    assert X[0].tolist() == [2024, 2, 29, 3, 60, 19782]
    assert np.isnan(X[1]).all()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([True, False] * 10, "BINARY_CLASSIFICATION"),
        (["yes", "no"] * 10, "BINARY_CLASSIFICATION"),
        ([0, 1] * 10, "BINARY_CLASSIFICATION"),
        (["a", "b", "c"] * 10, "MULTICLASS_CLASSIFICATION"),
        ([1, 2, 3] * 30, "MULTICLASS_CLASSIFICATION"),
        (list(range(100)), "REGRESSION"),
        ([0.5, 1.5, 2.5] * 30, "REGRESSION"),
        ([1, 2, 3, 4, 5] * 2, "REGRESSION"),  # too many distinct values for 10 rows
    ],
)
def test_problem_type_rule(values, expected):
    assert infer_problem_type("y", pa.chunked_array([values])) == expected


def test_constant_target_rejected():
    with pytest.raises(TrainingDataError, match="single value"):
        check_target("y", pa.chunked_array([[3, 3, 3]]), None)


def test_one_row_categories_and_null_only_columns_encode():
    column = pa.array(["common"] * 20 + ["once"] + [None] * 3)
    plan = build_plan([column], [profile_column("c", column)])
    assert plan["columns"][0]["levels"] == ["common", "once"]
    X = transform(plan, [pa.array(["once", "common", None, "never"])])
    assert X[:, 0].tolist()[:2] == [1.0, 0.0]
    assert np.isnan(X[2:, 0]).all()
    nulls = pa.array([None] * 5, pa.string())
    profile = profile_column("n", nulls)
    assert (profile.kind, profile.reason) == ("dropped", "all values are NULL")
    assert transform(build_plan([nulls], [profile]), [nulls]).shape == (5, 0)


def test_numbers_converted_together_equal_one_by_one():
    """Prediction-sized batches convert their number columns in one Arrow call; whole tables
    (and columns in several pieces) one column at a time. Both give the same matrix, whatever
    the integer and float types, NULLs and NaNs."""
    rng = np.random.default_rng(3)
    n = 500
    big = rng.integers(-(2**62), 2**62, n)
    values = {
        "i8": pa.array(rng.integers(-100, 100, n), pa.int8()),
        "i32": pa.array(
            [None if i % 7 == 0 else int(v) for i, v in enumerate(rng.integers(0, 2**31 - 1, n))],
            pa.int32(),
        ),
        "i64": pa.array([None if i % 5 == 0 else int(v) for i, v in enumerate(big)], pa.int64()),
        "u64": pa.array(rng.integers(0, 2**63, n, dtype=np.uint64) * 2 + 1, pa.uint64()),
        "f32": pa.array(rng.normal(size=n).astype(np.float32)),
        "f64": pa.array(
            [
                None if i % 3 == 0 else (float("nan") if i % 4 == 0 else float(v))
                for i, v in enumerate(rng.normal(size=n) * 1e9)
            ]
        ),
        "cat": pa.array([f"c{i % 4}" for i in range(n)]),
    }
    columns = list(values.values())
    plan = build_plan(columns, [profile_column(k, v) for k, v in values.items()])
    together = transform(plan, columns)
    assert together.dtype == np.float32
    pieces = [pa.chunked_array([c[:200], c[200:]]) for c in columns]  # converted one by one
    one_by_one = transform(plan, pieces)
    assert np.array_equal(together, one_by_one, equal_nan=True)
    assert np.isnan(together[0, 1]) and np.isnan(together[0, 2]) and np.isnan(together[0, 5])
    assert together[1, 0] == values["i8"][1].as_py()
    assert together[2, 3] == np.float32(float(values["u64"][2].as_py()))
    # AUTO OFF models' matrix (numbers and booleans as they are) takes the same path
    numbers = [*columns[:-1], pa.array([i % 2 == 0 for i in range(n)])]
    split = [pa.chunked_array([c[:200], c[200:]]) for c in numbers]
    assert np.array_equal(numeric_matrix(numbers), numeric_matrix(split), equal_nan=True)
    # a float64 (version 1) plan keeps every integer up to 2**53 exact
    old = transform({**plan, "dtype": "float64"}, columns)
    assert old[1, 2] == float(big[1]) and old.dtype == np.float64


def test_a_view_computed_directly_equals_the_view_taken_from_the_whole_matrix():
    """Prediction computes the one view its members read straight into its matrix; it must be
    the columns the learners were trained on, in their order, whatever the view leaves out."""
    n = 400
    values = {
        "x": pa.array([None if i % 9 == 0 else i * 0.5 for i in range(n)]),
        "many": pa.array([None if i % 11 == 0 else f"id{i % 300}" for i in range(n)]),
        "k": pa.array([i % 7 for i in range(n)], pa.int16()),
        "cat": pa.array([f"c{i % 4}" for i in range(n)]),
        "day": pa.array([dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(n)]),
    }
    columns = list(values.values())
    plan = build_plan(columns, [profile_column(k, v) for k, v in values.items()])
    whole = transform(plan, columns)
    for name in ("tree", "catboost"):
        indices, _ = view(plan, name)
        assert len(indices) < whole.shape[1]  # each view leaves a column of "many" out
        direct = transform(plan, columns, slots=view_slots(plan, indices))
        assert np.array_equal(direct, np.take(whole, indices, axis=1), equal_nan=True)
    # the same for a batch too large to convert its numbers together
    big = [pa.chunked_array([c] * 50) for c in columns]
    indices, _ = view(plan, "tree")
    assert np.array_equal(
        transform(plan, big, slots=view_slots(plan, indices)),
        np.take(transform(plan, big), indices, axis=1),
        equal_nan=True,
    )
