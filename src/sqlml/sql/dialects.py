"""The SQL dialects a session may speak, and their translation to the engine's own SQL.

A session's dialect is what its user writes (``duckdb``, the engine's, or ``redshift``); the
front door translates every non-ML statement, and the queries inside ML statements, from it to
the engine's dialect before the engine sees them. Translating from the engine's own dialect is
the identity. The Redshift rules live in ``sql/redshift.py``; sqlglot (imported when first
needed, to keep start-up short) reads and writes the SQL.
"""

from __future__ import annotations

import functools

from sqlml.errors import FeatureNotSupported, InvalidSetting, StatementTooComplex

DIALECTS = ("duckdb", "redshift", "spark")


def check(dialect: str) -> str:
    """The dialect's canonical name, or an error naming the ones there are."""
    name = str(dialect).strip().lower()
    if name not in DIALECTS:
        raise InvalidSetting(
            f"Unknown SQL dialect {dialect!r}: choose one of {', '.join(DIALECTS)}."
        )
    return name


def translate(sql: str, source: str, target: str) -> str:
    """``sql`` written in ``source``, as ``target``'s SQL. The identity when they are one."""
    return translation(sql, source, target)[0]


@functools.lru_cache(maxsize=1024)  # a server sees the same statements again and again
def translation(sql: str, source: str, target: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` as ``target``'s SQL, and notices of what was accepted and ignored."""
    if source == target:
        return sql, ()
    if source == "redshift" and target == "duckdb":
        from sqlml.sql import redshift

        try:
            out = redshift.to_duckdb(sql)
        except RecursionError:  # sqlglot's parser and generator recurse with the nesting
            raise StatementTooComplex(
                "The statement is nested too deeply to translate from Redshift's SQL (stack "
                "depth limit exceeded): simplify it, or run it in a session of the engine's own "
                "dialect."
            ) from None
        return out.sql, tuple(out.notices)
    raise FeatureNotSupported(f"Translating SQL from {source} to {target} is not supported yet.")


def setup(source: str, target: str) -> tuple[str, ...]:
    """Statements in ``target``'s SQL that prepare a connection for sessions speaking
    ``source`` (a default schema, macros for functions the engine lacks)."""
    if source == "redshift" and target == "duckdb":
        from sqlml.sql import redshift

        return redshift.SETUP
    return ()
