"""The engine interface: what sqlml asks of the database that stores the tables and runs SQL.

An engine runs statements to Arrow, reads a query's schema, exports training snapshots with
sampling, registers vectorized functions, publishes the catalog views, and translates its own
types and errors: outside ``engines/`` nothing knows an engine's type names or error texts
(ibis's backends, with capability flags for what differs).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlml.errors import FeatureNotSupported
from sqlml.lazy import pa
from sqlml.results import StatementResult


@dataclass(frozen=True)
class Column:
    """A column of a query's result: its name, its type as the engine spells it (what SHOW
    MODEL shows a user), and the Arrow type its values arrive in (what sqlml reasons with)."""

    name: str
    sql_type: str
    arrow: pa.DataType


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, so callers ask instead of assuming."""

    # Python functions callable from SQL, handed Arrow batches (prediction functions).
    vectorized_functions: bool = True
    # Session-scoped views (the catalog views sqlml_leaderboard, stv_ml_model_info...).
    temporary_views: bool = True
    # BEGIN / COMMIT / ROLLBACK.
    transactions: bool = True
    # A function may be registered under a built-in function's name without error, so
    # sqlml must check names itself (DuckDB).
    functions_shadow_builtins: bool = False
    # An error for a call of a function with the wrong arguments lists the argument types
    # passed (DuckDB); Spark says only that their number is wrong.
    call_errors_name_argument_types: bool = True
    # The database is a file (DuckDB), beside which its model store lives by default; a
    # Spark session's tables are not.
    database_files: bool = True
    # Views over FORECAST models' stored forecasts (publish_forecasts): SELECT FORECAST(m).
    forecast_views: bool = False


@dataclass(frozen=True)
class CsvOptions:
    """How a CSV file for :meth:`Engine.copy_from_csv` is written. A value equal to ``null``
    that is not quoted is NULL; a quoted one is that text."""

    header: bool = False
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    null: str = ""


@dataclass(frozen=True)
class FileFormat:
    """How the files of a COPY are read, or those of an UNLOAD written. ``kind``: ``text``
    (delimited, unquoted: Redshift's default, pipe-delimited), ``csv``, ``parquet`` or
    ``json``. ``quote`` None: no quoting. ``null``: the text that is NULL. ``date_format`` /
    ``time_format``: strptime formats, ``epochsecs`` / ``epochmillisecs``, or None (auto).
    ``json_ignorecase``: JSON keys match columns whatever their case. ``fill_record``: missing
    trailing fields are NULL. ``header``: lines skipped (COPY) or a header written (UNLOAD)."""

    kind: str = "text"
    delimiter: str = "|"
    quote: str | None = None
    escape: str | None = None
    null: str = "\\N"
    header: int = 0
    compression: str | None = None  # gzip or zstd
    empty_as_null: bool = False
    blanks_as_null: bool = False
    trim_blanks: bool = False
    fill_record: bool = False
    date_format: str | None = None
    time_format: str | None = None
    json_ignorecase: bool = False
    force_quote: bool = False  # UNLOAD ... ADDQUOTES


@dataclass(frozen=True)
class RejectedRow:
    """A row of a COPY's files that could not be loaded: its file (index in the list given),
    its line (text, CSV) or record (Parquet, JSON) number, and why. ``column`` None: the row's
    shape is wrong (22P04); else the column whose ``value`` could not be converted (22P02)."""

    file: int
    line: int
    reason: str
    column: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class LoadOutcome:
    """What a COPY did: ``rows`` loaded, and the rows rejected (``rejected``: the first few of
    ``rejected_count``). More rejected rows than allowed: nothing was loaded."""

    rows: int
    rejected: list[RejectedRow]
    rejected_count: int


@dataclass(frozen=True)
class Shape:
    """What a statement takes and gives, known without running it: its parameters' types
    (``$1``, ``$2``... in order; an unknown one has the Arrow type string) and its result
    columns (None when it returns no rows)."""

    parameters: list[Column]
    columns: list[Column] | None


# What a registered function computes: list of argument Arrow arrays -> one Arrow array.
VectorFunction = Callable[[list], "pa.Array"]


class Engine(ABC):
    """One user's connection to a database."""

    name: str
    dialect: str  # sqlglot's name for the engine's SQL dialect
    capabilities: Capabilities

    # -- running SQL -----------------------------------------------------------------------

    @abstractmethod
    def execute(self, text: str, params=None) -> StatementResult:
        """Run one statement that is not an ML statement. Every error is a SqlmlError."""

    @abstractmethod
    def describe(self, text: str) -> Shape:
        """The parameters and result columns of one statement, without running it (a client
        that prepares a statement asks for them before it binds values)."""

    @abstractmethod
    def interrupt(self) -> None:
        """Stop the statement running on this connection (called from another thread); it
        fails with SQLSTATE 57014."""

    @abstractmethod
    def copy_from_csv(self, target: str, path: Path, options: CsvOptions) -> int:
        """Append the rows of a CSV file to ``target`` (a table, with an optional column list,
        as the user wrote it); return the rows added."""

    @abstractmethod
    def load_files(
        self,
        table: str,
        columns: list[str] | None,
        paths: list[Path],
        fmt: FileFormat,
        max_errors: int = 0,
        explicit_ids: bool = False,
    ) -> LoadOutcome:
        """Append the rows of local files to ``table`` (a table name as SQL, its ``columns`` or
        all of them, by position; JSON matches keys to names), converting each value to its
        column's type; at most ``max_errors`` rows may be rejected (then skipped), else none is
        loaded. The files are loaded together or not at all. Without ``columns``, identity
        columns are left to their default unless ``explicit_ids`` (Redshift's EXPLICIT_IDS)."""

    @abstractmethod
    def unload_query(
        self, query: str, folder: Path, fmt: FileFormat, max_file_bytes: int | None = None
    ) -> tuple[list[Path], int]:
        """Write the rows of ``query`` (the engine's SQL) to new files in ``folder``, split at
        about ``max_file_bytes``; return the files in order and the rows written."""

    @abstractmethod
    def emulate_postgres_catalog(
        self, user: str, users: list[tuple[str, bool]], settings: dict[str, str], version: str
    ) -> tuple[str, ...]:
        """Give this connection what PostgreSQL clients read from ``pg_catalog`` and the engine
        lacks (``version()``, ``current_user``, ``pg_roles``...), as temporary objects named as
        PostgreSQL names them; return the names of the relations among them. ``users``: (name,
        superuser) of every user; ``settings``: what ``current_setting`` answers."""

    @abstractmethod
    def query_columns(self, query: str) -> list[Column]:
        """The columns of a query's result, without running it to the end
        (TrainingQueryError if it fails)."""

    @abstractmethod
    def query_arrow(self, query: str, what: str) -> pa.Table:
        """Every row of ``query``; ``what`` names whose query it is in errors."""

    @abstractmethod
    def export_training_data(
        self, query: str, path: Path, max_rows: int | None, seed: int, stratify: str | None = None
    ) -> tuple[int, int]:
        """Write a seeded sample of at most ``max_rows`` rows (per class of ``stratify`` when
        given) to an Arrow IPC file; return (rows written, rows in the query)."""

    @abstractmethod
    def numeric_summary(self, query: str, column: str) -> tuple:
        """(smallest, largest, every value whole) of a numeric or boolean column."""

    @abstractmethod
    def target_summary(self, query: str, column: str) -> tuple[int, int, int]:
        """(rows, rows where ``column`` is not NULL, its distinct non-NULL values) of ``query``:
        what CREATE MODEL checks before it queues a job."""

    def to_native(self, table: pa.Table):
        """The engine's own form of a result table, for embedded callers (default: Arrow)."""
        return table

    # -- catalog ---------------------------------------------------------------------------

    @abstractmethod
    def current_schema(self) -> str: ...

    @abstractmethod
    def schema_exists(self, schema: str) -> bool: ...

    @abstractmethod
    def tables(self) -> list[tuple[str, str, str]]:
        """The user's tables and views, as (schema, name, kind) with kind TABLE or VIEW; the
        catalog views sqlml keeps for itself are left out."""

    @abstractmethod
    def table_definitions(self, name: str | None = None) -> list[str]:
        """The CREATE statements of the user's tables and views (of ``name`` alone if given,
        matched case-insensitively), as the engine would recreate them."""

    @abstractmethod
    def column_names(self) -> list[str]:
        """Every column name of the user's tables and views (for completion in the shell)."""

    @abstractmethod
    def function_exists(self, name: str) -> bool:
        """True when any function, built-in or not, has this name."""

    @abstractmethod
    def publish_model_info(self, models: list[tuple[str, str, str, str]]) -> None:
        """The catalog views of the models: (schema, name, owner, state) rows."""

    @abstractmethod
    def publish_leaderboards(self, entries: list[tuple[str, str, Path]]) -> None:
        """The ``sqlml_leaderboard`` view over (schema, model, leaderboard file) entries."""

    # -- stored procedures -----------------------------------------------------------------

    def procedures(self) -> list[tuple[str, str, str]]:
        """Every stored procedure of the database, as (schema, name, definition) where the
        definition is the JSON ``statements/procedures.py`` wrote."""
        raise FeatureNotSupported(
            f"Stored procedures are not supported yet on {type(self).__name__}."
        )

    def save_procedure(self, schema: str, name: str, definition: str) -> None:
        """Keep (or replace) a procedure with the database, where every connection and
        process opening it later finds it."""
        raise FeatureNotSupported(
            f"Stored procedures are not supported yet on {type(self).__name__}."
        )

    def drop_procedure(self, schema: str, name: str) -> None:
        raise FeatureNotSupported(
            f"Stored procedures are not supported yet on {type(self).__name__}."
        )

    def register_table(self, name: str, table: pa.Table | None) -> None:
        """Make an Arrow table readable as ``name`` in this connection until it is replaced or
        forgotten (None): the result of ``FORECAST(model, (query))``."""
        raise FeatureNotSupported(f"FORECAST models are not supported on {type(self).__name__}.")

    def publish_forecasts(self, views: dict[str, Path]) -> None:
        """Views over READY forecasts' Parquet files (view name -> file), dropping the others
        of their prefix (``sqlml_forecast_``): what ``SELECT FORECAST(model)`` reads. An
        engine without ``capabilities.forecast_views`` publishes none (and that statement says
        it is not supported there)."""
        return None

    @abstractmethod
    def publish_model_privileges(self, rows: list[tuple]) -> None:
        """Redshift's ``svv_ml_model_privileges`` view (reference §8.3) from (schema, model,
        privilege, identity id, identity name, identity type, admin option) rows."""

    # -- functions -------------------------------------------------------------------------

    @abstractmethod
    def registered_functions(self) -> dict[str, str]:
        """Lower-case name -> the token it was registered with."""

    @abstractmethod
    def register_function(
        self,
        name: str,
        token: str,
        fn: VectorFunction,
        parameters: list[Column],
        returns: pa.DataType | Column,
        volatile: bool = False,
    ) -> None:
        """Register (or replace) a vectorized function. Each parameter is a column of the
        training data (the engine chooses the parameter type a call accepts); the return type
        is an Arrow type, or the column whose type the function returns. ``volatile``: calls
        cost or may answer differently (a remote model), so the engine must call it once per
        row, never fold or repeat it."""

    @abstractmethod
    def unregister_function(self, name: str) -> None: ...

    def package_location(self, directory: Path, manifest: dict) -> Path | str:
        """Where the engine's function workers load a READY model's package from: its folder
        in the model store (this process, or executors that see the same path), or the
        location of a copy they can read (``store.mirror``: Spark with an executor store)."""
        return directory

    def remote_packages(self) -> bool:
        """True when the function workers read packages from copies (``package_location``),
        not from the model store's folder."""
        return False

    @abstractmethod
    def alias_function(
        self, name: str, parameters: list[str], first: str | None, optional: int = 0
    ) -> None:
        """For this connection only: ``name(parameters...)`` calls the registered function
        ``name`` with the text ``first`` before the arguments (a served database's model
        functions take the caller's key first: ``functions.py``); None: nothing before them.
        The last ``optional`` parameters may be left out: the call passes NULL for them."""

    @abstractmethod
    def drop_alias(self, name: str) -> None: ...

    def quote(self, name: str) -> str:
        """A column name as the engine's SQL quotes it (SQL's double quotes by default)."""
        return '"' + name.replace('"', '""') + '"'

    # -- types -----------------------------------------------------------------------------

    @abstractmethod
    def sql_type(self, arrow_type: pa.DataType) -> str:
        """How the engine spells an Arrow type."""

    @abstractmethod
    def arrow_type(self, sql_type: str) -> pa.DataType:
        """The Arrow type of values of an engine type (as a query result delivers them)."""

    @abstractmethod
    def as_parameter(self, expression: str, column: Column) -> str:
        """``expression`` cast as a function's parameter for ``column`` casts its argument."""

    @abstractmethod
    def type_label(self, sql_type: str) -> str:
        """A type's name without spaces or arguments' clutter, for one-line listings."""

    # -- lifetime --------------------------------------------------------------------------

    @abstractmethod
    def close(self) -> None: ...
