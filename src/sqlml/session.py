"""A user's connection, and the front door every statement goes through.

``Connection.run(text, params)`` splits a script into statements and yields one
:class:`~sqlml.results.StatementResult` per statement: ML statements go to their handler in
``statements/``, every other statement to the engine exactly as written. Every error that
leaves it is a :class:`~sqlml.errors.SqlmlError` with a SQLSTATE. ``sql``, ``execute``, the CLI
and the server are built on it. Before each statement the model functions are brought in step
with the store (``functions.FunctionSync``).
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlml import arrowtypes
from sqlml.engines import Shape, open_engine
from sqlml.errors import (
    DatabaseError,
    InvalidSetting,
    PredictionCallError,
    SqlmlError,
    SqlSyntaxError,
)
from sqlml.functions import FunctionSync, by_function
from sqlml.jobs import training
from sqlml.lazy import pa
from sqlml.results import StatementResult
from sqlml.runtime import generation
from sqlml.sql import ast, dialects, forecast_calls, parse_chunk, parse_name, split_script
from sqlml.sql.lexer import is_word
from sqlml.statements import HANDLERS, catalog

log = logging.getLogger(__name__)


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
        engine: str = "duckdb",
        user: str | None = None,
        served: bool = False,
        dialect: str | None = None,
        default_settings: dict[str, object] | None = None,
        spark=None,
        lazy_functions: bool = False,
        executor_store: str | None = None,
    ):
        """``lazy_functions``: register the model functions (and the catalog views) only when
        a statement may need them, not at once (the shell: registering any function imports
        numpy, which would double the time a ``SELECT 1`` takes). ``spark``: a SparkSession to
        run in (the Spark engine; ``database`` is then unused). ``user``: the session's user (a
        server's session), whose privileges every statement is checked against; None
        (embedded) may do everything. ``served``: a server's connection, whose model functions
        check their caller (``functions.py``); the connections of one process to one database
        are all served or none (they share the functions)."""
        from sqlml.access import CALLERS, Access
        from sqlml.store import ModelStore
        from sqlml.store.privileges import PrivilegeStore
        from sqlml.store.users import UserStore

        if user is not None and not served:
            # A user's model functions check their caller, which only a served database's do.
            raise SqlmlError("A connection with a user is a server's: pass served=True.")
        from sqlml import settings

        self.synchronous = synchronous
        # SETTINGS a CREATE MODEL without them gets (a deployment's own budget, say).
        self.default_settings = settings.check_defaults(default_settings or {})
        self.max_training_jobs = max_training_jobs or training.default_max_jobs()
        if self.max_training_jobs < 1:
            raise SqlmlError("max_training_jobs must be at least 1.")
        options = {} if executor_store is None else {"executor_store": executor_store}
        if executor_store is not None and spark is None and engine != "spark":
            raise InvalidSetting(
                "executor_store is where Spark's executors read model packages: give it with "
                "spark=session (or engine='spark'), not with the duckdb engine."
            )
        if spark is not None:
            self.engine = open_engine("spark", None, spark=spark, **options)
        else:
            self.engine = open_engine(engine, database, **options)
        # The SQL the user writes; statements are translated from it to the engine's own.
        self.dialect = dialects.check(dialect or self.engine.dialect)
        for statement in dialects.setup(self.dialect, self.engine.dialect):
            try:
                self.engine.execute(statement)
            except DatabaseError as e:  # a read-only database cannot take a schema, say
                log.info("dialect set-up statement %r failed: %s", statement, e)
        root = (
            Path(model_store)
            if model_store is not None
            else default_store_root(database if self.engine.capabilities.database_files else None)
        )
        if root is None:
            # An in-memory database keeps its models only as long as it lives.
            root = Path(tempfile.mkdtemp(prefix="sqlml-models-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, root, ignore_errors=True)
            atexit.register(self._cleanup)
        self.store = ModelStore(root)
        self.store.sweep()  # what processes that died left behind
        self.users = UserStore(self.store)
        self.privileges = PrivilegeStore(self.store)
        self.access = Access(user, self.users, self.privileges)
        # Called with every statement before it runs; raises if the session's user may not
        # run it. Embedded use is single-user (None); a server sets it per client.
        self.authorize: Callable[[ast.Statement], None] | None = None
        self._caller = CALLERS.add(self.access) if served and user is not None else None
        self._functions = FunctionSync(
            self.engine, self.store, self.access, served=served, caller=self._caller
        )
        # True until the functions are first registered (lazy_functions: see _run_one).
        self._unsynced = lazy_functions and not served
        if not self._unsynced:
            self.sync_functions()

    @property
    def user(self) -> str | None:
        return self.access.user

    # -- the front door --------------------------------------------------------------------

    def translate(self, sql: str) -> str:
        """A statement (or query) in the session's dialect, as the engine's SQL."""
        return dialects.translate(sql, self.dialect, self.engine.dialect)

    def run(self, text: str, params=None) -> Iterator[StatementResult]:
        """Run a script statement by statement, yielding each one's result. A result's rows
        are read before the next statement runs (what is left unread is closed then)."""
        chunks = split_script(text, self.dialect)
        if params is not None and len(chunks) > 1:
            raise SqlmlError("Parameters can only be given with a single statement.")
        for chunk in chunks:
            result = self._run_one(text, chunk, params)
            try:
                yield result
            finally:
                result.close()

    def _run_one(self, script: str, chunk, params) -> StatementResult:
        statement = parse_chunk(script, chunk)
        # With lazy_functions, plain SQL runs before the functions are registered; if it fails
        # to bind (class 42: a function, table or macro not found, among others), nothing has
        # run, and it runs again once they are. Only statements that cannot open a transaction
        # are deferred: in one, the failed statement would abort it.
        deferred = (
            self._unsynced
            and isinstance(statement, ast.Passthrough)
            and _first_word(statement.sql) in _DEFERRABLE
            and not forecast_calls.mentions(chunk)
        )
        if not deferred:
            self._sync_before_statement()
        if self.authorize is not None:
            self.authorize(statement)
        generation.advance()  # one statement's caches start empty (runtime/generation.py)
        if isinstance(statement, ast.Passthrough):
            text = statement.sql
            if forecast_calls.mentions(chunk):  # SELECT FORECAST(model): a read of a table
                from sqlml.statements import forecast_read

                text = forecast_read.rewrite(self, script, chunk, text)
            sql, notices = dialects.translation(text, self.dialect, self.engine.dialect)
            try:
                try:
                    result = self.engine.execute(sql, params)
                except DatabaseError as e:
                    if not (deferred and (e.sqlstate or "").startswith("42")):
                        raise
                    self._sync_before_statement()
                    result = self.engine.execute(sql, params)
            except DatabaseError as e:
                raise self._explain(e, chunk, translated=sql != statement.sql) from e
            if result.command in ("ROLLBACK", "ABORT"):
                # It undid what the transaction did to the connection's temporary objects.
                self._functions.invalidate()
            result.translate_errors(
                lambda e: self._explain(e, chunk) if isinstance(e, DatabaseError) else e
            )
            result.notices.extend(notices)
            return result
        if params is not None:
            raise SqlmlError(f"{type(statement).__name__} statements take no parameters.")
        return HANDLERS[type(statement)](self, statement)

    def _sync_before_statement(self) -> None:
        try:
            self.sync_functions()
        except DatabaseError as e:
            # Inside a failed transaction the catalog views cannot be replaced; the statement
            # (a ROLLBACK, say) must still run. The functions catch up at the next statement.
            log.info("model functions not brought up to date: %s", e)

    def describe(self, text: str) -> Shape | None:
        """The parameters and result columns of one statement, without running it; None for an
        ML statement, whose columns only running it tells. (A wire-protocol server answers a
        client that prepares a statement with this.)"""
        chunks = split_script(text, self.dialect)
        if len(chunks) > 1:
            raise SqlSyntaxError("A prepared statement holds one statement; this text has several.")
        if not chunks:
            return Shape([], None)
        statement = parse_chunk(text, chunks[0])
        if not isinstance(statement, ast.Passthrough):
            return None
        self._sync_before_statement()  # so that the prediction functions bind
        sql = statement.sql
        if forecast_calls.mentions(chunks[0]):
            from sqlml.statements import forecast_read

            sql = forecast_read.rewrite(self, text, chunks[0], sql)
        try:
            sql = self.translate(sql)
            return self.engine.describe(sql)
        except DatabaseError as e:
            raise self._explain(e, chunks[0], translated=sql != statement.sql) from e

    def _explain(self, error: DatabaseError, chunk, translated: bool = False) -> SqlmlError:
        """A clearer error when a model's function was misused; else the engine's error, its
        position counted from the start of the script (as PostgreSQL counts it). A position in
        a translated statement points into text the user did not write: it is dropped."""
        if translated:
            error.position = None
        elif error.position is not None:
            error.position += chunk.start
        functions = by_function(self.models())
        unavailable = self._functions.unavailable(error, functions)
        if unavailable is not None:
            return unavailable
        if error.name in functions and error.arguments is not None:
            arguments = self._functions.call_arguments(error.arguments)
            return PredictionCallError(
                _call_mismatch(self.engine, error.name, functions[error.name], arguments)
            )
        says_only_count = self._functions.served or not (
            self.engine.capabilities.call_errors_name_argument_types
        )
        if error.name in functions and says_only_count and error.sqlstate == "42883":
            # A served session's macro for the function, or an engine that does not list the
            # argument types (Spark): it says only that the count is off.
            return PredictionCallError(
                _call_mismatch(self.engine, error.name, functions[error.name], None)
            )
        owner = _probabilities_owner(error, functions)
        if owner is not None:
            what = (
                "a regression model"
                if owner.get("problem_type") == "REGRESSION"
                else _KIND_NAMES.get(owner.get("kind"), "not a classifier")
                if owner.get("kind") != "auto"
                else "still training (its problem type is not known yet)"
            )
            return PredictionCallError(
                f"Function {error.name} does not exist: model {owner['schema']}.{owner['name']} "
                f"is {what}, and only AUTO ON classification models have a probability "
                f"function. Call {owner['function']['name']} for its predictions."
            )
        if error.sqlstate == "42601" and chunk.tokens:
            misspelt = _misspelt_statement(chunk.tokens[0].text)
            if misspelt:
                return DatabaseError(
                    f'{error}\nDid you mean "{misspelt}"? "{chunk.tokens[0].text}" does not begin '
                    "any statement.",
                    sqlstate=error.sqlstate,
                    position=error.position,
                    hint=f'Did you mean "{misspelt}"?',
                )
        if error.sqlstate == "22P02":  # a value that cannot be converted to a parameter
            words = [t.text.lower() for t in chunk.tokens if is_word(t)]
            called = [w for w in words if w in functions]
            if called:
                return PredictionCallError(
                    f"A value passed to prediction function {called[0]} cannot be converted to "
                    f"its parameter type ({catalog.signature(functions[called[0]])}): {error}"
                )
        return error

    # -- the embedded API ------------------------------------------------------------------

    @property
    def spark(self):
        """The SparkSession underneath (the Spark engine)."""
        return getattr(self.engine, "spark", None)

    @property
    def duckdb(self):
        """The DuckDB connection underneath, for everything sqlml does not wrap."""
        if self._unsynced:
            self.sync_functions()  # its caller may call them
        return self.engine.connection

    def sql(self, text: str, params=None):
        """Run a statement or a script; return the last statement's result as the engine's
        relation (DuckDB: ``.fetchall()``, ``.df()``, ``.show()``), or None without rows."""
        last = None
        for result in self.run(text, params):
            if not result.has_rows:
                last = None
            elif result.native is None or isinstance(result.native, pa.Table):
                last = self.engine.to_native(result.arrow())
            else:
                last = result.native
        return last

    def execute(self, text: str, params=None) -> Result:
        """Like :meth:`sql`, with the result fetched: ``.fetchall()``, ``.fetchone()``,
        ``.arrow()``, ``.columns``, ``.tag``."""
        out = Result(None)
        for result in self.run(text, params):
            out = Result(result.arrow(), result.tag)
        return out

    def wait_model(self, name: str, timeout: float | None = None) -> dict:
        """Block until model ``name`` ([schema.]name) is READY and return its manifest; raise the
        training error if it FAILED, TrainingTimeout after ``timeout`` seconds (it goes on)."""
        ref = parse_name(name, dialect=self.dialect)
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
        manifest = self.find_model(parse_name(name, dialect=self.dialect))
        return {"state": manifest["state"], **manifest.get("progress", {})}

    def models(self) -> list[tuple[Path, dict]]:
        """Every model: READY packages, and the jobs of models QUEUED, TRAINING or FAILED (as
        their manifest draft with ``state``, ``progress`` and ``failure_reason``)."""
        return catalog.list_models(self.store)

    def find_model(self, name: ast.Name, *, missing_ok: bool = False) -> dict | None:
        return catalog.find_model(self.store, self.engine, name, missing_ok=missing_ok)

    def sync_functions(self, force: bool = False) -> None:
        """Register the functions of every model; remove those of models that are gone."""
        self._functions.sync(force)
        self._unsynced = False

    def close(self) -> None:
        from sqlml.access import CALLERS

        if self._caller is not None:
            CALLERS.remove(self._caller)
        self.engine.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Result:
    """A fetched result: rows and column names, or nothing for a statement without rows."""

    def __init__(self, table: pa.Table | None, tag: str | None = None):
        self._table = table
        self._cursor = 0
        self.tag = tag

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


# The words a statement can begin with; a first word close to one of them is a misspelling.
_STATEMENT_WORDS = (  # noqa: SIM905 -- a word list reads best as words
    "SELECT WITH CREATE DROP SHOW EVALUATE INSERT UPDATE DELETE ALTER EXPLAIN DESCRIBE "
    "SUMMARIZE COPY ATTACH DETACH PRAGMA SET RESET BEGIN COMMIT ROLLBACK VALUES FROM TABLE "
    "INSTALL LOAD CALL EXPORT IMPORT USE VACUUM CHECKPOINT ANALYZE GRANT REVOKE PIVOT UNPIVOT"
).split()


# Statements that run before the functions are registered (lazy_functions). Not BEGIN or
# START; a statement led by a comment is not deferred either, which is only slower.
_DEFERRABLE = frozenset(
    [
        "SELECT",
        "WITH",
        "FROM",
        "VALUES",
        "TABLE",
        "SHOW",
        "DESCRIBE",
        "SUMMARIZE",
        "EXPLAIN",
        "CREATE",
        "INSERT",
        "UPDATE",
        "DELETE",
        "COPY",
        "PRAGMA",
    ]
)


def _first_word(sql: str) -> str:
    """The statement's first word, upper case."""
    words = sql.lstrip().split(None, 1)
    return words[0].upper().rstrip(";(") if words else ""


def _misspelt_statement(word: str) -> str | None:
    """The statement keyword ``word`` is a misspelling of (in the case it was typed), if one."""
    import difflib

    upper = word.upper()
    if upper in _STATEMENT_WORDS or not word.isalpha():
        return None
    close = difflib.get_close_matches(upper, _STATEMENT_WORDS, n=1, cutoff=0.75)
    if not close:
        return None
    return close[0] if word.isupper() or not word.islower() else close[0].lower()


_KIND_NAMES = {"xgboost": "an AUTO OFF XGBoost model", "kmeans": "a K-means model"}


def _call_mismatch(engine, function: str, manifest: dict, arguments: str | None) -> str:
    """What is wrong with a call the engine could not bind: the number of arguments, or which
    argument has a type the parameter does not take (``arguments``: the types passed, as the
    engine printed them; None when it did not say)."""
    features = manifest["features"]
    model = f"{manifest['schema']}.{manifest['name']}"
    expected = catalog.signature(manifest)
    count = len(features)
    takes = f"Prediction function {function} of model {model} takes {count} argument"
    takes += f"{'s' if count != 1 else ''} ({expected}); it was called with"
    advice = "Pass the feature columns in the order of the model's FROM query."
    if arguments is None:
        return f"{takes} another number. {advice}"
    given = [a.strip() for a in _split_types(arguments)]
    if len(given) == count:
        for i, (feature, sql_type) in enumerate(zip(features, given, strict=True), start=1):
            want = arrowtypes.family(engine.arrow_type(feature["type"]))
            got = arrowtypes.family(engine.arrow_type(sql_type))
            if sql_type.upper() != "NULL" and want and got and want != got:
                return (
                    f"Prediction function {function} of model {model}: argument {i} "
                    f"({feature['name']}) must be {feature['type']}, but a value of type "
                    f"{sql_type} was passed. CAST it, or pass the column the model was trained "
                    f"on; the parameters are ({expected})."
                )
    return f"{takes} {len(given)} ({', '.join(given)}). {advice}"


def _split_types(text: str) -> list[str]:
    """``DECIMAL(3,1), VARCHAR`` as its types (commas inside parentheses kept)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:])
    return parts


def _probabilities_owner(error: DatabaseError, functions: dict) -> dict | None:
    """The model whose function ``<fn>_probabilities`` was called though it has none."""
    name = error.name or ""
    if error.sqlstate != "42883" or not name.endswith("_probabilities"):
        return None
    return functions.get(name.removesuffix("_probabilities"))
