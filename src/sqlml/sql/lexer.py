"""Tokens with positions, and the splitting of a script into statements.

We reuse sqlglot's tokenizer of the session's SQL dialect (the engine's: ``duckdb`` by
default): it already knows quoted identifiers, escaped quotes, line and block comments and
dollar-quoted strings, so a ``;`` inside any of them never splits a statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

STRING_TYPES = (TokenType.STRING, TokenType.HEREDOC_STRING, TokenType.NATIONAL_STRING)
NOT_WORDS = STRING_TYPES + (TokenType.IDENTIFIER, TokenType.NUMBER)


DEFAULT_DIALECT = "duckdb"


# Dialects whose statements are cut into tokens by another's tokenizer: sqlglot's Redshift one
# swallows what follows SHOW (and other commands) into one string, which would hide SHOW MODEL.
# Redshift's quoting and comments are PostgreSQL's, as DuckDB's are.
_TOKENIZED_AS = {"redshift": "duckdb"}


def tokenize(text: str, dialect: str = DEFAULT_DIALECT) -> list[Token]:
    """Tokens of ``text`` in sqlglot's ``dialect``; raises sqlglot's TokenError on an
    unterminated quote or comment."""
    dialect = _TOKENIZED_AS.get(dialect, dialect)
    return Dialect.get_or_raise(dialect).tokenizer_class().tokenize(text)


def is_word(token: Token) -> bool:
    """True for bare words: identifiers and keywords alike (MODEL, TARGET, FUNCTION, ON...)."""
    return token.token_type not in NOT_WORDS and (token.text[:1].isalpha() or token.text[:1] == "_")


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
    tokens: tuple[Token, ...]
    dialect: str = DEFAULT_DIALECT  # the dialect it was tokenized in

    @property
    def is_ml(self) -> bool:
        return is_ml_statement(self.tokens, self.dialect)


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
    if tokens and is_word(tokens[0]) and tokens[0].text.upper() in ML_FIRST_WORDS:
        return True
    if len(tokens) < 2 or not (is_word(tokens[0]) and is_word(tokens[1])):
        return False
    head = (tokens[0].text.upper(), tokens[1].text.upper())
    if head == ("CREATE", "EXTERNAL"):
        return len(tokens) > 2 and tokens[2].text.upper() == "MODEL"
    return head in ML_STARTS


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
    depth = 0
    for tok, nxt in zip(tokens, tokens[1:]):  # noqa: B905 -- pairs of neighbours
        depth += (tok.token_type == TokenType.L_PAREN) - (tok.token_type == TokenType.R_PAREN)
        if depth == 0 and tok.text.upper() == "FROM" and nxt.token_type in STRING_TYPES:
            return True
    return False


def split_script(text: str, dialect: str = DEFAULT_DIALECT) -> list[Chunk]:
    """Split ``text`` at top-level semicolons. Empty statements (only comments) are dropped.

    If the text cannot be tokenized (an unterminated quote, say) it is returned as one chunk
    without tokens, so that the database reports the error in its own words.
    """
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
