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

from sqlml.errors import FeatureNotSupported, ModelNotReady
from sqlml.sql import forecast_calls as F
from sqlml.sql.lexer import Chunk

_COUNTER = itertools.count(1)


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
    if call.query is None:
        return '"' + manifest["model"]["view"].replace('"', '""') + '"'
    raise FeatureNotSupported(
        f"{call.function}({call.model_text}, (query)) is not supported yet; read the stored "
        f"forecast with FORECAST({call.model_text})."
    )
