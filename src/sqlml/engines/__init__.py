"""Database engines behind one interface (:class:`~sqlml.engines.base.Engine`).

``ENGINES`` maps an engine's name to the module and class implementing it; a module is imported
only when its engine is opened, so the trainer process (which never opens a database) and users
of one engine never load another's library. Only modules under ``engines/`` import a database
library.
"""

from __future__ import annotations

import importlib

from sqlml.engines.base import (
    Capabilities,
    Column,
    CsvOptions,
    Engine,
    FileFormat,
    LoadOutcome,
    RejectedRow,
    Shape,
)
from sqlml.errors import InvalidSetting

ENGINES = {
    "duckdb": ("sqlml.engines.duckdb_engine", "DuckDBEngine"),
    "spark": ("sqlml.engines.spark_engine", "SparkEngine"),
}


def open_engine(name: str, database: str | None, **options) -> Engine:
    """A connection of engine ``name`` to ``database``; ``options`` are the engine's own
    (Spark: ``spark``, the SparkSession to run in)."""
    try:
        module, cls = ENGINES[name]
    except KeyError:
        raise InvalidSetting(
            f"Unknown engine {name!r}; sqlml runs on {', '.join(sorted(ENGINES))}."
        ) from None
    try:
        loaded = importlib.import_module(module)
    except ImportError as e:  # an optional engine's library is not installed
        raise InvalidSetting(
            f"The {name} engine needs {e.name}, which is not installed: "
            f"pip install 'sqlml[{name}]'."
        ) from None
    return getattr(loaded, cls)(database, **options)


__all__ = [
    "ENGINES",
    "Capabilities",
    "Column",
    "CsvOptions",
    "Engine",
    "FileFormat",
    "LoadOutcome",
    "RejectedRow",
    "Shape",
    "open_engine",
]
