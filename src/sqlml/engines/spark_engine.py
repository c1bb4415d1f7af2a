"""Spark: the engine for data beyond one machine. The only module of sqlml that drives pyspark.

A connection wraps a ``pyspark.sql.SparkSession``: statements are Spark SQL, run by
``spark.sql`` and read back through Arrow (``DataFrame.toArrow``). CREATE MODEL's FROM query
runs on the cluster and is sampled there; only the sample (at most MAX_CELLS) reaches the
driver, which writes the training snapshot. Prediction functions are Arrow UDFs registered in
the session, so ``spark.sql("SELECT fn(...) FROM big")`` runs them on every executor, next to
the data; each one is a temporary SQL function with typed parameters over the UDF (Spark
checks the number of arguments and casts them, as DuckDB does for its typed functions).

Temporary functions and views belong to the SparkSession, which every sqlml connection made
over it shares: one ``_SharedSession`` per session records what is registered.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from sqlml.engines import spark_errors, spark_types
from sqlml.engines.base import (
    Capabilities,
    Column,
    CsvOptions,
    Engine,
    FileFormat,
    LoadOutcome,
    Shape,
    VectorFunction,
)
from sqlml.errors import FeatureNotSupported, InvalidSetting, TrainingQueryError
from sqlml.results import StatementResult
from sqlml.store import mirror

log = logging.getLogger(__name__)

SNAPSHOT_BATCH_ROWS = 65_536
# The Python UDF behind a model function ``fn`` (the SQL function ``fn`` calls it).
_IMPL = "__sqlml_impl_{}"
# The catalog views sqlml keeps in the session (left out of the user's tables).
_CATALOG_VIEWS = {
    "stv_ml_model_info",
    "svv_ml_model_info",
    "sqlml_leaderboard",
    "svv_ml_model_privileges",
}
_MODEL_STATE_TEXT = {
    "QUEUED": "Model is Queued",
    "TRAINING": "Train Model In Progress",
    "READY": "Model is Ready",
    "FAILED": "Model Training Failed",
    "BROKEN": "Model Package Cannot Be Read",
}
_LEADERBOARD = pa.schema(
    [
        ("schema_name", pa.string()),
        ("model_name", pa.string()),
        ("trial", pa.int32()),
        ("candidate", pa.string()),
        ("learner", pa.string()),
        ("params", pa.string()),
        ("target_transform", pa.string()),
        ("status", pa.string()),
        ("score", pa.float64()),
        ("seconds", pa.float64()),
        ("error", pa.string()),
        ("ensemble_weight", pa.float64()),
    ]
)
_MODEL_INFO = pa.schema(
    [
        ("schema_name", pa.string()),
        ("user_name", pa.string()),
        ("model_name", pa.string()),
        ("life_cycle", pa.string()),
        ("is_refreshable", pa.int32()),
        ("model_state", pa.string()),
    ]
)
_PRIVILEGES = pa.schema(
    [
        ("namespace_name", pa.string()),
        ("model_name", pa.string()),
        ("model_version", pa.int32()),
        ("privilege_type", pa.string()),
        ("identity_id", pa.int32()),
        ("identity_name", pa.string()),
        ("identity_type", pa.string()),
        ("admin_option", pa.bool_()),
    ]
)

# Words that begin a statement returning rows, whatever else it says.
_ROW_COMMANDS = {"SELECT", "EXPLAIN", "INSERT", "UPDATE", "DELETE", "MERGE"}
_MODIFIERS = {"OR", "REPLACE", "TEMP", "TEMPORARY", "GLOBAL", "IF", "NOT", "EXISTS", "EXTERNAL"}
_WORD = re.compile(r"[A-Za-z_]+")
_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
_QUERY_WORDS = {"SELECT", "WITH", "VALUES", "FROM", "TABLE", "(", "SHOW", "DESCRIBE", "DESC"}


def _words(text: str) -> list[str]:
    return [w.upper() for w in _WORD.findall(_COMMENTS.sub("", text, count=1))[:8]]


def _command(text: str, has_rows: bool) -> str:
    """The PostgreSQL command tag's words for a Spark SQL statement."""
    words = _words(text)
    head = words[0] if words else "SELECT"
    if has_rows:
        return head if head in _ROW_COMMANDS else "SELECT"
    if head in ("CREATE", "DROP", "ALTER", "REPLACE") and len(words) > 1:
        rest = [w for w in words[1:] if w not in _MODIFIERS]
        if head == "CREATE" and rest[:1] == ["TABLE"] and "AS" in words:
            return "SELECT"  # CREATE TABLE ... AS: PostgreSQL tags it SELECT n
        return f"{head} {rest[0]}" if rest else head
    return head


class _SharedSession:
    """What every sqlml connection over one SparkSession shares."""

    def __init__(self, spark: SparkSession):
        self.spark = spark
        self.refs = 0
        self.lock = threading.RLock()
        self.functions: dict[str, str] = {}  # function name (lower) -> registration token


_sessions: dict[int, _SharedSession] = {}
_sessions_lock = threading.Lock()


def _acquire(spark: SparkSession) -> _SharedSession:
    with _sessions_lock:
        shared = _sessions.get(id(spark))
        if shared is None or shared.spark is not spark:
            shared = _sessions[id(spark)] = _SharedSession(spark)
        shared.refs += 1
        return shared


def _quiet_query_logger() -> None:
    """PySpark logs every failed statement with its stack trace (as JSON on stderr); sqlml
    reports the error itself."""
    try:
        from pyspark.logger import PySparkLogger

        for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
            PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)
    except ImportError:  # an older PySpark without its logger
        pass


def session_for(master: str | None, app_name: str = "sqlml") -> SparkSession:
    """A SparkSession for ``master`` (``local[2]``, ``spark://host:7077``), or the active one."""
    if master is None:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        master = "local[*]"
    # Progress bars and INFO logs would mix with the command's output.
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.showConsoleProgress", "false")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine(Engine):
    """One sqlml connection over a SparkSession."""

    name = "spark"
    dialect = "spark"
    capabilities = Capabilities(
        vectorized_functions=True,
        temporary_views=True,
        transactions=False,
        functions_shadow_builtins=False,
        call_errors_name_argument_types=False,
        database_files=False,
    )

    def __init__(
        self,
        database: str | None = None,
        *,
        spark: SparkSession | None = None,
        executor_store: str | None = None,
    ):
        """``spark``: the session to run in; else one for the master URL ``database``
        (``local[2]``, ``spark://host:7077``), or the active session, created if none; a
        session created here is stopped at close. ``executor_store``: a location every
        executor can read (any fsspec URL, ``store.mirror``) where the packages are copied for
        them; None: they read the model store's folder at the driver's path."""
        self.executor_store = None if executor_store is None else mirror.check_url(executor_store)
        if spark is None:
            try:
                spark = session_for(database)
            except Exception as e:  # noqa: BLE001 -- Java missing, a bad URL...
                raise InvalidSetting(
                    f"Cannot start Spark with master {database or 'local[*]'}: "
                    f"{str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}"
                ) from e
            self._owns = database is not None
        else:
            self._owns = False
        _quiet_query_logger()
        self.spark = spark
        self.connection = spark
        self._shared = _acquire(spark)
        self.closed = False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with _sessions_lock:
            self._shared.refs -= 1
            last = self._shared.refs <= 0
            if last:
                _sessions.pop(id(self.spark), None)
        if not last:
            return
        try:
            # A closed connection leaves nothing behind in a session that lives on.
            for name in list(self._shared.functions):
                self._drop_function(name)
            for view in _CATALOG_VIEWS:
                self.spark.catalog.dropTempView(view)
        except Exception as e:  # noqa: BLE001 -- the user stopped the session first
            log.info("Spark session not cleaned up: %s", e)
        if self._owns:
            self.spark.stop()

    # -- running SQL -----------------------------------------------------------------------

    def _sql(self, text: str, params=None):
        if params is None:
            return self.spark.sql(text)
        return self.spark.sql(text, args=params)

    def execute(self, text: str, params=None) -> StatementResult:
        """Run one statement. Queries are lazy DataFrames, read as Arrow when their rows are
        asked for; commands (DDL, INSERT, CREATE TABLE AS) run at once, as Spark runs them."""
        try:
            frame = self._sql(text, params)
            columns = frame.schema.fields
        except PySparkException as e:
            raise spark_errors.translate(e, text) from e
        except (TypeError, ValueError) as e:  # parameters Spark cannot bind
            raise InvalidSetting(f"The statement's parameters cannot be used: {e}") from e
        if not columns:
            return StatementResult(_command(text, False))
        result = StatementResult(
            _command(text, True),
            open_reader=lambda: frame.toArrow().to_reader(),
            native=frame,
            translate=lambda e: spark_errors.translate(e, text),
        )
        result.sql_types = [spark_types.of_spark(f.dataType) for f in columns]
        return result

    def describe(self, text: str) -> Shape:
        """Only queries are described (Spark runs a command as soon as it is parsed)."""
        words = _words(text)
        if not words or words[0] not in _QUERY_WORDS:
            return Shape([], None)
        try:
            fields = self.spark.sql(text).schema.fields
        except PySparkException as e:
            raise spark_errors.translate(e, text) from e
        return Shape([], [self._column(f) for f in fields])

    def _column(self, field) -> Column:
        label = spark_types.of_spark(field.dataType)
        return Column(field.name, label, self.arrow_type(label))

    def interrupt(self) -> None:
        self.spark.sparkContext.cancelAllJobs()

    def _not_supported(self, what: str, instead: str):
        return FeatureNotSupported(f"{what} is not supported yet on the Spark engine; {instead}")

    def copy_from_csv(self, target: str, path: Path, options: CsvOptions) -> int:
        raise self._not_supported(
            "COPY FROM STDIN", "read the file with Spark (spark.read.csv) and INSERT its rows."
        )

    def load_files(
        self,
        table: str,
        columns: list[str] | None,
        paths: list[Path],
        fmt: FileFormat,
        max_errors: int = 0,
        explicit_ids: bool = False,
    ) -> LoadOutcome:
        raise self._not_supported(
            "COPY", "INSERT INTO the table SELECT * FROM parquet.`path` (or csv., json.)."
        )

    def unload_query(
        self, query: str, folder: Path, fmt: FileFormat, max_file_bytes: int | None = None
    ) -> tuple[list[Path], int]:
        raise self._not_supported("UNLOAD", "write the query's DataFrame with DataFrame.write.")

    def emulate_postgres_catalog(
        self, user: str, users: list[tuple[str, bool]], settings: dict[str, str], version: str
    ) -> tuple[str, ...]:
        raise self._not_supported("Serving a Spark session (sqlml serve)", "use DuckDB for it.")

    def to_native(self, table: pa.Table):
        """A Spark DataFrame over an Arrow table (what ``Connection.sql`` returns)."""
        return self.spark.createDataFrame(table)

    def query_columns(self, query: str) -> list[Column]:
        try:
            frame = self.spark.sql(query)
            fields = frame.schema.fields
            if not fields:
                raise TrainingQueryError("The FROM clause must be a query that returns rows.")
            schema = frame.limit(0).toArrow().schema
        except PySparkException as e:
            raise spark_errors.query_error(e) from e
        return [
            Column(f.name, spark_types.of_spark(f.dataType), spark_types.delivered(a.type))
            for f, a in zip(fields, schema, strict=True)
        ]

    def query_arrow(self, query: str, what: str) -> pa.Table:
        try:
            return self.spark.sql(query).toArrow()
        except PySparkException as e:
            raise spark_errors.query_error(e, f"{what}: the FROM query") from e

    # -- training data ---------------------------------------------------------------------

    def _sample(self, query: str, max_rows: int | None, seed: int, stratify: str | None):
        """The FROM query's rows sampled in Spark to at most ``max_rows`` (per class of
        ``stratify``, each class keeping its share, rounded up, as on DuckDB), and the rows in
        the query. A Bernoulli pre-sample a little larger than needed keeps the exact cut (an
        ordering by a seeded random number) to the sample's size, not the table's."""
        from pyspark.sql import functions as F
        from pyspark.sql.window import Window

        frame = self.spark.sql(query)
        total = frame.count()
        if max_rows is None or total <= max_rows:
            return frame, total
        fraction = max_rows / total
        if stratify is None:
            wider = min(1.0, fraction * 1.1 + 64 / total)
            sample = frame.sample(False, wider, seed)
            return sample.orderBy(F.rand(seed)).limit(max_rows), total
        key = F.col(spark_types.quote(stratify))
        counts = {row[0]: row[1] for row in frame.groupBy(key).count().collect()}
        wanted = {
            value: math.ceil(n * fraction) for value, n in counts.items() if value is not None
        }
        wider = {v: min(1.0, (want * 1.1 + 64) / counts[v]) for v, want in wanted.items()}
        rank = F.row_number().over(Window.partitionBy(key).orderBy(F.rand(seed)))
        keep = F.lit(False)
        for value, want in wanted.items():
            keep = keep | ((key == F.lit(value)) & (F.col("__sqlml_rank") <= want))
        sample = (
            frame.sampleBy(stratify, wider, seed)
            .withColumn("__sqlml_rank", rank)
            .where(keep)
            .drop("__sqlml_rank")
        )
        return sample, total

    def export_training_data(
        self, query: str, path: Path, max_rows: int | None, seed: int, stratify: str | None = None
    ) -> tuple[int, int]:
        """Sample in Spark, bring the sample to the driver as Arrow and write it as an
        uncompressed Arrow IPC file in batches of ``SNAPSHOT_BATCH_ROWS`` (the trainer
        memory-maps it, as with DuckDB's snapshots)."""
        try:
            frame, total = self._sample(query, max_rows, seed, stratify)
            table = frame.toArrow()
        except PySparkException as e:
            raise spark_errors.query_error(e) from e
        schema = pa.schema([pa.field(f.name, spark_types.delivered(f.type)) for f in table.schema])
        table = table.cast(schema)
        with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, schema) as writer:
            for batch in table.to_batches(SNAPSHOT_BATCH_ROWS):
                writer.write_batch(batch)
        return table.num_rows, total

    def numeric_summary(self, query: str, column: str) -> tuple:
        value = f"CAST({spark_types.quote(column)} AS DOUBLE)"
        row = self._rows(
            f"SELECT min({value}), max({value}), count_if({value} <> round({value})) FROM ({query})"
        )[0]
        return row[0], row[1], row[2] == 0

    def target_summary(self, query: str, column: str) -> tuple[int, int, int]:
        quoted = spark_types.quote(column)
        row = self._rows(
            f"SELECT count(*), count({quoted}), count(DISTINCT {quoted}) FROM ({query})"
        )[0]
        return int(row[0]), int(row[1]), int(row[2])

    def _rows(self, text: str) -> list[tuple]:
        try:
            return [tuple(r) for r in self.spark.sql(text).collect()]
        except PySparkException as e:
            raise spark_errors.query_error(e) from e

    # -- catalog ---------------------------------------------------------------------------

    def current_schema(self) -> str:
        return self.spark.catalog.currentDatabase()

    def schema_exists(self, schema: str) -> bool:
        return self.spark.catalog.databaseExists(schema)

    def function_exists(self, name: str) -> bool:
        return self.spark.catalog.functionExists(name)

    def tables(self) -> list[tuple[str, str, str]]:
        found = []
        current = self.current_schema()
        for t in self.spark.catalog.listTables():
            if t.isTemporary and t.name.lower() in _CATALOG_VIEWS:
                continue
            kind = "VIEW" if t.isTemporary or (t.tableType or "").upper() == "VIEW" else "TABLE"
            # a temporary view is in no schema; it is found from the current one
            found.append((t.namespace[0] if t.namespace else current, t.name, kind))
        return sorted(found)

    def table_definitions(self, name: str | None = None) -> list[str]:
        out = []
        for _, table, _ in self.tables():
            if name is not None and table.lower() != name.lower():
                continue
            try:
                rows = self.spark.sql(f"SHOW CREATE TABLE {spark_types.quote(table)}").collect()
            except PySparkException:  # a temporary view has no CREATE statement to show
                continue
            out.extend(r[0] for r in rows)
        return out

    def column_names(self) -> list[str]:
        names: set[str] = set()
        for _, table, _ in self.tables():
            try:
                names.update(self.spark.table(spark_types.quote(table)).columns)
            except PySparkException:
                continue
        return sorted(names)

    # -- catalog views ---------------------------------------------------------------------

    def _view(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def publish_leaderboards(self, entries: list[tuple[str, str, Path]]) -> None:
        """The temporary view ``sqlml_leaderboard``, read from the models' leaderboard files on
        the driver (they are small)."""
        rows: list[dict] = []
        for schema, name, path in entries:
            for entry in json.loads(Path(path).read_text()):
                row = {f: entry.get(f) for f in _LEADERBOARD.names[2:]}
                if row["params"] is not None and not isinstance(row["params"], str):
                    row["params"] = json.dumps(row["params"])
                rows.append({"schema_name": schema, "model_name": name, **row})
        self._view("sqlml_leaderboard", pa.Table.from_pylist(rows, _LEADERBOARD))

    def publish_model_info(self, models: list[tuple[str, str, str, str]]) -> None:
        rows = [
            {
                "schema_name": schema,
                "user_name": owner,
                "model_name": name,
                "life_cycle": state,
                "is_refreshable": None,
                "model_state": _MODEL_STATE_TEXT[state],
            }
            for schema, name, owner, state in models
        ]
        self._view("stv_ml_model_info", pa.Table.from_pylist(rows, _MODEL_INFO))
        self.spark.sql(
            "CREATE OR REPLACE TEMP VIEW svv_ml_model_info AS SELECT current_database() AS "
            "database_name, * FROM stv_ml_model_info"
        )

    def publish_model_privileges(self, rows: list[tuple]) -> None:
        table = pa.Table.from_pylist(
            [dict(zip(_PRIVILEGES.names, (r[0], r[1], 1, *r[2:]), strict=True)) for r in rows],
            _PRIVILEGES,
        )
        self._view("svv_ml_model_privileges", table)

    # -- prediction functions --------------------------------------------------------------

    def registered_functions(self) -> dict[str, str]:
        with self._shared.lock:
            return dict(self._shared.functions)

    def register_function(
        self,
        name: str,
        token: str,
        fn: VectorFunction,
        parameters: list[Column],
        returns: pa.DataType | Column,
        volatile: bool = False,
    ) -> None:
        """An Arrow UDF ``__sqlml_impl_<name>`` and the temporary SQL function ``name`` with
        the parameters' types calling it (Spark checks the arguments' number and casts them).
        ``volatile`` (a remote model): the UDF is nondeterministic, so Spark neither folds nor
        repeats its calls."""
        from pyspark.sql.functions import arrow_udf

        from sqlml.engines.spark_udf import batch_function

        key = name.lower()
        arrow_return = returns.arrow if isinstance(returns, Column) else returns
        delivered = spark_types.delivered(arrow_return)
        return_sql = spark_types.sql_type(delivered)
        names = [f"p{i}" for i in range(len(parameters))]
        declared = ", ".join(
            f"{n} {spark_types.parameter_type(c.arrow)}"
            for n, c in zip(names, parameters, strict=True)
        )
        impl = _IMPL.format(key)
        udf = arrow_udf(batch_function(fn, delivered), return_sql)
        if volatile:
            udf = udf.asNondeterministic()
        with self._shared.lock:
            try:
                self.spark.udf.register(impl, udf)
                self.spark.sql(
                    f"CREATE OR REPLACE TEMPORARY FUNCTION {spark_types.quote(key)}({declared}) "
                    f"RETURNS {return_sql} RETURN {impl}({', '.join(names)})"
                )
            except PySparkException as e:
                raise spark_errors.translate(e) from e
            self._shared.functions[key] = token

    def _drop_function(self, key: str) -> None:
        for statement in (
            f"DROP TEMPORARY FUNCTION IF EXISTS {spark_types.quote(key)}",
            f"DROP TEMPORARY FUNCTION IF EXISTS {_IMPL.format(key)}",
        ):
            try:
                self.spark.sql(statement)
            except PySparkException as e:  # a stopped session: nothing left to drop
                log.info("%s failed: %s", statement, e)

    def package_location(self, directory: Path, manifest: dict) -> Path | str:
        if self.executor_store is None:
            return directory
        return mirror.publish(directory, manifest, self.executor_store)

    def remote_packages(self) -> bool:
        return self.executor_store is not None

    def unregister_function(self, name: str) -> None:
        key = name.lower()
        with self._shared.lock:
            if self._shared.functions.pop(key, None) is not None:
                self._drop_function(key)

    def alias_function(
        self, name: str, parameters: list[str], first: str | None, optional: int = 0
    ) -> None:
        raise self._not_supported("Serving a Spark session (sqlml serve)", "use DuckDB for it.")

    def drop_alias(self, name: str) -> None:
        raise self._not_supported("Serving a Spark session (sqlml serve)", "use DuckDB for it.")

    # -- types -----------------------------------------------------------------------------

    def quote(self, name: str) -> str:
        return spark_types.quote(name)  # backticks: a double-quoted name is a string

    def sql_type(self, arrow_type: pa.DataType) -> str:
        return spark_types.sql_type(arrow_type)

    def arrow_type(self, sql_type: str) -> pa.DataType:
        found = spark_types.arrow_type(sql_type)
        return pa.string() if found is None else found  # unknown: text is the safe reading

    def as_parameter(self, expression: str, column: Column) -> str:
        return f"CAST({expression} AS {spark_types.parameter_type(column.arrow)})"

    def type_label(self, sql_type: str) -> str:
        return spark_types.type_label(sql_type)
