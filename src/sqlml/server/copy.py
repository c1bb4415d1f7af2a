"""``COPY ... TO STDOUT`` and ``COPY ... FROM STDIN``, in PostgreSQL's text and CSV formats.

The engine cannot read from or write to the client's stream, so the server does the streaming:
COPY TO STDOUT runs ``SELECT`` over the table (or the query) and sends each row as CopyData;
COPY FROM STDIN collects the client's CopyData into a CSV file (the text format is converted:
its backslash escapes decoded, ``\\N`` made an unquoted empty field, every value quoted), then
asks the engine to append it to the table (``Engine.copy_from_csv``).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field

from sqlglot.tokens import TokenType

from sqlml.engines import CsvOptions
from sqlml.errors import DatabaseError, FeatureNotSupported
from sqlml.server import protocol as P
from sqlml.server import types as T
from sqlml.server.portals import Portal, Prepared
from sqlml.sql.lexer import STRING_TYPES, is_word


@dataclass
class Copy:
    direction: str  # "in" or "out"
    target: str  # a table with an optional column list, or (for out) a (query)
    csv: bool = False
    header: bool = False
    delimiter: str | None = None
    null: str | None = None
    quote: str = '"'
    escape: str | None = None
    columns: list[str] = field(default_factory=list)

    @property
    def sep(self) -> str:
        return self.delimiter if self.delimiter is not None else ("," if self.csv else "\t")

    @property
    def null_text(self) -> str:
        return self.null if self.null is not None else ("" if self.csv else "\\N")


def parse(tokens, text: str, start: int = 0) -> Copy | None:
    """A COPY to the client or from it; None for any other statement (a COPY to or from a
    file goes to the engine as written). ``start``: the offset of ``text`` in what the
    tokens' positions count from."""
    if not tokens or not is_word(tokens[0]) or tokens[0].text.upper() != "COPY":
        return None
    depth = 0
    for i, tok in enumerate(tokens):
        depth += tok.token_type == TokenType.L_PAREN
        depth -= tok.token_type == TokenType.R_PAREN
        word = tok.text.upper() if is_word(tok) else None
        if depth or word not in ("FROM", "TO") or i + 1 >= len(tokens):
            continue
        end = tokens[i + 1].text.upper()
        if (word, end) not in (("FROM", "STDIN"), ("TO", "STDOUT")):
            continue
        target = text[tokens[1].start - start : tok.start - start].strip()
        stmt = Copy("in" if word == "FROM" else "out", target)
        _options(tokens[i + 2 :], stmt)
        return stmt
    return None


def _options(tokens, stmt: Copy) -> None:
    items = [
        t
        for t in tokens
        if t.token_type not in (TokenType.L_PAREN, TokenType.R_PAREN, TokenType.COMMA)
    ]
    items = [t for t in items if not (is_word(t) and t.text.upper() in ("WITH", "AS"))]
    i = 0

    def value() -> str:
        nonlocal i
        if i >= len(items):
            raise DatabaseError("COPY option without a value", sqlstate="42601")
        i += 1
        return items[i - 1].text

    while i < len(items):
        tok = items[i]
        word = tok.text.upper()
        i += 1
        if word == "FORMAT":
            fmt = value().lower()
            if fmt not in ("csv", "text"):
                raise FeatureNotSupported(f"COPY FORMAT {fmt} is not supported (csv and text are)")
            stmt.csv = fmt == "csv"
        elif word == "CSV":
            stmt.csv = True
        elif word == "BINARY":
            raise FeatureNotSupported("COPY in binary format is not supported (csv and text are)")
        elif word == "HEADER":
            nxt = (
                items[i].text.lower()
                if i < len(items) and items[i].token_type not in STRING_TYPES
                else ""
            )
            if nxt in ("true", "on", "1", "false", "off", "0", "match"):
                i += 1
                stmt.header = nxt in ("true", "on", "1", "match")
            else:
                stmt.header = True
        elif word in ("DELIMITER", "NULL", "QUOTE", "ESCAPE"):
            setattr(stmt, word.lower(), value())
        elif word == "ENCODING":
            if value().lower().replace("-", "") != "utf8":
                raise FeatureNotSupported("COPY ENCODING other than UTF8 is not supported")
        else:
            raise FeatureNotSupported(
                f"COPY option {tok.text} is not supported (FORMAT, HEADER, DELIMITER, NULL, "
                "QUOTE and ESCAPE are)"
            )


async def run(session, stmt: Copy) -> None:
    if stmt.direction == "out":
        await _copy_out(session, stmt)
    else:
        await _copy_in(session, stmt)


# -- to the client ------------------------------------------------------------------------------


def _source_query(stmt: Copy) -> str:
    if stmt.target.startswith("("):
        return stmt.target[1:-1]
    name, paren, columns = stmt.target.partition("(")
    return f"SELECT {columns.rstrip().removesuffix(')') if paren else '*'} FROM {name}"


def _text_escape(value: bytes) -> bytes:
    return (
        value.replace(b"\\", b"\\\\")
        .replace(b"\t", b"\\t")
        .replace(b"\n", b"\\n")
        .replace(b"\r", b"\\r")
    )


def _line(stmt: Copy, values: list[bytes | None]) -> bytes:
    sep = stmt.sep.encode()
    null = stmt.null_text.encode()
    if not stmt.csv:
        return sep.join(null if v is None else _text_escape(v) for v in values) + b"\n"
    quote = stmt.quote.encode()
    escape = (stmt.escape or stmt.quote).encode()
    out = []
    for v in values:
        if v is None:
            out.append(null)
        elif v == b"" or v == null or any(c in v for c in (sep, quote, b"\n", b"\r")):
            out.append(quote + v.replace(quote, escape + quote) + quote)
        else:
            out.append(v)
    return sep.join(out) + b"\n"


def _encoded_lines(session, portal, stmt: Copy) -> list[bytes] | None:
    batch = portal.next_batch()
    if batch is None:
        return None
    columns = [T.text_column(batch.column(i), t) for i, t in enumerate(portal.fields)]
    return [_line(stmt, list(row)) for row in zip(*columns, strict=True)]


async def _copy_out(session, stmt: Copy) -> None:
    portal = Portal(Prepared(_source_query(stmt), []), None, [0])
    try:
        await session.worker(session._run, portal)
        if portal.result is None or not portal.result.has_rows:
            raise DatabaseError(
                "COPY TO STDOUT needs a table or a query that returns rows", sqlstate="42601"
            )
        await session.worker(portal.open_rows)
        session.send(P.copy_out_response(False, len(portal.fields)))
        rows = 0
        if stmt.header:
            session.send(P.copy_data(_line(stmt, [n.encode() for n in portal.names])))
        while True:
            lines = await session.worker(_encoded_lines, session, portal, stmt)
            if lines is None:
                break
            session.send(b"".join(P.copy_data(line) for line in lines))
            rows += len(lines)
            await session.flush()
        session.send(P.COPY_DONE)
        session.send(P.command_complete(f"COPY {rows}"))
    finally:
        await session.worker(portal.close)


# -- from the client ----------------------------------------------------------------------------

_ESCAPES = {
    ord("b"): b"\b",
    ord("f"): b"\f",
    ord("n"): b"\n",
    ord("r"): b"\r",
    ord("t"): b"\t",
    ord("v"): b"\v",
}


def _text_unescape(field: bytes) -> bytes:
    if b"\\" not in field:
        return field
    out, i = bytearray(), 0
    while i < len(field):
        c = field[i]
        if c != 0x5C or i + 1 >= len(field):
            out.append(c)
            i += 1
            continue
        nxt = field[i + 1]
        if nxt in _ESCAPES:
            out += _ESCAPES[nxt]
            i += 2
        elif 0x30 <= nxt <= 0x37:
            j = i + 1
            while j < min(i + 4, len(field)) and 0x30 <= field[j] <= 0x37:
                j += 1
            out.append(int(field[i + 1 : j], 8) & 0xFF)
            i = j
        elif nxt == ord("x") and i + 2 < len(field):
            j = i + 2
            while j < min(i + 4, len(field)) and chr(field[j]) in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(field[i + 2 : j], 16))
            i = j
        else:
            out.append(nxt)
            i += 2
    return bytes(out)


class _TextToCsv:
    """Rewrites the text format, line by line, as CSV with every value quoted."""

    def __init__(self, stmt: Copy, sink):
        self.sep = stmt.sep.encode()
        self.null = stmt.null_text.encode()
        self.sink = sink
        self.rest = b""
        self.ended = False

    def write(self, data: bytes) -> None:
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        for line in lines:
            self._line(line.removesuffix(b"\r"))

    def close(self) -> None:
        if self.rest:
            self._line(self.rest)
            self.rest = b""

    def _line(self, line: bytes) -> None:
        if self.ended or line == b"\\.":
            self.ended = True
            return
        fields = []
        for raw in line.split(self.sep):
            if raw == self.null:
                fields.append(b"")
            else:
                fields.append(b'"' + _text_unescape(raw).replace(b'"', b'""') + b'"')
        self.sink.write(b",".join(fields) + b"\n")


def _target_columns(session, stmt: Copy) -> int:
    shape = session.conn.describe(_source_query(stmt))
    return len(shape.columns) if shape is not None and shape.columns else 0


def _load(session, stmt: Copy, path: str) -> int:
    session._park_open_portals()
    if stmt.csv:
        options = CsvOptions(
            header=stmt.header,
            delimiter=stmt.sep,
            quote=stmt.quote,
            escape=stmt.escape or stmt.quote,
            null=stmt.null_text,
        )
    else:
        options = CsvOptions(header=stmt.header)
    return session.conn.engine.copy_from_csv(stmt.target, path, options)


async def _copy_in(session, stmt: Copy) -> None:
    columns = await session.worker(_target_columns, session, stmt)
    fd, path = tempfile.mkstemp(prefix="sqlml-copy-", suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as sink:
            session.send(P.copy_in_response(False, columns))
            await session.flush()
            writer = sink if stmt.csv else _TextToCsv(stmt, sink)
            failure = await _receive(session, writer)
            if not stmt.csv:
                writer.close()
        if failure is not None:
            raise DatabaseError(f"COPY from stdin failed: {failure}", sqlstate="57014")
        rows = await session.worker(_load, session, stmt, path)
        session.send(P.command_complete(f"COPY {rows}"))
    finally:
        os.unlink(path)


async def _receive(session, writer) -> str | None:
    """Copy the client's CopyData to ``writer`` until CopyDone (None) or CopyFail (its
    message)."""
    while True:
        kind, body = await P.read_message(session.reader)
        if kind == ord("d"):
            writer.write(body)
        elif kind == ord("c"):
            return None
        elif kind == ord("f"):
            return P.Buffer(body).cstring()
        elif kind in (ord("H"), ord("S")):
            continue  # ignored during COPY, as PostgreSQL does
        else:
            raise P.ProtocolViolation(
                f"unexpected message type {chr(kind)!r} during COPY from stdin"
            )
