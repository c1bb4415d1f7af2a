"""Train a FORECAST model: backtest each method within the deadline, choose the combination
with the lowest OBJECTIVE, forecast every series with it.

Methods run cheapest first (``methods.METHODS``). Each runs every series' backtest cuts and
its final forecast; after each series the time it took so far projects the rest, and a method
that would not finish before the deadline (less what packaging needs) is dropped, with
SHOW MODEL saying so. Seasonal naive always runs: it costs microseconds, so there is always a
forecast.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from sqlml.automl.budget import Deadline
from sqlml.automl.forecasting import backtest as B
from sqlml.automl.forecasting import methods as M
from sqlml.automl.forecasting.series import SeriesSet, column_name

# How many backtest cuts per series: more when there are few series to average over.
WINDOWS_FEW, WINDOWS_MANY, MANY_SERIES = 3, 2, 50
# At most this many series are backtested (an even spread of them): enough to rank methods and
# calibrate intervals; the time saved goes to the final forecasts of every series.
BACKTEST_SERIES = 100
# Fits a method makes before its projected cost is held to the deadline; before them, a
# projection this many times over the time left already drops it (first fits are noisier).
PROBE_FITS, EARLY_FACTOR = 5, 3.0
# A fit's fixed cost (building the model, its forecast), counted as this many steps read.
FIT_OVERHEAD_STEPS = 50
# Kept from the deadline for choosing, calibrating and writing the package.
RESERVE_SECONDS, RESERVE_SHARE = 0.5, 0.03
# The interval (in %) history and forecasts are checked against for anomalies.
ANOMALY_LEVEL = 95.0


@dataclass
class Trial:
    """A method's backtest, as the trainer's progress shows it."""

    name: str
    status: str
    score: float

    @property
    def selection(self) -> float:
        return -self.score


@dataclass
class ForecastPlan:
    horizon: int
    percentiles: list[str]  # forecast types as given: "0.1", "mean", ...
    objective: str
    windows: int | None = None  # None: by the number of series

    @property
    def quantiles(self) -> list[float]:
        asked = [float(k) for k in self.percentiles if k != "mean"]
        return sorted(set(asked) | ({*B.DEFAULT_QUANTILES} if not asked else set()))


@dataclass
class Trained:
    """The forecast as columns, and what the manifest records."""

    columns: dict[str, list]  # "series", "step" (microseconds), one list per forecast type
    bounds: dict[str, list]  # "series", "step", "lower", "upper": anomaly bounds, future
    members: tuple[str, ...]
    calibration: dict[float, float]
    per_method: dict[str, dict]
    chosen: dict[str, float]
    backtest_cuts: int
    windows: int
    skipped: dict[str, str] = field(default_factory=dict)


def train_forecast(
    data: SeriesSet,
    plan: ForecastPlan,
    deadline: Deadline,
    on_trial: Callable | None = None,
    methods: tuple[str, ...] = M.METHODS,
) -> Trained:
    h, seasons = plan.horizon, data.freq.seasons
    windows = plan.windows or (WINDOWS_FEW if len(data.values) < MANY_SERIES else WINDOWS_MANY)
    season = M.season_for(max(data.values, key=len), seasons)
    sample = _sample(len(data.values))
    cut = B.cuts([data.values[i] for i in sample], h, windows, season)
    qs = plan.quantiles
    anomaly_q = [(100 - ANOMALY_LEVEL) / 200, (100 + ANOMALY_LEVEL) / 200]
    levels = sorted({B.level(q) for q in [*qs, *anomaly_q] if abs(q - 0.5) > 1e-12})
    reserve = RESERVE_SECONDS + RESERVE_SHARE * deadline.seconds
    # Seasonal naive's final forecasts first: the fallback of any series a member cannot reach.
    baseline = [M.forecast("seasonal_naive", y, h, seasons, levels) for y in data.values]
    runs: list[B.MethodRun] = []
    skipped: dict[str, str] = {}
    for name in methods:
        if not M.applicable(name, seasons):
            continue
        # Time kept for the final fits of the best method so far: it must still finish.
        kept = reserve + _best_cost(runs, cut, qs, plan.objective, final_cost(data, seasons))
        run = _backtest(name, data, sample, cut, h, seasons, levels, qs, deadline, kept,
                        must_finish=not runs)  # fmt: skip
        if run is None:
            skipped[name] = "MAX_RUNTIME would have passed before it finished"
            continue
        runs.append(run)
        if on_trial is not None:
            score = _score(run, cut, qs, plan.objective)
            on_trial(Trial(name, "ok", score if score is not None else 0.0))
    actual = np.array(cut.actual).reshape(-1, h)
    scale = np.array(cut.scale)
    per_method = {}
    cost = {r.name: r.seconds_per_step * final_cost(data, seasons) for r in runs}
    cost["seasonal_naive"] = 0.0  # done
    if len(cut.series):
        ranked = B.combine(runs, actual, scale, qs, plan.objective)
        for r in runs:
            single = next(c for c in ranked if c.members == (r.name,))
            per_method[r.name] = {**single.metrics, "fallbacks": r.fallbacks,
                                  "seconds": round(r.seconds, 3)}  # fmt: skip
        # The best combination whose final forecasts fit in the time left.
        left = deadline.remaining() - reserve
        best = next(
            (c for c in ranked if sum(cost[m] for m in c.members) <= left),
            next(c for c in ranked if c.members == ("seasonal_naive",)),
        )
    else:  # no series is long enough to backtest: the standard combination, uncalibrated
        names = [r.name for r in runs]
        members = tuple(n for n in ("ets", "theta", "arima") if n in names) or (names[0],)
        best = B.Choice(members, dict.fromkeys(qs, 1.0), {})
        per_method = {r.name: {"fallbacks": r.fallbacks, "seconds": r.seconds} for r in runs}
    finals = {
        name: baseline if name == "seasonal_naive" else
        _final_fits(name, data, h, seasons, levels, baseline, deadline, reserve)
        for name in best.members
    }  # fmt: skip
    columns, bounds = _final(data, [finals[m] for m in best.members], best, plan, anomaly_q)
    return Trained(
        columns,
        bounds,
        best.members,
        best.calibration,
        per_method,
        best.metrics,
        len(cut.series),
        windows,
        skipped,
    )


def _best_cost(runs: list, cut: B.Cuts, qs, objective: str, units: float) -> float:
    """What the final fits of the best backtested method (seasonal naive's are done) cost."""
    scored = [(_score(r, cut, qs, objective), r) for r in runs if r.name != "seasonal_naive"]
    scored = [(s, r) for s, r in scored if s is not None]
    return min(scored, key=lambda p: p[0])[1].seconds_per_step * units if scored else 0.0


def _sample(n: int) -> list[int]:
    """The series backtested: all of them up to BACKTEST_SERIES, else an even spread."""
    if n <= BACKTEST_SERIES:
        return list(range(n))
    return sorted({int(i) for i in np.linspace(0, n - 1, BACKTEST_SERIES)})


def _score(run, cut: B.Cuts, qs, objective: str) -> float | None:
    if not len(cut.series):
        return None
    actual = np.array(cut.actual)
    found = B.metrics(actual, run.mean, run.quantiles, np.array(cut.scale))
    return found[objective]


def _backtest(name, data, sample, cut, h, seasons, levels, qs, deadline, reserve, must_finish):
    """The method's backtest forecasts, or None when the deadline would pass before it and its
    final forecasts of every series are done.

    The rest is projected by a per-series cost model: a fit costs time in proportion to the
    steps it reads (``fit_cost``), so long series weigh more than short ones. A method whose
    projection exceeds the time left EARLY_FACTOR times over is dropped after its first fit;
    otherwise after PROBE_FITS fits, the first ones being noisier.
    """
    started = time.monotonic()
    began = deadline.elapsed()
    means = np.zeros((len(cut.series), h))
    quantiles = {q: np.zeros((len(cut.series), h)) for q in qs}
    weights = [fit_cost(o, seasons) for o in cut.origins]
    total = sum(weights) + final_cost(data, seasons)
    fallbacks, done = 0, 0.0
    for j, i in enumerate(cut.series):
        y = data.values[sample[i]]
        f = M.forecast(name, y[: cut.origins[j]], h, seasons, levels)
        fallbacks += f.fallback
        means[j] = f.mean
        for q in qs:
            quantiles[q][j] = B.quantile_of(f, q)
        done += weights[j]
        if must_finish:
            continue
        left = deadline.remaining() - reserve
        if left <= 0:
            return None
        projected = (deadline.elapsed() - began) / done * (total - done)
        if projected > left * (1.0 if j + 1 >= PROBE_FITS else EARLY_FACTOR):
            return None
    seconds = time.monotonic() - started
    per_unit = (deadline.elapsed() - began) / done if done else 0.0
    if not len(cut.series):  # nothing to time it by: one fit of the longest series
        longest = max(data.values, key=len)
        probe = deadline.elapsed()
        M.forecast(name, longest, h, seasons, levels)
        per_unit = (deadline.elapsed() - probe) / fit_cost(len(longest), seasons)
    return B.MethodRun(name, means, quantiles, [], fallbacks, seconds, per_unit)


def fit_cost(n: int, seasons: tuple[int, ...]) -> float:
    """A fit's cost of a series of ``n`` steps, in units of one step read: the steps the
    methods fit, plus a fixed cost per fit."""
    return M.history_steps(n, seasons) + FIT_OVERHEAD_STEPS


def final_cost(data: SeriesSet, seasons: tuple[int, ...]) -> float:
    """The cost of a method's final fits of every series, in the units of ``fit_cost``."""
    return sum(fit_cost(len(y), seasons) for y in data.values)


def _final_fits(name, data, h, seasons, levels, baseline, deadline, reserve) -> list:
    """The method's forecast of every series; past the deadline, seasonal naive's."""
    out = []
    for i, y in enumerate(data.values):
        if deadline.remaining() < reserve:
            out.append(baseline[i])
        else:
            out.append(M.forecast(name, y, h, seasons, levels))
    return out


def _final(data: SeriesSet, chosen: list, best: B.Choice, plan: ForecastPlan, anomaly_q):
    """The combination's forecast of every series (``chosen``: each member's forecasts), and
    its anomaly bounds."""
    h = plan.horizon
    cols: dict[str, list] = {"series": [], "step": []}
    for kind in plan.percentiles:
        cols[column_name(kind)] = []
    bounds: dict[str, list] = {"series": [], "step": [], "lower": [], "upper": []}
    for i in range(len(data.values)):
        members = [forecasts[i] for forecasts in chosen]
        mean = np.mean([f.mean for f in members], axis=0)
        times = data.step_times(i, len(data.values[i]), h)
        cols["series"] += [i] * h
        cols["step"] += times
        for kind in plan.percentiles:
            if kind == "mean":
                values = mean
            else:
                q = float(kind)
                spread = np.mean([B.quantile_of(f, q) for f in members], axis=0) - mean
                values = mean + best.calibration.get(q, 1.0) * spread
            cols[column_name(kind)] += values.tolist()
        lo, hi = (np.mean([B.quantile_of(f, q) for f in members], axis=0) for q in anomaly_q)
        bounds["series"] += [i] * h
        bounds["step"] += times
        bounds["lower"] += lo.tolist()
        bounds["upper"] += hi.tolist()
    return cols, bounds


def forecast_table(
    trained: Trained, data: SeriesSet, id_type: pa.DataType | None, time_type: pa.DataType
) -> pa.Table:
    """The forecast as the user sees it: id (when the model has one), time, one column per
    forecast type."""
    out = {}
    if id_type is not None:
        out["id"] = pa.array([data.ids[i] for i in trained.columns["series"]], id_type)
    out["time"] = _times(trained.columns["step"], time_type)
    for name, values in trained.columns.items():
        if name not in ("series", "step"):
            out[name] = pa.array(values, pa.float64())
    return pa.table(out)


def _times(micros: list, time_type: pa.DataType) -> pa.Array:
    stamps = pa.array(np.asarray(micros, dtype=np.int64), pa.int64()).cast(pa.timestamp("us"))
    if pa.types.is_date(time_type):
        return stamps.cast(pa.date32())
    return stamps.cast(pa.timestamp("us", tz=time_type.tz)).cast(time_type)


def forecast_fresh(
    data: SeriesSet, members: list[str], calibration: dict[float, float], plan: ForecastPlan
) -> Trained:
    """The model's combination refitted on new history (``FORECAST(model, (query))``): the
    members and interval calibration chosen at training, fitted on ``data`` now."""
    h, seasons = plan.horizon, data.freq.seasons
    qs = sorted({float(k) for k in plan.percentiles if k != "mean"} | set(calibration))
    anomaly_q = [(100 - ANOMALY_LEVEL) / 200, (100 + ANOMALY_LEVEL) / 200]
    levels = sorted({B.level(q) for q in [*qs, *anomaly_q] if abs(q - 0.5) > 1e-12})
    finals = [[M.forecast(m, y, h, seasons, levels) for y in data.values] for m in members]
    best = B.Choice(tuple(members), calibration, {})
    columns, bounds = _final(data, finals, best, plan, anomaly_q)
    return Trained(columns, bounds, best.members, calibration, {}, {}, 0, 0)
