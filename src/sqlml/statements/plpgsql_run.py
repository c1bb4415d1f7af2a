"""Running a stored procedure's body (``sql/plpgsql.py``) through the session's front door.

Every expression is evaluated by the engine, as ``SELECT CAST((expression) AS type)`` in the
session's dialect, with each variable it names bound as a literal of the variable's declared type
(``CAST('text' AS type)``): a value never becomes SQL text unquoted. Statements run through
``Connection.run`` as a user's would (translated from the session's dialect, checked against the
session's user, ML statements included); so does the text an EXECUTE runs, which is the
procedure's own SQL by design.
"""

from __future__ import annotations

import copy
import datetime

from sqlglot.tokens import TokenType

from sqlml.errors import DatabaseError, RaisedException, SqlmlError
from sqlml.sql import plpgsql
from sqlml.sql.lexer import is_word


class _Return(Exception):
    """RETURN: leave the body."""


def literal(value: object, sql_type: str) -> str:
    """``value`` as a SQL literal of ``sql_type``: text, quoted, cast to the type."""
    if value is None:
        text = "NULL"
    elif isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        text = _quote(
            value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
        )
    else:  # numbers and text alike: the cast reads the digits
        text = _quote(str(value))
    return f"CAST({text} AS {sql_type})"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Run:
    """One CALL of a procedure: its variables (name -> [type, value]) and the notices its
    statements and RAISEs gave."""

    def __init__(self, session, procedure: str):
        self.session = session
        self.procedure = procedure
        self.variables: dict[str, list] = {}
        self.notices: list[str] = []
        self._executing: str | None = None  # the text an EXECUTE runs, for its errors

    # -- the front door -------------------------------------------------------------------

    def run(self, text: str, want_value: bool = False) -> tuple[bool, object]:
        """Run ``text`` (one statement or several); with ``want_value``, the first value of the
        last result with rows ((False, None) when it has no row)."""
        found, value = False, None
        for result in self.session.run(text):
            self.notices.extend(result.notices)
            if want_value and result.has_rows:
                reader = result.reader()
                found, value = False, None
                for batch in reader:
                    if batch.num_rows:
                        found, value = True, batch.column(0)[0].as_py()
                        break
        return found, value

    def bind(self, text: str) -> str:
        """``text`` with each name of a variable replaced by its value as a literal: names not
        qualified (``t.x``), not called (``f(``) and not quoted."""
        if not self.variables:
            return text
        tokens = plpgsql.tokenize(text, self.session.dialect)
        out, at = [], 0
        for i, tok in enumerate(tokens):
            name = tok.text.lower()
            if not is_word(tok) or name not in self.variables:
                continue
            before = tokens[i - 1] if i else None
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            if before is not None and (
                before.token_type == TokenType.DOT or before.text.upper() == "AS"
            ):
                continue
            if after is not None and after.token_type in (TokenType.DOT, TokenType.L_PAREN):
                continue
            sql_type, value = self.variables[name]
            out.append(text[at : tok.start])
            out.append(literal(value, sql_type))
            at = tok.end + 1
        out.append(text[at:])
        return "".join(out)

    def value(self, expression: str, sql_type: str | None) -> object:
        """The value of an expression of the body, of ``sql_type`` (None: its own type)."""
        bound = self.bind(expression)
        query = f"SELECT CAST(({bound}) AS {sql_type})" if sql_type else f"SELECT ({bound})"
        return self.run(query, want_value=True)[1]

    def coerce(self, value: object, sql_type: str) -> object:
        """A value as the declared type holds it (EXECUTE ... INTO, a CALL's argument)."""
        if value is None:
            return None
        return self.run(f"SELECT {literal(value, sql_type)}", want_value=True)[1]

    # -- statements -----------------------------------------------------------------------

    def statements(self, statements) -> None:
        for statement in statements:
            try:
                self.statement(statement)
            except (RaisedException, _Return):
                raise
            except SqlmlError as e:
                if getattr(e, "sqlml_run", None) == id(self):
                    raise  # a statement inside an IF: said where already
                raise self.context(e, statement) from e

    def statement(self, statement) -> None:
        self._executing = None
        if isinstance(statement, plpgsql.Assign):
            sql_type = self.variables[statement.target][0]
            self.variables[statement.target][1] = self.value(statement.expression, sql_type)
        elif isinstance(statement, plpgsql.Execute):
            text = self.value(statement.expression, None)
            if text is None:
                raise DatabaseError(
                    f"EXECUTE {statement.expression}: the statement's text is NULL",
                    sqlstate="22004",
                )
            self._executing = str(text)
            found, value = self.run(str(text), want_value=statement.into is not None)
            if statement.into is not None:
                self.assign(statement.into, value if found else None)
        elif isinstance(statement, plpgsql.Sql):
            found, value = self.run(self.bind(statement.text), want_value=bool(statement.into))
            if statement.into is not None:
                self.assign(statement.into, value if found else None)
        elif isinstance(statement, plpgsql.Raise):
            self.raise_(statement)
        elif isinstance(statement, plpgsql.If):
            for condition, body in statement.branches:
                if self.value(condition, "BOOLEAN") is True:
                    self.statements(body)
                    return
            self.statements(statement.otherwise)
        elif isinstance(statement, plpgsql.Return):
            raise _Return()

    def assign(self, name: str, value: object) -> None:
        sql_type = self.variables[name][0]
        self.variables[name][1] = self.coerce(value, sql_type)

    def raise_(self, statement: plpgsql.Raise) -> None:
        values = []
        for argument in statement.arguments:
            value = self.value(argument, "VARCHAR")
            values.append("<NULL>" if value is None else str(value))
        parts = statement.format.split("%%")
        out, n = [], 0
        for k, part in enumerate(parts):
            pieces = part.split("%")
            for j, piece in enumerate(pieces):
                if j:
                    out.append(values[n])
                    n += 1
                out.append(piece)
            if k < len(parts) - 1:
                out.append("%")
        message = "".join(out)
        if statement.level == "EXCEPTION":
            raise RaisedException(message)
        self.notices.append(message)

    def context(self, error: SqlmlError, statement) -> SqlmlError:
        """``error`` (same class and SQLSTATE) saying where in which procedure it happened, and
        the statement: for an EXECUTE, the text it ran."""
        kind = type(statement).__name__.upper()
        text = getattr(statement, "text", None) or getattr(statement, "expression", "")
        if isinstance(statement, plpgsql.Execute) and self._executing:
            text = self._executing
        if isinstance(statement, plpgsql.Sql):
            kind = "SQL statement"
        shown = " ".join(str(text).split())
        shown = shown if len(shown) <= 300 else shown[:297] + "..."
        where = f"CONTEXT: procedure {self.procedure}, line {statement.line} at {kind}: {shown}"
        try:
            wrapped = copy.copy(error)
            wrapped.args = (f"{error}\n{where}",)
        except Exception:  # noqa: BLE001 -- an error class copy cannot rebuild
            wrapped = SqlmlError(f"{error}\n{where}")
            wrapped.sqlstate = error.sqlstate
        wrapped.sqlml_run = id(self)
        if hasattr(wrapped, "position"):
            wrapped.position = None  # it pointed into text the user did not type here
        return wrapped
