"""Column types as sqlml reasons about them: Arrow types, whatever the engine.

Engines map their own types to Arrow ones (``engines``); everything else (a kind's checks on
the training columns, the manifest, the runtime) speaks Arrow only. A manifest stores each
column's Arrow type as its text (``str(pa.int64())`` is ``"int64"``) in ``arrow_types``, and
:func:`decode` reads it back for the scalar types a model can have as a column.
"""

from __future__ import annotations

import re

from sqlml.lazy import pa

_TIMESTAMP = re.compile(r"timestamp\[(s|ms|us|ns)(?:, tz=(.+))?\]$")
_TIME = re.compile(r"time(32|64)\[(s|ms|us|ns)\]$")
_DECIMAL = re.compile(r"decimal(128|256)\((\d+), (-?\d+)\)$")


def encode(arrow_type: pa.DataType) -> str:
    return str(arrow_type)


def decode(text: str) -> pa.DataType:
    """The Arrow type whose text is ``text`` (scalar types only); ValueError otherwise."""
    if m := _TIMESTAMP.match(text):
        return pa.timestamp(m.group(1), tz=m.group(2))
    if m := _TIME.match(text):
        return (pa.time32 if m.group(1) == "32" else pa.time64)(m.group(2))
    if m := _DECIMAL.match(text):
        make = pa.decimal128 if m.group(1) == "128" else pa.decimal256
        return make(int(m.group(2)), int(m.group(3)))
    if text in ("date32[day]", "date64[ms]"):
        return pa.date32() if text.startswith("date32") else pa.date64()
    try:
        return pa.type_for_alias(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an Arrow type sqlml stores") from None


def is_number(arrow_type: pa.DataType) -> bool:
    return (
        pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or pa.types.is_decimal(arrow_type)
    )


def is_number_or_boolean(arrow_type: pa.DataType) -> bool:
    """What AUTO OFF trains on as it is, and the numeric transformers take."""
    return is_number(arrow_type) or pa.types.is_boolean(arrow_type)


def is_text(arrow_type: pa.DataType) -> bool:
    """Any of Arrow's string layouts (plain, large, view)."""
    return (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
    )


def is_date_or_timestamp(arrow_type: pa.DataType) -> bool:
    return pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type)


def family(arrow_type: pa.DataType | None) -> str | None:
    """The kind of value a type holds ("number", "boolean", "text", "date/time"), for telling a
    wrong argument from one the engine casts; None for any other type (or none)."""
    if arrow_type is None:
        return None
    if is_number(arrow_type):
        return "number"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if is_text(arrow_type):
        return "text"
    if is_date_or_timestamp(arrow_type) or pa.types.is_time(arrow_type):
        return "date/time"
    return None
