"""Rolling-origin backtests, the metrics, and the choice of a combination of methods.

Each series long enough is cut ``windows`` times, HORIZON steps apart from its end; each method
forecasts every cut from the steps before it. A combination is the equal-weight mean of its
members' forecasts, and its quantiles are the mean of the members' quantiles (Vincentization),
their distance from the mean scaled by a factor per quantile that minimises the quantile
(pinball) loss on the backtests: conformal calibration of the intervals. The combination with
the lowest OBJECTIVE on the backtests is the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from sqlml.automl.forecasting.methods import Forecast

# Scale factors tried per quantile for the interval calibration.
CALIBRATION_GRID = np.round(np.arange(0.0, 3.01, 0.1), 2)
# Amazon Forecast's default forecast types: the quantiles the wQL is averaged over when
# PERCENTILES names none.
DEFAULT_QUANTILES = (0.1, 0.5, 0.9)
MAX_MEMBERS = 4


def level(q: float) -> float:
    """The central interval level (in %) whose bound is quantile ``q``."""
    return round(abs(2 * q - 1) * 100, 6)


def quantile_of(f: Forecast, q: float) -> np.ndarray:
    if abs(q - 0.5) < 1e-12:
        return f.mean
    return f.lo[level(q)] if q < 0.5 else f.hi[level(q)]


@dataclass
class Cuts:
    """The backtests: per cut, the series, what came after it and the series' scale."""

    series: list[int] = field(default_factory=list)
    origins: list[int] = field(default_factory=list)  # steps of history before the cut
    actual: list[np.ndarray] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)  # the MASE denominator


def cuts(values: list[np.ndarray], h: int, windows: int, season: int) -> Cuts:
    out = Cuts()
    for i, y in enumerate(values):
        for w in range(1, windows + 1):
            origin = len(y) - w * h
            if origin < max(2 * season, h, 4):
                break
            out.series.append(i)
            out.origins.append(origin)
            out.actual.append(y[origin : origin + h])
            out.scale.append(mase_scale(y[:origin], season))
    return out


def mase_scale(y: np.ndarray, season: int) -> float:
    m = season if len(y) > season else 1
    diffs = np.abs(y[m:] - y[:-m])
    scale = float(diffs.mean()) if len(diffs) else 0.0
    if scale <= 0:
        scale = float(np.abs(y).mean()) or 1.0
    return scale


@dataclass
class MethodRun:
    """One method's backtest forecasts (one row per cut), and what its fits cost per step read
    (``train.fit_cost``)."""

    name: str
    mean: np.ndarray  # cuts x h
    quantiles: dict[float, np.ndarray]  # q -> cuts x h
    final: list[Forecast]
    fallbacks: int = 0
    seconds: float = 0.0
    seconds_per_step: float = 0.0


def pinball(actual: np.ndarray, pred: np.ndarray, q: float) -> np.ndarray:
    diff = actual - pred
    return np.maximum(q * diff, (q - 1) * diff)


def metrics(
    actual: np.ndarray, mean: np.ndarray, quantiles: dict[float, np.ndarray], scale: np.ndarray
) -> dict[str, float]:
    """The five FORECAST objectives (lower is better), over every backtest step."""
    err = actual - mean
    total = float(np.abs(actual).sum()) or 1.0
    nonzero = actual != 0
    out = {
        "RMSE": float(np.sqrt(np.mean(err**2))),
        "WAPE": float(np.abs(err).sum() / total),
        "MAPE": float(np.mean(np.abs(err[nonzero] / actual[nonzero]))) if nonzero.any() else 0.0,
        "MASE": float(np.mean(np.abs(err).mean(axis=1) / scale)),
    }
    losses = [2 * float(pinball(actual, p, q).sum()) / total for q, p in quantiles.items()]
    out["AverageWeightedQuantileLoss"] = float(np.mean(losses)) if losses else 0.0
    return out


@dataclass
class Choice:
    members: tuple[str, ...]
    calibration: dict[float, float]  # q -> scale factor of its distance from the mean
    metrics: dict[str, float]


def combine(runs: list[MethodRun], actual, scale, quantiles, objective: str) -> list[Choice]:
    """Every combination of up to MAX_MEMBERS methods, calibrated and scored; best first."""
    choices = []
    for size in range(1, min(MAX_MEMBERS, len(runs)) + 1):
        for group in combinations(runs, size):
            mean = np.mean([r.mean for r in group], axis=0)
            calibration, predicted = {}, {}
            for q in quantiles:
                spread = np.mean([r.quantiles[q] for r in group], axis=0) - mean
                c = _calibrate(actual, mean, spread, q)
                calibration[q], predicted[q] = c, mean + c * spread
            found = metrics(actual, mean, predicted, scale)
            choices.append(Choice(tuple(r.name for r in group), calibration, found))
    return sorted(choices, key=lambda c: (c.metrics[objective], len(c.members)))


def _calibrate(actual, mean, spread, q: float) -> float:
    if abs(q - 0.5) < 1e-12 or not np.any(spread):
        return 1.0
    losses = [pinball(actual, mean + c * spread, q).sum() for c in CALIBRATION_GRID]
    return float(CALIBRATION_GRID[int(np.argmin(losses))])
