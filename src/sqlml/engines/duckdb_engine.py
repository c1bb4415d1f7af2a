"""DuckDB: the embedded engine. The only module of sqlml that imports duckdb.

DuckDB keeps Python functions in the catalog of the *database instance*, which every connection
to the same file in one process shares, and only the connection that registered a function may
remove it. So each database instance gets one ``_SharedDatabase``: a root connection that does all
function registration, a record of what is registered, and a reference count. Users' connections
are cursors of that root connection; the root closes with the last of them, releasing the file.
"""

from __future__ import annotations

import inspect
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

import duckdb
from duckdb import _seam

from sqlml import errors
from sqlml.engines import duckdb_errors, duckdb_load, duckdb_types
from sqlml.engines.base import (
    Capabilities,
    Column,
    CsvOptions,
    Engine,
    FileFormat,
    LoadOutcome,
    Shape,
)
from sqlml.errors import InvalidSetting, TrainingQueryError
from sqlml.lazy import ipc, pa
from sqlml.results import PlainRows, StatementResult

_registry: dict[str, _SharedDatabase] = {}
_registry_lock = threading.Lock()


_HELD = re.compile(r"Conflicting lock is held in .* \(PID (\d+)\)")


class _SharedDatabase:
    def __init__(self, key: str | None, database: str):
        self.key = key
        try:
            self.root = duckdb.connect(database)
        except duckdb.IOException as e:
            held = _HELD.search(str(e))
            if held is None:
                raise duckdb_errors.translate(e) from e
            raise errors.DatabaseInUse(
                f"Database file {database} is open in another process (PID {held.group(1)}); "
                "one process at a time may open a DuckDB file. To share models between "
                "processes, give each process its own database file and the same model store "
                "(sqlml.connect(file, model_store=folder)), or close the other process."
            ) from None
        self.refs = 0
        self.lock = threading.RLock()
        self.functions: dict[str, str] = {}  # function name (lower) -> registration token


def _acquire(database: str | None) -> _SharedDatabase:
    if database is None or database == ":memory:":
        shared = _SharedDatabase(None, ":memory:")
        shared.refs = 1
        return shared
    key = os.path.realpath(database)
    with _registry_lock:
        shared = _registry.get(key)
        if shared is None:
            shared = _registry[key] = _SharedDatabase(key, database)
        shared.refs += 1
        return shared


def _release(shared: _SharedDatabase) -> None:
    with _registry_lock:
        shared.refs -= 1
        if shared.refs > 0:
            return
        if shared.key is not None:
            _registry.pop(shared.key, None)
    shared.root.close()


def _with_arity(fn: Callable[[list], pa.Array], arity: int) -> Callable:
    """``fn(columns)`` as a function of ``arity`` positional parameters, as DuckDB requires."""

    def udf(*columns):
        return fn(list(columns))

    udf.__signature__ = inspect.Signature(
        [inspect.Parameter(f"arg{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(arity)]
    )
    return udf


SNAPSHOT_BATCH_ROWS = 65_536


# Result column types whose Python values (fetchall) are what Arrow's to_pylist gives, and
# whether they are numbers. Others (TIMESTAMPTZ, INTERVAL, UUID, HUGEINT, BLOB, nested types)
# are read through Arrow.
_PLAIN_TYPES = {
    "BOOLEAN": False,
    "TINYINT": True,
    "SMALLINT": True,
    "INTEGER": True,
    "BIGINT": True,
    "UTINYINT": True,
    "USMALLINT": True,
    "UINTEGER": True,
    "UBIGINT": True,
    "FLOAT": True,
    "DOUBLE": True,
    "VARCHAR": False,
    "DATE": False,
    "TIME": False,
    "TIMESTAMP": False,
}


def _plain_rows(relation: duckdb.DuckDBPyRelation) -> PlainRows | None:
    numeric = []
    for sql_type in map(str, relation.types):
        if sql_type.startswith("DECIMAL("):
            numeric.append(True)
        elif sql_type in _PLAIN_TYPES:
            numeric.append(_PLAIN_TYPES[sql_type])
        else:
            return None
    return PlainRows(list(relation.columns), numeric, relation.fetchall())


# Where the database keeps sqlml's own tables (stored procedures), left out of the user's lists.
_SQLML_SCHEMA = "sqlml"
_PROCEDURES = f"{_SQLML_SCHEMA}.procedures"


def _quoted(name: str) -> str:
    """A column name as a DuckDB identifier: always quoted (a bare one may be a keyword)."""
    return '"' + name.replace('"', '""') + '"'


def _training_query_error(error: BaseException, query: str | None = None) -> errors.SqlmlError:
    """A failure of the FROM query read for training: a cancel (57014, PostgreSQL's words) or
    the query's own error."""
    translated = duckdb_errors.translate(error, query)
    if translated.sqlstate == "57014":
        return errors.DatabaseError(
            "canceling statement due to user request (while reading the FROM query)",
            sqlstate="57014",
        )
    return TrainingQueryError(f"The FROM query failed: {duckdb_errors.text(error)}")


def _query_batches(reader: pa.RecordBatchReader):
    """The reader's batches. An error of the query met while it runs (a CAST failing in row
    300,000) comes out of the reader as an Arrow error or an OSError; either way it is the
    user's query that failed (the reader reads nothing else)."""
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except (duckdb.Error, pa.ArrowException, OSError) as e:
            raise _training_query_error(e) from e
        yield batch


def _snapshot_column(name: str, sql_type: duckdb.DuckDBPyType) -> str:
    quoted = _quoted(name)
    return f"{duckdb_types.snapshot_expression(quoted, sql_type)} AS {quoted}"


def _stratified_sample(query: str, column: str, fraction: float, seed: int) -> str:
    quoted = _quoted(column)
    return (
        f"SELECT * EXCLUDE (__sqlml_row) FROM (SELECT *, row_number() OVER () AS __sqlml_row "
        f"FROM ({query})) QUALIFY row_number() OVER (PARTITION BY {quoted} "
        f"ORDER BY hash(__sqlml_row + {int(seed)})) "
        f"<= ceil(count(*) OVER (PARTITION BY {quoted}) * {fraction!r}) ORDER BY __sqlml_row"
    )


_LEADERBOARD_COLUMNS = [
    ("trial", "INTEGER"),
    ("candidate", "VARCHAR"),
    ("learner", "VARCHAR"),
    ("params", "JSON"),
    ("target_transform", "VARCHAR"),
    ("status", "VARCHAR"),
    ("score", "DOUBLE"),
    ("seconds", "DOUBLE"),
    ("error", "VARCHAR"),
    ("ensemble_weight", "DOUBLE"),
]
_LEADERBOARD = "{" + ", ".join(f"'{c}': '{t}'" for c, t in _LEADERBOARD_COLUMNS) + "}"


_MODEL_STATE_TEXT = {
    "QUEUED": "Model is Queued",
    "TRAINING": "Train Model In Progress",
    "READY": "Model is Ready",
    "FAILED": "Model Training Failed",
    "BROKEN": "Model Package Cannot Be Read",
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Statement kinds whose result is the number of rows changed (a "Count" column).
_COUNTED = {"INSERT", "UPDATE", "DELETE", "COPY", "MERGE_INTO"}
# Statement kinds that return rows.
_ROWS = {"SELECT", "EXPLAIN", "PRAGMA", "CALL", "EXECUTE", "RELATION", "LOGICAL_PLAN"}
# Commands a result with rows keeps as its tag's words.
_ROW_COMMANDS = {"SELECT", "EXPLAIN", "PRAGMA", "CALL", "INSERT", "UPDATE", "DELETE", "MERGE"}
# Words between CREATE / DROP / ALTER and the kind of object, left out of the command tag.
_MODIFIERS = {"OR", "REPLACE", "TEMP", "TEMPORARY", "UNIQUE", "PERSISTENT", "IF", "NOT", "EXISTS"}
_WORD = re.compile(r"[A-Za-z_]+")
_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)


def _command(kind: str, text: str) -> str:
    """The PostgreSQL command tag's words for a statement of DuckDB's kind ``kind``."""
    words = [w.upper() for w in _WORD.findall(_COMMENTS.sub("", text, count=1))[:8]]
    head = words[0] if words else kind
    if kind in ("SELECT", "EXPLAIN", "PRAGMA", "CALL"):
        return "SELECT" if kind == "SELECT" else kind
    if kind in _COUNTED:
        return "MERGE" if kind == "MERGE_INTO" else kind
    if head in ("CREATE", "DROP", "ALTER") and len(words) > 1:
        rest = [w for w in words[1:] if w not in _MODIFIERS]
        if head == "CREATE" and rest[:1] == ["TABLE"] and "AS" in words:
            return "SELECT"  # CREATE TABLE ... AS: PostgreSQL tags it SELECT n
        return f"{head} {rest[0]}" if rest else head
    if head == "START" and words[1:2] == ["TRANSACTION"]:
        return "START TRANSACTION"
    if head == "END":
        return "COMMIT"
    return head


class DuckDBEngine(Engine):
    """One user connection to a DuckDB database."""

    name = "duckdb"
    dialect = "duckdb"
    capabilities = Capabilities(
        vectorized_functions=True,
        temporary_views=True,
        transactions=True,
        functions_shadow_builtins=True,
        forecast_views=True,
    )

    def __init__(self, database: str | None = None):
        self.database = database
        self._shared = _acquire(database)
        self.connection = self._shared.root.cursor()
        self.closed = False

    @property
    def path(self) -> Path | None:
        return None if self._shared.key is None else Path(self._shared.key)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.connection.close()
            _release(self._shared)

    # -- running SQL -----------------------------------------------------------------------

    def execute(self, text: str, params=None) -> StatementResult:
        """Run one statement. Queries are lazy DuckDB relations read as Arrow batches; other
        statements run at once (DuckDB's behaviour). Errors, including those met while the
        rows are read, are SqlmlErrors."""
        try:
            statements = self.connection.extract_statements(text)
            kind = statements[-1].type.name if statements else "SELECT"
            relation = self.connection.sql(text, params=params)
        except duckdb.Error as e:
            raise duckdb_errors.translate(e, text) from e
        except (TypeError, ValueError) as e:  # parameters DuckDB cannot bind
            raise InvalidSetting(f"The statement's parameters cannot be used: {e}") from e
        command = _command(kind, text)
        if relation is None:
            return StatementResult(command)
        columns = relation.columns
        # What DuckDB answers for a statement without rows: the rows it changed, or success.
        returning = "RETURNING" in text.upper()
        if columns == ["Count"] and not returning and (kind in _COUNTED or kind == "CREATE"):
            counted = relation.fetchall()  # no row at all for a plain CREATE TABLE
            return StatementResult(command, rowcount=counted[0][0] if counted else None)
        if kind not in _ROWS and not returning and columns in (["Count"], ["Success"]):
            return StatementResult(command, native=relation)
        if command not in _ROW_COMMANDS:
            command = "SELECT"  # rows from a statement of another kind (PIVOT, say)
        result = StatementResult(
            command,
            open_reader=relation.to_arrow_reader,
            native=relation,
            translate=lambda e: duckdb_errors.translate(e, text),
            open_rows=lambda: _plain_rows(relation),
        )
        result.sql_types = [str(t) for t in relation.types]
        return result

    def describe(self, text: str) -> Shape:
        """Asks DuckDB's binder (``duckdb._seam.bind``, what DuckDB's own relations use): the
        statement is bound, not run, so describing an INSERT inserts nothing."""
        try:
            signature = _seam.bind(self.connection, text)
        except duckdb.Error as e:
            raise duckdb_errors.translate(e, text) from e
        parameters = [self._column(name, t) for name, t in signature.parameters]
        if signature.return_type != "query_result":
            return Shape(parameters, None)
        columns = [
            self._column(n, t) for n, t in zip(signature.names, signature.types, strict=True)
        ]
        return Shape(parameters, columns)

    def _column(self, name: str, sql_type) -> Column:
        label = str(sql_type)
        return Column(
            name, label, self.arrow_type(label) if label not in ("UNKNOWN", "NULL") else pa.string()
        )

    def emulate_postgres_catalog(
        self, user: str, users: list[tuple[str, bool]], settings: dict[str, str], version: str
    ) -> tuple[str, ...]:
        from sqlml.engines import duckdb_pgcatalog

        for statement in duckdb_pgcatalog.statements(user, users, settings, version):
            self._catalog_statement(statement)
        return duckdb_pgcatalog.RELATIONS

    def interrupt(self) -> None:
        self.connection.interrupt()

    def copy_from_csv(self, target: str, path: Path, options: CsvOptions) -> int:
        settings = ", ".join(
            [
                "FORMAT csv",
                f"HEADER {str(options.header).lower()}",
                f"DELIMITER {_literal(options.delimiter)}",
                f"QUOTE {_literal(options.quote)}",
                f"ESCAPE {_literal(options.escape)}",
                f"NULL {_literal(options.null)}",
                # a quoted value is text, never NULL (PostgreSQL's CSV rule)
                "allow_quoted_nulls false",
            ]
        )
        statement = f"COPY {target} FROM {_literal(str(path))} ({settings})"
        try:
            rows = self.connection.execute(statement).fetchall()
        except duckdb.Error as e:
            raise duckdb_errors.translate(e) from e
        return int(rows[0][0]) if rows else 0

    def load_files(
        self,
        table: str,
        columns: list[str] | None,
        paths: list[Path],
        fmt: FileFormat,
        max_errors: int = 0,
        explicit_ids: bool = False,
    ) -> LoadOutcome:
        return duckdb_load.load_files(
            self.connection, table, columns, paths, fmt, max_errors, explicit_ids
        )

    def unload_query(
        self, query: str, folder: Path, fmt: FileFormat, max_file_bytes: int | None = None
    ) -> tuple[list[Path], int]:
        return duckdb_load.unload_query(self.connection, query, folder, fmt, max_file_bytes)

    def to_native(self, table: pa.Table):
        """A DuckDB relation over an Arrow table (what ``Connection.sql`` returns)."""
        return self.connection.from_arrow(table)

    def query_columns(self, query: str) -> list[Column]:
        try:
            relation = self.connection.sql(query)
            if relation is None:
                raise TrainingQueryError("The FROM clause must be a query that returns rows.")
            names, types = relation.columns, relation.types
            exported = ", ".join(_snapshot_column(n, t) for n, t in zip(names, types, strict=True))
            schema = (
                self.connection.sql(f"SELECT {exported} FROM ({query}) LIMIT 0")
                .to_arrow_table()
                .schema
            )
        except duckdb.Error as e:
            raise TrainingQueryError(f"The FROM query failed: {duckdb_errors.text(e)}") from e
        return [Column(n, str(t), f.type) for n, t, f in zip(names, types, schema, strict=True)]

    def query_arrow(self, query: str, what: str) -> pa.Table:
        try:
            return self.connection.sql(query).to_arrow_table()
        except duckdb.Error as e:
            raise TrainingQueryError(
                f"{what}: the FROM query failed: {duckdb_errors.text(e)}"
            ) from e

    # -- training data ---------------------------------------------------------------------

    def _sampled_query(
        self, query: str, max_rows: int | None, seed: int, stratify: str | None
    ) -> tuple[str, int]:
        total = self.connection.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0]
        if max_rows is None or total <= max_rows:
            return query, total
        if stratify is None:
            return (
                f"SELECT * FROM ({query}) "
                f"USING SAMPLE reservoir({int(max_rows)} ROWS) REPEATABLE ({int(seed)})"
            ), total
        return _stratified_sample(query, stratify, max_rows / total, seed), total

    def export_training_data(
        self, query: str, path: Path, max_rows: int | None, seed: int, stratify: str | None = None
    ) -> tuple[int, int]:
        """Write the (sampled) rows to an Arrow IPC file, uncompressed, in batches of
        ``SNAPSHOT_BATCH_ROWS``; return (rows written, rows total). The trainer memory-maps it:
        its columns are read from the page cache without a copy or a decoder (a Parquet snapshot
        cost the trainer 60 MB of reader buffers and code before any data, and twice the table's
        size while decoding it)."""
        try:
            text, total = self._sampled_query(query, max_rows, seed, stratify)
            relation = self.connection.sql(text)
            columns = ", ".join(
                _snapshot_column(name, t)
                for name, t in zip(relation.columns, relation.types, strict=True)
            )
            reader = self.connection.sql(f"SELECT {columns} FROM ({text})").to_arrow_reader(
                SNAPSHOT_BATCH_ROWS
            )
        except duckdb.Error as e:
            raise _training_query_error(e) from e
        written = 0
        # The reader is closed whatever happens: a half-read one keeps the connection busy.
        with (
            reader,
            pa.OSFile(str(path), "wb") as sink,
            ipc.new_file(sink, reader.schema) as writer,
        ):
            for batch in _query_batches(reader):
                writer.write_batch(batch)
                written += batch.num_rows
        return written, total

    # -- catalog ---------------------------------------------------------------------------

    def numeric_summary(self, query: str, column: str) -> tuple:
        """The smallest and largest value of a numeric or boolean ``column`` of ``query``, and
        whether every value is a whole number (NULLs ignored; (None, None, True) if all NULL)."""
        quoted = _quoted(column)
        value = f"CAST({quoted} AS DOUBLE)"
        try:
            low, high, fractional = self.connection.execute(
                f"SELECT min({value}), max({value}), "
                f"count(*) FILTER (WHERE {value} <> round({value})) FROM ({query})"
            ).fetchall()[0]
        except duckdb.Error as e:
            raise _training_query_error(e) from e
        return low, high, fractional == 0

    def target_summary(self, query: str, column: str) -> tuple[int, int, int]:
        quoted = _quoted(column)
        try:
            row = self.connection.execute(
                f"SELECT count(*), count({quoted}), count(DISTINCT {quoted}) FROM ({query})"
            ).fetchall()[0]
        except duckdb.Error as e:
            raise _training_query_error(e) from e
        return int(row[0]), int(row[1]), int(row[2])

    def current_schema(self) -> str:
        return self.connection.execute("SELECT current_schema()").fetchall()[0][0]

    def schema_exists(self, schema: str) -> bool:
        row = self.connection.execute(
            "SELECT count(*) FROM duckdb_schemas() "
            "WHERE database_name = current_database() AND lower(schema_name) = lower(?)",
            [schema],
        ).fetchall()
        return row[0][0] > 0

    def function_exists(self, name: str) -> bool:
        """True when any function or macro (built-in or not) has this name."""
        row = self.connection.execute(
            "SELECT count(*) FROM duckdb_functions() WHERE lower(function_name) = lower(?)", [name]
        ).fetchall()
        return row[0][0] > 0

    def tables(self) -> list[tuple[str, str, str]]:
        rows = self.connection.execute(
            "SELECT schema_name, table_name, 'TABLE' FROM duckdb_tables() "
            "WHERE database_name = current_database() AND NOT internal "
            f"AND schema_name <> '{_SQLML_SCHEMA}' "
            "UNION ALL SELECT schema_name, view_name, 'VIEW' FROM duckdb_views() "
            "WHERE database_name = current_database() AND NOT internal AND NOT temporary "
            "ORDER BY 1, 2"
        ).fetchall()
        return [tuple(row) for row in rows]

    def table_definitions(self, name: str | None = None) -> list[str]:
        rows = self.connection.execute(
            "SELECT sql, table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() AND NOT internal "
            f"AND schema_name <> '{_SQLML_SCHEMA}' "
            "UNION ALL SELECT sql, view_name FROM duckdb_views() "
            "WHERE database_name = current_database() AND NOT internal AND NOT temporary "
            "ORDER BY 2"
        ).fetchall()
        return [sql for sql, table in rows if name is None or table.lower() == name.lower()]

    def column_names(self) -> list[str]:
        rows = self.connection.execute(
            "SELECT DISTINCT column_name FROM duckdb_columns() "
            "WHERE database_name = current_database() AND NOT internal "
            f"AND schema_name <> '{_SQLML_SCHEMA}' ORDER BY 1"
        ).fetchall()
        return [row[0] for row in rows]

    # -- stored procedures -----------------------------------------------------------------
    # A table of the database's own, in a schema of sqlml's: procedures commit and roll back
    # with the statements around them, and travel with the database file. Definitions are
    # JSON text (nothing in them runs when read).

    def procedures(self) -> list[tuple[str, str, str]]:
        try:
            if not self._procedure_table_exists():
                return []
            rows = self.connection.execute(
                f"SELECT schema_name, name, definition FROM {_PROCEDURES} ORDER BY 1, 2"
            ).fetchall()
        except duckdb.Error as e:
            raise duckdb_errors.translate(e) from e
        return [tuple(row) for row in rows]

    def _procedure_table_exists(self) -> bool:
        row = self.connection.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = 'procedures'",
            [_SQLML_SCHEMA],
        ).fetchall()
        return row[0][0] > 0

    def save_procedure(self, schema: str, name: str, definition: str) -> None:
        try:
            if not self._procedure_table_exists():
                self.connection.execute(f"CREATE SCHEMA IF NOT EXISTS {_SQLML_SCHEMA}")
                self.connection.execute(
                    f"CREATE TABLE IF NOT EXISTS {_PROCEDURES} (schema_name VARCHAR, "
                    "name VARCHAR, definition VARCHAR, PRIMARY KEY (schema_name, name))"
                )
            self.connection.execute(
                f"INSERT OR REPLACE INTO {_PROCEDURES} VALUES (?, ?, ?)", [schema, name, definition]
            )
        except duckdb.Error as e:
            raise duckdb_errors.translate(e) from e

    def drop_procedure(self, schema: str, name: str) -> None:
        try:
            if self._procedure_table_exists():
                self.connection.execute(
                    f"DELETE FROM {_PROCEDURES} WHERE schema_name = ? AND name = ?", [schema, name]
                )
        except duckdb.Error as e:
            raise duckdb_errors.translate(e) from e

    # -- catalog views ---------------------------------------------------------------------

    def publish_leaderboards(self, entries: list[tuple[str, str, Path]]) -> None:
        """(Re)create the temporary view ``sqlml_leaderboard`` over the models' leaderboard files.

        One row per candidate tried: schema_name, model_name, trial, candidate, learner, params
        (JSON), target_transform, status, score, seconds, error, ensemble_weight.
        """
        parts = [
            f"SELECT {_literal(schema)} AS schema_name, {_literal(name)} AS model_name, * "
            f"FROM read_json({_literal(str(path))}, format = 'array', columns = {_LEADERBOARD})"
            for schema, name, path in entries
        ]
        empty = (
            f"SELECT NULL::VARCHAR AS schema_name, NULL::VARCHAR AS model_name, * "
            f"FROM (SELECT {', '.join(f'NULL::{t} AS {c}' for c, t in _LEADERBOARD_COLUMNS)}) "
            "WHERE false"
        )
        body = " UNION ALL ".join(parts) if parts else empty
        self._catalog_statement(f"CREATE OR REPLACE TEMP VIEW sqlml_leaderboard AS {body}")

    def register_table(self, name: str, table: pa.Table | None) -> None:
        """Make ``table`` readable as ``name`` in this connection (None: forget ``name``)."""
        if table is None:
            self.connection.unregister(name)
        else:
            self.connection.register(name, table)

    def publish_forecasts(self, views: dict[str, Path]) -> None:
        """Temporary views over READY forecasts' Parquet files (view name -> file): what
        ``SELECT FORECAST(model)`` reads. Views of forecasts gone are dropped."""
        rows = self.connection.execute(
            "SELECT view_name FROM duckdb_views() WHERE temporary AND view_name LIKE "
            "'sqlml\\_forecast\\_%' ESCAPE '\\'"
        ).fetchall()
        for (name,) in rows:
            if name not in views:
                self._catalog_statement(f"DROP VIEW IF EXISTS temp.main.{_quoted(name)}")
        for name, path in views.items():
            self._catalog_statement(
                f"CREATE OR REPLACE TEMP VIEW {_quoted(name)} AS "
                f"SELECT * FROM read_parquet({_literal(str(path))})"
            )

    def publish_model_info(self, models: list[tuple[str, str, str, str]]) -> None:
        """(Re)create Redshift's catalog views ``stv_ml_model_info`` and ``svv_ml_model_info``
        (reference §8) from (schema, name, owner, state) rows. ``life_cycle`` is the plain state
        (QUEUED, TRAINING, READY, FAILED); ``model_state`` the sentence Redshift shows."""
        rows = [
            f"({_literal(schema)}, {_literal(owner)}, {_literal(name)}, {_literal(state)}, "
            f"{_literal(_MODEL_STATE_TEXT[state])})"
            for schema, name, owner, state in models
        ]
        body = (
            f"SELECT * FROM (VALUES {', '.join(rows)}) "
            "AS t(schema_name, user_name, model_name, life_cycle, model_state)"
            if rows
            else "SELECT NULL::VARCHAR AS schema_name, NULL::VARCHAR AS user_name, "
            "NULL::VARCHAR AS model_name, NULL::VARCHAR AS life_cycle, "
            "NULL::VARCHAR AS model_state WHERE false"
        )
        # is_refreshable: 1 when the training query still runs; not tracked yet, so NULL.
        self._catalog_statement(
            "CREATE OR REPLACE TEMP VIEW stv_ml_model_info AS SELECT schema_name, user_name, "
            f"model_name, life_cycle, NULL::INTEGER AS is_refreshable, model_state FROM ({body})"
        )
        self._catalog_statement(
            "CREATE OR REPLACE TEMP VIEW svv_ml_model_info AS SELECT current_database() AS "
            "database_name, * FROM stv_ml_model_info"
        )

    def publish_model_privileges(self, rows: list[tuple]) -> None:
        values = ", ".join(
            f"({_literal(schema)}, {_literal(model)}, 1, {_literal(privilege)}, {identity_id}, "
            f"{_literal(name)}, {_literal(kind)}, {str(admin).lower()})"
            for schema, model, privilege, identity_id, name, kind, admin in rows
        )
        columns = (
            "namespace_name, model_name, model_version, privilege_type, identity_id, "
            "identity_name, identity_type, admin_option"
        )
        body = (
            f"SELECT * FROM (VALUES {values}) AS t({columns})"
            if rows
            else "SELECT NULL::VARCHAR AS namespace_name, NULL::VARCHAR AS model_name, "
            "NULL::INTEGER AS model_version, NULL::VARCHAR AS privilege_type, "
            "NULL::INTEGER AS identity_id, NULL::VARCHAR AS identity_name, "
            "NULL::VARCHAR AS identity_type, NULL::BOOLEAN AS admin_option WHERE false"
        )
        self._catalog_statement(
            f"CREATE OR REPLACE TEMP VIEW svv_ml_model_privileges AS SELECT {columns} FROM ({body})"
        )

    def _catalog_statement(self, text: str) -> None:
        try:
            self.connection.execute(text)
        except duckdb.Error as e:  # e.g. inside a failed transaction
            raise duckdb_errors.translate(e) from e

    # -- prediction functions --------------------------------------------------------------

    def registered_functions(self) -> dict[str, str]:
        with self._shared.lock:
            return dict(self._shared.functions)

    def register_function(
        self,
        name: str,
        token: str,
        fn: Callable[[list], pa.Array],
        parameters: list[Column],
        returns: pa.DataType | Column,
        volatile: bool = False,
    ) -> None:
        key = name.lower()
        params = [duckdb_types.parameter_type(c.sql_type, c.arrow) for c in parameters]
        if isinstance(returns, Column):
            return_type = duckdb_types.return_type(returns.sql_type, returns.arrow)
        else:
            return_type = duckdb_types.sql_type(returns)
        with self._shared.lock:
            if key in self._shared.functions:
                self._shared.root.remove_function(key)
                del self._shared.functions[key]
            try:
                self._shared.root.create_function(
                    key,
                    _with_arity(fn, len(params)),
                    params,
                    return_type,
                    type="arrow",
                    null_handling="special",
                    # Without side effects DuckDB may call a function twice on the same
                    # rows (a tiny table, a constant): harmless locally, not for a remote call.
                    side_effects=volatile,
                )
            except duckdb.Error as e:
                raise duckdb_errors.translate(e) from e
            self._shared.functions[key] = token

    def unregister_function(self, name: str) -> None:
        key = name.lower()
        with self._shared.lock:
            if self._shared.functions.pop(key, None) is not None:
                self._shared.root.remove_function(key)

    def alias_function(
        self, name: str, parameters: list[str], first: str | None, optional: int = 0
    ) -> None:
        # A temporary macro is this connection's own, and found before the functions of the
        # system catalog, where Python functions live: it shadows the function of that name.
        # Leaving parameters out is one overload of the macro per count of arguments.
        before = [] if first is None else [_literal(first)]
        overloads = []
        for given in range(len(parameters) - optional, len(parameters) + 1):
            names = [_quoted(p) for p in parameters[:given]]
            arguments = before + names + ["NULL"] * (len(parameters) - given)
            overloads.append(
                f"({', '.join(names)}) AS "
                f"system.main.{_quoted(name.lower())}({', '.join(arguments)})"
            )
        self._catalog_statement(
            f"CREATE OR REPLACE TEMP MACRO {_quoted(name.lower())}{', '.join(overloads)}"
        )

    def drop_alias(self, name: str) -> None:
        self._catalog_statement(f"DROP MACRO IF EXISTS temp.main.{_quoted(name.lower())}")

    # -- types -----------------------------------------------------------------------------

    def sql_type(self, arrow_type: pa.DataType) -> str:
        return duckdb_types.sql_type(arrow_type)

    def arrow_type(self, sql_type: str) -> pa.DataType:
        """Values of ``sql_type`` as a query delivers them to sqlml (an ENUM as text, a
        HUGEINT as DOUBLE, as in a training snapshot). Read from the type's name, without a
        query: the connection may be busy or in a failed transaction."""
        found = duckdb_types.arrow_type(sql_type)
        return pa.string() if found is None else found  # unknown: text is the safe reading

    def as_parameter(self, expression: str, column: Column) -> str:
        return f"CAST({expression} AS {duckdb_types.parameter_type(column.sql_type, column.arrow)})"

    def type_label(self, sql_type: str) -> str:
        return duckdb_types.type_label(sql_type)
