"""The forecasting methods, each one series at a time: statsforecast's AutoETS, AutoARIMA,
AutoTheta, MSTL and seasonal naive, with their prediction intervals.

A method that cannot fit a series (too short for its seasonality, a numerical failure) falls
back to seasonal naive, or naive below one season, and says so: the combination keeps one
forecast per series and member.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

# Cheapest first: the deadline cuts the list from its end.
METHODS = ("seasonal_naive", "theta", "ets", "arima", "mstl")
# ARIMA's seasonal search is slow above this period (a weekly series' period-52 search took
# minutes); above it ARIMA is fitted without a seasonal part, as statsforecast's AutoETS is.
ARIMA_MAX_SEASON = 24
# Methods fit the most recent part of a long series: this many cycles of its longest seasonal
# period held, and at least HISTORY_MIN_STEPS steps. Fits cost time in proportion to the
# history, and the distant past of a long series says little about its next steps.
HISTORY_CYCLES, HISTORY_MIN_STEPS = 8, 400


@dataclass
class Forecast:
    """One method's forecast of one series: the mean, and per interval level its bounds."""

    mean: np.ndarray
    lo: dict[float, np.ndarray]
    hi: dict[float, np.ndarray]
    fallback: bool = False


def season_for(y: np.ndarray, seasons: tuple[int, ...], cap: int | None = None) -> int:
    """The first seasonal period the series holds two whole cycles of (1: none)."""
    for m in seasons:
        if m > 1 and len(y) >= 2 * m and (cap is None or m <= cap):
            return m
    return 1


def history_steps(n: int, seasons: tuple[int, ...]) -> int:
    """How many of a series' last ``n`` steps the methods fit: its last cycles (all of a short
    series)."""
    held = [m for m in seasons if m > 1 and n >= 2 * m]
    return min(n, max(HISTORY_MIN_STEPS, HISTORY_CYCLES * max(held, default=1)))


def recent(y: np.ndarray, seasons: tuple[int, ...]) -> np.ndarray:
    """The part of ``y`` the methods fit."""
    return y[len(y) - history_steps(len(y), seasons) :]


def _model(method: str, y: np.ndarray, seasons: tuple[int, ...]):
    from statsforecast.models import (
        MSTL,
        AutoARIMA,
        AutoETS,
        AutoTheta,
        Naive,
        SeasonalNaive,
    )

    if method == "seasonal_naive":
        m = season_for(y, seasons)
        return SeasonalNaive(season_length=m) if m > 1 else Naive()
    if method == "theta":
        return AutoTheta(season_length=season_for(y, seasons))
    if method == "ets":
        # Given periods above 24 too: statsforecast then fits no seasonal component but picks
        # the model as for that period, which forecast M4's weekly series better than period 1.
        return AutoETS(season_length=season_for(y, seasons))
    if method == "arima":
        m = season_for(y, seasons, ARIMA_MAX_SEASON)
        # R's auto.arima rule: the conditional-sum-of-squares approximation for long or
        # seasonal series (an exact search of an hourly M4 series took 40-85 s, this 3 s).
        return AutoARIMA(season_length=m, approximation=len(y) > 150 or m > 12)
    if method == "mstl":
        held = [m for m in seasons if m > 1 and len(y) >= 2 * m]
        if not held:
            return AutoETS(season_length=1)
        return MSTL(season_length=held, trend_forecaster=AutoETS(model="ZZN"))
    raise ValueError(f"unknown forecasting method {method!r}")


def applicable(method: str, seasons: tuple[int, ...]) -> bool:
    """MSTL is for data with more than one seasonality (hourly and finer)."""
    return method != "mstl" or len([m for m in seasons if m > 1]) > 1


def forecast(
    method: str, y: np.ndarray, h: int, seasons: tuple[int, ...], levels: list[float]
) -> Forecast:
    """``method``'s forecast of the next ``h`` steps of ``y`` with intervals at ``levels``."""
    y = recent(y, seasons)
    try:
        found = _run(_model(method, y, seasons), y, h, levels)
        if found is not None:
            return found
    except Exception:  # noqa: BLE001 -- a method failing on one series is expected
        pass
    return _fallback(y, h, seasons, levels)


def _run(model, y: np.ndarray, h: int, levels: list[float]) -> Forecast | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            # statsforecast names a bound by the level as passed: lo-80 for 80, lo-80.0 for 80.0.
            out = model.forecast(y=y, h=h, level=[_plain(lv) for lv in levels] or None)
    mean = np.asarray(out["mean"], dtype=np.float64)
    lo = {lv: np.asarray(out[f"lo-{_key(lv)}"], dtype=np.float64) for lv in levels}
    hi = {lv: np.asarray(out[f"hi-{_key(lv)}"], dtype=np.float64) for lv in levels}
    arrays = [mean, *lo.values(), *hi.values()]
    if any(len(a) != h or not np.isfinite(a).all() for a in arrays):
        return None
    return Forecast(mean, lo, hi)


def _plain(level: float) -> float | int:
    return int(level) if level == int(level) else level


def _key(level: float) -> str:
    return str(_plain(level))


def _fallback(y: np.ndarray, h: int, seasons: tuple[int, ...], levels: list[float]) -> Forecast:
    """Seasonal naive (naive below two seasons), with intervals from its one-step errors."""
    m = season_for(y, seasons)
    m = m if len(y) > m else 1
    reps = int(np.ceil(h / m))
    mean = np.tile(y[-m:], reps)[:h].astype(np.float64)
    errors = y[m:] - y[:-m] if len(y) > m else np.zeros(1)
    sigma = float(np.sqrt(np.mean(errors**2))) if len(errors) else 0.0
    widths = sigma * np.sqrt(np.arange(h) // m + 1.0)
    from statistics import NormalDist

    lo, hi = {}, {}
    for lv in levels:
        z = NormalDist().inv_cdf(0.5 + lv / 200)
        lo[lv], hi[lv] = mean - z * widths, mean + z * widths
    return Forecast(mean, lo, hi, fallback=True)
