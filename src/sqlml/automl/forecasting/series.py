"""Time series from rows: each series on a regular grid of FREQUENCY steps.

Rows are (id, time, value). A series' grid starts at its first timestamp and steps by the
FREQUENCY: a fixed number of microseconds (W, D, H, the minutes) or calendar months (M) and
years (Y). What the rows get wrong is refused with the series and the timestamp named:

- a timestamp off the grid (10:30 in an hourly series) or two rows in one step (duplicates, or
  data finer than FREQUENCY): aggregate in the FROM query or choose the data's FREQUENCY;
- most steps missing (weekly data with FREQUENCY 'D'): the FREQUENCY contradicts the data;
- fewer than ``MIN_STEPS`` steps, or a HORIZON above a third of the longest series.

A missing step inside a series, or a NULL target, is 0: Amazon Forecast's default filling of
the target (a day without a sale is a day with zero sales); fill otherwise in the FROM query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidSetting, TrainingDataError

US_PER_DAY = 86_400_000_000
MIN_STEPS = 3
# Above this share of filled steps, the data is coarser than FREQUENCY, not gappy.
MOST_MISSING = 0.5


@dataclass(frozen=True)
class Frequency:
    code: str  # as Redshift spells it
    months: int  # calendar months per step (M, Y); 0 for fixed steps
    step_us: int  # microseconds per step (fixed steps); 0 for M, Y
    seasons: tuple[int, ...]  # seasonal periods, in steps, most important first
    words: str  # "every day", for messages

    @property
    def sub_daily(self) -> bool:
        return 0 < self.step_us < US_PER_DAY


_H = 3_600_000_000
_MIN = 60_000_000
FREQUENCIES = {
    f.code: f
    for f in (
        Frequency("Y", 12, 0, (1,), "every year"),
        Frequency("M", 1, 0, (12,), "every month"),
        Frequency("W", 0, 7 * US_PER_DAY, (52,), "every week"),
        Frequency("D", 0, US_PER_DAY, (7,), "every day"),
        Frequency("H", 0, _H, (24, 168), "every hour"),
        Frequency("30min", 0, 30 * _MIN, (48, 336), "every 30 minutes"),
        Frequency("15min", 0, 15 * _MIN, (96, 672), "every 15 minutes"),
        Frequency("10min", 0, 10 * _MIN, (144,), "every 10 minutes"),
        Frequency("5min", 0, 5 * _MIN, (288,), "every 5 minutes"),
        Frequency("1min", 0, _MIN, (1440,), "every minute"),
    )
}


def frequency(text: object, where: str) -> Frequency:
    """FREQUENCY as Redshift lists it (case aside)."""
    if isinstance(text, str):
        for code, f in FREQUENCIES.items():
            if text.strip().lower() == code.lower():
                return f
    raise InvalidSetting(
        f"{where}: FREQUENCY {text!r} is not one Redshift knows; use one of "
        f"{', '.join(repr(c) for c in FREQUENCIES)}."
    )


def percentiles(text: object, where: str) -> list[str]:
    """PERCENTILES '0.1,0.5,0.9,mean' as its forecast types, in the order given: quantiles
    0.01 to 0.99 in steps of 0.01 and 'mean', at most 5 (Redshift's limits)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidSetting(f"{where}: PERCENTILES must be a quoted list such as '0.1,0.5,0.9'.")
    out: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if part.lower() == "mean":
            kind = "mean"
        else:
            try:
                q = float(part)
            except ValueError:
                q = -1.0
            if not (0.01 <= q <= 0.99) or abs(q * 100 - round(q * 100)) > 1e-9:
                raise InvalidSetting(
                    f"{where}: PERCENTILES '{text}': {part!r} is not a quantile from 0.01 to 0.99 "
                    "in steps of 0.01, nor 'mean'."
                )
            kind = f"{round(q * 100) / 100:g}"
        if kind in out:
            raise InvalidSetting(f"{where}: PERCENTILES '{text}' lists {part!r} twice.")
        out.append(kind)
    if len(out) > 5:
        raise InvalidSetting(
            f"{where}: PERCENTILES '{text}' lists {len(out)} forecast types; Redshift allows at "
            "most 5."
        )
    return out


def column_name(kind: str) -> str:
    """The forecast's column of a forecast type: 'mean', or p10 for 0.1 (p5 for 0.05)."""
    return "mean" if kind == "mean" else f"p{round(float(kind) * 100)}"


@dataclass
class SeriesSet:
    """Every series on its grid: ``values[i][k]`` is step k of series ``ids[i]``, whose step 0 is
    ``starts[i]`` (microseconds since 1970 for fixed steps, months since 1970-01 for M and Y)."""

    ids: list  # None for the one series of a model without an id column
    values: list[np.ndarray]
    starts: list[int]
    freq: Frequency
    month_end: bool = False  # M, Y: the data dates each month by its last day
    filled: int = 0  # steps that were missing or NULL, now 0

    def step_times(self, i: int, first: int, count: int) -> list:
        """The timestamps (as microseconds since 1970) of steps first .. first+count-1."""
        k = np.arange(first, first + count, dtype=np.int64)
        if self.freq.step_us:
            return list(self.starts[i] + k * self.freq.step_us)
        return [_month_us(self.starts[i] + int(j) * self.freq.months, self.month_end) for j in k]


def _month_us(month: int, month_end: bool) -> int:
    year, m = divmod(month, 12)
    day = dt.date(1970 + year, m + 1, 1)
    if month_end:
        following = dt.date(1970 + year + (m + 1) // 12, (m + 1) % 12 + 1, 1)
        day = following - dt.timedelta(days=1)
    return (day - dt.date(1970, 1, 1)).days * US_PER_DAY


def micros(times: pa.Array) -> np.ndarray:
    """DATE or TIMESTAMP values as microseconds since 1970 (UTC for time zones)."""
    if pa.types.is_date(times.type):
        days = pc.cast(times, pa.date32()).cast(pa.int32()).to_numpy(zero_copy_only=False)
        return days.astype(np.int64) * US_PER_DAY
    cast = pc.cast(times, pa.timestamp("us", tz=times.type.tz))
    return cast.cast(pa.int64()).to_numpy(zero_copy_only=False)


def _shown(us: int) -> str:
    return str(np.datetime64(int(us), "us")).replace("T", " ").removesuffix(" 00:00:00")


def _label(series_id) -> str:
    return "the series" if series_id is None else f"series {series_id!r}"


def prepare(
    ids: pa.Array | None,
    times: pa.Array,
    values: pa.Array,
    freq: Frequency,
    where: str,
    time_name: str,
) -> SeriesSet:
    """Series from rows, checked (see the module's docstring)."""
    ids, times, values = (_whole(a) for a in (ids, times, values))
    if times.null_count:
        raise TrainingDataError(
            f"{where}: the time column '{time_name}' is NULL in {times.null_count} row(s); leave "
            "them out in the FROM query (WHERE ... IS NOT NULL)."
        )
    t = micros(times)
    y = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    if ids is None:
        codes, labels = np.zeros(len(t), np.int64), [None]
    else:
        if ids.null_count:
            raise TrainingDataError(
                f"{where}: the id column is NULL in {ids.null_count} row(s); leave them out or "
                "COALESCE them to an id in the FROM query."
            )
        encoded = pc.dictionary_encode(ids)
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        labels = encoded.dictionary.to_pylist()
    month_end = bool(freq.months) and bool(len(t)) and _all_month_ends(t, freq)
    keys = t if freq.step_us else _month_index(t)
    order = np.lexsort((keys, codes))
    codes, keys, y = codes[order], keys[order], y[order]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    out = SeriesSet([], [], [], freq, month_end)
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(codes)], strict=True):
        if hi <= lo:
            continue
        label = labels[codes[lo]]
        steps = _steps(keys[lo:hi], freq, where, label, t[order][lo:hi])
        length = int(steps[-1]) + 1
        if length < MIN_STEPS:
            raise TrainingDataError(
                f"{where}: {_label(label)} has {length} time step(s); a FORECAST needs at least "
                f"{MIN_STEPS} per series. Leave shorter series out in the FROM query."
            )
        grid = np.zeros(length)
        grid[steps] = y[lo:hi]
        missing = length - (hi - lo) + int(np.isnan(y[lo:hi]).sum())
        if length > MIN_STEPS and missing / length > MOST_MISSING:
            raise TrainingDataError(
                f"{where}: FREQUENCY '{freq.code}' ({freq.words}) contradicts the data: "
                f"{_label(label)} has {hi - lo} rows over {length} steps, so most steps would be "
                "missing. Use the FREQUENCY of the data."
            )
        out.filled += missing
        out.ids.append(label)
        out.values.append(np.nan_to_num(grid, nan=0.0))
        out.starts.append(int(keys[lo]))
    return out


def _whole(array):
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _steps(keys: np.ndarray, freq: Frequency, where: str, label, t: np.ndarray) -> np.ndarray:
    offsets = keys - keys[0]
    if freq.step_us:
        off_grid = np.flatnonzero(offsets % freq.step_us)
        if len(off_grid):
            j = off_grid[0]
            raise TrainingDataError(
                f"{where}: FREQUENCY '{freq.code}' ({freq.words}) contradicts the data: in "
                f"{_label(label)}, {_shown(t[j])} is not a whole number of steps after its first "
                f"timestamp {_shown(t[0])}. Use the FREQUENCY of the data, or aggregate to "
                "this one in the FROM query (date_trunc and GROUP BY)."
            )
        steps = offsets // freq.step_us
    else:
        steps = offsets // freq.months
    repeated = np.flatnonzero(np.diff(steps) == 0)
    if len(repeated):
        j = repeated[0]
        raise TrainingDataError(
            f"{where}: {_label(label)} has two rows in one step of FREQUENCY '{freq.code}' "
            f"({_shown(t[j])} and {_shown(t[j + 1])}). Aggregate them in the FROM query "
            "(SUM ... GROUP BY the id and the time, truncated to the FREQUENCY), or choose a finer "
            "FREQUENCY."
        )
    return steps


def _month_index(t: np.ndarray) -> np.ndarray:
    months = t.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
    return months


def _all_month_ends(t: np.ndarray, freq: Frequency) -> bool:
    days = t.astype("datetime64[us]").astype("datetime64[D]")
    last = (days.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
    ends = bool((days == last).all())
    if freq.months == 12:  # yearly: the last day of the year
        ends = ends and bool((days.astype("datetime64[M]").astype(np.int64) % 12 == 11).all())
    return ends and not bool((days == days.astype("datetime64[M]").astype("datetime64[D]")).all())
