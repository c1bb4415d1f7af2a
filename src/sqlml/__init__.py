"""sqlml: machine learning in plain SQL, in the style of Amazon Redshift ML, on DuckDB.

>>> import sqlml
>>> conn = sqlml.connect()          # in-memory DuckDB, models in a temporary folder
>>> conn.sql("SELECT 42 AS answer").fetchall()
[(42,)]
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from sqlml.errors import *  # noqa: F403 -- the error classes are part of the public API
from sqlml.errors import __all__ as _error_names
from sqlml.session import Connection, Result

try:
    __version__ = metadata.version("sqlml")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"


def connect(
    database: str | Path | None = None, *, model_store: str | Path | None = None
) -> Connection:
    """Open (or create) a DuckDB database with ML statements.

    Args:
        database: path of a DuckDB database file; None or ":memory:" for an in-memory database.
        model_store: folder for model packages. Defaults to ``<database>.models`` beside the
            file, or a temporary folder (deleted at close) for an in-memory database.
    """
    return Connection(None if database is None else str(database), model_store=model_store)


__all__ = ["Connection", "Result", "__version__", "connect", *_error_names]
