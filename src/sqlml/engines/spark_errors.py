"""Spark's errors as SqlmlErrors with PostgreSQL's SQLSTATEs.

Spark 4 gives every error a condition (``TABLE_OR_VIEW_NOT_FOUND``), a SQLSTATE (mostly
PostgreSQL's own: 42P01, 42703, 42883...), message parameters and the query fragment it points
at. The translation keeps the message's first paragraph, takes Spark's SQLSTATE where it is
PostgreSQL's and maps the rest, and unwraps sqlml's own errors raised inside a prediction
function in a Python worker (they come back as a PythonException carrying the traceback).
"""

from __future__ import annotations

import re

from pyspark.errors import PySparkException

from sqlml import errors

# sqlml's error raised in a Python worker: the traceback's last line names its class.
_RAISED = re.compile(r"sqlml\.errors\.(\w+): (.*?)(?:\n\s*SQLSTATE: \w+\)?)?\s*\Z", re.DOTALL)
_SQLSTATE_SUFFIX = re.compile(r"\s*SQLSTATE: \w+.*\Z", re.DOTALL)
_CONDITION = re.compile(r"^\[[A-Z_.]+\] ")

# Spark's SQLSTATEs that PostgreSQL spells differently for the same mistake.
_SQLSTATES = {
    "22018": "22P02",  # a value that cannot be cast (invalid text representation)
    "42605": "42883",  # a function called with the wrong number of arguments
    "42P06": "42P06",
    "42000": "42000",
}
# By condition, when Spark's SQLSTATE is too broad.
_CONDITIONS = {
    "PARSE_SYNTAX_ERROR": "42601",
    "UNRESOLVED_ROUTINE": "42883",
    "TABLE_OR_VIEW_NOT_FOUND": "42P01",
    "UNRESOLVED_COLUMN": "42703",
    "TABLE_OR_VIEW_ALREADY_EXISTS": "42P07",
    "SCHEMA_NOT_FOUND": "3F000",
    "DIVIDE_BY_ZERO": "22012",
}


def text(error: BaseException) -> str:
    """Spark's message: its first paragraph, without the condition and the SQLSTATE."""
    if isinstance(error, PySparkException):
        message = error.getMessage() or str(error)
    else:
        message = str(error)
    message = _CONDITION.sub("", message.strip())
    message = _SQLSTATE_SUFFIX.sub("", message)
    return message.split("\n== SQL")[0].strip()


def _own_error(error: BaseException) -> errors.SqlmlError | None:
    """sqlml's error raised inside a function run by a Python worker, as itself."""
    found = _RAISED.search(str(error))
    if found is None:
        return None
    cls = getattr(errors, found.group(1), None)
    if isinstance(cls, type) and issubclass(cls, errors.SqlmlError):
        return cls(found.group(2).strip())
    return None


def _position(error: PySparkException) -> int | None:
    try:
        contexts = error.getQueryContext()
        return contexts[0].startIndex() + 1 if contexts else None
    except Exception:  # noqa: BLE001 -- a context Spark could not give is no position
        return None


def _routine(error: PySparkException) -> str | None:
    parameters = error.getMessageParameters() or {}
    name = parameters.get("routineName") or parameters.get("functionName")
    if not name:
        return None
    return name.split(".")[-1].strip("`").lower()


def translate(error: BaseException, statement: str | None = None) -> errors.SqlmlError:
    """The SqlmlError for an error Spark raised while running ``statement``."""
    if isinstance(error, errors.SqlmlError):
        return error
    own = _own_error(error)
    if own is not None:
        return own
    if not isinstance(error, PySparkException):
        return errors.DatabaseError(str(error).strip().split("\n")[0], sqlstate="XX000")
    condition = error.getCondition() or ""
    head = condition.split(".")[0]
    state = _CONDITIONS.get(head) or error.getSqlState() or "XX000"
    state = _SQLSTATES.get(state, state)
    name = _routine(error) if state == "42883" else None
    return errors.DatabaseError(
        text(error),
        sqlstate=state,
        position=_position(error) if statement is not None else None,
        name=name,
    )


def query_error(error: BaseException, what: str = "The FROM query") -> errors.SqlmlError:
    """An error of a query sqlml runs for a statement (CREATE MODEL's FROM query, say)."""
    own = _own_error(error)
    if own is not None:
        return own
    return errors.TrainingQueryError(f"{what} failed: {text(error)}")
