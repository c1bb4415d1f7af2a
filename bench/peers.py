"""The peers on bench/automl.py's tables: AutoGluon or FLAML, in a virtual environment of their own.

    python -m venv ../peers-venv
    ../peers-venv/bin/pip install 'autogluon.tabular[lightgbm,catboost,xgboost]' \\
        'flaml[automl]' duckdb pyarrow pandas scikit-learn
    ../peers-venv/bin/python bench/peers.py --system autogluon|flaml [--suite shared|wider]
                                           [--datasets a,b] [--max-runtime 60]

Same tables, split and metrics as bench/automl.py, whose helpers this file imports (that module
imports sqlml only inside run_sqlml; this one never does). AutoGluon gets the frames as the file
has them and fits ``TabularPredictor(eval_metric=...).fit(train, time_limit=budget,
presets="medium_quality")`` with the compared metric (roc_auc, log_loss, root_mean_squared_error);
FLAML gets dates as year/month/day/weekday and strings as categories, as LightGBM does in
bench/automl.py, and fits ``AutoML.fit(time_budget=budget, n_jobs=cores)`` with its default
metric for the task. Each dataset runs in a process of its own; one JSON line per dataset:
``metrics`` (the keys of metrics_of: auc; log_loss and balanced_accuracy; rmse), ``fit_seconds``,
``predict_seconds``, ``models`` (models AutoGluon trained, or FLAML's trials), ``chosen`` and
``peak_mb`` (that process tree's peak RSS), or ``error``.
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

import numpy as np
from automl import CORES, SUITES, metrics_of, problem_of, read_split, task_of

AUTOGLUON_METRIC = {
    "binary": "roc_auc",
    "multiclass": "log_loss",
    "regression": "root_mean_squared_error",
}


def _numpy_dtypes(frame):
    """Nullable integer columns (what DuckDB gives for integers with NULLs) as float64 with NaN:
    AutoGluon's feature generators fail on pandas' NA ("cannot convert NA to integer")."""
    nullable = [c for c, t in frame.dtypes.items() if str(t) in ("Int8", "Int16", "Int32", "Int64")]
    return frame.astype(dict.fromkeys(nullable, "float64")) if nullable else frame


def fit_autogluon(train, X, target: str, problem: str, budget: int) -> dict:
    from autogluon.tabular import TabularPredictor

    train, X = _numpy_dtypes(train), _numpy_dtypes(X)

    with tempfile.TemporaryDirectory() as tmp:
        predictor = TabularPredictor(
            label=target,
            problem_type=problem,
            eval_metric=AUTOGLUON_METRIC[problem],
            path=tmp,
            verbosity=0,
        )
        started = time.monotonic()
        predictor.fit(train, time_limit=budget, presets="medium_quality")
        fit_seconds = time.monotonic() - started
        started = time.monotonic()
        if problem == "regression":
            pred, classes = predictor.predict(X).to_numpy(), []
        else:
            proba = predictor.predict_proba(X, as_multiclass=True)
            pred, classes = proba.to_numpy(), list(proba.columns)
        return {
            "pred": pred,
            "classes": classes,
            "fit_seconds": fit_seconds,
            "predict_seconds": time.monotonic() - started,
            "models": len(predictor.model_names()),
            "chosen": predictor.model_best,
        }


def fit_flaml(train, X, target: str, problem: str, budget: int) -> dict:
    from flaml import AutoML

    automl = AutoML()
    task = "regression" if problem == "regression" else "classification"
    started = time.monotonic()
    automl.fit(
        train.drop(columns=target),
        train[target],
        task=task,
        time_budget=budget,
        n_jobs=CORES,
        seed=0,
        verbose=0,
    )
    fit_seconds = time.monotonic() - started
    started = time.monotonic()
    regression = problem == "regression"
    pred = automl.predict(X) if regression else automl.predict_proba(X)
    return {
        "pred": np.asarray(pred),
        "classes": [] if regression else list(automl.classes_),
        "fit_seconds": fit_seconds,
        "predict_seconds": time.monotonic() - started,
        "models": automl.modelcount,  # trials; config_history holds only the improvements
        "chosen": automl.best_estimator,
    }


FITTERS = {"autogluon": fit_autogluon, "flaml": fit_flaml}


def run_one(system: str, suite: str, name: str, budget: int) -> dict:
    _, target, positive = task_of(suite, name)
    train, test = read_split(suite, name, encode=system == "flaml")
    problem = problem_of(name, train[target])
    fitted = FITTERS[system](train, test.drop(columns=target), target, problem, budget)
    pred, classes = fitted.pop("pred"), fitted.pop("classes")
    missing = [c for c in sorted(set(test[target])) if c not in classes] if classes else []
    if missing:  # a class the model never predicts (too rare in train): probability 0
        pred = np.hstack([pred, np.zeros((len(pred), len(missing)))])
        classes = classes + missing
    return {"metrics": metrics_of(problem, list(test[target]), pred, classes, positive), **fitted}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--system", choices=FITTERS, required=True)
    parser.add_argument("--suite", choices=SUITES, default="shared")
    parser.add_argument("--datasets", help="default: every table of the suite")
    parser.add_argument("--max-runtime", type=int, default=60)
    parser.add_argument("--run-one", metavar="DATASET", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        stdout = os.dup(1)
        os.dup2(2, 1)  # the libraries' own output goes to stderr; stdout carries the JSON line
        result = run_one(args.system, args.suite, args.run_one, args.max_runtime)
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        result["peak_mb"] = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, children)
        sys.stdout.flush()
        os.dup2(stdout, 1)
        print(json.dumps(result, default=str))
        return 0
    tasks = SUITES[args.suite][1]
    names = args.datasets.split(",") if args.datasets else list(tasks)
    unknown = [x for x in names if x not in tasks]
    if unknown:
        parser.error(f"unknown dataset for suite {args.suite}: {', '.join(unknown)}")
    for name in names:
        out = subprocess.run(
            [sys.executable, __file__, "--system", args.system, "--suite", args.suite]
            + ["--max-runtime", str(args.max_runtime), "--run-one", name],
            capture_output=True,
            text=True,
        )
        sys.stderr.write(out.stderr[-2000:] if out.returncode else "")
        if out.returncode == 0:
            result = json.loads(out.stdout.strip().splitlines()[-1])
        else:
            result = {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
        print(json.dumps({"dataset": name, "system": args.system, **result}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
