"""FORECAST models on the M4 competition's Hourly (414 series, h=48) and Weekly (359, h=13) sets,
side by side with statsforecast's AutoETS, AutoARIMA, AutoTheta and seasonal naive.

    python bench/forecast_convert.py /work/m4      # once: the organisers' CSVs to Parquet
    python bench/forecast.py --data /work/m4 [--sets hourly,weekly] [--series N]
                             [--max-runtime 600] [--systems sqlml,ets,arima,theta,snaive]

sqlml trains through its SQL, as a user would (``CREATE MODEL ... MODEL_TYPE FORECAST`` with
``MAX_RUNTIME``, then ``SELECT FORECAST(model)``), timed from the statement to the forecast.
Each statsforecast method fits every series in this process (``StatsForecast(..., n_jobs=1)``,
the seasonal period of the set: 24 hourly, 52 weekly), timed the same way; AutoARIMA with
``approximation=True`` (R's auto.arima default for series this long; the exact search took 40
to 85 s per hourly series on the bench machine). Scores are M4's:
sMAPE, MASE (M4's scaling: in-sample seasonal naive errors with period 24 hourly, 1 weekly) and
OWA (the mean of sMAPE and MASE relative to M4's Naive2 benchmark), plus the weighted quantile
loss over p10, p50 and p90 (statsforecast's 80 % intervals; the mean is p50). ``--series N``
takes an even spread of N series of each set (say so when quoting figures). A system ``name:P`` fits
that statsforecast method with seasonal period P (``arima:1``: M4's own convention for weekly
data, and what its published references use). ``--peer-budget S``
gives each statsforecast method S seconds (five series at a time until they are spent, seasonal
naive for the rest, said in the table): the full sets at sqlml's budget. Prints one table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

SETS = {
    # name: (horizon, sqlml FREQUENCY, M4's MASE period, statsforecast's seasonal period)
    "hourly": (48, "H", 24, 24),
    "weekly": (13, "W", 1, 52),
}
SYSTEMS = ("sqlml", "ets", "arima", "theta", "snaive")


def load(folder: Path, name: str, series: int | None):
    table = pq.read_table(folder / f"{name}.parquet").to_pandas()
    ids = list(dict.fromkeys(table["id"]))
    if series is not None and series < len(ids):
        ids = [ids[int(i)] for i in np.linspace(0, len(ids) - 1, series)]
    table = table[table["id"].isin(set(ids))]
    train = {i: g.sort_values("step")["y"].to_numpy() for i, g in table[~table.test].groupby("id")}
    test = {i: g.sort_values("step")["y"].to_numpy() for i, g in table[table.test].groupby("id")}
    return ids, train, test


# -- the M4 measures ---------------------------------------------------------------------------


def smape(y, f) -> float:
    return float(np.mean(200 * np.abs(y - f) / (np.abs(y) + np.abs(f))))


def mase(history, y, f, m: int) -> float:
    scale = np.mean(np.abs(history[m:] - history[:-m]))
    return float(np.mean(np.abs(y - f)) / scale)


def _seasonal(history, m: int) -> bool:
    """M4's 90 % autocorrelation test for seasonality at lag m."""
    if m <= 1 or len(history) < 3 * m:
        return False
    x = history - history.mean()
    acf = [1.0] + [float(np.sum(x[k:] * x[:-k]) / np.sum(x * x)) for k in range(1, m + 1)]
    limit = 1.645 * np.sqrt((1 + 2 * sum(a * a for a in acf[1:m])) / len(history))
    return abs(acf[m]) > limit


def naive2(history, h: int, m: int) -> np.ndarray:
    """M4's Naive2: naive on the series seasonally adjusted by classical multiplicative
    decomposition when the seasonality test passes."""
    if not _seasonal(history, m):
        return np.repeat(history[-1], h)
    n = len(history)
    trend = np.convolve(history, np.r_[0.5, np.ones(m - 1), 0.5] / m, mode="valid")
    offset = m // 2
    ratios = history[offset : offset + len(trend)] / trend
    index = np.array([np.mean(ratios[(k - offset) % m :: m]) for k in range(m)])
    index = index / index.mean()
    season = index[np.arange(n) % m]
    adjusted = history / season
    return adjusted[-1] * index[np.arange(n, n + h) % m]


def wql(y, quantiles: dict[float, np.ndarray]) -> tuple[float, float]:
    """(sum of pinball losses over the quantiles, times 2) and sum |y|, to pool over series."""
    loss = 0.0
    for q, f in quantiles.items():
        d = y - f
        loss += 2 * float(np.sum(np.maximum(q * d, (q - 1) * d)))
    return loss, float(np.sum(np.abs(y)))


# -- the systems -----------------------------------------------------------------------------


def run_sqlml(name: str, ids, train, max_runtime: int) -> tuple[dict, float, str]:
    import pyarrow as pa

    import sqlml

    h, frequency = SETS[name][0], SETS[name][1]
    rows = {"id": [], "step": [], "y": []}
    for i in ids:
        rows["id"] += [i] * len(train[i])
        rows["step"] += list(range(len(train[i])))
        rows["y"] += train[i].tolist()
    table = pa.table(rows)
    time_expr = (
        "TIMESTAMP '2000-01-01' + to_hours(step)"
        if frequency == "H"
        else "DATE '2000-01-02' + (7 * step)::INTEGER"
    )
    with tempfile.TemporaryDirectory() as folder:
        conn = sqlml.connect(str(Path(folder) / "m4.duckdb"), synchronous=True)
        conn.duckdb.register("m4_rows", table)
        conn.sql(f"CREATE TABLE m4 AS SELECT id, {time_expr} AS t, y FROM m4_rows")
        started = time.monotonic()
        conn.sql(
            "CREATE MODEL m4 FROM (SELECT id, t, y FROM m4) TARGET y MODEL_TYPE FORECAST "
            f"SETTINGS (HORIZON {h}, FREQUENCY '{frequency}', PERCENTILES '0.1,0.5,0.9,mean', "
            f"MAX_RUNTIME {max_runtime}, MAX_CELLS 100000000)"
        )
        result = conn.execute("SELECT id, p10, p50, p90, mean FROM FORECAST(m4) ORDER BY id, time")
        seconds = time.monotonic() - started
        shown = dict(conn.execute("SHOW MODEL m4").fetchall())
        conn.close()
    out: dict = {}
    for i, p10, p50, p90, mean in result.fetchall():
        out.setdefault(i, []).append((p10, p50, p90, mean))
    forecasts = {
        i: {"mean": np.array([v[3] for v in vs]), 0.1: np.array([v[0] for v in vs]),
            0.5: np.array([v[1] for v in vs]), 0.9: np.array([v[2] for v in vs])}
        for i, vs in out.items()
    }  # fmt: skip
    return forecasts, seconds, shown.get("Forecast Methods", "")


def _statsforecast(system: str, season: int, ids, train, h: int) -> tuple[dict, str]:
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    model = {
        "ets": AutoETS(season_length=season),
        # R's auto.arima rule, as sqlml's: the exact search took 40-85 s per hourly series.
        "arima": AutoARIMA(season_length=season, approximation=True),
        "theta": AutoTheta(season_length=season),
        "snaive": SeasonalNaive(season_length=season),
    }[system]
    frame = pd.concat(
        pd.DataFrame({"unique_id": i, "ds": np.arange(len(train[i])), "y": train[i]}) for i in ids
    )
    fc = StatsForecast(models=[model], freq=1, n_jobs=1).forecast(df=frame, h=h, level=[80])
    column = [c for c in fc.columns if c not in ("unique_id", "ds") and "-" not in c][0]
    out = {}
    for i, g in fc.groupby("unique_id"):
        g = g.sort_values("ds")
        out[i] = {"mean": g[column].to_numpy(), 0.1: g[f"{column}-lo-80"].to_numpy(),
                  0.5: g[column].to_numpy(), 0.9: g[f"{column}-hi-80"].to_numpy()}  # fmt: skip
    return out, column


def run_statsforecast(
    name: str, system: str, ids, train, budget: float | None
) -> tuple[dict, float, str]:
    """Every series fitted by ``system``; with a ``budget`` (seconds), series are fitted five
    at a time until it is spent, and those left get seasonal naive forecasts (said in the
    last column): what the method gives a user in the time sqlml was given."""
    h, season = SETS[name][0], SETS[name][3]
    system, _, period = system.partition(":")  # "arima:1": another seasonal period
    season = int(period or season)
    started = time.monotonic()
    if budget is None:
        out, column = _statsforecast(system, season, ids, train, h)
        return out, time.monotonic() - started, column
    out, column = {}, system
    for start in range(0, len(ids), 5):
        if time.monotonic() - started >= budget:
            break
        found, column = _statsforecast(system, season, ids[start : start + 5], train, h)
        out.update(found)
    seconds = time.monotonic() - started
    left = [i for i in ids if i not in out]
    if left:
        out.update(_statsforecast("snaive", season, left, train, h)[0])
        column += f" ({len(ids) - len(left)} of {len(ids)} series in {budget:.0f} s, the rest "
        column += "seasonal naive)"
    return out, seconds, column


def score(name: str, ids, train, test, forecasts: dict) -> dict:
    h, _, m, _ = SETS[name]
    s, a, loss, total = [], [], 0.0, 0.0
    for i in ids:
        f = forecasts[i]
        s.append(smape(test[i], f["mean"]))
        a.append(mase(train[i], test[i], f["mean"], m))
        pin, size = wql(test[i], {q: f[q] for q in (0.1, 0.5, 0.9)})
        loss, total = loss + pin, total + size
    return {"smape": float(np.mean(s)), "mase": float(np.mean(a)), "wql": loss / total / 3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/m4"))
    parser.add_argument("--sets", default="hourly,weekly")
    parser.add_argument("--series", type=int, default=None)
    parser.add_argument("--max-runtime", type=int, default=600)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument(
        "--peer-budget",
        type=float,
        default=None,
        help="seconds each statsforecast method may spend (default: no limit; the series not "
        "fitted by then get seasonal naive forecasts)",
    )
    args = parser.parse_args()
    print(
        f"{'set':8} {'system':8} {'series':>6} {'sMAPE':>8} {'MASE':>7} {'OWA':>6} "
        f"{'wQL':>7} {'seconds':>8}  chosen"
    )
    for name in args.sets.split(","):
        ids, train, test = load(args.data, name, args.series)
        h, _, m, _ = SETS[name]
        benchmark = {i: naive2(train[i], h, SETS[name][3] if name == "hourly" else 1) for i in ids}
        base = score(name, ids, train, test, {
            i: {"mean": f, 0.1: f, 0.5: f, 0.9: f} for i, f in benchmark.items()})  # fmt: skip
        print(f"{name:8} {'naive2':8} {len(ids):6} {base['smape']:8.3f} {base['mase']:7.3f} "
              f"{1.0:6.3f} {'':>7} {'':>8}", flush=True)  # fmt: skip
        for system in args.systems.split(","):
            if system == "sqlml":
                forecasts, seconds, chosen = run_sqlml(name, ids, train, args.max_runtime)
            else:
                forecasts, seconds, chosen = run_statsforecast(
                    name, system, ids, train, args.peer_budget
                )
            found = score(name, ids, train, test, forecasts)
            owa = 0.5 * (found["smape"] / base["smape"] + found["mase"] / base["mase"])
            print(f"{name:8} {system:8} {len(ids):6} {found['smape']:8.3f} {found['mase']:7.3f} "
                  f"{owa:6.3f} {found['wql']:7.4f} {seconds:8.1f}  {chosen}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
