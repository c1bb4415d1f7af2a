"""MODEL_TYPE FORECAST (reference §2.8): Redshift's forecasting models, which Redshift trains with
Amazon Forecast's AutoPredictor, trained here with statsforecast (automl.forecasting).

The FROM query gives the series: its one DATE or TIMESTAMP column is the time, the TARGET the
value, and one more column (any type) the series id; without it the rows are one series.
Related time series (further columns) are not supported yet. The model has no per-row
function: its forecast is stored in the package (Parquet) and read with ``SELECT
FORECAST(model)``, which the front door rewrites to a read of the temporary view
``sqlml_forecast_<model>`` (sql.forecast_calls).

statsforecast is a core dependency although it pins pandas below 3: FORECAST is part of
Redshift's grammar, pandas 2.3 is maintained, and sqlml uses pandas only at its edges (this
kind's training and the fresh-history forecast).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlml import arrowtypes
from sqlml import settings as S
from sqlml.automl.budget import Deadline
from sqlml.errors import FeatureNotSupported, InvalidSetting, TrainingDataError
from sqlml.kinds.base import Draft, FunctionSpec, ModelKind, check_format
from sqlml.lazy import pa
from sqlml.sql import ast

MODEL_TYPE = "FORECAST"
FORMAT = "forecast/1"
FORECAST_FILE = "forecast.parquet"
BOUNDS_FILE = "anomaly_bounds.parquet"
EXPLANATION_FILE = "explanation.json"
DEFAULT_OBJECTIVE = "AverageWeightedQuantileLoss"
DEFAULT_PERCENTILES = "0.1,0.5,0.9"
SETTINGS = ("HORIZON", "FREQUENCY", "PERCENTILES")


def refuse_forecast_settings(stmt: ast.CreateModel) -> None:
    """HORIZON, FREQUENCY and PERCENTILES belong to FORECAST models only."""
    given = [k for k in SETTINGS if k in stmt.settings_dict]
    if given and stmt.model_type != MODEL_TYPE:
        raise InvalidSetting(
            f"CREATE MODEL {stmt.name}: SETTINGS {', '.join(given)} apply to MODEL_TYPE FORECAST "
            "only; add MODEL_TYPE FORECAST or remove them."
        )


def _where(stmt: ast.CreateModel) -> str:
    return f"CREATE MODEL {stmt.name}"


class ForecastKind(ModelKind):
    name = "forecast"
    libraries = ("statsforecast", "numpy", "pyarrow")
    lane = "search"  # it backtests within MAX_RUNTIME

    def claims(self, stmt: ast.CreateModel) -> bool:
        return stmt.model_type == MODEL_TYPE

    def check(self, stmt: ast.CreateModel) -> None:
        from sqlml.automl.forecasting import series

        where = _where(stmt)
        if stmt.auto is False:
            raise InvalidSetting(
                f"{where}: MODEL_TYPE FORECAST is trained with AUTO ON (Redshift's Amazon "
                "Forecast AutoPredictor); remove AUTO OFF."
            )
        for clause, given in (
            ("PROBLEM_TYPE", stmt.problem_type),
            ("HYPERPARAMETERS", stmt.hyperparameters),
            ("PREPROCESSORS", stmt.preprocessors),
        ):
            if given is not None:
                raise InvalidSetting(
                    f"{where}: MODEL_TYPE FORECAST takes no {clause}; remove the clause."
                )
        if stmt.function is not None:
            raise InvalidSetting(
                f"{where}: MODEL_TYPE FORECAST has no prediction function (as in Redshift's "
                f"examples): remove FUNCTION {stmt.function} and read the forecast with SELECT "
                f"FORECAST({stmt.name})."
            )
        if stmt.objective is not None and stmt.objective not in S.FORECAST_OBJECTIVES:
            raise InvalidSetting(
                f"{where}: OBJECTIVE '{stmt.objective}' is not a FORECAST objective; use one of "
                f"{', '.join(repr(o) for o in S.FORECAST_OBJECTIVES)}."
            )
        if stmt.target is None:
            raise TrainingDataError(
                f"{where}: MODEL_TYPE FORECAST needs TARGET, the column to forecast."
            )
        settings = stmt.settings_dict
        for key, example in (("HORIZON", "14"), ("FREQUENCY", "'D'")):
            if settings.get(key) is None:
                raise InvalidSetting(
                    f"{where}: MODEL_TYPE FORECAST needs SETTINGS {key} (e.g. {key} {example})."
                )
        series.frequency(settings["FREQUENCY"], where)
        series.percentiles(settings.get("PERCENTILES", DEFAULT_PERCENTILES), where)

    def draft(self, draft: Draft) -> dict:
        """The columns' roles from their types, and the series checked against the data now,
        so that gaps, duplicates and a wrong FREQUENCY fail the statement, not a queued job."""
        from sqlml.automl.forecasting import series

        stmt, where = draft.stmt, draft.where
        settings = stmt.settings_dict
        freq = series.frequency(settings["FREQUENCY"], where)
        target = next(c for c in draft.columns if c.name == draft.target)
        if not arrowtypes.is_number(target.arrow):
            raise TrainingDataError(
                f"{where}: TARGET column '{target.name}' is {target.sql_type}; a FORECAST target "
                "is a number. CAST it in the FROM query."
            )
        times = [c for c in draft.features if arrowtypes.is_date_or_timestamp(c.arrow)]
        if len(times) != 1:
            found = ", ".join(c.name for c in times) or "none"
            raise TrainingDataError(
                f"{where}: a FORECAST's FROM query has one DATE or TIMESTAMP column, the time of "
                f"each value (found: {found}). Select the series id, the time and the target."
            )
        time = times[0]
        if freq.sub_daily and pa.types.is_date(time.arrow):
            raise TrainingDataError(
                f"{where}: FREQUENCY '{freq.code}' is shorter than a day, but the time column "
                f"'{time.name}' is a DATE. Use a TIMESTAMP column or a FREQUENCY of a day or more."
            )
        others = [c for c in draft.features if c.name != time.name]
        if len(others) > 1:
            raise FeatureNotSupported(
                f"{where}: related time series (columns besides the series id, the time and the "
                f"target: {', '.join(c.name for c in others[1:])}) are not supported yet; "
                "select only the id, the time and the target."
            )
        ident = others[0] if others else None
        if ident is not None and not (
            arrowtypes.is_number_or_boolean(ident.arrow) or arrowtypes.is_text(ident.arrow)
        ):
            raise TrainingDataError(
                f"{where}: the series id column '{ident.name}' is {ident.sql_type}; use a text "
                "or integer id."
            )
        plan = {
            "id": ident.name if ident else None,
            "time": time.name,
            "horizon": int(settings["HORIZON"]),
            "frequency": freq.code,
            "percentiles": series.percentiles(
                settings.get("PERCENTILES", DEFAULT_PERCENTILES), where
            ),
        }
        columns = [c for c in (ident, time, target) if c is not None]
        self._check_data(draft, plan, columns)
        return {
            "forecast": plan,
            "objective": stmt.objective or DEFAULT_OBJECTIVE,
            "problem_type": None,
        }

    def _check_data(self, draft: Draft, plan: dict, columns) -> None:
        table = draft.engine.query_arrow(draft.query, draft.where)
        cells = int(draft.stmt.settings_dict.get("MAX_CELLS", S.SETTINGS["MAX_CELLS"].default))
        if table.num_rows * len(draft.columns) > cells:
            raise TrainingDataError(
                f"{draft.where}: a FORECAST trains on every row, and {table.num_rows} rows x "
                f"{len(draft.columns)} columns are more than MAX_CELLS ({cells}). Raise "
                "MAX_CELLS or select fewer series."
            )
        if table.num_rows == 0:
            raise TrainingDataError(f"{draft.where}: the FROM query returns no rows.")
        data = _series(table, plan, draft.where)
        _check_horizon(data, plan["horizon"], draft.where)

    def train(
        self,
        table: pa.Table,
        draft: dict,
        deadline: Deadline,
        *,
        seed: int,
        on_trial: Callable | None,
        scratch: Path,
    ):
        from sqlml.automl.forecasting import methods as M
        from sqlml.automl.forecasting.train import ForecastPlan, forecast_table, train_forecast

        where = f"CREATE MODEL {draft['schema']}.{draft['name']}"
        plan = draft["forecast"]
        data = _series(table, plan, where)
        _check_horizon(data, plan["horizon"], where)
        trials = draft["settings"].get("MAX_TRIALS")
        methods = M.METHODS[: max(1, trials)] if trials else M.METHODS
        trained = train_forecast(
            data,
            ForecastPlan(plan["horizon"], plan["percentiles"], draft["objective"]),
            deadline,
            on_trial,
            methods,
        )
        id_type = table.schema.field(plan["id"]).type if plan["id"] else None
        time_type = table.schema.field(plan["time"]).type
        return TrainedForecast(
            trained, forecast_table(trained, data, id_type, time_type), data, draft, id_type
        )

    def load(self, directory: Path, manifest: dict):
        check_format(manifest, FORMAT)
        return ForecastPredictor()

    def functions(self, manifest: dict) -> dict[str, FunctionSpec]:
        return {}  # read with SELECT FORECAST(model)

    def show_rows(self, manifest: dict) -> list[tuple[str, str]]:
        plan = manifest.get("forecast", {})
        model = manifest.get("model", {})
        rows = [
            ("Horizon", str(plan.get("horizon", ""))),
            ("Frequency", plan.get("frequency", "")),
            ("Percentiles", ",".join(plan.get("percentiles", []))),
            ("Series Id Column", plan.get("id") or "(none: one series)"),
            ("Time Column", plan.get("time", "")),
        ]
        if not model:
            return rows
        rows += [
            ("Series", str(model.get("series", ""))),
            ("Forecast Methods", " + ".join(model.get("members", []))),
            ("Backtest Windows", f"{model.get('windows')} ({model.get('backtest_cuts')} cuts)"),
        ]
        objective = manifest.get("objective") or DEFAULT_OBJECTIVE
        for method, found in model.get("per_method", {}).items():
            value = found.get(objective)
            shown = f"{value:.6f}" if isinstance(value, float) else "not backtested"
            rows.append((f"Backtest {objective} {method}", shown))
        for method, why in model.get("skipped", {}).items():
            rows.append((f"Skipped {method}", why))
        if model.get("filled_steps"):
            rows.append(("Filled Steps", f"{model['filled_steps']} (missing or NULL, as 0)"))
        rows.append(("Forecast View", model.get("view", "")))
        return rows


def _series(table: pa.Table, plan: dict, where: str):
    from sqlml.automl.forecasting import series

    return series.prepare(
        table.column(plan["id"]) if plan["id"] else None,
        table.column(plan["time"]),
        table.column(_target_name(table, plan)),
        series.FREQUENCIES[plan["frequency"]],
        where,
        plan["time"],
    )


def _target_name(table: pa.Table, plan: dict) -> str:
    roles = {plan["id"], plan["time"]}
    return next(n for n in table.column_names if n not in roles)


def _check_horizon(data, horizon: int, where: str) -> None:
    longest = max(len(v) for v in data.values)
    if horizon * 3 > longest:
        raise InvalidSetting(
            f"{where}: HORIZON {horizon} is more than a third of the longest series "
            f"({longest} steps), Amazon Forecast's limit. Lower HORIZON or give more history."
        )


def view_name(schema: str, name: str) -> str:
    """The temporary view a READY forecast is read through."""
    return (
        f"sqlml_forecast_{name}"
        if schema in ("main", "public")
        else (f"sqlml_forecast_{schema}_{name}")
    )


@dataclass
class TrainedForecast:
    trained: object  # automl.forecasting.train.Trained
    table: pa.Table
    data: object  # SeriesSet
    draft: dict
    id_type: pa.DataType | None

    @property
    def objective(self) -> str:
        return self.draft["objective"]

    @property
    def metrics(self) -> dict:
        # The objective first: CREATE MODEL's result shows the first metric.
        chosen = self.trained.chosen
        order = [self.objective, *(k for k in chosen if k != self.objective)]
        return {f"backtest:{k}": chosen[k] for k in order if k in chosen}

    def save(self, directory: Path) -> dict:
        import pyarrow.parquet as pq

        t = self.trained
        pq.write_table(self.table, directory / FORECAST_FILE)
        bounds = {
            "time": self.table.column("time"),
            "lower": pa.array(t.bounds["lower"], pa.float64()),
            "upper": pa.array(t.bounds["upper"], pa.float64()),
        }
        if self.id_type is not None:
            bounds = {"id": self.table.column("id"), **bounds}
        pq.write_table(pa.table(bounds), directory / BOUNDS_FILE)
        explanation = {
            "explanations": {
                "forecast": {
                    "methods": list(t.members),
                    "weights": [1 / len(t.members)] * len(t.members),
                    "seasonal_periods": list(self.data.freq.seasons),
                    "interval_calibration": {str(q): c for q, c in t.calibration.items()},
                    "backtest": t.per_method,
                }
            }
        }
        (directory / EXPLANATION_FILE).write_text(json.dumps(explanation, indent=1))
        return {
            "format": FORMAT,
            "forecast": FORECAST_FILE,
            "anomaly_bounds": BOUNDS_FILE,
            "explanation": EXPLANATION_FILE,
            "series": len(self.data.values),
            "members": list(t.members),
            "calibration": {str(q): c for q, c in t.calibration.items()},
            "per_method": t.per_method,
            "skipped": t.skipped,
            "windows": t.windows,
            "backtest_cuts": t.backtest_cuts,
            "filled_steps": self.data.filled,
            "view": view_name(self.draft["schema"], self.draft["name"]),
            "classes": None,
        }


class ForecastPredictor:
    """A FORECAST model has no per-row function; its forecast is read as a table."""

    def predict(self, columns: list) -> pa.Array:
        raise FeatureNotSupported("a FORECAST model has no prediction function")
