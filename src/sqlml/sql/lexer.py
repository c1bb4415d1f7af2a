"""Tokens with positions, and the splitting of a script into statements.

We reuse sqlglot's tokenizer of the session's SQL dialect (the engine's: ``duckdb`` by
default): it already knows quoted identifiers, escaped quotes, line and block comments and
dollar-quoted strings, so a ``;`` inside any of them never splits a statement.

Importing sqlglot costs a quarter of a second, half of ``sqlml db -c "SELECT 1"``. A script of
plain SQL (no ML statement, no quoting sqlglot is needed to read) is therefore split by a small
scanner (:func:`_plain_spans`) and its chunks tokenized by sqlglot only when something asks for
their tokens (an error to explain, say); anything the scanner is unsure of goes to sqlglot.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot.tokens import Token


def __getattr__(name: str):
    # The token-type constants, built (and sqlglot imported) by the first module asking.
    if name in ("STRING_TYPES", "NOT_WORDS"):
        from sqlglot.tokens import TokenType

        strings = (TokenType.STRING, TokenType.HEREDOC_STRING, TokenType.NATIONAL_STRING)
        globals()["STRING_TYPES"] = strings
        globals()["NOT_WORDS"] = strings + (TokenType.IDENTIFIER, TokenType.NUMBER)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


DEFAULT_DIALECT = "duckdb"


# Dialects whose statements are cut into tokens by another's tokenizer: sqlglot's Redshift one
# swallows what follows SHOW (and other commands) into one string, which would hide SHOW MODEL.
# Redshift's quoting and comments are PostgreSQL's, as DuckDB's are.
_TOKENIZED_AS = {"redshift": "duckdb"}


# Dialects whose own tokenizer is kept, less its swallowing of what follows SHOW (Spark's:
# its quoting, backticks, is not DuckDB's).
_SHOW_AS_WORD = {"spark"}


@functools.lru_cache(maxsize=8)
def _tokenizer_class(dialect: str):
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.tokens import TokenType

    base = Dialect.get_or_raise(dialect).tokenizer_class
    if dialect not in _SHOW_AS_WORD:
        return base
    return type(
        f"{base.__name__}ShowAsWord", (base,), {"COMMANDS": base.COMMANDS - {TokenType.SHOW}}
    )


def tokenize(text: str, dialect: str = DEFAULT_DIALECT) -> list[Token]:
    """Tokens of ``text`` in sqlglot's ``dialect``; raises sqlglot's TokenError on an
    unterminated quote or comment."""
    dialect = _TOKENIZED_AS.get(dialect, dialect)
    return _tokenizer_class(dialect)().tokenize(text)


def is_word(token: Token) -> bool:
    """True for bare words: identifiers and keywords alike (MODEL, TARGET, FUNCTION, ON...)."""
    return token.token_type not in __getattr__("NOT_WORDS") and (
        token.text[:1].isalpha() or token.text[:1] == "_"
    )


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset in ``text``."""
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


@dataclass(frozen=True)
class Chunk:
    """One statement of a script: its text (no trailing ``;``) and its tokens."""

    text: str
    start: int  # offset of ``text`` in the whole script
    _tokens: tuple[Token, ...] | _LazyTokens
    dialect: str = DEFAULT_DIALECT  # the dialect it was tokenized in
    # Known without tokens: a chunk the plain scanner cut is no ML statement.
    _plain: bool = field(default=False, compare=False)

    @property
    def tokens(self) -> tuple[Token, ...]:
        if isinstance(self._tokens, _LazyTokens):
            return self._tokens.of(self)
        return self._tokens

    @property
    def is_ml(self) -> bool:
        return not self._plain and is_ml_statement(self.tokens, self.dialect)


class _LazyTokens:
    """The tokens of a script the plain scanner split, made by sqlglot when first asked for
    and shared out to its chunks as the full split would have (positions in the script)."""

    def __init__(self, script: str, dialect: str):
        self.script = script
        self.dialect = dialect
        self.by_start: dict[int, tuple[Token, ...]] | None = None

    def of(self, chunk: Chunk) -> tuple[Token, ...]:
        if self.by_start is None:
            self.by_start = {c.start: c.tokens for c in _split_tokens(self.script, self.dialect)}
        return self.by_start.get(chunk.start, ())


ML_STARTS = {
    ("CREATE", "MODEL"),
    ("SHOW", "MODEL"),
    ("DROP", "MODEL"),
    ("EVALUATE", "MODEL"),
    ("EXPORT", "MODEL"),
    ("CREATE", "EXTERNAL"),
    ("CREATE", "USER"),
    ("ALTER", "USER"),
    ("DROP", "USER"),
    # Groups and roles (reference §9).
    ("CREATE", "GROUP"),
    ("ALTER", "GROUP"),
    ("DROP", "GROUP"),
    ("CREATE", "ROLE"),
    ("ALTER", "ROLE"),
    ("DROP", "ROLE"),
}
# Statements recognised by their first word alone.
ML_FIRST_WORDS = {"GRANT", "REVOKE"}


def is_ml_statement(tokens, dialect: str = DEFAULT_DIALECT) -> bool:
    if dialect == "redshift" and is_load_statement(tokens):
        return True
    if is_procedure_statement(tokens):
        return True
    if tokens and is_word(tokens[0]) and tokens[0].text.upper() in ML_FIRST_WORDS:
        return True
    if len(tokens) < 2 or not (is_word(tokens[0]) and is_word(tokens[1])):
        return False
    head = (tokens[0].text.upper(), tokens[1].text.upper())
    if head == ("CREATE", "EXTERNAL"):
        return len(tokens) > 2 and tokens[2].text.upper() == "MODEL"
    return head in ML_STARTS


def is_procedure_statement(tokens) -> bool:
    """CREATE [OR REPLACE] PROCEDURE, DROP PROCEDURE, CALL (stored procedures)."""
    words = [t.text.upper() if is_word(t) else "" for t in tokens[:4]]
    if words[:1] == ["CALL"]:
        return True
    if words[:2] in (["CREATE", "PROCEDURE"], ["DROP", "PROCEDURE"]):
        return True
    return words == ["CREATE", "OR", "REPLACE", "PROCEDURE"]


def is_load_statement(tokens) -> bool:
    """Redshift's ``COPY table FROM 'url' ...`` or ``UNLOAD ('query') TO ...``. A COPY from
    anything but a quoted URL (``FROM STDIN``), or to a file, is not: it stays the engine's."""
    if not tokens or not is_word(tokens[0]):
        return False
    first = tokens[0].text.upper()
    if first == "UNLOAD":
        return True
    if first != "COPY":
        return False
    from sqlglot.tokens import TokenType

    strings = __getattr__("STRING_TYPES")
    depth = 0
    for tok, nxt in zip(tokens, tokens[1:]):  # noqa: B905 -- pairs of neighbours
        depth += (tok.token_type == TokenType.L_PAREN) - (tok.token_type == TokenType.R_PAREN)
        if depth == 0 and tok.text.upper() == "FROM" and nxt.token_type in strings:
            return True
    return False


def split_script(text: str, dialect: str = DEFAULT_DIALECT) -> list[Chunk]:
    """Split ``text`` at top-level semicolons. Empty statements (only comments) are dropped.

    If the text cannot be tokenized (an unterminated quote, say) it is returned as one chunk
    without tokens, so that the database reports the error in its own words.
    """
    spans = _plain_spans(text, dialect)
    if spans is None:
        return _split_tokens(text, dialect)
    lazy = _LazyTokens(text, dialect)
    return [Chunk(text[b:e], b, lazy, dialect, _plain=True) for b, e in spans]


def _split_tokens(text: str, dialect: str) -> list[Chunk]:
    """:func:`split_script` by sqlglot's tokens."""
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = tokenize(text, dialect)
    except TokenError:
        return [Chunk(text, 0, (), dialect)] if text.strip() else []
    chunks: list[Chunk] = []
    begin, current = 0, []
    for tok in tokens + [None]:
        if tok is None or tok.token_type == TokenType.SEMICOLON:
            end = tok.start if tok is not None else len(text)
            if current:
                chunks.append(Chunk(text[begin:end], begin, tuple(current), dialect))
            begin, current = end + 1, []
        else:
            current.append(tok)
    return chunks


# What the plain scanner reads: a run of text without quotes, comments or ``;`` (``$`` and
# backslashes are left to sqlglot: dollar quoting and escapes), a quoted string or identifier
# (doubled quotes inside), a comment, a ``;``. Anything else (an unterminated quote, ``$``,
# ``\\``, a nested comment) is not plain.
_PLAIN = re.compile(
    r"""[^'";\-/$\\]+|-(?!-)|/(?!\*)|'(?:[^'\\]|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*(?:[^*/]|\*(?!/)|/(?!\*))*\*/|;"""
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_SKIP = re.compile(r"(?:\s+|--[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)*")
# First words of a statement that may be one of ours (ML, users and privileges, loading):
# with one of these the script is split by sqlglot's tokens.
_OURS = {first for first, _ in ML_STARTS} | ML_FIRST_WORDS | {"COPY", "UNLOAD", "CALL"}


def _semicolons(text: str, dialect: str) -> list[int] | None:
    """Offsets of the top-level ``;`` of ``text``; None when it holds anything the plain
    scanner does not read (then sqlglot must)."""
    if dialect not in ("duckdb", "redshift"):  # the quoting the scanner knows: PostgreSQL's
        return None
    cuts, pos, end = [], 0, len(text)
    while pos < end:
        match = _PLAIN.match(text, pos)
        if match is None:
            return None
        if text[pos] in "-/" and pos and _fuses(text[pos - 1]):
            return None  # an operator such as // or |/ may take this character
        pos = match.end()
        if match.group() == ";":
            cuts.append(pos - 1)
    return cuts


def _fuses(previous: str) -> bool:
    """Whether a ``-`` or ``/`` after ``previous`` may be read with it as one operator (``//``,
    ``|/``, ``*/`` ...) rather than start a comment or stand alone."""
    return not (previous.isalnum() or previous.isspace() or previous in "_()'\",;")


def _plain_spans(text: str, dialect: str) -> list[tuple[int, int]] | None:
    """The (start, end) of each statement of a plain-SQL script, as :func:`_split_tokens`
    would cut it; None when the script holds anything else (then sqlglot splits it)."""
    cuts = _semicolons(text, dialect)
    if cuts is None:
        return None
    out = []
    for b, e in zip([0] + [c + 1 for c in cuts], cuts + [len(text)]):  # noqa: B905
        first = _SKIP.match(text, b, e).end()
        if first == e:
            continue  # only blanks and comments: no statement
        word = _WORD.match(text, first, e)
        if word is not None and word.group().upper() in _OURS:
            return None
        out.append((b, e))
    return out


def statement_complete(buffer: str, dialect: str = DEFAULT_DIALECT) -> bool:
    """True when ``buffer`` ends with a ``;`` that is not inside a quote or comment (what a
    shell waits for before running what was typed)."""
    cuts = _semicolons(buffer, dialect)
    if cuts is not None:
        return bool(cuts) and _SKIP.match(buffer, cuts[-1] + 1).end() == len(buffer)
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = tokenize(buffer, dialect)
    except TokenError:
        return False  # an open quote or comment: keep reading
    return bool(tokens) and tokens[-1].token_type == TokenType.SEMICOLON
