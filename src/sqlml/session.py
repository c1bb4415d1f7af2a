"""A user's connection: routes each statement, keeps prediction functions in step with the store.

ML statements dispatch through ``HANDLERS``; every other statement goes to the database exactly as
written. Before each statement the connection compares the model store's fingerprint with the one
it last saw and (re)registers or removes prediction functions, so a model created by another
connection or process is callable at once.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import re
import shutil
import tempfile
import time
import weakref
from pathlib import Path

import pyarrow as pa

from sqlml import settings as S
from sqlml.engines import duckdb_engine as engine_mod
from sqlml.errors import (
    ColumnNotFound,
    FeatureNotSupported,
    ModelNotFound,
    ModelNotReady,
    PredictionCallError,
    SqlmlError,
)
from sqlml.functions import RETURN_TYPES, function_names
from sqlml.jobs import status as J
from sqlml.jobs import training
from sqlml.runtime.evaluation import evaluate
from sqlml.runtime.predictor import load_predictor
from sqlml.sql import ast, parse_chunk, parse_name, split_script
from sqlml.sql.lexer import is_word
from sqlml.sql.render import quote_ident
from sqlml.statements import explain_model
from sqlml.statements.create_model import create_model, source_query
from sqlml.statements.show_model import key_value_table, model_rows, models_table
from sqlml.store.manifest import current_user

log = logging.getLogger(__name__)

_RAISED_IN_FUNCTION = re.compile(r"executing the UDF: (\w+): (.*)", re.DOTALL)
_OWN_ERRORS = {cls.__name__: cls for cls in (ModelNotReady, ModelNotFound, SqlmlError)}
_NO_MATCH = re.compile(
    r"No function matches the given name and argument types '([^(']+)\(([^']*)\)'"
)


def default_store_root(database: str | None) -> Path | None:
    """Models of ``shop.duckdb`` live in ``shop.duckdb.models/`` beside it."""
    if database is None or database == ":memory:":
        return None
    path = Path(database).resolve()
    return path.with_name(path.name + ".models")


class Connection:
    """A connection to a database with ML statements. Create it with :func:`sqlml.connect`."""

    def __init__(
        self,
        database: str | None = None,
        *,
        model_store: str | Path | None = None,
        synchronous: bool = False,
        max_training_jobs: int | None = None,
    ):
        from sqlml.store import ModelStore

        self.synchronous = synchronous
        self.max_training_jobs = max_training_jobs or training.default_max_jobs()
        if self.max_training_jobs < 1:
            raise SqlmlError("max_training_jobs must be at least 1.")
        self.engine = engine_mod.DuckDBEngine(database)
        root = Path(model_store) if model_store is not None else default_store_root(database)
        if root is None:
            # An in-memory database keeps its models only as long as it lives.
            root = Path(tempfile.mkdtemp(prefix="sqlml-models-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, root, ignore_errors=True)
            atexit.register(self._cleanup)
        self.store = ModelStore(root)
        self._fingerprint: tuple | None = None
        self.sync_functions()

    # -- public API ------------------------------------------------------------------------

    @property
    def duckdb(self):
        """The DuckDB connection underneath, for everything sqlml does not wrap."""
        return self.engine.connection

    def sql(self, text: str, params=None):
        """Run a statement or a script; return the last statement's result.

        A query's result is a DuckDB relation (``.fetchall()``, ``.df()``, ``.show()``...);
        SHOW MODEL and CREATE MODEL return one as well; other statements return None.
        """
        chunks = split_script(text)
        if params is not None and len(chunks) > 1:
            raise SqlmlError("Parameters can only be given with a single statement.")
        result = None
        for chunk in chunks:
            result = self._run(text, chunk, params)
        return result

    def execute(self, text: str, params=None) -> Result:
        """Like :meth:`sql`, with the result fetched: ``.fetchall()``, ``.fetchone()``, ``.arrow()``."""
        chunks = split_script(text)
        result = self.sql(text, params)
        if result is None:
            return Result(None)
        try:
            return Result(result.to_arrow_table())
        except engine_mod.DatabaseError as e:
            tokens = chunks[-1].tokens if chunks else ()
            raise self._explain_prediction_error(e, tokens) from e

    def wait_model(self, name: str, timeout: float | None = None) -> dict:
        """Block until model ``name`` ([schema.]name) is READY and return its manifest; raise the
        training error if it FAILED, TrainingTimeout after ``timeout`` seconds (it goes on)."""
        ref = parse_name(name)
        schema = ref.schema or self.engine.current_schema()
        self.find_model(ref)  # ModelNotFound, with suggestions
        try:
            return training.wait(self.store, schema, ref.name, timeout)
        finally:
            self.sync_functions()

    def model_status(self, name: str) -> dict:
        """The model's state and training progress, read without waiting: ``state``, and while
        training ``trials``, ``best`` ({candidate, score}), ``elapsed``, ``time_left``; when FAILED,
        ``error``."""
        manifest = self.find_model(parse_name(name))
        return {"state": manifest["state"], **manifest.get("progress", {})}

    def models(self) -> list[tuple[Path, dict]]:
        """Every model: READY packages, and the jobs of models QUEUED, TRAINING or FAILED (as
        their manifest draft with ``state``, ``progress`` and ``failure_reason``)."""
        return list_models(self.store)

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- routing ---------------------------------------------------------------------------

    def _run(self, script: str, chunk, params):
        self.sync_functions()
        statement = parse_chunk(script, chunk)
        if isinstance(statement, ast.Passthrough):
            return self._passthrough(statement.sql, chunk.tokens, params)
        if params is not None:
            raise SqlmlError(f"{type(statement).__name__} statements take no parameters.")
        table = HANDLERS[type(statement)](self, statement)
        return None if table is None else self.engine.from_arrow(table)

    def _passthrough(self, text: str, tokens, params):
        try:
            return self.engine.sql(text, params)
        except engine_mod.DatabaseError as e:
            raise self._explain_prediction_error(e, tokens) from e

    def _explain_prediction_error(self, error: Exception, tokens) -> Exception:
        """A clearer error when a prediction function was misused; else the original error."""
        raised = _RAISED_IN_FUNCTION.search(str(error))
        if raised and raised.group(1) in _OWN_ERRORS:
            # Our error, raised inside a SQL function: the same error, without DuckDB's wrapping.
            return _OWN_ERRORS[raised.group(1)](raised.group(2).strip())
        by_function = {name: m for _, m in self.models() for name in function_names(m)}
        match = _NO_MATCH.search(str(error))
        if match and match.group(1).lower() in by_function:
            manifest = by_function[match.group(1).lower()]
            return PredictionCallError(
                f"Prediction function {match.group(1).lower()} of model "
                f"{manifest['schema']}.{manifest['name']} takes {len(manifest['features'])} "
                f"arguments ({_signature(manifest)}); it was called with ({match.group(2)}). "
                "Pass the feature columns in the order of the model's FROM query."
            )
        if isinstance(error, engine_mod.ConversionError):
            called = [
                t.text.lower() for t in tokens if is_word(t) and t.text.lower() in by_function
            ]
            if called:
                manifest = by_function[called[0]]
                return PredictionCallError(
                    f"A value passed to prediction function {called[0]} cannot be converted to "
                    f"its parameter type ({_signature(manifest)}): {error}"
                )
        return error

    # -- prediction functions --------------------------------------------------------------

    def sync_functions(self, force: bool = False) -> None:
        """Register the function of every READY model; remove those of models that are gone."""
        fingerprint = (self.store.fingerprint(), J.fingerprint(self.store))
        if fingerprint == self._fingerprint and not force:
            return
        wanted: dict[str, tuple] = {}
        models = self.models()
        for directory, manifest in models:
            for name, kind in function_names(manifest).items():
                wanted.setdefault(name, (directory, manifest, kind))
        registered = self.engine.registered_functions()
        for name in registered.keys() - wanted.keys() - {explain_model.FUNCTION}:
            self.engine.unregister_function(name)
        token = f"{explain_model.FUNCTION}:{self.store.root}"
        if registered.get(explain_model.FUNCTION) != token:
            store = self.store
            self.engine.register_function(
                explain_model.FUNCTION,
                token,
                explain_model.function(lambda: list_models(store)),
                ["VARCHAR"],
                "JSON",
            )
        for name, (directory, manifest, kind) in wanted.items():
            if registered.get(name) != manifest["package_id"]:
                if manifest["state"] == "READY":
                    fn = self._predict(directory, manifest, kind)
                else:
                    fn = self._not_ready(name, directory, manifest)
                self._register(name, manifest, fn, kind)
        self.engine.publish_model_info(
            [(m["schema"], m["name"], m.get("owner", ""), m["state"]) for _, m in models]
        )
        self.engine.publish_leaderboards(
            [
                (m["schema"], m["name"], directory / m["model"]["leaderboard"])
                for directory, m in models
                if m["state"] == "READY" and m.get("model", {}).get("leaderboard")
            ]
        )
        self._fingerprint = fingerprint

    def _register(self, name: str, manifest: dict, fn, kind: str) -> None:
        types = [f["type"] for f in manifest["features"]]
        return_type = RETURN_TYPES.get(kind) or engine_mod.function_return_type(
            manifest["target_type"]
        )
        self.engine.register_function(name, manifest["package_id"], fn, types, return_type)

    def _not_ready(self, name: str, job_dir: Path, manifest: dict):
        """A stand-in for the function of a model not READY yet: registered with the same
        signature, a call says which model it is, its state, and what to do."""
        store, schema, model = self.store, manifest["schema"], manifest["name"]

        def not_ready(columns: list) -> pa.Array:
            resolved = J.resolve(store, job_dir) if job_dir.exists() else None
            state = resolved[1]["state"] if resolved else "gone"
            if state == "FAILED":
                advice = (
                    f"It FAILED: {_failure(resolved[1])} DROP MODEL {model} and create it again."
                )
            elif state == "gone":
                advice = "Its training just ended; run the query again."
            else:
                advice = f"It is {state}; SHOW MODEL {model} shows its progress."
            raise ModelNotReady(
                f"Prediction function {name} of model {schema}.{model} cannot be called before "
                f"the model is READY. {advice}"
            )

        return not_ready

    @staticmethod
    def _predict(directory: Path, manifest: dict, kind: str):
        """The function computing ``kind``: the Predictor method of that name ("predict",
        "probabilities" or "explain") of the model, loaded once per process."""

        def call(columns: list) -> pa.Array:
            return getattr(load_predictor(directory, manifest), kind)(columns)

        return call

    # -- model lookup ----------------------------------------------------------------------

    def find_model(self, name: ast.Name, *, missing_ok: bool = False) -> dict | None:
        schema = name.schema or self.engine.current_schema()
        manifest = self.store.get(schema, name.name)
        if manifest is None:
            job_dir = J.job_path(self.store, schema, name.name)
            resolved = J.resolve(self.store, job_dir) if job_dir.exists() else None
            if resolved is not None:
                manifest = _job_manifest(*resolved)
            else:  # the job may have just finished
                manifest = self.store.get(schema, name.name)
        if manifest is None and not missing_ok:
            known = [m["name"] for _, m in self.models()]
            raise ModelNotFound(
                f"Model {schema}.{name.name} does not exist.{S.did_you_mean(name.name, known)} "
                "SHOW MODEL ALL lists the models."
            )
        return manifest


def list_models(store) -> list[tuple[Path, dict]]:
    """``Connection.models`` of a model store."""
    out = list(store.list())
    taken = {(m["schema"].lower(), m["name"].lower()) for _, m in out}
    for job_dir, job, status in J.list_jobs(store):
        draft = job["draft"]
        if (draft["schema"].lower(), draft["name"].lower()) not in taken:
            out.append((job_dir, _job_manifest(job, status)))
    return out


def _signature(manifest: dict) -> str:
    return ", ".join(f"{f['name']} {f['type']}" for f in manifest["features"])


def _failure(status: dict) -> str:
    return (status.get("error") or {}).get("message") or "training failed."


def _job_manifest(job: dict, status: dict) -> dict:
    """How a model that is not READY looks to SHOW MODEL and the catalog: its draft manifest,
    with the state, the progress so far and, when FAILED, the reason."""
    draft = job["draft"]
    submitted = dt.datetime.fromtimestamp(job["submitted_at"], dt.UTC)
    progress = {k: status[k] for k in ("trials", "best", "elapsed", "time_left") if k in status}
    if status["state"] == "TRAINING" and "started_at" in status:
        progress["elapsed"] = round(time.time() - status["started_at"], 1)
        budget = job["budget_seconds"]
        progress["time_left"] = round(max(budget - progress["elapsed"], 0.0), 1)
    if status["state"] == "FAILED":
        progress["error"] = _failure(status)
    return {
        **draft,
        "package_id": f"job:{draft['schema']}.{draft['name']}:{job['submitted_at']}",
        "owner": draft.get("owner") or current_user(),
        "created_at": submitted.isoformat(timespec="seconds"),
        "state": status["state"],
        "failure_reason": _failure(status) if status["state"] == "FAILED" else None,
        "progress": progress,
        "metrics": {},
    }


def _show_model(session: Connection, stmt: ast.ShowModel) -> pa.Table:
    manifest = session.find_model(stmt.name)
    if manifest["state"] == "READY":
        path = session.store.path(manifest["schema"], manifest["name"])
    else:
        path = J.job_path(session.store, manifest["schema"], manifest["name"])
    return key_value_table(model_rows(manifest, str(path)))


def _show_models(session: Connection, stmt: ast.ShowModelAll) -> pa.Table:
    return models_table([m for _, m in session.models()])


def _drop_model(session: Connection, stmt: ast.DropModel) -> None:
    schema = stmt.name.schema or session.engine.current_schema()
    store = session.store
    job_dir = J.job_path(store, schema, stmt.name.name)
    # Existence, not readability: a corrupt package can be dropped too.
    if not store.path(schema, stmt.name.name).exists() and not job_dir.exists():
        if stmt.if_exists:
            return None
        session.find_model(stmt.name)  # raises ModelNotFound with a hint
    with store.locked():
        if job_dir.exists():
            training.cancel(store, job_dir)  # QUEUED or TRAINING: stop the trainer first
        store.delete(schema, stmt.name.name)
    session.sync_functions(force=True)
    return None


def _create_model(session: Connection, stmt: ast.CreateModel) -> pa.Table:
    manifest = create_model(session, stmt)
    metric, value = next(iter(manifest["metrics"].items()), (None, None))
    return pa.table(
        {
            "Model Name": [f"{manifest['schema']}.{manifest['name']}"],
            "Model State": [manifest["state"]],
            "Function Name": [manifest["function"]["name"]],
            "Metric": [metric],
            "Value": [value],
        }
    )


def _evaluate_model(session: Connection, stmt: ast.EvaluateModel) -> pa.Table:
    manifest = session.find_model(stmt.name)
    what = f"{manifest['schema']}.{manifest['name']}"
    if manifest["state"] != "READY":
        raise ModelNotReady(
            f"EVALUATE MODEL {what}: the model is {manifest['state']}, not READY. "
            f"SHOW MODEL {manifest['name']} shows its progress."
        )
    if manifest.get("auto") is False:
        raise FeatureNotSupported(
            f"EVALUATE MODEL {what}: evaluating AUTO OFF models is not supported yet; compare "
            f"{manifest['function']['name']}(...) with the target in a query."
        )
    query, _ = source_query(stmt.source)
    names, _ = session.engine.query_schema(query)
    by_lower = {n.lower(): n for n in names}
    features = manifest["features"]
    wanted = [f["name"] for f in features] + [manifest["target"]]
    missing = [w for w in wanted if w.lower() not in by_lower]
    if missing:
        raise ColumnNotFound(
            f"EVALUATE MODEL {what}: the FROM query has no column {', '.join(missing)}. It needs "
            f"the model's features ({_signature(manifest)}) and its TARGET column "
            f"{manifest['target']}; its columns are {', '.join(names)}."
        )
    # The features get the prediction function's parameter types: the same casts as a call.
    select = [
        f"CAST({quote_ident(by_lower[f['name'].lower()])} AS "
        f"{engine_mod.function_parameter_type(f['type'])})"
        for f in features
    ]
    select.append(quote_ident(by_lower[manifest["target"].lower()]))
    table = session.engine.query_arrow(
        f"SELECT {', '.join(select)} FROM ({query})", f"EVALUATE MODEL {what}"
    )
    directory = session.store.path(manifest["schema"], manifest["name"])
    predictor = load_predictor(directory, manifest)
    n = len(features)
    return evaluate(predictor, [table.column(i) for i in range(n)], table.column(n), what)


HANDLERS = {
    ast.CreateModel: _create_model,
    ast.ShowModel: _show_model,
    ast.ShowModelAll: _show_models,
    ast.DropModel: _drop_model,
    ast.EvaluateModel: _evaluate_model,
}


class Result:
    """A fetched result: rows and column names, or nothing for a statement without rows."""

    def __init__(self, table: pa.Table | None):
        self._table = table
        self._cursor = 0

    @property
    def columns(self) -> list[str]:
        return [] if self._table is None else list(self._table.column_names)

    def arrow(self) -> pa.Table | None:
        return self._table

    def fetchall(self) -> list[tuple]:
        if self._table is None:
            return []
        rows = list(zip(*(c.to_pylist() for c in self._table.columns), strict=True))
        out, self._cursor = rows[self._cursor :], len(rows)
        return out

    def fetchone(self) -> tuple | None:
        if self._table is None or self._cursor >= self._table.num_rows:
            return None
        row = tuple(column[self._cursor].as_py() for column in self._table.columns)
        self._cursor += 1
        return row

    def df(self):
        return None if self._table is None else self._table.to_pandas()
