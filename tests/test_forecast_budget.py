"""FORECAST training within its budget, on small generated series in this process: the methods
fit the recent part of long series, and the per-series cost model drops a method that cannot
finish before the deadline while the cheapest forecast always remains. The deadline runs on a
counting clock (each reading advances it), so no test depends on the machine's speed."""

from __future__ import annotations

import numpy as np

from sqlml.automl.budget import Deadline
from sqlml.automl.forecasting import methods as M
from sqlml.automl.forecasting import train as T
from sqlml.automl.forecasting.series import FREQUENCIES, SeriesSet

WEEKLY, HOURLY = FREQUENCIES["W"].seasons, FREQUENCIES["H"].seasons


def weekly(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + 0.05 * t + 10 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 1, n)


def series_set(values: list[np.ndarray], code: str = "W") -> SeriesSet:
    return SeriesSet(list(range(len(values))), values, [0] * len(values), FREQUENCIES[code])


class CountingClock:
    """A clock that advances ``tick`` seconds each time it is read."""

    def __init__(self, tick: float):
        self.now, self.tick, self.reads = 0.0, tick, 0

    def __call__(self) -> float:
        self.now += self.tick
        self.reads += 1
        return self.now


def test_long_series_fitted_on_their_recent_part():
    long = weekly(2600)
    kept = M.HISTORY_CYCLES * 52
    assert M.history_steps(2600, WEEKLY) == kept
    assert np.array_equal(M.recent(long, WEEKLY), long[-kept:])
    # Short series, and series within the cycles of their longest period, are fitted whole.
    assert M.history_steps(150, WEEKLY) == 150
    assert M.history_steps(960, HOURLY) == 960
    # A method's forecast of a long series is its forecast of the recent part.
    whole = M.forecast("theta", long, 13, WEEKLY, [80.0])
    tail = M.forecast("theta", long[-kept:], 13, WEEKLY, [80.0])
    assert np.allclose(whole.mean, tail.mean) and np.allclose(whole.lo[80.0], tail.lo[80.0])


def test_cost_model_weighs_series_by_length():
    assert T.fit_cost(2600, WEEKLY) == T.fit_cost(M.HISTORY_CYCLES * 52, WEEKLY)
    assert T.fit_cost(2600, WEEKLY) > T.fit_cost(200, WEEKLY) > T.fit_cost(50, WEEKLY)
    data = series_set([weekly(200), weekly(2600)])
    assert T.final_cost(data, WEEKLY) == T.fit_cost(200, WEEKLY) + T.fit_cost(2600, WEEKLY)


def test_method_that_cannot_finish_is_dropped_early():
    """Every fit reads the clock at least once, so a budget of a few readings cannot hold
    theta's backtests of 30 series: it is dropped after its first fit, well before its probe
    fits, and the forecast is seasonal naive's, for every series."""
    data = series_set([weekly(300, seed) for seed in range(30)])
    clock = CountingClock(tick=1.0)
    plan = T.ForecastPlan(13, ["0.1", "0.5", "0.9"], "MASE")
    trained = T.train_forecast(data, plan, Deadline(60, clock), None, ("seasonal_naive", "theta"))
    assert trained.members == ("seasonal_naive",)
    assert "theta" in trained.skipped
    assert clock.reads < 20  # not 5 probe fits of it, nor its backtests of every series
    assert len(trained.columns["series"]) == 30 * 13


def test_method_that_fits_in_the_budget_is_kept():
    data = series_set([weekly(300, seed) for seed in range(6)])
    clock = CountingClock(tick=0.001)
    plan = T.ForecastPlan(13, ["0.5"], "MASE")
    trained = T.train_forecast(data, plan, Deadline(600, clock), None, ("seasonal_naive", "theta"))
    assert not trained.skipped
    assert set(trained.per_method) == {"seasonal_naive", "theta"}


def test_arima_without_a_seasonal_part_above_its_cap():
    """A period-52 seasonal ARIMA search takes minutes per series: weekly ARIMA is non-seasonal,
    hourly keeps its daily period."""
    assert M._model("arima", weekly(300), WEEKLY).season_length == 1
    assert M._model("arima", weekly(300), HOURLY).season_length == 24
