"""Redshift's COPY and UNLOAD, the ML front door's statements in a ``redshift`` session::

    COPY table [ ( column, ... ) ] FROM 's3://bucket/prefix' | 'file:///path' | 'path'
      [ authorization ] [ option ... ]
    UNLOAD ( 'select ...' ) TO 's3://bucket/prefix' | 'file:///path' | 'path'
      [ authorization ] [ option ... ]

Options come in any order, each at most once. Authorization (``IAM_ROLE``, ``[WITH]
CREDENTIALS``, ``ACCESS_KEY_ID``/``SECRET_ACCESS_KEY``/``SESSION_TOKEN``) is accepted and not
used: object storage is reached with the environment's credentials.

The statement is always tokenized in DuckDB's dialect, whatever the lexer used: sqlglot's
Redshift tokenizer reads ``UNLOAD`` as one opaque command and treats a backslash in a string as
an escape, where Redshift's COPY reads ``'\\N'`` and ``'\\t'`` as written.
"""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

from sqlml import settings as S
from sqlml.errors import FeatureNotSupported
from sqlml.sql import ast
from sqlml.sql.lexer import STRING_TYPES, Chunk, tokenize
from sqlml.sql.parser import Parser

# How each option's value is written. flag: none; string: [AS] 'text'; int: [AS] n;
# size: [AS] n [MB | GB]; onoff: [ON | OFF | TRUE | FALSE] (ON when left out); format:
# [AS] CSV | PARQUET | JSON ['arg']; optstring: [[AS] 'text']; null: AS 'text'.
COPY_OPTIONS = {
    "FORMAT": "format", "CSV": "flag", "PARQUET": "flag", "JSON": "optstring",
    "DELIMITER": "string", "QUOTE": "string", "NULL": "null", "IGNOREHEADER": "int",
    "REGION": "string", "GZIP": "flag", "BZIP2": "flag", "ZSTD": "flag",
    "EMPTYASNULL": "flag", "BLANKSASNULL": "flag", "DATEFORMAT": "string",
    "TIMEFORMAT": "string", "ACCEPTINVCHARS": "optstring", "TRUNCATECOLUMNS": "flag",
    "MAXERROR": "int", "REMOVEQUOTES": "flag", "MANIFEST": "flag", "ESCAPE": "flag",
    "FILLRECORD": "flag", "TRIMBLANKS": "flag", "IGNOREBLANKLINES": "flag",
    "COMPUPDATE": "onoff", "STATUPDATE": "onoff", "ROUNDEC": "flag", "EXPLICIT_IDS": "flag",
    "ACCEPTANYDATE": "flag", "COMPROWS": "int", "ENCODING": "word",
}  # fmt: skip
UNLOAD_OPTIONS = {
    "FORMAT": "format", "CSV": "flag", "PARQUET": "flag", "JSON": "flag", "HEADER": "flag",
    "DELIMITER": "string", "PARALLEL": "onoff", "ALLOWOVERWRITE": "flag", "CLEANPATH": "flag",
    "MAXFILESIZE": "size", "EXTENSION": "string", "GZIP": "flag", "ZSTD": "flag",
    "MANIFEST": "manifest", "ADDQUOTES": "flag", "NULL": "null", "REGION": "string",
    "ROWGROUPSIZE": "size",
}  # fmt: skip
# Redshift's options that sqlml cannot honour yet: refused by name (0A000).
NOT_YET = {
    "FIXEDWIDTH", "SHAPEFILE", "AVRO", "ORC", "LZOP", "ENCRYPTED", "MASTER_SYMMETRIC_KEY",
    "KMS_KEY_ID", "READRATIO", "SSH", "NOLOAD", "SIMPLIFY", "PARTITION", "IGNOREALLERRORS",
    "JSONPATHS", "SERIALIZETOJSON",
}  # fmt: skip
NOT_YET_IN = {"COPY": set(), "UNLOAD": {"BZIP2", "ESCAPE"}}
AUTHORIZATION = ("IAM_ROLE", "CREDENTIALS", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "SESSION_TOKEN")
FORMATS = ("CSV", "PARQUET", "JSON")
COMPRESSIONS = ("GZIP", "BZIP2", "ZSTD")
# The arguments JSON takes in a COPY (a JSONPaths file is not supported yet).
JSON_ARGUMENTS = ("auto", "auto ignorecase")
SCHEMES = ("s3://", "file://")


def parse_copy(parser: Parser) -> ast.CopyFrom:
    return LoadParser(parser.script, parser.chunk).copy()


def parse_unload(parser: Parser) -> ast.Unload:
    return LoadParser(parser.script, parser.chunk).unload()


def _retokenized(chunk: Chunk) -> Chunk:
    """The chunk's text tokenized in DuckDB's dialect, positions counted in the script."""
    shifted = tuple(
        Token(t.token_type, t.text, t.line, t.col, t.start + chunk.start, t.end + chunk.start)
        for t in tokenize(chunk.text, "duckdb")
    )
    return Chunk(chunk.text, chunk.start, shifted, chunk.dialect)


class LoadParser(Parser):
    def __init__(self, script: str, chunk: Chunk):
        super().__init__(script, _retokenized(chunk))

    def copy(self) -> ast.CopyFrom:
        self.i = 1
        table = self.name("a table name after COPY")
        columns = None
        if self.accept(TokenType.L_PAREN):
            columns = [self.identifier("a column name")]
            while self.accept(TokenType.COMMA):
                columns.append(self.identifier("a column name"))
            self.expect(TokenType.R_PAREN, "',' or ')' after the column list")
            if len(set(columns)) != len(columns):
                twice = next(c for c in columns if columns.count(c) > 1)
                self.fail(f"Column {twice} is named twice in COPY's column list")
            columns = tuple(columns)
        self.expect_word("FROM")
        source = self.url("COPY", "FROM")
        options, authorization = self.options("COPY", COPY_OPTIONS)
        return ast.CopyFrom(
            table, columns, source, options, authorization, text=self.chunk.text.strip()
        )

    def unload(self) -> ast.Unload:
        self.i = 1
        open_tok = self.expect(TokenType.L_PAREN, "'(' and the query in quotes after UNLOAD")
        query = self.string("UNLOAD's query (UNLOAD ('select ...') TO 's3://...')")
        if not query.strip():
            self.fail("UNLOAD's query is empty", open_tok)
        self.expect(TokenType.R_PAREN, "')' after UNLOAD's query")
        self.expect_word("TO")
        target = self.url("UNLOAD", "TO")
        options, authorization = self.options("UNLOAD", UNLOAD_OPTIONS)
        return ast.Unload(query, target, options, authorization, text=self.chunk.text.strip())

    def url(self, statement: str, word: str) -> str:
        tok = self.peek()
        text = self.string(f"the {'source' if word == 'FROM' else 'destination'} URL after {word}")
        lower = text.lower()
        if "://" in lower and not lower.startswith(SCHEMES):
            scheme = text.split("://", 1)[0]
            self.fail(
                f"{statement} {word} {scheme}:// is not supported yet: use s3://bucket/key, "
                "file:///path or a path",
                tok,
                exc=FeatureNotSupported,
            )
        if not text.strip() or lower in ("s3://", "file://"):
            self.fail(f"{statement} {word} needs a URL such as 's3://bucket/key'", tok)
        return text

    # -- options ---------------------------------------------------------------------------

    def options(self, statement: str, table: dict[str, str]):
        options: dict[str, object] = {}
        authorization: dict[str, str] = {}
        while self.peek() is not None:
            tok, word = self.peek(), self.peek_word()
            if word == "WITH" and self.peek_word(1) == "CREDENTIALS":
                self.advance()
                tok, word = self.peek(), "CREDENTIALS"
            if word in AUTHORIZATION:
                if word in authorization:
                    self.fail(f"{word} is given twice", tok)
                self.advance()
                authorization[word] = self.authorization(word)
                continue
            if word not in table:
                self.unknown_option(statement, table, word, tok)
            self.advance()
            key, value = self.option_value(statement, word, table[word], tok)
            if key in options or (key == "FORMAT" and "FORMAT" in options):
                self.fail(f"{statement}: the {word} option is given twice", tok)
            self.check_exclusive(statement, key, options, tok)
            options[key] = value
            if key == "FORMAT" and value in JSON_ARGUMENTS:
                options["FORMAT"], options["JSON"] = "JSON", value
        return tuple(options.items()), tuple(authorization.items())

    def unknown_option(self, statement: str, table: dict, word: str | None, tok) -> None:
        if tok.token_type == TokenType.L_PAREN:
            self.fail(
                f"{statement} takes Redshift's options without parentheses "
                f"(FORMAT AS CSV IGNOREHEADER 1 ...), not DuckDB's"
            )
        if word in NOT_YET or word in NOT_YET_IN[statement]:
            self.fail(
                f"The {statement} option {word} is not supported yet", tok, FeatureNotSupported
            )
        if word is not None and word in COPY_OPTIONS | UNLOAD_OPTIONS:
            self.fail(f"{word} is an option of {'UNLOAD' if statement == 'COPY' else 'COPY'}, "
                      f"not of {statement}", tok)  # fmt: skip
        hint = S.did_you_mean(word, table) if word else ""
        self.fail(
            f"Unknown {statement} option {tok.text}.{hint} Options: {', '.join(sorted(table))}",
            tok,
        )

    def check_exclusive(self, statement: str, key: str, options: dict, tok) -> None:
        groups = (COMPRESSIONS, ("ALLOWOVERWRITE", "CLEANPATH"))
        for group in groups:
            other = next((g for g in group if g in options), None)
            if key in group and other is not None:
                self.fail(f"{statement}: {key} and {other} cannot be given together", tok)

    def authorization(self, word: str) -> str:
        self.accept_word("AS")
        if word == "IAM_ROLE" and self.accept_word("DEFAULT"):
            return "default"
        return self.string(f"the value of {word}")

    def option_value(self, statement: str, word: str, kind: str, tok) -> tuple[str, object]:
        if word in FORMATS:  # CSV, PARQUET, JSON ['auto'] without FORMAT
            return "FORMAT", self.json_argument(statement) if word == "JSON" else word
        if kind == "flag":
            return word, True
        if kind == "format":
            self.accept_word("AS")
            fmt_tok, fmt = self.peek(), self.peek_word()
            if fmt not in FORMATS:
                if fmt in NOT_YET:
                    self.fail(f"{statement} FORMAT {fmt} is not supported yet", fmt_tok,
                              FeatureNotSupported)  # fmt: skip
                self.fail(
                    f"Expected CSV, PARQUET or JSON after FORMAT{S.did_you_mean(fmt or '', FORMATS)}"
                )
            self.advance()
            return "FORMAT", self.json_argument(statement) if fmt == "JSON" else fmt
        if kind == "null":
            self.expect_word("AS")
            return "NULL", self.string("the NULL AS text")
        if kind == "onoff":
            value = self.peek_word()
            if value in ("ON", "TRUE", "OFF", "FALSE", "PRESET"):
                self.advance()
                return word, value in ("ON", "TRUE", "PRESET")
            return word, True
        if kind == "manifest":
            return word, "VERBOSE" if self.accept_word("VERBOSE") else True
        if kind == "word":
            self.accept_word("AS")
            value = self.peek_word()
            if value not in ("UTF8", "UTF-8"):
                self.fail(f"{statement} ENCODING {value} is not supported yet: files are read as "
                          "UTF8", exc=FeatureNotSupported)  # fmt: skip
            self.advance()
            return word, value
        self.accept_word("AS")
        if kind == "optstring":
            nxt = self.peek()
            if nxt is not None and nxt.token_type in STRING_TYPES:
                return word, self.advance().text
            return word, True
        if kind == "string":
            value = self.string(f"the value of {word}")
            if word in ("DELIMITER", "QUOTE") and len(character(value)) != 1:
                self.fail(f"{statement} {word} must be a single character; got '{value}'")
            return word, value
        return word, self.number(word, kind)

    def json_argument(self, statement: str) -> str:
        tok = self.peek()
        if statement == "UNLOAD" or tok is None or tok.token_type not in STRING_TYPES:
            return "JSON"
        text = " ".join(self.advance().text.split()).lower()
        if text in JSON_ARGUMENTS:
            return text
        if text.startswith(SCHEMES) or "/" in text:
            self.fail("COPY FORMAT JSON with a JSONPaths file is not supported yet: use "
                      "JSON 'auto' or 'auto ignorecase'", tok, FeatureNotSupported)  # fmt: skip
        self.fail(f"Expected JSON 'auto' or JSON 'auto ignorecase'; got '{tok.text}'", tok)

    def number(self, word: str, kind: str):
        tok = self.peek()
        if tok is None or tok.token_type != TokenType.NUMBER:
            self.fail(f"Expected a number after {word}")
        self.advance()
        try:
            value = int(tok.text) if kind == "int" or "." not in tok.text else float(tok.text)
        except ValueError:
            self.fail(f"Expected a whole number after {word}", tok)
        if value < 0:
            self.fail(f"{word} must not be negative", tok)
        if kind == "size":
            unit = self.peek_word()
            if unit in ("MB", "GB"):
                self.advance()
            return (value, unit or "MB")
        return value


def character(value: str) -> str:
    """A delimiter or quote as Redshift reads it: ``'\\t'`` is a tab."""
    return {"\\t": "\t", "\\\\": "\\", "\\|": "|"}.get(value, value)
