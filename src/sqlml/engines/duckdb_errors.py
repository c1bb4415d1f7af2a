"""DuckDB's errors as SqlmlErrors with PostgreSQL's SQLSTATEs.

DuckDB raises one exception class per error kind (``CatalogException``, ``BinderException``...)
with a message ``"Catalog Error: Table with name tt does not exist!\\nDid you mean "t"?\\n\\nLINE
1: SELECT * FROM tt\\n                      ^^"``. The translation keeps the message and its
suggestions, drops the kind prefix and the excerpt, turns the caret into a character position,
and picks the SQLSTATE PostgreSQL gives the same mistake, by class and then by the message's
wording (the only place sqlml reads DuckDB's texts).
"""

from __future__ import annotations

import re

import duckdb

from sqlml import errors

_PREFIX = re.compile(r"^([A-Z][A-Za-z ]*) Error: ")
_LINE = re.compile(r"\n*LINE (\d+): ?(.*)\n( *)\^", re.DOTALL)
_UDF = re.compile(r"executing the UDF: (\w+): (.*)", re.DOTALL)
_MISSING_FUNCTION = re.compile(r"Function with name \"?([^\s\"]+?)\"? does not exist")
# DuckDB names a literal argument's type after the literal; a user wrote a value of the type.
_LITERAL_TYPES = {"INTEGER_LITERAL": "INTEGER", "STRING_LITERAL": "VARCHAR"}
_LITERAL = re.compile(r"\b(" + "|".join(_LITERAL_TYPES) + r")\b")
_NO_MATCH = re.compile(
    r"No function matches the given name and argument types '([^(']+)\(([^']*)\)'"
)
# A macro called with a number of arguments it does not take (a served session's model
# functions are macros: functions.py).
_MACRO_ARGUMENTS = re.compile(r"^Macro \"?([^\s\"(]+)\"?\(\) does not support the supplied")

# By exception class: the SQLSTATE, unless a message rule below says more.
_BY_CLASS: list[tuple[type, str]] = [
    (duckdb.ParserException, "42601"),
    (duckdb.SyntaxException, "42601"),
    (duckdb.CatalogException, "42704"),
    (duckdb.BinderException, "42000"),
    (duckdb.ConstraintException, "23000"),
    (duckdb.ConversionException, "22P02"),
    (duckdb.OutOfRangeException, "22003"),
    (duckdb.TypeMismatchException, "42804"),
    (duckdb.InvalidTypeException, "42804"),
    (duckdb.TransactionException, "25000"),
    (duckdb.SerializationException, "40001"),
    (duckdb.DependencyException, "2BP01"),
    (duckdb.SequenceException, "2200H"),
    (duckdb.PermissionException, "42501"),
    (duckdb.NotImplementedException, "0A000"),
    (duckdb.OutOfMemoryException, "53200"),
    (duckdb.InterruptException, "57014"),
    (duckdb.IOException, "58030"),
    (duckdb.InvalidInputException, "22023"),
]
if hasattr(duckdb, "ResourceInUseException"):  # "connection has an open result"
    _BY_CLASS.insert(0, (duckdb.ResourceInUseException, "55006"))
# (pattern in the message, SQLSTATE), first match wins; checked within the class's family.
_BY_TEXT: dict[type, list[tuple[str, str]]] = {
    duckdb.CatalogException: [
        (r"^Table with name .* does not exist", "42P01"),
        (r"^Table Function with name .* does not exist", "42883"),
        (r"Function with name .* does not exist", "42883"),
        (r"^Schema with name .* does not exist", "3F000"),
        (r"^Catalog .* does not exist", "3D000"),
        (r"^Table with name .* already exists", "42P07"),
        (r"already exists", "42710"),
    ],
    duckdb.BinderException: [
        (r"Referenced column .* not found", "42703"),
        (r"^Values list .* does not have a column named", "42703"),
        (r"column .* (not found|does not exist)", "42703"),
        (r"^No function matches", "42883"),
        (r"^Macro .* does not support the supplied arguments", "42883"),
        (r"Could not choose a best candidate function", "42725"),
        (r"Cannot mix values of type|Cannot compare values of type", "42804"),
        (r"must appear in the GROUP BY clause", "42803"),
        (r"Ambiguous reference", "42702"),
    ],
    duckdb.ConstraintException: [
        (r"duplicate key|violates (primary key|unique) constraint", "23505"),
        (r"NOT NULL constraint", "23502"),
        (r"foreign key", "23503"),
        (r"CHECK constraint", "23514"),
    ],
    duckdb.ConversionException: [(r"out of range", "22003")],
    duckdb.TransactionException: [(r"transaction is aborted", "25P02")],
    duckdb.InvalidInputException: [(r"Python exception occurred", "38000")],
}


# An error that reaches us out of an Arrow reader has lost its class; its prefix names it.
_BY_PREFIX = {
    "Parser": duckdb.ParserException,
    "Catalog": duckdb.CatalogException,
    "Binder": duckdb.BinderException,
    "Constraint": duckdb.ConstraintException,
    "Conversion": duckdb.ConversionException,
    "Out of Range": duckdb.OutOfRangeException,
    "Invalid Input": duckdb.InvalidInputException,
    "Transaction": duckdb.TransactionException,
    "TransactionContext": duckdb.TransactionException,
    "Not implemented": duckdb.NotImplementedException,
    "Out of Memory": duckdb.OutOfMemoryException,
    "IO": duckdb.IOException,
    "Permission": duckdb.PermissionException,
}


def text(error: BaseException) -> str:
    """DuckDB's message without its kind prefix."""
    return _PREFIX.sub("", str(error).strip())


def _position(message: str, statement: str | None) -> tuple[str, int | None]:
    """The message without DuckDB's excerpt, and the 1-based character the caret points at in
    ``statement`` (None when there is no caret or no statement to place it in)."""
    match = _LINE.search(message)
    if match is None:
        return message, None
    kept = message[: match.start()].rstrip()
    if statement is None:
        return kept, None
    line, excerpt, pad = int(match.group(1)), match.group(2), len(match.group(3))
    caret = pad - len(f"LINE {line}: ")
    lines = statement.split("\n")
    if not 0 < line <= len(lines) or caret < 0:
        return kept, None
    column = caret
    if excerpt.startswith("..."):
        # DuckDB shortened a long line: place the excerpt where it occurs, if only once.
        shown = excerpt[3:].removesuffix("...")
        text = lines[line - 1]
        if not shown or text.count(shown) != 1:
            return kept, None
        column = text.index(shown) + caret - 3
    return kept, sum(len(s) + 1 for s in lines[: line - 1]) + column + 1


def _sqlstate(kind: type, message: str) -> str:
    for cls, rules in _BY_TEXT.items():
        if issubclass(kind, cls):
            for pattern, code in rules:
                if re.search(pattern, message, re.IGNORECASE):
                    return code
    for cls, code in _BY_CLASS:
        if issubclass(kind, cls):
            return code
    return "XX000"


def translate(error: BaseException, statement: str | None = None) -> errors.SqlmlError:
    """The SqlmlError for a DuckDB error (or an Arrow / OS error carrying one out of a reader)
    met while running ``statement``."""
    if isinstance(error, errors.SqlmlError):
        return error
    raised = _UDF.search(str(error))
    if raised:
        cls = getattr(errors, raised.group(1), None)
        if isinstance(cls, type) and issubclass(cls, errors.SqlmlError):
            # sqlml's own error, raised inside a function: the same error, unwrapped.
            return cls(raised.group(2).strip())
    message, position = _position(text(error), statement)
    kind = type(error)
    if not isinstance(error, duckdb.Error):  # out of an Arrow reader: the prefix says
        prefix = _PREFIX.match(str(error).strip())
        kind = _BY_PREFIX.get(prefix.group(1) if prefix else "", duckdb.Error)
    no_match = _NO_MATCH.search(message)
    first_line = message.split("\n")[0]
    missing = _MISSING_FUNCTION.search(first_line) or _MACRO_ARGUMENTS.search(first_line)
    # DuckDB's suggestions ("Did you mean ...", "Candidate bindings: ...") follow the first line.
    hint = "\n".join(line for line in message.split("\n")[1:] if line.strip()) or None
    return errors.DatabaseError(
        message,
        sqlstate=_sqlstate(kind, message),
        position=position,
        hint=hint,
        name=no_match.group(1).lower()
        if no_match
        else missing.group(1).lower()
        if missing
        else None,
        arguments=_LITERAL.sub(lambda m: _LITERAL_TYPES[m.group(1)], no_match.group(2))
        if no_match
        else None,
    )
