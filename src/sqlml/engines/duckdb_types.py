"""DuckDB's types and Arrow's, both ways, and what a prediction function declares.

A model's columns are stored as DuckDB spells them (what SHOW MODEL shows) and as Arrow types
(what the rest of sqlml reads); these functions are the only place that knows DuckDB's names.
"""

from __future__ import annotations

import functools

import duckdb

from sqlml import arrowtypes
from sqlml.lazy import pa


@functools.cache
def _integers() -> dict:
    return {
        pa.int8(): "TINYINT",
        pa.int16(): "SMALLINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.uint8(): "UTINYINT",
        pa.uint16(): "USMALLINT",
        pa.uint32(): "UINTEGER",
        pa.uint64(): "UBIGINT",
    }


_TIMESTAMPS = {"s": "TIMESTAMP_S", "ms": "TIMESTAMP_MS", "us": "TIMESTAMP", "ns": "TIMESTAMP_NS"}


def sql_type(arrow_type: pa.DataType) -> str:
    """How DuckDB spells an Arrow type (nested types included)."""
    t = arrow_type
    if t in _integers():
        return _integers()[t]
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return "FLOAT"
    if pa.types.is_float64(t):
        return "DOUBLE"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if arrowtypes.is_text(t):
        return "VARCHAR"
    if isinstance(t, pa.BaseExtensionType) and t.extension_name == "arrow.json":
        return "JSON"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE" if t.tz else _TIMESTAMPS[t.unit]
    if pa.types.is_time(t):
        return "TIME"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "BLOB"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return sql_type(t.value_type) + "[]"
    if pa.types.is_struct(t):
        fields = ", ".join(
            f"{_ident(t.field(i).name)} {sql_type(t.field(i).type)}" for i in range(t.num_fields)
        )
        return f"STRUCT({fields})"
    raise ValueError(f"no DuckDB type for Arrow type {t}")


@functools.cache
def _arrow_types() -> dict:
    """Arrow types of DuckDB's scalar types, as a query result delivers them to sqlml (an ENUM
    as text and a HUGEINT as DOUBLE: see snapshot_expression)."""
    return {
        "boolean": pa.bool_(),
        "tinyint": pa.int8(),
        "smallint": pa.int16(),
        "integer": pa.int32(),
        "bigint": pa.int64(),
        "utinyint": pa.uint8(),
        "usmallint": pa.uint16(),
        "uinteger": pa.uint32(),
        "ubigint": pa.uint64(),
        "hugeint": pa.float64(),
        "uhugeint": pa.float64(),
        "float": pa.float32(),
        "double": pa.float64(),
        "varchar": pa.string(),
        "enum": pa.string(),
        "uuid": pa.string(),
        "date": pa.date32(),
        "time": pa.time64("us"),
        "time with time zone": pa.time64("us"),
        "timestamp": pa.timestamp("us"),
        "timestamp_s": pa.timestamp("s"),
        "timestamp_ms": pa.timestamp("ms"),
        "timestamp_ns": pa.timestamp("ns"),
        "timestamp with time zone": pa.timestamp("us", tz="Etc/UTC"),
        "blob": pa.binary(),
        "bit": pa.binary(),
        "interval": pa.month_day_nano_interval(),
    }


def arrow_type(sql: str) -> pa.DataType | None:
    """The Arrow type of values of DuckDB type ``sql``; None when it is not one this knows."""
    parsed = _parsed(sql)
    return None if parsed is None else _arrow_of(parsed)


def _arrow_of(parsed: duckdb.DuckDBPyType) -> pa.DataType | None:
    if parsed.id in _arrow_types():
        return _arrow_types()[parsed.id]
    if parsed.id == "decimal":
        children = dict(parsed.children)
        return pa.decimal128(children["precision"], children["scale"])
    if parsed.id == "list":
        child = _arrow_of(dict(parsed.children)["child"])
        return None if child is None else pa.list_(child)
    if parsed.id == "struct":
        fields = [(name, _arrow_of(t)) for name, t in parsed.children]
        return None if any(t is None for _, t in fields) else pa.struct(fields)
    return None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def snapshot_expression(quoted: str, sql: duckdb.DuckDBPyType) -> str:
    """The expression a column is exported and handed to functions as: the column itself,
    except an ENUM as its text (DuckDB's Arrow form is a dictionary) and a HUGEINT / UHUGEINT as
    DOUBLE (a 38-digit decimal otherwise), as the prediction function receives them. A list of
    ENUMs stays a list (and is refused as a feature, like every list)."""
    if sql.id == "enum":
        return f"CAST({quoted} AS VARCHAR)"
    if sql.id in ("hugeint", "uhugeint"):
        return f"CAST({quoted} AS DOUBLE)"
    return quoted


def _parsed(text: str) -> duckdb.DuckDBPyType | None:
    try:
        return duckdb.sqltype(text)
    except (duckdb.Error, RuntimeError, TypeError, ValueError):
        return None


def parameter_type(sql: str, arrow_type: pa.DataType) -> str:
    """The type a prediction function declares for a feature column.

    Numbers are declared DOUBLE, the type the model computes in, so that any numeric argument
    (an INTEGER for a BIGINT column, a DECIMAL, a literal) casts implicitly; an ENUM is declared
    VARCHAR (an ENUM parameter would accept only that exact enum). Other columns keep their
    DuckDB type when it is one (UUID and JSON arguments bind only to their own type), and take
    the Arrow type's DuckDB spelling otherwise (a model trained on another engine).
    """
    if arrowtypes.is_number(arrow_type):
        return "DOUBLE"
    return return_type(sql, arrow_type)


def return_type(sql: str, arrow_type: pa.DataType) -> str:
    """The type a function returning a column's values declares (an ENUM as VARCHAR)."""
    parsed = _parsed(sql)
    if parsed is None:
        return sql_type(arrow_type)
    if parsed.id == "enum":
        return "VARCHAR"
    return sql


def type_label(sql: str) -> str:
    """A type name without spaces, so a space-separated list of types stays readable."""
    upper = sql.upper()
    if upper.startswith("ENUM"):
        return "ENUM"
    return (
        upper.replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")
        .replace("TIME WITH TIME ZONE", "TIMETZ")
        .replace(" ", "")
    )
