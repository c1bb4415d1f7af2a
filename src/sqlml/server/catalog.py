"""What PostgreSQL clients ask a server that is not a table of the user's: the settings they
SET and SHOW on connect (``extra_float_digits``, ``application_name``, ``DateStyle``,
``transaction isolation level``...), the session's ParameterStatus values, and the catalog
queries of psql and the drivers.

Catalog queries are written for PostgreSQL: ``OPERATOR(pg_catalog.~)``, ``COLLATE
pg_catalog.default``, ``'t'::regclass``, ``pg_catalog.pg_get_userbyid(...)``. :func:`rewrite`
turns those few constructs into what DuckDB reads, and points ``pg_catalog.`` functions and the
relations DuckDB lacks at the session's temporary emulation
(``Engine.emulate_postgres_catalog``). It only touches text that mentions one of them, and the
patterns are PostgreSQL-only syntax, so a user's own query is left as written.

A SET or SHOW of a PostgreSQL setting that DuckDB does not have is answered here from the
session's own table of settings; any other SET or SHOW (``SET threads = 2``, ``SHOW TABLES``)
goes to the engine as written. Statements are recognised by their tokens (sqlml's lexer), not by
matching text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
from sqlglot.tokens import Token, TokenType

import sqlml
from sqlml.results import StatementResult
from sqlml.server import types as T
from sqlml.sql.lexer import STRING_TYPES, is_word

SERVER_VERSION = "15.0 (sqlml)"
SERVER_VERSION_NUM = "150000"

# PostgreSQL settings a client may SET or SHOW, with their values here. The keys are lower case
# (PostgreSQL's setting names are case-insensitive); NAMES keeps PostgreSQL's spelling.
DEFAULTS = {
    "server_version": SERVER_VERSION,
    "server_version_num": SERVER_VERSION_NUM,
    "server_encoding": "UTF8",
    "client_encoding": "UTF8",
    "datestyle": "ISO, MDY",
    "intervalstyle": "postgres",
    "timezone": "UTC",
    "integer_datetimes": "on",
    "standard_conforming_strings": "on",
    "application_name": "",
    "extra_float_digits": "1",
    # DuckDB's transactions see a snapshot: PostgreSQL's REPEATABLE READ.
    "transaction_isolation": "repeatable read",
    "default_transaction_isolation": "repeatable read",
    "transaction_read_only": "off",
    "default_transaction_read_only": "off",
    "statement_timeout": "0",
    "lock_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "client_min_messages": "notice",
    "bytea_output": "hex",
    "max_identifier_length": "63",
    "lc_collate": "C",
    "lc_ctype": "C",
    "lc_messages": "C",
    "lc_monetary": "C",
    "lc_numeric": "C",
    "lc_time": "C",
    "is_superuser": "off",
    "session_authorization": "",
    "jit": "off",
    "row_security": "on",
    "synchronous_commit": "on",
    "escape_string_warning": "on",
    "max_connections": "100",
    "in_hot_standby": "off",
    # sqlml's own: on, CREATE MODEL waits until the model is READY (or FAILED), sending its
    # progress as NOTICEs; a cancel stops the wait, not the training. Embedded: synchronous=.
    "sqlml.synchronous": "off",
}
_BOOLEANS = {"on": True, "true": True, "yes": True, "1": True, "off": False, "false": False,
             "no": False, "0": False}  # fmt: skip
NAMES = {"datestyle": "DateStyle", "intervalstyle": "IntervalStyle", "timezone": "TimeZone"}
# The settings PostgreSQL reports to the client (ParameterStatus) at start and on change.
REPORTED = (
    "server_version",
    "server_encoding",
    "client_encoding",
    "application_name",
    "datestyle",
    "intervalstyle",
    "timezone",
    "integer_datetimes",
    "standard_conforming_strings",
    "is_superuser",
    "session_authorization",
    "in_hot_standby",
)
# Fixed by the server: a SET of these is accepted only to the value they have.
_FIXED = {"server_version", "server_version_num", "server_encoding", "integer_datetimes"}
_ENCODINGS = {"utf8", "utf-8", "unicode"}


def version_text(engine_version: str = "") -> str:
    on = f", on DuckDB {engine_version}" if engine_version else ""
    return f"PostgreSQL {SERVER_VERSION_NUM[:2]}.0 (sqlml {sqlml.__version__}{on})"


class Settings:
    """One session's PostgreSQL settings."""

    def __init__(self, user: str, superuser: bool, application_name: str = ""):
        self.values = dict(DEFAULTS)
        self.values["session_authorization"] = user
        self.values["is_superuser"] = "on" if superuser else "off"
        self.values["application_name"] = application_name
        self.changed: list[tuple[str, str]] = []  # reported settings SET since last asked
        self.version = 0  # counts the SETs, so the engine's copy is refreshed when stale

    def reported(self) -> list[tuple[str, str]]:
        return [(NAMES.get(k, k), self.values[k]) for k in REPORTED]

    def set(self, name: str, value: str | None) -> None:
        key = name.lower()
        value = DEFAULTS[key] if value is None else value
        if key == "client_encoding" and value.lower() not in _ENCODINGS:
            raise sqlml.errors.FeatureNotSupported(
                f"client_encoding {value!r} is not supported: this server speaks UTF8 only."
            )
        if key == "client_encoding" or key in _FIXED:
            value = DEFAULTS[key]
        if key == "sqlml.synchronous":
            flag = _BOOLEANS.get(value.strip("'").lower())
            if flag is None:
                raise sqlml.errors.InvalidSetting(
                    f"SET sqlml.synchronous takes on or off, not {value}."
                )
            value = "on" if flag else "off"
        self.values[key] = value
        self.version += 1
        if key in REPORTED:
            self.changed.append((NAMES.get(key, key), value))

    @property
    def synchronous(self) -> bool:
        return self.values["sqlml.synchronous"] == "on"

    def take_changes(self) -> list[tuple[str, str]]:
        changed, self.changed = self.changed, []
        return changed


def _words(tokens: tuple[Token, ...]) -> list[str]:
    return [t.text.upper() if is_word(t) else t.text for t in tokens]


def _value_text(tokens: tuple[Token, ...]) -> str:
    """A SET value as PostgreSQL records it: words and strings joined by ', '."""
    parts, current = [], []
    for tok in tokens:
        if tok.token_type == TokenType.COMMA:
            parts.append("".join(current))
            current = []
        elif tok.token_type in STRING_TYPES:
            current.append(tok.text)
        else:
            current.append(tok.text)
    parts.append("".join(current))
    return ", ".join(p for p in parts if p)


@dataclass
class Answer:
    """A statement the server answers itself: ``run(params)`` gives its result; ``param_oids``
    and the result's column names and types are known before it runs (for Describe)."""

    run: Callable[[list | None], StatementResult]
    param_oids: list[int] = field(default_factory=list)
    names: list[str] | None = None
    types: list[T.PgType] | None = None


def _rows(command: str, names: list[str], types: list[T.PgType], make) -> Answer:
    def run(params):
        columns = make(params)
        table = pa.table(dict(zip(names, columns, strict=True)))
        return StatementResult.of_table(command, table)

    return Answer(run, [], names, types)


def _done(command: str, action: Callable[[], None]) -> Answer:
    def run(params):
        action()
        return StatementResult(command)

    return Answer(run)


def recognize(tokens: tuple[Token, ...], settings: Settings) -> Answer | None:
    """The server's own answer to a SET, RESET or SHOW of a PostgreSQL setting, or to asyncpg's
    type introspection; None for any other statement (it goes to the engine)."""
    words = _words(tokens)
    if not words:
        return None
    head = words[0]
    if head == "SET":
        return _set(tokens[1:], words[1:], settings)
    if head == "RESET":
        tokens, words = _dotted(tokens[1:], words[1:])
        return None if len(words) != 1 else _reset(words[0].lower(), settings)
    if head == "SHOW":
        return _show(words[1:], settings)
    if words[:3] == ["WITH", "RECURSIVE", "TYPEINFO_TREE"]:
        return _asyncpg_types()
    return None


def _reset(key: str, settings: Settings) -> Answer | None:
    if key == "all":

        def reset_all():
            for name in list(settings.values):
                if name not in ("session_authorization", "is_superuser"):
                    settings.values[name] = DEFAULTS[name]

        return _done("RESET", reset_all)
    if key in DEFAULTS:
        return _done("RESET", lambda: settings.set(key, None))
    return None


def _dotted(tokens, words: list[str]) -> tuple:
    """``sqlml . synchronous ...`` read as one setting name (PostgreSQL's custom settings)."""
    if len(words) >= 3 and words[1] == "." and is_word(tokens[2]):
        return tokens[2:], [f"{words[0]}.{words[2]}", *words[3:]]
    return tokens, words


def _set(tokens, words: list[str], settings: Settings) -> Answer | None:
    if words[:1] in (["SESSION"], ["LOCAL"]) and words[1:2] != ["CHARACTERISTICS"]:
        tokens, words = tokens[1:], words[1:]
    tokens, words = _dotted(tokens, words)
    if words[:1] == ["TRANSACTION"] or words[:2] == ["SESSION", "CHARACTERISTICS"]:
        return _done("SET", lambda: None)  # isolation levels: DuckDB has one
    if words[:2] == ["TIME", "ZONE"]:
        zone = _value_text(tokens[2:]).strip("'")
        return _done("SET", lambda: settings.set("timezone", zone))
    if len(words) < 3 or words[1] not in ("TO", "="):
        return None
    key = words[0].lower()
    if key not in DEFAULTS:
        return None
    value = _value_text(tokens[2:])
    new = None if value.upper() == "DEFAULT" else value
    return _done("SET", lambda: settings.set(key, new))


def _show(words: list[str], settings: Settings) -> Answer | None:
    if len(words) == 3 and words[1] == ".":
        words = [f"{words[0]}.{words[2]}"]
    name = "_".join(w.lower() for w in words)
    aliases = {"transaction_isolation_level": "transaction_isolation", "time_zone": "timezone"}
    key = aliases.get(name, name)
    if key not in settings.values:
        return None
    column = key if name in aliases else NAMES.get(key, key).lower()
    return _rows("SHOW", [column], [T.TEXT], lambda p: [[settings.values[key]]])


# -- asyncpg's type introspection ---------------------------------------------------------------

_TYPEINFO = [
    ("oid", T.OID), ("ns", T.NAME), ("name", T.NAME), ("kind", T.CHAR), ("basetype", T.OID),
    ("elemtype", T.OID), ("elemdelim", T.CHAR), ("range_subtype", T.OID),
    ("attrtypoids", T.array_of(T.OID)), ("attrnames", T.array_of(T.TEXT)), ("depth", T.INT4),
    ("basetype_name", T.TEXT), ("elemtype_name", T.TEXT), ("range_subtype_name", T.TEXT),
]  # fmt: skip


def _asyncpg_types() -> Answer:
    """asyncpg looks up every type it has no built-in codec for (arrays, for one) with a
    recursive query over pg_type, pg_range and pg_attribute; the types this server sends are
    few and fixed, so it answers from its own table."""
    names = [n for n, _ in _TYPEINFO]
    types = [t for _, t in _TYPEINFO]

    def make(params):
        rows = []  # (depth, type, element type): an array's element one level down
        for oid in (params or [[]])[0] or []:
            t = T.BY_OID.get(oid)
            if t is not None:
                rows.append((0, t, t.element))
                if t.element is not None:
                    rows.append((1, t.element, None))
        rows.sort(key=lambda r: -r[0])  # asyncpg wants the deepest first
        return [
            pa.array([t.oid for _, t, _ in rows], pa.int64()),
            ["pg_catalog"] * len(rows),
            [t.name for _, t, _ in rows],
            ["b"] * len(rows),
            pa.array([None] * len(rows), pa.int64()),
            pa.array([e.oid if e else 0 for _, _, e in rows], pa.int64()),
            [","] * len(rows),
            pa.array([None] * len(rows), pa.int64()),
            pa.array([None] * len(rows), pa.list_(pa.int64())),
            pa.array([None] * len(rows), pa.list_(pa.string())),
            pa.array([d for d, _, _ in rows], pa.int32()),
            pa.array([None] * len(rows), pa.string()),
            [e.name if e else None for _, _, e in rows],
            pa.array([None] * len(rows), pa.string()),
        ]

    answer = _rows("SELECT", names, types, make)
    answer.param_oids = [T.array_of(T.OID).oid]
    return answer


_TRIGGER = re.compile(
    r"pg_catalog|_pg_expandarray|current_setting|::\s*(?:reg\w+|name|\"char\")\b|\bpg_\w+", re.I
)
_CATALOG = r"(?:pg_catalog\s*\.\s*)?"


def _rewrites(relations: tuple[str, ...]) -> list[tuple[re.Pattern, str]]:
    names = "|".join(relations)
    return [
        (re.compile(r"OPERATOR\s*\(\s*pg_catalog\s*\.\s*([^)\s]+)\s*\)", re.I), r"\1"),
        (re.compile(r"\s+COLLATE\s+pg_catalog\s*\.\s*\"?default\"?", re.I), ""),
        # 'name'::regclass is the relation's oid; an oid cast to regclass stays an oid
        (re.compile(rf"('(?:[^']|'')*')\s*::\s*{_CATALOG}regclass\b", re.I), r"sqlml_regclass(\1)"),
        (re.compile(rf"([\w.]+)\s*::\s*{_CATALOG}regtype\b", re.I), r"format_type(\1, NULL)"),
        (
            re.compile(
                rf"::\s*{_CATALOG}(?:regclass|regproc|regprocedure|regnamespace|regrole)\b", re.I
            ),
            "",
        ),
        (re.compile(rf"::\s*{_CATALOG}(?:name|\"char\")(?![\w\"])", re.I), "::VARCHAR"),
        (re.compile(rf"\b{_CATALOG}current_setting\s*\(", re.I), "sqlml_setting("),
        (
            re.compile(r"\binformation_schema\s*\.\s*_pg_expandarray\s*\(", re.I),
            "sqlml_expandarray(",
        ),
        (re.compile(r"\bpg_catalog\s*\.\s*(\w+)\s*\(", re.I), r"\1("),
        (re.compile(r"::\s*pg_catalog\s*\.\s*", re.I), "::"),
        (re.compile(rf"\bpg_catalog\s*\.\s*({names})\b", re.I), r"\1"),
    ]


class Rewriter:
    """Rewrites catalog queries for the session's engine and its emulated relations."""

    def __init__(self, relations: tuple[str, ...]):
        self.rules = _rewrites(relations) if relations else []

    def __call__(self, text: str) -> str:
        if not self.rules or not _TRIGGER.search(text):
            return text
        for pattern, replacement in self.rules:
            text = pattern.sub(replacement, text)
        return text
