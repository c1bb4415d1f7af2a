"""FORECAST models end to end: Redshift's statement, trained in a real trainer process, read
with SELECT FORECAST(model) wherever Redshift allows it. The models are trained once per module
and only read by the tests; MAX_TRIALS bounds the methods backtested (seasonal naive, theta,
ets), so the count, not the clock, ends training."""

from __future__ import annotations

import datetime as dt

import pytest

import sqlml
from tests.conftest import DATA

pytestmark = pytest.mark.slow

RUNTIME = 300  # trainer CPU seconds; three methods on these series take a few
SALES = """CREATE TABLE sales AS
SELECT 'item' || (i % 3) AS item_id, DATE '2024-01-01' + (i // 3)::INT AS invoice_date,
       (50 + 10 * sin(2 * pi() * (i // 3) / 7) + (i % 3) * 5 + (hash(i) % 100) / 50.0)::DOUBLE
       AS quantity
FROM range(3 * 91) t(i)"""
DEMAND = """CREATE MODEL demand FROM (SELECT item_id, invoice_date, quantity FROM sales)
TARGET quantity IAM_ROLE default AUTO ON MODEL_TYPE FORECAST
OBJECTIVE 'AverageWeightedQuantileLoss'
SETTINGS (S3_BUCKET 'b', HORIZON 14, FREQUENCY 'D', PERCENTILES '0.1,0.5,0.9,mean',
          MAX_RUNTIME {runtime}, MAX_TRIALS 3)"""


@pytest.fixture(scope="module")
def forecasts(tmp_path_factory):
    """A database with the daily sales of three items (model ``demand``) and the monthly airline
    passengers, one series without an id (model ``air``, OBJECTIVE MASE, p25/p75)."""
    path = tmp_path_factory.mktemp("forecast") / "fc.duckdb"
    with sqlml.connect(path, synchronous=True) as conn:
        conn.sql(SALES)
        conn.sql(DEMAND.format(runtime=RUNTIME))
        conn.sql(
            f"CREATE TABLE air AS SELECT * FROM read_parquet('{DATA / 'air_passengers.parquet'}')"
        )
        conn.sql(
            "CREATE MODEL air FROM air TARGET passengers AUTO ON MODEL_TYPE FORECAST "
            "OBJECTIVE 'MASE' SETTINGS (HORIZON 12, FREQUENCY 'M', PERCENTILES '0.25,0.75,mean', "
            f"MAX_RUNTIME {RUNTIME}, MAX_TRIALS 3)"
        )
    return path


@pytest.fixture
def conn(forecasts):
    with sqlml.connect(forecasts, synchronous=True) as connection:
        yield connection


def test_redshift_round_trip(conn):
    conn.sql("CREATE TABLE demand_fc AS SELECT FORECAST(demand)")
    result = conn.execute("SELECT * FROM demand_fc ORDER BY id, time")
    assert result.columns == ["id", "time", "p10", "p50", "p90", "mean"]
    rows = result.fetchall()
    assert len(rows) == 3 * 14
    assert {r[0] for r in rows} == {"item0", "item1", "item2"}
    last = dt.date(2024, 1, 1) + dt.timedelta(days=90)
    item0 = [r for r in rows if r[0] == "item0"]
    assert [r[1] for r in item0] == [last + dt.timedelta(days=k) for k in range(1, 15)]
    for _, _, p10, p50, p90, mean in rows:
        assert p10 <= p50 <= p90 and p50 == pytest.approx(mean)
    # The weekly cycle and the level of each item are learnt: item2 sells ~10 more than item0.
    level = {i: sum(r[5] for r in rows if r[0] == i) / 14 for i in ("item0", "item2")}
    assert 45 < level["item0"] < 55 and 8 < level["item2"] - level["item0"] < 12


def test_forecast_where_redshift_allows_it(conn):
    direct = conn.execute("SELECT FORECAST(demand) ORDER BY id, time").fetchall()
    assert len(direct) == 42
    conn.sql("CREATE TEMP TABLE kept (id VARCHAR, time DATE, p10 DOUBLE, p50 DOUBLE, "
             "p90 DOUBLE, mean DOUBLE)")  # fmt: skip
    assert conn.execute("INSERT INTO kept SELECT FORECAST(demand)").tag == "INSERT 0 42"
    joined = conn.execute(
        "SELECT f.id, count(*) FROM FORECAST(main.demand) AS f JOIN sales s "
        "ON s.item_id = f.id AND s.invoice_date = DATE '2024-01-01' GROUP BY f.id ORDER BY 1"
    ).fetchall()
    assert joined == [("item0", 14), ("item1", 14), ("item2", 14)]
    assert conn.execute("SELECT count(*) FROM sqlml_forecast_demand").fetchone() == (42,)


def test_redshift_dialect(forecasts):
    with sqlml.connect(forecasts, dialect="redshift") as conn:
        conn.sql("CREATE TABLE fc_rs AS SELECT FORECAST(main.demand)")
        assert conn.execute("SELECT count(*) FROM fc_rs").fetchone() == (42,)


def test_show_model(conn):
    rows = dict(conn.execute("SHOW MODEL demand").fetchall())
    assert rows["Model Type"] == "forecast"
    assert rows["Objective"] == "AverageWeightedQuantileLoss"
    assert rows["Horizon"] == "14" and rows["Frequency"] == "D"
    assert rows["Percentiles"] == "0.1,0.5,0.9,mean"
    assert rows["Series"] == "3" and rows["Series Id Column"] == "item_id"
    methods = rows["Forecast Methods"].split(" + ")
    assert set(methods) <= {"seasonal_naive", "theta", "ets"}
    for method in ("seasonal_naive", "theta", "ets"):
        assert float(rows[f"Backtest AverageWeightedQuantileLoss {method}"]) >= 0
    assert float(rows["backtest:AverageWeightedQuantileLoss"]) <= min(
        float(rows[f"Backtest AverageWeightedQuantileLoss {m}"]) for m in methods
    )
    assert "Function Name" not in rows
    assert conn.execute("SHOW MODEL ALL").fetchall() == [
        ("main", "air", "READY", None),
        ("main", "demand", "READY", None),
    ]


def test_explain_model(conn):
    import json

    found = json.loads(conn.execute("SELECT explain_model('demand')").fetchone()[0])
    forecast = found["explanations"]["forecast"]
    assert forecast["seasonal_periods"] == [7]
    assert set(forecast["backtest"]) == {"seasonal_naive", "theta", "ets"}


def test_one_series_without_id(conn):
    result = conn.execute("SELECT FORECAST(air)")
    assert result.columns == ["time", "p25", "p75", "mean"]
    rows = result.fetchall()
    # Month-end dates in, month-end dates out: 1961-01-31 ... 1961-12-31.
    assert rows[0][0] == dt.date(1961, 1, 31) and rows[-1][0] == dt.date(1961, 12, 31)
    assert all(p25 <= mean <= p75 for _, p25, p75, mean in rows)
    # The airline's July peak is above its November trough.
    assert rows[6][3] > rows[10][3]
    assert dict(conn.execute("SHOW MODEL air").fetchall())["Objective"] == "MASE"


def test_forecast_of_a_model_not_forecast(conn):
    conn.sql("CREATE TABLE t AS SELECT range AS x, range * 2.0 AS y FROM range(40)")
    conn.sql(
        "CREATE MODEL lin FROM t TARGET y FUNCTION f AUTO OFF MODEL_TYPE XGBOOST "
        "OBJECTIVE 'reg:squarederror' PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT "
        "EXCEPT (NUM_ROUND '2')"
    )
    try:
        with pytest.raises(sqlml.FeatureNotSupported, match="not a FORECAST model"):
            conn.sql("SELECT FORECAST(lin)")
    finally:
        conn.sql("DROP MODEL lin")


def test_drop_removes_the_view(forecasts, tmp_path):
    import shutil

    copy = tmp_path / "copy.duckdb"
    shutil.copy(forecasts, copy)
    shutil.copytree(f"{forecasts}.models", f"{copy}.models")
    with sqlml.connect(copy) as conn:
        conn.sql("DROP MODEL demand")
        with pytest.raises(sqlml.ModelNotFound):
            conn.sql("SELECT FORECAST(demand)")
        with pytest.raises(sqlml.DatabaseError):
            conn.sql("SELECT * FROM sqlml_forecast_demand")


@pytest.mark.parametrize(
    ("code", "step", "start"),
    [
        ("Y", None, "2000-01-01"),
        ("M", None, "2000-01-01"),
        ("W", "7 days", "2020-01-05"),
        ("D", "1 day", "2020-01-01"),
        ("H", "1 hour", "2020-01-01"),
        ("30min", "30 minutes", "2020-01-01"),
        ("15min", "15 minutes", "2020-01-01"),
        ("10min", "10 minutes", "2020-01-01"),
        ("5min", "5 minutes", "2020-01-01"),
        ("1min", "1 minute", "2020-01-01"),
    ],
)
def test_each_frequency(tmp_path, code, step, start):
    """Two series of 30 steps at each FREQUENCY, 3 steps ahead (seasonal naive alone:
    MAX_TRIALS 1); the forecast continues each series' grid."""
    if step is None:
        unit = "year" if code == "Y" else "month"
        times = f"TIMESTAMP '{start}' + to_{unit}s((i // 2)::INT)"
    else:
        times = f"TIMESTAMP '{start}' + (i // 2) * INTERVAL '{step}'"
    with sqlml.connect(tmp_path / "f.duckdb", synchronous=True) as conn:
        conn.sql(
            f"CREATE TABLE s AS SELECT i % 2 AS sid, {times} AS t, (i % 5 + i / 10)::DOUBLE AS v "
            "FROM range(60) r(i)"
        )
        conn.sql(
            "CREATE MODEL m FROM s TARGET v MODEL_TYPE FORECAST "
            f"SETTINGS (HORIZON 3, FREQUENCY '{code}', MAX_RUNTIME 120, MAX_TRIALS 1)"
        )
        rows = conn.execute("SELECT id, time FROM FORECAST(m) ORDER BY id, time").fetchall()
        last = conn.execute("SELECT max(t) FROM s").fetchone()[0]
        expected = conn.execute(
            f"SELECT {times.replace('(i // 2)', '(30 + k)')} FROM range(3) r(k)"
        ).fetchall()
    assert [r[0] for r in rows] == [0, 0, 0, 1, 1, 1]
    assert [r[1] for r in rows[:3]] == [e[0] for e in expected]
    assert rows[0][1] > last


def test_gaps_and_nulls_filled(tmp_path):
    with sqlml.connect(tmp_path / "g.duckdb", synchronous=True) as conn:
        conn.sql(
            "CREATE TABLE s AS SELECT DATE '2024-01-01' + i::INT AS d, "
            "CASE WHEN i = 20 THEN NULL ELSE (10 + i % 7)::DOUBLE END AS v "
            "FROM range(60) r(i) WHERE i NOT IN (30, 31)"
        )
        conn.sql(
            "CREATE MODEL g FROM s TARGET v MODEL_TYPE FORECAST "
            "SETTINGS (HORIZON 7, FREQUENCY 'D', PERCENTILES '0.05,0.95', MAX_RUNTIME 120, "
            "MAX_TRIALS 1)"
        )
        rows = dict(conn.execute("SHOW MODEL g").fetchall())
        assert rows["Filled Steps"] == "3 (missing or NULL, as 0)"
        result = conn.execute("SELECT * FROM FORECAST(g)")
        assert result.columns == ["time", "p5", "p95"]
        assert len(result.fetchall()) == 7


def test_forecast_from_fresh_history(conn):
    """FORECAST(model, (query)): the model's methods refitted on the rows given now. Two more
    weeks of item0's sales move its forecast two weeks on."""
    conn.sql(
        "CREATE TEMP TABLE newer AS SELECT item_id, invoice_date, quantity FROM sales UNION ALL "
        "SELECT 'item0', DATE '2024-03-31' + k::INT, 50 + 10 * sin(2 * pi() * (90 + k) / 7) "
        "FROM range(1, 15) r(k)"
    )
    result = conn.execute(
        "SELECT * FROM FORECAST(demand, (SELECT * FROM newer WHERE item_id = 'item0')) "
        "ORDER BY time"
    )
    assert result.columns == ["id", "time", "p10", "p50", "p90", "mean"]
    rows = result.fetchall()
    assert len(rows) == 14 and {r[0] for r in rows} == {"item0"}
    assert rows[0][1] == dt.date(2024, 4, 15)
    assert all(r[2] <= r[3] <= r[4] for r in rows)
    # In CREATE TABLE AS, alone in a SELECT list, as Redshift reads FORECAST(model).
    conn.sql("CREATE TEMP TABLE fresh AS SELECT FORECAST(demand, (SELECT * FROM newer))")
    assert conn.execute("SELECT count(*) FROM fresh").fetchone() == (42,)


def test_fresh_history_needs_the_model_columns(conn):
    with pytest.raises(sqlml.ColumnNotFound, match="no column 'invoice_date'"):
        conn.sql("SELECT FORECAST(demand, (SELECT item_id, quantity FROM sales))")


def test_detect_anomalies(conn):
    """Rows in the forecast horizon checked against its 95 % interval; others not checked."""
    conn.sql(
        "CREATE TEMP TABLE observed AS SELECT id AS item_id, time AS invoice_date, "
        "CASE WHEN time = DATE '2024-04-05' THEN mean * 3 ELSE mean END AS quantity "
        "FROM FORECAST(demand) UNION ALL SELECT 'item0', DATE '2024-01-01', 1.0"
    )
    result = conn.execute(
        "SELECT * FROM DETECT_ANOMALIES(demand, (SELECT * FROM observed)) ORDER BY id, time"
    )
    assert result.columns == ["id", "time", "value", "lower", "upper", "is_anomaly"]
    rows = result.fetchall()
    assert len(rows) == 43
    flagged = {(r[0], r[1]) for r in rows if r[5]}
    assert flagged == {(f"item{k}", dt.date(2024, 4, 5)) for k in range(3)}
    unchecked = [r for r in rows if r[1] == dt.date(2024, 1, 1)]
    assert unchecked[0][3:] == (None, None, None)


def test_described_without_running(conn):
    """A server's client prepares a statement before it runs: FORECAST(model) is rewritten
    there too."""
    shape = conn.describe("  SELECT FORECAST(demand) WHERE p50 > $1")
    assert [c.name for c in shape.columns] == ["id", "time", "p10", "p50", "p90", "mean"]


def test_view_of_a_forecast_in_another_schema(forecasts, tmp_path):
    import shutil

    copy = tmp_path / "s.duckdb"
    shutil.copy(forecasts, copy)
    with sqlml.connect(copy, synchronous=True) as conn:
        conn.sql("CREATE SCHEMA shop")
        conn.sql(
            "CREATE MODEL shop.air FROM main.air TARGET passengers MODEL_TYPE FORECAST "
            "SETTINGS (HORIZON 6, FREQUENCY 'M', MAX_RUNTIME 120, MAX_TRIALS 1)"
        )
        assert conn.execute("SELECT count(*) FROM FORECAST(shop.air)").fetchone() == (6,)
        assert conn.execute("SELECT count(*) FROM sqlml_forecast_shop_air").fetchone() == (6,)
