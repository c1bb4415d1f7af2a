"""Redshift SQL as DuckDB's: sqlglot's Redshift reader and DuckDB writer, and our own rules."""

from __future__ import annotations

import sqlglot
from sqlglot import exp


def to_duckdb(sql: str) -> str:
    """One non-ML statement in Redshift's SQL, as DuckDB's. A statement sqlglot cannot read is
    handed on as written, so that the engine's own message names what is wrong."""
    try:
        tree = sqlglot.parse_one(sql, read="redshift")
    except sqlglot.errors.ParseError:
        return sql
    if isinstance(tree, exp.Command):
        return sql
    return tree.sql(dialect="duckdb")
