"""Spark SQL's types and Arrow's, both ways, and what a prediction function declares.

The only place that knows Spark's type names. A column's SQL type is Spark's own spelling
(``INT``, ``STRING``, ``DECIMAL(10,2)``, ``TIMESTAMP_NTZ``), upper-case, as SHOW MODEL shows it;
its Arrow type is what ``DataFrame.toArrow`` delivers. Names of DuckDB's types are read too, so
that a model trained on DuckDB is served on Spark with the types it was trained on.
"""

from __future__ import annotations

import re

import pyarrow as pa

from sqlml import arrowtypes

_INTEGERS = {
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INT",
    pa.int64(): "BIGINT",
    pa.uint8(): "SMALLINT",
    pa.uint16(): "INT",
    pa.uint32(): "BIGINT",
    pa.uint64(): "DECIMAL(20,0)",
}

# Arrow types of Spark's scalar types (and DuckDB's names of the same), as toArrow gives them.
_ARROW_OF = {
    "boolean": pa.bool_(),
    "bool": pa.bool_(),
    "tinyint": pa.int8(),
    "byte": pa.int8(),
    "smallint": pa.int16(),
    "short": pa.int16(),
    "int": pa.int32(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "long": pa.int64(),
    "hugeint": pa.float64(),
    "float": pa.float32(),
    "real": pa.float32(),
    "double": pa.float64(),
    "string": pa.string(),
    "varchar": pa.string(),
    "char": pa.string(),
    "text": pa.string(),
    "enum": pa.string(),
    "uuid": pa.string(),
    "json": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "timestamp_ltz": pa.timestamp("us", tz="UTC"),
    "timestamp_ntz": pa.timestamp("us"),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "binary": pa.binary(),
    "blob": pa.binary(),
}
_DECIMAL = re.compile(r"(?:decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
_SIZED = re.compile(r"(varchar|char)\s*\(\s*\d+\s*\)$")


def sql_type(arrow_type: pa.DataType) -> str:
    """How Spark SQL spells an Arrow type (nested types included)."""
    t = arrow_type
    if isinstance(t, pa.BaseExtensionType):
        return "STRING" if t.extension_name == "arrow.json" else sql_type(t.storage_type)
    if t in _INTEGERS:
        return _INTEGERS[t]
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return "FLOAT"
    if pa.types.is_float64(t):
        return "DOUBLE"
    if pa.types.is_decimal(t):
        return f"DECIMAL({min(t.precision, 38)},{t.scale})"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if arrowtypes.is_text(t):
        return "STRING"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP" if t.tz else "TIMESTAMP_NTZ"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "BINARY"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"ARRAY<{sql_type(t.value_type)}>"
    if pa.types.is_struct(t):
        fields = ", ".join(
            f"{quote(t.field(i).name)}: {sql_type(t.field(i).type)}" for i in range(t.num_fields)
        )
        return f"STRUCT<{fields}>"
    raise ValueError(f"no Spark SQL type for Arrow type {t}")


def arrow_type(sql: str) -> pa.DataType | None:
    """The Arrow type of values of Spark (or DuckDB) type ``sql``; None when unknown."""
    text = sql.strip().lower()
    if text in _ARROW_OF:
        return _ARROW_OF[text]
    if m := _DECIMAL.match(text):
        return pa.decimal128(int(m.group(1)), int(m.group(2)))
    if text in ("decimal", "numeric"):
        return pa.decimal128(10, 0)
    if _SIZED.match(text):
        return pa.string()
    if text.startswith("array<") and text.endswith(">"):
        child = arrow_type(sql.strip()[6:-1])
        return None if child is None else pa.list_(child)
    return None


def quote(name: str) -> str:
    """An identifier as Spark SQL quotes it."""
    return "`" + name.replace("`", "``") + "`"


def of_spark(data_type) -> str:
    """A Spark DataType's name as sqlml records it (``INT``, ``DECIMAL(10,2)``)."""
    return data_type.simpleString().upper()


def parameter_type(arrow_type: pa.DataType) -> str:
    """The type a prediction function declares for a feature column: numbers as DOUBLE, the
    type the model computes in (as on DuckDB, so both engines hand the model the same values),
    anything else as the column's own type."""
    if arrowtypes.is_number(arrow_type):
        return "DOUBLE"
    return sql_type(arrow_type)


def delivered(arrow_type: pa.DataType) -> pa.DataType:
    """The Arrow type a value of a function's declared type arrives in: an extension type (JSON)
    as its storage, a large string as a string."""
    if isinstance(arrow_type, pa.BaseExtensionType):
        return delivered(arrow_type.storage_type)
    if pa.types.is_large_string(arrow_type) or pa.types.is_string_view(arrow_type):
        return pa.string()
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return pa.list_(delivered(arrow_type.value_type))
    if pa.types.is_struct(arrow_type):
        return pa.struct(
            [
                pa.field(arrow_type.field(i).name, delivered(arrow_type.field(i).type))
                for i in range(arrow_type.num_fields)
            ]
        )
    if pa.types.is_timestamp(arrow_type) and arrow_type.tz:
        return pa.timestamp("us", tz="UTC")
    return arrow_type


def type_label(sql: str) -> str:
    return sql.upper().replace(" ", "")
