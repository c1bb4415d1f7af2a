"""FORECAST models: what CREATE MODEL refuses before any training (settings, columns, the
series themselves), and the finding of FORECAST(model) calls in statements. No trainer runs:
every statement here fails before its job is queued and leaves nothing behind."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import sqlml
from sqlml.automl.forecasting import series
from sqlml.sql import forecast_calls
from sqlml.sql.lexer import split_script

CREATE = (
    "CREATE MODEL demand FROM (SELECT {columns} FROM {table}) TARGET {target} IAM_ROLE default "
    "AUTO ON MODEL_TYPE FORECAST {extra} SETTINGS (S3_BUCKET 'b'{settings})"
)


def create(conn, settings=", HORIZON 7, FREQUENCY 'D'", columns="item, day, qty", table="sales",
           target="qty", extra=""):  # fmt: skip
    conn.sql(CREATE.format(columns=columns, table=table, target=target, extra=extra,
                           settings=settings))  # fmt: skip


@pytest.fixture
def sales(conn):
    """Two daily series of 60 days."""
    conn.sql(
        "CREATE TABLE sales AS SELECT 'item' || (i % 2) AS item, "
        "DATE '2024-01-01' + (i // 2)::INT AS day, (i % 7 + 10)::DOUBLE AS qty, "
        "TIMESTAMP '2024-01-01' + to_hours((i // 2)::INT) AS hour, i AS other FROM range(120) t(i)"
    )
    yield conn
    assert conn.execute("SHOW MODEL ALL").fetchall() == []  # nothing left behind


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        (", FREQUENCY 'D'", sqlml.InvalidSetting, "needs SETTINGS HORIZON"),
        (", HORIZON 7", sqlml.InvalidSetting, "needs SETTINGS FREQUENCY"),
        (", HORIZON 7, FREQUENCY 'fortnight'", sqlml.InvalidSetting, "FREQUENCY 'fortnight'"),
        (", HORIZON 0, FREQUENCY 'D'", sqlml.InvalidSetting, r"integer in \[1, 500\]"),
        (", HORIZON 501, FREQUENCY 'D'", sqlml.InvalidSetting, r"integer in \[1, 500\]"),
        (
            ", HORIZON 7, FREQUENCY 'D', PERCENTILES '0.1,0.2,0.3,0.4,0.5,mean'",
            sqlml.InvalidSetting,
            "at most 5",
        ),
        (
            ", HORIZON 7, FREQUENCY 'D', PERCENTILES '0.1,1.5'",
            sqlml.InvalidSetting,
            "'1.5' is not a quantile",
        ),
        (
            ", HORIZON 7, FREQUENCY 'D', PERCENTILES '0.005'",
            sqlml.InvalidSetting,
            "steps of 0.01",
        ),
        (", HORIZON 7, FREQUENCY 'D', PERCENTILES '0.5,0.50'", sqlml.InvalidSetting, "twice"),
        (", HORIZON 30, FREQUENCY 'D'", sqlml.InvalidSetting, "more than a third"),
    ],
)
def test_bad_settings(sales, settings, error, message):
    with pytest.raises(error, match=message):
        create(sales, settings)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("OBJECTIVE 'MSE'", "not a FORECAST objective"),
        ("PROBLEM_TYPE REGRESSION", "takes no PROBLEM_TYPE"),
        ("FUNCTION f", "has no prediction function"),
    ],
)
def test_bad_clauses(sales, extra, message):
    with pytest.raises(sqlml.InvalidSetting, match=message):
        create(sales, extra=extra)


def test_auto_off_is_refused(sales):
    with pytest.raises(sqlml.InvalidSetting, match="trained with AUTO ON"):
        sales.sql(
            "CREATE MODEL demand FROM sales TARGET qty AUTO OFF MODEL_TYPE FORECAST "
            "SETTINGS (HORIZON 7, FREQUENCY 'D')"
        )


def test_forecast_settings_belong_to_forecast_models(sales):
    with pytest.raises(sqlml.InvalidSetting, match="apply to MODEL_TYPE FORECAST only"):
        sales.sql("CREATE MODEL m FROM sales TARGET qty FUNCTION f SETTINGS (HORIZON 7)")
    with pytest.raises(sqlml.InvalidSetting, match="applies to MODEL_TYPE FORECAST only"):
        sales.sql("CREATE MODEL m FROM sales TARGET qty FUNCTION f OBJECTIVE 'WAPE'")


@pytest.mark.parametrize(
    ("columns", "settings", "error", "message"),
    [
        ("item, qty", ", HORIZON 7, FREQUENCY 'D'", sqlml.TrainingDataError, "found: none"),
        ("item, day, hour, qty", ", HORIZON 7, FREQUENCY 'D'", sqlml.TrainingDataError,
         "found: day, hour"),
        ("item, day, other, qty", ", HORIZON 7, FREQUENCY 'D'", sqlml.FeatureNotSupported,
         "related time series"),
        ("item, day, item AS qty", ", HORIZON 7, FREQUENCY 'D'", sqlml.TrainingDataError,
         "is a number"),
        ("item, day, qty", ", HORIZON 7, FREQUENCY 'H'", sqlml.TrainingDataError,
         "is a DATE"),
        # Daily data said to be weekly: two rows in one week.
        ("item, day, qty", ", HORIZON 2, FREQUENCY 'W'", sqlml.TrainingDataError,
         "not a whole number of steps"),
        # Daily data said to be monthly: many rows per month.
        ("item, day, qty", ", HORIZON 1, FREQUENCY 'M'", sqlml.TrainingDataError,
         "two rows in one step"),
        # Hourly timestamps of both items in one series: duplicates.
        ("'one' AS item, hour, qty", ", HORIZON 7, FREQUENCY 'H'", sqlml.TrainingDataError,
         "two rows in one step"),
        # Daily data said to be every minute: most steps would be missing.
        ("item, hour, qty", ", HORIZON 7, FREQUENCY '15min'", sqlml.TrainingDataError,
         "most steps would be missing"),
    ],
)  # fmt: skip
def test_columns_and_series_checked_before_training(sales, columns, settings, error, message):
    with pytest.raises(error, match=message):
        create(sales, settings, columns=columns)


def test_short_series_null_times_and_ids(sales):
    sales.sql("INSERT INTO sales VALUES ('lonely', DATE '2024-01-01', 1, NULL, 0)")
    with pytest.raises(sqlml.TrainingDataError, match="series 'lonely' has 1 time step"):
        create(sales)
    sales.sql("UPDATE sales SET day = NULL WHERE item = 'lonely'")
    with pytest.raises(sqlml.TrainingDataError, match="'day' is NULL in 1 row"):
        create(sales)
    sales.sql("UPDATE sales SET day = DATE '2023-12-01', item = NULL WHERE item = 'lonely'")
    with pytest.raises(sqlml.TrainingDataError, match="id column is NULL in 1 row"):
        create(sales)


# -- the series, without a database --------------------------------------------------------


def _prepare(ids, days, values, code="D"):
    return series.prepare(
        None if ids is None else pa.array(ids),
        pa.array(np.array(days, dtype="datetime64[D]")),
        pa.array(values, pa.float64()),
        series.FREQUENCIES[code],
        "CREATE MODEL m",
        "day",
    )


def test_gaps_and_nulls_are_zero():
    days = ["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05"]
    data = _prepare(None, days, [1.0, None, 4.0, 5.0])
    assert data.ids == [None]
    assert data.values[0].tolist() == [1.0, 0.0, 0.0, 4.0, 5.0]
    assert data.filled == 2


def test_month_end_dates_stay_month_ends():
    days = ["2024-01-31", "2024-02-29", "2024-03-31"]
    data = _prepare(["a"] * 3, days, [1.0, 2.0, 3.0], "M")
    future = data.step_times(0, 3, 2)
    assert [str(np.datetime64(t, "us").astype("datetime64[D]")) for t in future] == [
        "2024-04-30",
        "2024-05-31",
    ]


def test_percentile_names():
    kinds = series.percentiles("0.05, 0.5,0.90 ,mean", "m")
    assert kinds == ["0.05", "0.5", "0.9", "mean"]
    assert [series.column_name(k) for k in kinds] == ["p5", "p50", "p90", "mean"]


@pytest.mark.parametrize("code", list(series.FREQUENCIES))
def test_every_frequency_is_known_in_any_case(code):
    assert series.frequency(code.upper(), "m").code == code
    assert series.frequency(code.lower(), "m").code == code


# -- FORECAST(model) in statements ------------------------------------------------------------


def _rewrite(text: str) -> str:
    chunk = split_script(text)[0]
    calls = [c for c in forecast_calls.find_calls(text, chunk) if c.start >= 0]
    return forecast_calls.rewrite(chunk.text, calls, ["fc"] * len(calls))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT FORECAST(demand)", "SELECT * FROM fc"),
        ("select forecast(s.demand) order by 1", "SELECT * FROM fc order by 1"),
        ("CREATE TABLE t AS SELECT FORECAST(demand)", "CREATE TABLE t AS SELECT * FROM fc"),
        ("INSERT INTO t SELECT FORECAST(demand)", "INSERT INTO t SELECT * FROM fc"),
        ("SELECT id FROM FORECAST(demand) f WHERE p50 > 1", "SELECT id FROM fc f WHERE p50 > 1"),
        ("SELECT * FROM t JOIN FORECAST(demand) f USING (id)", "SELECT * FROM t JOIN fc f USING (id)"),
        ("SELECT * FROM t, FORECAST(demand) f", "SELECT * FROM t, fc f"),
        ("SELECT * FROM (SELECT FORECAST(demand)) x", "SELECT * FROM (SELECT * FROM fc) x"),
        ("SELECT my.forecast(x) FROM t", "SELECT my.forecast(x) FROM t"),
    ],
)  # fmt: skip
def test_forecast_calls_rewritten(text, expected):
    assert _rewrite(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "SELECT 1, FORECAST(demand)",
        "SELECT FORECAST(demand) FROM t",
        "SELECT FORECAST(demand) + 1",
    ],
)
def test_forecast_misplaced(conn, text):
    conn.sql("CREATE TABLE t(x INT)")
    with pytest.raises(sqlml.SqlmlError):
        conn.sql(text)


def test_forecast_of_unknown_model(conn):
    with pytest.raises(sqlml.ModelNotFound, match="Model main.nothing does not exist"):
        conn.sql("SELECT FORECAST(nothing)")
