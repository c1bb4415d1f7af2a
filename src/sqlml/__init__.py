"""sqlml: machine learning in plain SQL, in the style of Amazon Redshift ML, on DuckDB.

>>> import sqlml
>>> conn = sqlml.connect()          # in-memory DuckDB, models in a temporary folder
>>> conn.sql("SELECT 42 AS answer").fetchall()
[(42,)]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlml.errors import *  # noqa: F403 -- the error classes are part of the public API
from sqlml.errors import __all__ as _error_names

if TYPE_CHECKING:
    from sqlml.session import Connection, Result


def connect(
    database: str | Path | None = None,
    *,
    model_store: str | Path | None = None,
    synchronous: bool = False,
    max_training_jobs: int | None = None,
    engine: str = "duckdb",
    dialect: str | None = None,
    default_settings: dict[str, object] | None = None,
    spark=None,
    lazy_functions: bool = False,
    executor_store: str | None = None,
) -> Connection:
    """Open (or create) a DuckDB database with ML statements.

    Args:
        database: path of a DuckDB database file; None or ":memory:" for an in-memory database.
        model_store: folder for model packages. Defaults to ``<database>.models`` beside the
            file, or a temporary folder (deleted at close) for an in-memory database.
        synchronous: when True, CREATE MODEL waits until the model is READY (and raises the
            training error if it fails, leaving nothing behind), as in scripts and tests. By
            default it returns once training has started; ``wait_model`` waits.
        max_training_jobs: how many models train at once (each trainer uses every core);
            further CREATE MODEL statements wait as QUEUED. Default: one per two cores.
        engine: the database engine (``sqlml.engines.ENGINES``): ``duckdb``, or ``spark`` with
            ``database`` a master URL (``local[2]``, ``spark://host:7077``).
        dialect: the SQL the statements are written in: ``"duckdb"`` (the default, the
            engine's own) or ``"redshift"`` (translated to the engine's; README, "Coming from
            Redshift").
        default_settings: SETTINGS for every CREATE MODEL that does not give them, e.g.
            ``{"MAX_RUNTIME": 600}`` instead of Redshift's 5400 s.
        spark: a ``pyspark.sql.SparkSession`` to run in instead of DuckDB (the Spark engine:
            statements are Spark SQL, prediction functions are registered in that session);
            ``database`` is then not given, and ``model_store`` should be a folder every
            executor can read (default: a temporary folder, fine for ``local[n]``) unless
            ``executor_store`` is given.
        executor_store: Spark on a cluster whose executors cannot read ``model_store``: a
            location they can (any fsspec URL: ``s3://bucket/prefix``, ``hdfs://...``) where
            each READY package is copied for them (README, "Spark").
        lazy_functions: register the model functions only when a statement may call them (at
            the first ML statement, BEGIN, or plain statement that fails to bind without them)
            instead of at once; the shell does, to start fast. ``conn.duckdb`` registers them.
    """
    from sqlml.session import Connection

    return Connection(
        None if database is None else str(database),
        model_store=model_store,
        synchronous=synchronous,
        max_training_jobs=max_training_jobs,
        engine=engine,
        dialect=dialect,
        default_settings=default_settings,
        spark=spark,
        lazy_functions=lazy_functions,
        executor_store=executor_store,
    )


def __getattr__(name: str):
    # The session (and DuckDB with it) loads on first use, so that the trainer process, which
    # imports sqlml's learners, never loads the database engine.
    if name in ("Connection", "Result"):
        from sqlml import session

        return getattr(session, name)
    if name == "__version__":
        # Read from the installed metadata when asked for: importlib.metadata costs 20 ms of
        # every start of the command.
        from importlib import metadata

        try:
            return metadata.version("sqlml")
        except metadata.PackageNotFoundError:  # running from a source tree
            return "0.0.0"
    raise AttributeError(f"module 'sqlml' has no attribute {name!r}")


__all__ = ["Connection", "Result", "__version__", "connect", *_error_names]  # noqa: F405
