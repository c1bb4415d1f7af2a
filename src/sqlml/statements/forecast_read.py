"""``FORECAST(model)`` and its kin in a database statement: each call becomes a read of a table
(``sql.forecast_calls`` finds them).

- ``FORECAST(m)`` reads the stored forecast: the temporary view ``sqlml_forecast_<m>`` over the
  package's Parquet file, published for every READY FORECAST model the user may use.
- ``FORECAST(m, (query))`` forecasts from the rows the query returns now (new history since
  training), with the model's chosen methods and interval calibration refitted on them.
- ``DETECT_ANOMALIES(m, (query))`` checks the query's rows against the model's 95 % forecast
  intervals.

Both query forms run their query, compute in this process, and hand the result to the engine as
a temporary table for the one statement.
"""

from __future__ import annotations

import itertools
import weakref

from sqlml.errors import ColumnNotFound, FeatureNotSupported, ModelNotReady, TrainingDataError
from sqlml.sql import forecast_calls as F
from sqlml.sql.lexer import Chunk

_COUNTER = itertools.count(1)
# Per engine (connection), the tables registered for the last statement's query forms.
_REGISTERED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def rewrite(session, script: str, chunk: Chunk, text: str) -> str:
    """``text`` (the statement) with its FORECAST calls replaced; unchanged without any."""
    calls = F.find_calls(script, chunk)
    kept, tables = [], []
    for call in calls:
        ref = F.model_name(call, session.dialect)
        manifest = session.find_model(ref, missing_ok=True)
        if manifest is None:
            if session.engine.function_exists(call.function.lower()):
                continue  # the database's or the user's own function of that name
            session.find_model(ref)  # ModelNotFound, with the closest names
        if call.start < 0:
            raise F.misplaced(call)
        tables.append(_table(session, call, manifest))
        kept.append(call)
    return F.rewrite(text, kept, tables) if kept else text


def _table(session, call: F.Call, manifest: dict) -> str:
    model = f"{manifest['schema']}.{manifest['name']}"
    session.access.require_execute(manifest, f"{call.function}({call.model_text})")
    if manifest.get("kind") != "forecast":
        raise FeatureNotSupported(
            f"{call.function}({call.model_text}): model {model} is not a FORECAST model; call "
            "its prediction function instead."
        )
    if manifest["state"] != "READY":
        raise ModelNotReady(
            f"{call.function}({call.model_text}): model {model} is {manifest['state']}; its "
            f"forecast can be read once it is READY (SHOW MODEL {model} shows its progress)."
        )
    if not session.engine.capabilities.forecast_views:
        raise FeatureNotSupported(
            f"{call.function}({call.model_text}): reading a forecast is not supported yet on "
            f"the {session.engine.name} engine; read it from a DuckDB database over the same "
            "model store."
        )
    if call.query is None:
        return _quoted(manifest["model"]["view"])
    where = f"{call.function}({call.model_text}, (query))"
    rows = session.engine.query_arrow(session.translate(call.query), where)
    table = (fresh_forecast if call.function == "FORECAST" else anomalies)(
        session, manifest, rows, where
    )
    name = f"sqlml_{call.function.lower()}_{next(_COUNTER)}"
    _remember(session, name, table)
    return _quoted(name)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _remember(session, name: str, table) -> None:
    """Register the table for this statement; forget the previous statement's (its result
    has been read by now: a result is read before the next statement runs)."""
    engine = session.engine
    for old in _REGISTERED.get(engine, []):
        engine.register_table(old, None)
    _REGISTERED[engine] = [name]
    engine.register_table(name, table)


def _columns(manifest: dict, rows, where: str) -> dict[str, str]:
    """The query's columns of the model's roles (id, time, target), matched by name."""
    plan = manifest["forecast"]
    by_lower = {n.lower(): n for n in rows.column_names}
    wanted = {"time": plan["time"], "target": manifest["target"]}
    if plan["id"]:
        wanted["id"] = plan["id"]
    out = {}
    for role, name in wanted.items():
        found = by_lower.get(name.lower())
        if found is None:
            raise ColumnNotFound(
                f"{where}: the query has no column '{name}' (the model's {role} column); it "
                f"returns {', '.join(rows.column_names)}. Name the columns as in the model's "
                "FROM query."
            )
        out[role] = found
    return out


def _series(manifest: dict, rows, roles: dict, where: str):
    from sqlml.automl.forecasting import series

    plan = manifest["forecast"]
    return series.prepare(
        rows.column(roles["id"]) if "id" in roles else None,
        rows.column(roles["time"]),
        rows.column(roles["target"]),
        series.FREQUENCIES[plan["frequency"]],
        where,
        roles["time"],
    )


def fresh_forecast(session, manifest: dict, rows, where: str):
    """FORECAST(model, (query)): the model's methods and calibration refitted on the rows."""
    from sqlml.automl.forecasting.train import ForecastPlan, forecast_fresh, forecast_table

    roles = _columns(manifest, rows, where)
    if rows.num_rows == 0:
        raise TrainingDataError(f"{where}: the query returns no rows to forecast from.")
    data = _series(manifest, rows, roles, where)
    plan = manifest["forecast"]
    section = manifest["model"]
    calibration = {float(q): c for q, c in section["calibration"].items()}
    trained = forecast_fresh(
        data,
        section["members"],
        calibration,
        ForecastPlan(plan["horizon"], plan["percentiles"], manifest["objective"]),
    )
    id_type = rows.schema.field(roles["id"]).type if "id" in roles else None
    return forecast_table(trained, data, id_type, rows.schema.field(roles["time"]).type)


def anomalies(session, manifest: dict, rows, where: str):
    """DETECT_ANOMALIES(model, (query)): each row of the query that falls in the model's forecast
    horizon, checked against the forecast's 95 % interval; rows outside it get NULL bounds."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sqlml.automl.forecasting.series import micros
    from sqlml.statements import catalog
    from sqlml.store.integrity import PackageFolder

    roles = _columns(manifest, rows, where)
    folder = PackageFolder(catalog.model_folder(session.store, manifest), manifest)
    bounds = pq.read_table(folder / manifest["model"]["anomaly_bounds"])
    key = {}
    ids = bounds.column("id").to_pylist() if "id" in roles else [None] * bounds.num_rows
    for i, t, lo, hi in zip(
        ids,
        micros(bounds.column("time").combine_chunks()),
        bounds.column("lower").to_pylist(),
        bounds.column("upper").to_pylist(),
        strict=True,
    ):
        key[(i, int(t))] = (lo, hi)
    given = rows.column(roles["id"]).to_pylist() if "id" in roles else [None] * rows.num_rows
    times = micros(rows.column(roles["time"]).combine_chunks())
    values = rows.column(roles["target"]).cast(pa.float64()).to_pylist()
    found = [key.get((i, int(t))) for i, t in zip(given, times, strict=True)]
    lower = [f[0] if f else None for f in found]
    upper = [f[1] if f else None for f in found]
    flagged = [
        None if f is None or v is None else bool(v < f[0] or v > f[1])
        for f, v in zip(found, values, strict=True)
    ]
    out = {}
    if "id" in roles:
        out["id"] = rows.column(roles["id"])
    out["time"] = rows.column(roles["time"])
    out["value"] = pa.array(values, pa.float64())
    out["lower"] = pa.array(lower, pa.float64())
    out["upper"] = pa.array(upper, pa.float64())
    out["is_anomaly"] = pa.array(flagged, pa.bool_())
    return pa.table(out)
