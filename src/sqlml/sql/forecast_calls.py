"""``FORECAST(model)`` in a statement that otherwise goes to the database.

Redshift reads a FORECAST model's forecast with ``SELECT FORECAST(model)``, a table where a
function call stands; DuckDB has no Python table functions. So the front door finds the calls
here (parsing only: nothing runs) and replaces each with a read of a table the session names:

- ``SELECT FORECAST(m)`` on its own (as a query, in ``CREATE TABLE t AS``, ``INSERT INTO t``,
  a subquery, followed by WHERE, ORDER BY, LIMIT...) becomes ``SELECT * FROM <table>``;
- ``FORECAST(m)`` as a FROM or JOIN item becomes ``<table>``;
- ``FORECAST(m, (query))`` (sqlml's fresh-history form) and ``DETECT_ANOMALIES(m, (query))``
  carry a query too, which the session runs (see ``Call.query``).

A call anywhere else (beside other columns, inside an expression) is refused: the forecast is
rows, not a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlml.errors import SqlSyntaxError
from sqlml.sql import ast
from sqlml.sql.lexer import Chunk, position

NAMES = ("FORECAST", "DETECT_ANOMALIES")
_MENTIONED = re.compile(r"(?i)\b(?:FORECAST|DETECT_ANOMALIES)\b")
_CLAUSE_WORDS = {"SELECT", "FROM", "JOIN", "WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "ON"}


@dataclass(frozen=True)
class Call:
    function: str  # FORECAST or DETECT_ANOMALIES
    model_text: str  # the model's name as written
    query: str | None  # the query of FORECAST(m, (query)), as written
    start: int  # the span replaced, as offsets in the statement's text
    end: int
    alone: bool  # SELECT FORECAST(m): SELECT is replaced too
    line: int
    col: int


def mentions(chunk: Chunk) -> bool:
    """Cheap test: does the statement contain FORECAST( or DETECT_ANOMALIES( at all? The
    text is looked at first: a statement's tokens cost sqlglot's import (lexer.py)."""
    if _MENTIONED.search(chunk.text) is None:
        return False
    tokens = chunk.tokens
    return any(
        t.text.upper() in NAMES and i + 1 < len(tokens) and tokens[i + 1].text == "("
        for i, t in enumerate(tokens)
    )


def find_calls(script: str, chunk: Chunk) -> list[Call]:
    tokens = chunk.tokens
    out = []
    for i, tok in enumerate(tokens):
        if tok.text.upper() not in NAMES or i + 1 >= len(tokens) or tokens[i + 1].text != "(":
            continue
        if i > 0 and tokens[i - 1].text == ".":
            continue  # schema.forecast(...): someone's own function
        close, comma = _close(tokens, i + 1)
        if close is None:
            continue  # unbalanced: the database reports it
        line, col = position(script, tok.start)
        first = tokens[i + 2] if i + 2 < close else None
        if first is None:
            raise SqlSyntaxError(
                f"{tok.text.upper()}() needs a model name: {tok.text.upper()}(model)",
                line=line,
                col=col,
            )
        last_name = tokens[(comma if comma is not None else close) - 1]
        model_text = script[first.start : last_name.end + 1]
        query = None
        if comma is not None:
            query = _query(script, tokens, comma + 1, close, tok.text.upper(), line, col)
        elif tok.text.upper() == "DETECT_ANOMALIES":
            raise SqlSyntaxError(
                "DETECT_ANOMALIES needs the rows to check: DETECT_ANOMALIES(model, (SELECT id, "
                "time, value FROM ...))",
                line=line,
                col=col,
            )
        place = _place(tokens, i)
        after = _word(tokens[close + 1]) if close + 1 < len(tokens) else None
        base = chunk.start
        if place == "select" and after in (None, ")", ";", "WHERE", "ORDER", "LIMIT", "UNION"):
            start = tokens[i - 1].start
            out.append(Call(tok.text.upper(), model_text, query, start - base,
                            tokens[close].end + 1 - base, True, line, col))  # fmt: skip
        elif place == "from":
            out.append(Call(tok.text.upper(), model_text, query, tok.start - base,
                            tokens[close].end + 1 - base, False, line, col))  # fmt: skip
        else:
            out.append(Call(tok.text.upper(), model_text, None, -1, -1, False, line, col))
    return out


def misplaced(call: Call) -> SqlSyntaxError:
    return SqlSyntaxError(
        f"{call.function}({call.model_text}) is a table of rows, not a value: use it alone in a "
        f"SELECT list (SELECT {call.function}({call.model_text})) or as a FROM item (SELECT ... "
        f"FROM {call.function}({call.model_text}) AS f)",
        line=call.line,
        col=call.col,
    )


def rewrite(text: str, calls: list[Call], tables: list[str]) -> str:
    """``text`` with each call replaced by a read of its table."""
    out, at = [], 0
    for call, table in sorted(zip(calls, tables, strict=True), key=lambda p: p[0].start):
        out.append(text[at : call.start])
        out.append(f"SELECT * FROM {table}" if call.alone else table)
        at = call.end
    out.append(text[at:])
    return "".join(out)


def _close(tokens, open_at: int) -> tuple[int | None, int | None]:
    """The index of the ``)`` closing ``tokens[open_at]``, and of its first top-level comma."""
    depth, comma = 0, None
    for j in range(open_at, len(tokens)):
        t = tokens[j].text
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
            if depth == 0:
                return j, comma
        elif t == "," and depth == 1 and comma is None:
            comma = j
    return None, None


def _query(script, tokens, first: int, close: int, function: str, line: int, col: int) -> str:
    if tokens[first].text != "(" or tokens[close - 1].text != ")" or first + 1 >= close - 1:
        raise SqlSyntaxError(
            f"{function}'s second argument is a query in parentheses: "
            f"{function}(model, (SELECT ...))",
            line=line,
            col=col,
        )
    return script[tokens[first + 1].start : tokens[close - 2].end + 1]


def _place(tokens, i: int) -> str:
    """Where the call at ``tokens[i]`` stands: "select" (right after SELECT), "from" (a FROM or
    JOIN item), or "other"."""
    previous = _word(tokens[i - 1]) if i > 0 else ""
    if previous == "SELECT":
        return "select"
    if previous in ("FROM", "JOIN", "LATERAL"):
        return "from"
    if previous != ",":
        return "other"
    depth = 0
    for j in range(i - 1, -1, -1):
        t = _word(tokens[j])
        if t == ")":
            depth += 1
        elif t == "(":
            if depth == 0:
                return "other"
            depth -= 1
        elif depth == 0 and t in _CLAUSE_WORDS:
            return "from" if t in ("FROM", "JOIN") else "other"
    return "other"


def _word(token) -> str:
    """The first word of a token, upper case (sqlglot makes ORDER BY, GROUP BY one token)."""
    return (token.text.split() or [""])[0].upper()


def model_name(call: Call, dialect: str) -> ast.Name:
    from sqlml.sql import parse_name

    return parse_name(call.model_text, dialect=dialect)
