"""A user's connection: routes each statement, keeps prediction functions in step with the store.

ML statements dispatch through ``HANDLERS``; every other statement goes to the database exactly as
written. Before each statement the connection compares the model store's fingerprint with the one
it last saw and (re)registers or removes prediction functions, so a model created by another
connection or process is callable at once.
"""

from __future__ import annotations

import atexit
import logging
import re
import shutil
import tempfile
import weakref
from pathlib import Path

import pyarrow as pa

from sqlml import settings as S
from sqlml.engines import duckdb_engine as engine_mod
from sqlml.errors import ModelNotFound, PredictionCallError, SqlmlError
from sqlml.runtime.predictor import load_predictor
from sqlml.sql import ast, parse_chunk, split_script
from sqlml.sql.lexer import is_word
from sqlml.statements.create_model import create_model
from sqlml.statements.show_model import key_value_table, model_rows, models_table

log = logging.getLogger(__name__)

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

    def __init__(self, database: str | None = None, *, model_store: str | Path | None = None):
        from sqlml.store import ModelStore

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
        by_function = {m["function"]["name"]: m for _, m in self.store.list()}
        match = _NO_MATCH.search(str(error))
        if match and match.group(1).lower() in by_function:
            manifest = by_function[match.group(1).lower()]
            return PredictionCallError(
                f"Prediction function {manifest['function']['name']} of model "
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
        fingerprint = self.store.fingerprint()
        if fingerprint == self._fingerprint and not force:
            return
        wanted: dict[str, tuple] = {}
        models = self.store.list()
        for directory, manifest in models:
            if manifest["state"] == "READY":
                wanted.setdefault(manifest["function"]["name"].lower(), (directory, manifest))
        registered = self.engine.registered_functions()
        for name in registered.keys() - wanted.keys():
            self.engine.unregister_function(name)
        for name, (directory, manifest) in wanted.items():
            if registered.get(name) != manifest["package_id"]:
                self._register(name, directory, manifest)
        self.engine.publish_leaderboards(
            [
                (m["schema"], m["name"], directory / m["model"]["leaderboard"])
                for directory, m in models
                if m["state"] == "READY" and m.get("model", {}).get("leaderboard")
            ]
        )
        self._fingerprint = fingerprint

    def _register(self, name: str, directory: Path, manifest: dict) -> None:
        def predict(columns: list) -> pa.Array:
            return load_predictor(directory, manifest).predict(columns)

        types = [f["type"] for f in manifest["features"]]
        return_type = engine_mod.function_return_type(manifest["target_type"])
        self.engine.register_function(name, manifest["package_id"], predict, types, return_type)

    # -- model lookup ----------------------------------------------------------------------

    def find_model(self, name: ast.Name, *, missing_ok: bool = False) -> dict | None:
        schema = name.schema or self.engine.current_schema()
        manifest = self.store.get(schema, name.name)
        if manifest is None and not missing_ok:
            known = [m["name"] for _, m in self.store.list()]
            raise ModelNotFound(
                f"Model {schema}.{name.name} does not exist.{S.did_you_mean(name.name, known)} "
                "SHOW MODEL ALL lists the models."
            )
        return manifest


def _signature(manifest: dict) -> str:
    return ", ".join(f"{f['name']} {f['type']}" for f in manifest["features"])


def _show_model(session: Connection, stmt: ast.ShowModel) -> pa.Table:
    manifest = session.find_model(stmt.name)
    path = session.store.path(manifest["schema"], manifest["name"])
    return key_value_table(model_rows(manifest, str(path)))


def _show_models(session: Connection, stmt: ast.ShowModelAll) -> pa.Table:
    return models_table([m for _, m in session.store.list()])


def _drop_model(session: Connection, stmt: ast.DropModel) -> None:
    schema = stmt.name.schema or session.engine.current_schema()
    path = session.store.path(schema, stmt.name.name)
    if not path.exists():
        if stmt.if_exists:
            return None
        session.find_model(stmt.name)  # raises ModelNotFound with a hint
    session.store.delete(schema, stmt.name.name)
    session.sync_functions(force=True)
    return None


def _create_model(session: Connection, stmt: ast.CreateModel) -> pa.Table:
    manifest = create_model(session, stmt)
    metric, value = next(iter(manifest["metrics"].items()))
    return pa.table(
        {
            "Model Name": [f"{manifest['schema']}.{manifest['name']}"],
            "Model State": [manifest["state"]],
            "Function Name": [manifest["function"]["name"]],
            "Metric": [metric],
            "Value": [value],
        }
    )


HANDLERS = {
    ast.CreateModel: _create_model,
    ast.ShowModel: _show_model,
    ast.ShowModelAll: _show_models,
    ast.DropModel: _drop_model,
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
