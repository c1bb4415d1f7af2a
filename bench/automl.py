"""AutoML benchmark: sqlml (through SQL) against AutoGluon, FLAML and LightGBM defaults.

    python bench/automl.py [--max-runtime 60] [--suite shared|wider] [--datasets adult,penguins]
                           [--systems sqlml,flaml,lgbm,autogluon]

Suites: ``shared`` (the default) is the ten development tables of ../shared/datasets; ``wider``
is the held-out tables of ../shared/wider, described in bench/wider.md (issue 18). AutoGluon and
FLAML run in their own virtual environment through bench/peers.py (its docstring says how to make
it; ``SQLML_PEERS_PYTHON`` names its python, ../peers-venv/bin/python by default), so neither is
ever a dependency of sqlml; LightGBM runs here.

Split (as in ../shared/baselines.md): ``(row_number() OVER ()) % 5 = 0`` is the test fold, in file
order; every column but the target is a feature. Each system runs in its own process with the
same budget and cores; peak memory is that process tree's peak RSS. sqlml is trained with
``OBJECTIVE 'AUC'`` on binary tables (the compared metric) and ``MAX_CELLS`` high enough to use
every training row, as FLAML and LightGBM do. Test metrics: AUC for binary (positive class of
the manifest), log loss and balanced accuracy for multiclass, RMSE for regression.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# This module imports sqlml only inside run_sqlml: bench/peers.py imports it from another virtual
# environment for the tables, the split and the metrics.
DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
WIDER = Path(__file__).resolve().parents[1].parent / "shared" / "wider"
# target, positive class (binary)
TASKS = {
    "adult": ("income", ">50K"),
    "amazon_employee_access": ("action", 0),
    "bank_marketing": ("subscribed", "yes"),
    "car_evaluation": ("acceptability", None),
    "connect_4": ("outcome", None),
    "penguins": ("species", None),
    "ames_housing": ("sale_price", None),
    "bike_sharing_hourly": ("rentals", None),
    "diamonds": ("price", None),
    "nyc_flights_2013": ("arr_delay", None),
}
# The held-out tables (bench/wider.md): never used to tune sqlml. Target, positive class (binary).
WIDER_TASKS = {
    "fuel_economy": ("hwy", None),
    "used_cars_india": ("listing_price", None),
    "isu_salaries_2018": ("total_salary_paid", None),
    "wine_quality_red": ("quality", None),
    "vehicle_silhouettes": ("vehicle_class", None),
    "yeast": ("localization_site", None),
    "phoneme": ("phoneme_class", 1),
    "image_segmentation": ("region_class", None),
    "lending_club_loans": ("interest_rate", None),
    "credit_scoring": ("status", "bad"),
    "hpc_jobs": ("class", None),
    "telco_churn": ("churn", "yes"),
}
SUITES = {"shared": (DATASETS, TASKS), "wider": (WIDER, WIDER_TASKS)}
REGRESSION = {
    "ames_housing",
    "bike_sharing_hourly",
    "diamonds",
    "nyc_flights_2013",
    "fuel_economy",
    "used_cars_india",
    "isu_salaries_2018",
    "lending_club_loans",
}
CORES = os.cpu_count() or 2
PEERS = ("autogluon", "flaml")  # run by bench/peers.py in their own virtual environment
PEERS_PYTHON = Path(__file__).resolve().parents[1].parent / "peers-venv" / "bin" / "python"


def task_of(suite: str, name: str) -> tuple[Path, str, object]:
    """The table's parquet file, its target and its positive class (binary; else None)."""
    folder, tasks = SUITES[suite]
    target, positive = tasks[name]
    return folder / f"{name}.parquet", target, positive


def read_split(suite: str, name: str, encode: bool = False):
    """Train and test pandas frames (``fold <> 0`` and ``fold = 0``), as the file has them or, with
    ``encode``, dates as year/month/day/weekday and strings as categories (for LightGBM and FLAML).
    """
    import duckdb

    path, _, _ = task_of(suite, name)
    df = duckdb.sql(
        f"SELECT *, (row_number() OVER ()) % 5 AS fold FROM read_parquet('{path.as_posix()}')"
    ).df()
    for col in list(df.columns) if encode else []:
        if str(df[col].dtype).startswith("datetime") or "date" in str(df[col].dtype):
            d = df.pop(col).astype("datetime64[ns]")
            df[f"{col}_year"], df[f"{col}_month"] = d.dt.year, d.dt.month
            df[f"{col}_day"], df[f"{col}_weekday"] = d.dt.day, d.dt.weekday
        elif df[col].dtype == object or str(df[col].dtype) in ("string", "str"):
            df[col] = df[col].astype("category")
    train, test = df[df.fold != 0].drop(columns="fold"), df[df.fold == 0].drop(columns="fold")
    return train, test


def problem_of(name: str, y) -> str:
    if name in REGRESSION:
        return "regression"
    return "binary" if y.nunique() == 2 else "multiclass"


def metrics_of(problem: str, y_true, pred, classes, positive) -> dict:
    from sklearn import metrics as skm

    if problem == "regression":
        return {"rmse": float(np.sqrt(skm.mean_squared_error(y_true, pred)))}
    classes = list(classes)
    if problem == "binary":
        return {
            "auc": float(
                skm.roc_auc_score(np.asarray(y_true) == positive, pred[:, classes.index(positive)])
            )
        }
    labels = np.asarray(classes)[pred.argmax(axis=1)]
    return {
        "log_loss": float(skm.log_loss(y_true, pred, labels=classes)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, labels)),
    }


# -- one system on one dataset, in its own process ---------------------------------------------


def run_sqlml(suite: str, name: str, budget: int) -> dict:
    import pyarrow as pa

    import sqlml
    from sqlml.runtime.predictor import load_predictor

    path, target, positive = task_of(suite, name)
    with (
        tempfile.TemporaryDirectory() as tmp,
        sqlml.connect(Path(tmp) / "b.duckdb", synchronous=True) as conn,
    ):
        conn.sql(
            f"CREATE TABLE data AS SELECT *, (row_number() OVER ()) % 5 AS fold "
            f"FROM read_parquet('{path.as_posix()}')"
        )
        binary = conn.execute(f'SELECT count(DISTINCT "{target}") = 2 FROM data').fetchone()[0]
        objective = "OBJECTIVE 'AUC' " if binary else ""
        started = time.monotonic()
        conn.sql(
            f"CREATE MODEL m FROM (SELECT * EXCLUDE (fold) FROM data WHERE fold <> 0) "
            f'TARGET "{target}" FUNCTION predict_data {objective}'
            f"SETTINGS (MAX_RUNTIME {budget}, MAX_CELLS 1000000000)"
        )
        seconds = time.monotonic() - started
        directory = conn.store.path("main", "m")
        manifest = json.loads((directory / "model.json").read_text())
        test = conn.sql(f'SELECT * EXCLUDE (fold, "{target}") FROM data WHERE fold = 0')
        test = test.to_arrow_table()
        y_true = conn.sql(f'SELECT "{target}" FROM data WHERE fold = 0').to_arrow_table()
        predictor = load_predictor(directory, manifest)
        started = time.monotonic()
        raw = predictor.predict_raw([test.column(i) for i in range(test.num_columns)])
        predict_seconds = time.monotonic() - started
    y = pa.chunked_array(y_true.column(0)).to_pylist()
    problem = {"REGRESSION": "regression", "BINARY_CLASSIFICATION": "binary"}.get(
        manifest["problem_type"], "multiclass"
    )
    summary = manifest["model"]["summary"]
    return {
        "metrics": metrics_of(problem, y, raw, manifest["model"]["classes"] or [], positive),
        "fit_seconds": seconds,
        "predict_seconds": predict_seconds,
        "chosen": summary.get("chosen"),
        "trials": summary.get("trials"),
        "arrow_mb": manifest["training"].get("arrow_mb"),
        "rss_baseline_mb": manifest["training"].get("rss_baseline_mb"),
        "trainer_peak_mb": manifest["training"].get("rss_peak_mb"),
    }


def run_frame_model(suite: str, name: str, fit) -> dict:
    """Fit a pandas-frame model (``fit(X, y, problem)`` returns it) and score the test fold."""
    _, target, positive = task_of(suite, name)
    train, test = read_split(suite, name, encode=True)
    problem = problem_of(name, train[target])
    started = time.monotonic()
    model = fit(train.drop(columns=target), train[target], problem)
    seconds = time.monotonic() - started
    Xt, yt = test.drop(columns=target), test[target]
    pred = model.predict(Xt) if problem == "regression" else model.predict_proba(Xt)
    classes = model.classes_ if problem != "regression" else []
    return {
        "metrics": metrics_of(problem, list(yt), pred, classes, positive),
        "fit_seconds": seconds,
    }


def run_lgbm(suite: str, name: str, budget: int) -> dict:
    import lightgbm as lgb

    def fit(X, y, problem):
        cls = lgb.LGBMRegressor if problem == "regression" else lgb.LGBMClassifier
        return cls(verbose=-1).fit(X, y)

    return run_frame_model(suite, name, fit)


RUNNERS = {"sqlml": run_sqlml, "lgbm": run_lgbm}


def run_isolated(system: str, suite: str, name: str, budget: int) -> dict:
    if system in PEERS:
        python = os.environ.get("SQLML_PEERS_PYTHON", str(PEERS_PYTHON))
        command = [python, str(Path(__file__).with_name("peers.py")), "--system", system]
        command += ["--suite", suite, "--datasets", name, "--max-runtime", str(budget)]
    else:
        command = [sys.executable, __file__, "--run-one", system, name, str(budget)]
        command += ["--suite", suite]
    try:
        out = subprocess.run(command, capture_output=True, text=True)
    except OSError as e:  # no peers environment
        return {"error": f"{command[0]}: {e.strerror}"}
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the table -----------------------------------------------------------------------------

PRIMARY = {"auc": True, "log_loss": False, "rmse": False}  # metric -> higher is better


def primary(result: dict) -> tuple[str, float] | None:
    for key in ("auc", "log_loss", "rmse"):
        if key in result.get("metrics", {}):
            return key, result["metrics"][key]
    return None


def beats(a: dict, b: dict) -> bool | None:
    pa_, pb = primary(a), primary(b)
    if pa_ is None or pb is None:
        return None
    higher = PRIMARY[pa_[0]]
    return pa_[1] > pb[1] if higher else pa_[1] < pb[1]


def fmt(result: dict) -> str:
    if "error" in result:
        return f"error: {result['error'][:60]}"
    parts = [
        f"{k} {v:,.4f}" if abs(v) < 100 else f"{k} {v:,.1f}" for k, v in result["metrics"].items()
    ]
    return ", ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-runtime", type=int, default=60)
    parser.add_argument("--suite", choices=SUITES, default="shared")
    parser.add_argument("--datasets", help="default: every table of the suite")
    parser.add_argument(
        "--systems", default="sqlml,flaml,lgbm", help="of sqlml,lgbm,flaml,autogluon"
    )
    parser.add_argument("--run-one", nargs=3, metavar=("SYSTEM", "DATASET", "BUDGET"))
    args = parser.parse_args()
    if args.run_one:
        system, name, budget = args.run_one
        result = RUNNERS[system](args.suite, name, int(budget))
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        result["peak_mb"] = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, children)
        print(json.dumps(result, default=str))
        return 0
    systems = args.systems.split(",")
    tasks = SUITES[args.suite][1]
    names = args.datasets.split(",") if args.datasets else list(tasks)
    unknown = [x for x in names if x not in tasks] + [
        x for x in systems if x not in RUNNERS and x not in PEERS
    ]
    if unknown:
        parser.error(f"unknown dataset or system for suite {args.suite}: {', '.join(unknown)}")
    rows = []
    for name in names:
        row = {"dataset": name}
        for system in systems:
            row[system] = run_isolated(system, args.suite, name, args.max_runtime)
            print(
                f"  {name} {system}: {fmt(row[system])} "
                f"({row[system].get('fit_seconds', 0):.1f} s)",
                file=sys.stderr,
                flush=True,
            )
        rows.append(row)
    print_table(rows, systems, args.max_runtime)
    return 0


def shortfall(a: dict, b: dict) -> float | None:
    """How much worse ``a`` is than ``b`` on the primary metric, relative to ``b`` (0 when level
    or ahead; None when either has no score)."""
    pa_, pb = primary(a), primary(b)
    if pa_ is None or pb is None or pb[1] == 0:
        return None
    gap = (pb[1] - pa_[1]) if PRIMARY[pa_[0]] else (pa_[1] - pb[1])
    return max(gap / abs(pb[1]), 0.0)


def print_table(rows: list[dict], systems: list[str], budget: int) -> None:
    print(f"\nMAX_RUNTIME / time budget {budget} s, {CORES} cores\n")
    print(
        "| dataset | " + " | ".join(systems) + " | sqlml fit s (limit "
        f"{budget * 1.05:.0f}) | sqlml candidates tried | sqlml peak MB (trainer; baseline; "
        "data) | sqlml model |"
    )
    print("|---|" + "---|" * (len(systems) + 4))
    wins = {other: 0 for other in systems if other != "sqlml"}
    level = dict.fromkeys(wins, 0)
    worst: dict[str, tuple[float, str]] = {other: (0.0, "") for other in wins}
    for row in rows:
        s = row.get("sqlml", {})
        for other in wins:
            if "sqlml" not in row:
                continue
            if beats(row["sqlml"], row[other]):
                wins[other] += 1
            gap = shortfall(row["sqlml"], row[other])
            if gap is not None and gap == 0.0:
                level[other] += 1
            if gap is not None and gap > worst[other][0]:
                worst[other] = (gap, row["dataset"])
        memory = (
            (f"{s.get('trainer_peak_mb')}; {s.get('rss_baseline_mb')}; {s.get('arrow_mb')}")
            if s.get("trainer_peak_mb")
            else ""
        )
        print(
            f"| {row['dataset']} | "
            + " | ".join(fmt(row[x]) for x in systems)
            + f" | {s.get('fit_seconds', float('nan')):.1f} | {s.get('trials', '')} | {memory} "
            f"| {s.get('chosen', '')} |"
        )
    for other, count in wins.items():
        gap, name = worst[other]
        print(
            f"\nsqlml beats {other} on {count} of {len(rows)} datasets, is level or ahead on "
            f"{level[other]}; worst shortfall {100 * gap:.2f} % ({name or 'none'}) "
            "(primary metric: AUC binary, log loss multiclass, RMSE regression)"
        )


if __name__ == "__main__":
    raise SystemExit(main())
