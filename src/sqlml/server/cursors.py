"""SQL cursors — ``DECLARE name CURSOR FOR query``, ``FETCH [FORWARD] [n | ALL] FROM name``,
``CLOSE name`` — which DuckDB does not have, and psycopg's server-side cursors and JDBC tools
use. A declared cursor is a portal of the session (PostgreSQL's are too: psycopg describes it
by name), so FETCH sends the next rows of that portal. ``DEALLOCATE name | ALL`` drops the
session's prepared statements (psycopg prepares its frequent queries through the protocol and
drops them with SQL).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot.tokens import Token, TokenType

from sqlml.errors import FeatureNotSupported, SqlSyntaxError
from sqlml.sql.lexer import is_word, tokenize


@dataclass(frozen=True)
class Declare:
    name: str
    query: str
    binary: bool


@dataclass(frozen=True)
class Fetch:
    name: str
    count: int  # 0: all the rows left


@dataclass(frozen=True)
class Deallocate:
    name: str | None  # None: DEALLOCATE ALL


@dataclass(frozen=True)
class CloseCursor:
    name: str | None  # None: CLOSE ALL


def _name(tok: Token) -> str:
    return tok.text if tok.token_type == TokenType.IDENTIFIER else tok.text.lower()


def _word(tok: Token | None) -> str | None:
    return tok.text.upper() if tok is not None and is_word(tok) else None


def parse(tokens: tuple[Token, ...], text: str, start: int = 0):
    """A cursor statement, or None for any other."""
    head = _word(tokens[0]) if tokens else None
    if head not in ("DECLARE", "FETCH", "CLOSE", "MOVE", "DEALLOCATE"):
        return None
    # sqlglot reads what follows FETCH (and DECLARE, in some dialects) as one string: the rest
    # of the statement is tokenized on its own
    body = text[tokens[0].end + 1 - start :]
    rest = tuple(tokenize(body, "duckdb"))
    if head == "DECLARE":
        return _declare(rest, body)
    if head == "FETCH":
        return _fetch(rest)
    if head == "CLOSE" and len(rest) == 1:
        return CloseCursor(None if _word(rest[0]) == "ALL" else _name(rest[0]))
    if head == "DEALLOCATE":
        names = [t for t in rest if _word(t) != "PREPARE"]
        if len(names) == 1:
            return Deallocate(None if _word(names[0]) == "ALL" else _name(names[0]))
        raise SqlSyntaxError("Expected DEALLOCATE [PREPARE] name | ALL", line=1, col=1)
    if head == "MOVE":
        raise FeatureNotSupported("MOVE is not supported; FETCH reads a cursor's rows forward.")
    return None


def _declare(tokens, text: str) -> Declare:
    """``name [BINARY] [NO SCROLL] CURSOR [WITH[OUT] HOLD] FOR query`` (after DECLARE)."""
    words = [_word(t) for t in tokens]
    if len(tokens) < 3 or "CURSOR" not in words or "FOR" not in words:
        raise SqlSyntaxError("Expected DECLARE name CURSOR FOR query", line=1, col=1)
    cursor_at = words.index("CURSOR")
    options = set(words[1:cursor_at])
    if "SCROLL" in options and "NO" not in options:
        raise FeatureNotSupported("SCROLL cursors are not supported; cursors read forward.")
    query_at = words.index("FOR", cursor_at) + 1
    if query_at >= len(tokens):
        raise SqlSyntaxError("Expected a query after DECLARE ... CURSOR FOR", line=1, col=1)
    return Declare(_name(tokens[0]), text[tokens[query_at].start :], "BINARY" in options)


def _fetch(tokens) -> Fetch:
    """``[FORWARD | NEXT] [count | ALL] [FROM | IN] name`` (after FETCH)."""
    rest = list(tokens)
    if len(rest) >= 2 and _word(rest[-2]) in ("FROM", "IN"):
        del rest[-2]
    if not rest:
        raise SqlSyntaxError("Expected FETCH [FORWARD] [count | ALL] FROM cursor", line=1, col=1)
    name, options = _name(rest[-1]), rest[:-1]
    if options and _word(options[0]) == "FORWARD":
        options = options[1:]
        count = 1 if not options else None
    elif options and _word(options[0]) == "NEXT":
        options, count = options[1:], 1
    else:
        count = None if options else 1
    if options:
        word = _word(options[0])
        if word == "ALL":
            count = 0
        elif options[0].token_type == TokenType.NUMBER and options[0].text.isdigit():
            count = int(options[0].text)
        else:
            raise FeatureNotSupported(
                f"FETCH {options[0].text} is not supported: cursors read forward "
                "(FETCH [FORWARD] [count | ALL] FROM name)."
            )
    return Fetch(name, 1 if count is None else count)
