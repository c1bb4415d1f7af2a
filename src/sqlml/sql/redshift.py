"""Redshift SQL as DuckDB's: sqlglot's Redshift reader and DuckDB writer, and our own rules.

sqlglot translates most of Redshift's functions and expressions (``NVL``, ``DECODE``,
``DATEADD``, ``DATEDIFF``, ``CONVERT_TIMEZONE``, ``TO_CHAR`` formats, ``LEN``, ``CHARINDEX``,
``TOP``, ``APPROXIMATE COUNT(DISTINCT ...)``, 0-based subscripts, ``::``). Our rules cover what
it leaves unreadable by DuckDB:

- table attributes that place data on a cluster (``DISTSTYLE``, ``DISTKEY``, ``SORTKEY``,
  ``BACKUP``, ``ENCODE``) are removed before sqlglot reads the statement, with a notice: one
  machine has no slices to distribute to, and DuckDB chooses its own compression;
- ``PRIMARY KEY``, ``UNIQUE`` and ``FOREIGN KEY`` are removed with a notice, since Redshift does
  not enforce them and DuckDB would (a tutorial's data may repeat a "key");
- ``IDENTITY(seed, step)`` becomes a sequence and a default;
- ``VARCHAR(MAX)`` and the character types become ``VARCHAR``, ``SUPER`` becomes ``JSON``;
  ``GEOMETRY``, ``GEOGRAPHY`` and ``HLLSKETCH`` are refused;
- ``#name`` temporary tables keep their name (quoted);
- PartiQL's ``FROM t p, p.a.b AS x AT i`` unnests with 0-based positions;
- ``TRUNC(timestamp)``, ``STRTOL``, ``OCTET_LENGTH``, ``RATIO_TO_REPORT``,
  ``JSON_EXTRACT_ARRAY_ELEMENT_TEXT``, ``IS_ARRAY``/``IS_OBJECT``, ``SET search_path``.

Functions DuckDB has no equivalent for, but which can be written in SQL, are macros created when
a session starts (:data:`SETUP`). A statement sqlglot still cannot read is handed on as written,
so that the engine's own message names what is wrong.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.dialects.redshift import Redshift
from sqlglot.tokens import TokenType

from sqlml.errors import FeatureNotSupported

# sqlglot warns when it reads a statement as an opaque command or drops a property it cannot
# write; both cases are handled here, and the warnings would only reach a server's log as noise.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_FORMATS = (
    "['%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M', '%m/%d/%Y', '%m-%d-%Y', '%Y/%m/%d %H:%M:%S', "
    "'%Y/%m/%d', '%d-%b-%Y', '%d %b %Y', '%b %d %Y', '%B %d, %Y', '%Y%m%d']"
)


class SqlmlRedshift(Redshift):
    """sqlglot's Redshift, but TO_CHAR keeps its format as written: sqlglot maps only some
    upper-case patterns (not ``hh24``, ``q``, ``w``, and ``D`` as ISO's Monday-first day), so
    :func:`_to_char` translates the whole format."""

    class Parser(Redshift.Parser):
        FUNCTIONS = {
            **Redshift.Parser.FUNCTIONS,
            "TO_CHAR": lambda args: exp.Anonymous(this="TO_CHAR", expressions=args),
        }


# Run once on each DuckDB connection of a Redshift session. ``public`` is Redshift's default
# schema: tables created without a schema go there, and ``main`` (where a database made by a
# DuckDB session keeps its tables) stays visible. Macros overload by argument type.
SETUP = (
    "CREATE SCHEMA IF NOT EXISTS public",
    "SET search_path = 'public,main'",
    "CREATE OR REPLACE TEMP MACRO redshift_trunc"
    "(x TIMESTAMP) AS CAST(x AS DATE), (x TIMESTAMPTZ) AS CAST(x AS DATE), (x DATE) AS x, "
    "(x DOUBLE) AS trunc(x), (x DECIMAL) AS trunc(x), (x BIGINT) AS x",
    # Redshift reads dates and timestamps in more forms than ISO (12/18/2011 12:25, say).
    "CREATE OR REPLACE TEMP MACRO redshift_date"
    f"(x VARCHAR) AS COALESCE(TRY_CAST(x AS DATE), CAST(TRY_STRPTIME(x, {_FORMATS}) AS DATE), "
    "CAST(x AS DATE)), (x) AS CAST(x AS DATE)",
    "CREATE OR REPLACE TEMP MACRO redshift_timestamp"
    f"(x VARCHAR) AS COALESCE(TRY_CAST(x AS TIMESTAMP), TRY_STRPTIME(x, {_FORMATS}), "
    "CAST(x AS TIMESTAMP)), (x) AS CAST(x AS TIMESTAMP)",
    "CREATE OR REPLACE TEMP MACRO strtol(s, base) AS list_reduce(list_transform("
    "string_split(lower(s), ''), lambda ch: instr('0123456789abcdefghijklmnopqrstuvwxyz', ch) "
    "- 1), lambda acc, d: acc * base + d, 0::BIGINT)",
)

# Statements whose every Redshift form sqlglot reads; others (DuckDB's own SUMMARIZE, PRAGMA,
# ATTACH ..., and what sqlglot reads only as an opaque command) pass unchanged.
_TRANSLATED = (
    exp.Query,
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Merge,
    exp.TruncateTable,
)

_REFUSED_TYPES = {
    exp.DataType.Type.GEOMETRY: "GEOMETRY",
    exp.DataType.Type.GEOGRAPHY: "GEOGRAPHY",
    exp.DataType.Type.HLLSKETCH: "HLLSKETCH",
}
_VARCHAR = exp.DataType(this=exp.DataType.Type.VARCHAR)
_JSON = exp.DataType(this=exp.DataType.Type.JSON)
_TEXT_TYPES = {
    exp.DataType.Type.VARCHAR,
    exp.DataType.Type.NVARCHAR,
    exp.DataType.Type.CHAR,
    exp.DataType.Type.NCHAR,
    exp.DataType.Type.TEXT,
    exp.DataType.Type.BPCHAR,
}

# Table attributes (after the column list) and column attributes that only place data on a
# cluster. Each entry: the words that open it, then what follows ("(" a parenthesised list,
# "word" one word, "" nothing).
_TABLE_ATTRIBUTES = (
    (("DISTSTYLE",), "word"),
    (("DISTKEY",), "("),
    (("COMPOUND", "SORTKEY"), "("),
    (("INTERLEAVED", "SORTKEY"), "("),
    (("SORTKEY", "AUTO"), ""),
    (("SORTKEY",), "("),
    (("BACKUP",), "word"),
    (("ENCODE", "AUTO"), ""),
)
_COLUMN_ATTRIBUTES = (
    (("ENCODE",), "word"),
    (("DISTKEY",), ""),
    (("SORTKEY",), ""),
)


_CREATE_TABLE = re.compile(r"\s*CREATE\b[^(]*?\bTABLE\b", re.I)


@dataclass
class Translation:
    sql: str
    notices: list[str] = field(default_factory=list)


# Redshift statements with no counterpart here: refused by name rather than by a parser message.
_UNSUPPORTED_STATEMENTS = (
    (r"CREATE\s+EXTERNAL\s+(SCHEMA|TABLE|FUNCTION)", "CREATE EXTERNAL", "Redshift Spectrum"),
    (r"CREATE\s+LIBRARY", "CREATE LIBRARY", "Python libraries for UDFs"),
    (r"(CREATE|ALTER|DROP)\s+DATASHARE", "DATASHARE", "data sharing"),
    (
        r"CREATE\s+(OR\s+REPLACE\s+)?FUNCTION\b.*LANGUAGE\s+plpythonu",
        "CREATE FUNCTION ... LANGUAGE plpythonu",
        "Python UDFs",
    ),
)


def to_duckdb(sql: str) -> Translation:
    """One non-ML statement in Redshift's SQL, as DuckDB's, and notices of what was ignored."""
    for pattern, name, what in _UNSUPPORTED_STATEMENTS:
        if re.match(pattern, sql.lstrip(), re.I | re.S):
            raise FeatureNotSupported(
                f"{name} is not supported: sqlml has no {what}. Run the statements it holds "
                "directly, or keep this step in Redshift."
            )
    notices: list[str] = []
    text = _strip_cluster_attributes(sql, notices) if _CREATE_TABLE.match(sql) else sql
    try:
        tree = sqlglot.parse_one(text, read=SqlmlRedshift)
    except sqlglot.errors.SqlglotError:
        tree = None
    if not isinstance(tree, _TRANSLATED):  # None, or an opaque command
        search_path = _search_path(sql)
        return Translation(search_path if search_path else text, notices)
    before: list[str] = []
    _name_columns(tree)
    if isinstance(tree, exp.Create):
        _create_table(tree, before, notices)
    # One walk, in place (a copying walk costs as much as sqlglot's whole parse).
    tree = tree.transform(_expression, copy=False)
    out = tree.sql(dialect="duckdb")
    return Translation("; ".join([*before, out]), notices)


# -- before sqlglot: cluster attributes -------------------------------------------------------


def _strip_cluster_attributes(sql: str, notices: list[str]) -> str:
    """``sql`` without a CREATE TABLE's distribution, sort and compression clauses."""
    try:
        tokens = sqlglot.Dialect.get_or_raise("redshift").tokenize(sql)
    except sqlglot.errors.SqlglotError:
        return sql
    words = [t.text.upper() if t.token_type != TokenType.STRING else "" for t in tokens]
    cut: list[tuple[int, int]] = []
    ignored: list[str] = []
    depth, i = 0, 0
    while i < len(tokens):
        kind = tokens[i].token_type
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            depth -= 1
        elif depth <= 1 and words[i] in (
            "DISTSTYLE",
            "DISTKEY",
            "SORTKEY",
            "COMPOUND",
            "INTERLEAVED",
            "BACKUP",
            "ENCODE",
        ):
            table = depth == 0
            span = _attribute_span(
                words, tokens, i, _TABLE_ATTRIBUTES if table else _COLUMN_ATTRIBUTES
            )
            if span is not None:
                end = span
                cut.append((tokens[i].start, tokens[end].end + 1))
                name = (
                    " ".join(words[i : i + 2])
                    if words[i] in ("COMPOUND", "INTERLEAVED")
                    else words[i]
                )
                if words[i] == "DISTSTYLE":
                    name = f"DISTSTYLE {words[i + 1]}"
                if name not in ignored:
                    ignored.append(name)
                i = end + 1
                continue
        i += 1
    if not cut:
        return sql
    notices.append(
        f"{', '.join(ignored)} {'is' if len(ignored) == 1 else 'are'} accepted and ignored: "
        "the data is on one machine, and DuckDB chooses its own compression."
    )
    out, last = [], 0
    for start, end in cut:
        out.append(sql[last:start])
        last = end
    out.append(sql[last:])
    return "".join(out)


def _attribute_span(words, tokens, i, table) -> int | None:
    """The index of the last token of the attribute starting at ``i``, if one does."""
    for opening, follows in table:
        if tuple(words[i : i + len(opening)]) != opening:
            continue
        j = i + len(opening)
        if follows == "":
            return j - 1
        if follows == "word":
            return j if j < len(tokens) and tokens[j].token_type != TokenType.L_PAREN else None
        if j < len(tokens) and tokens[j].token_type == TokenType.L_PAREN:
            depth = 0
            for k in range(j, len(tokens)):
                depth += tokens[k].token_type == TokenType.L_PAREN
                depth -= tokens[k].token_type == TokenType.R_PAREN
                if depth == 0:
                    return k
        return None
    return None


def _search_path(sql: str) -> str | None:
    """``SET search_path TO a, b`` (which sqlglot reads only as a command) as DuckDB's."""
    match = re.fullmatch(r"\s*SET\s+search_path\s*(?:TO|=)\s*(.+?)\s*;?\s*", sql, re.I | re.S)
    if not match:
        return None
    schemas = [s.strip().strip("'\"") for s in match.group(1).split(",")]
    schemas = [s for s in schemas if s and s.lower() != "$user"]
    return f"SET search_path = '{','.join(schemas) or 'public'}'"


# -- on sqlglot's tree --------------------------------------------------------------------------


def _data_type(node: exp.DataType) -> exp.Expression:
    if node.this in _REFUSED_TYPES:
        raise FeatureNotSupported(
            f"The {_REFUSED_TYPES[node.this]} type is not supported: sqlml has no spatial or "
            "sketch types. Keep the value as VARCHAR (well-known text) or leave the column out."
        )
    if node.this in _TEXT_TYPES:
        return _VARCHAR.copy()
    if node.this == exp.DataType.Type.SUPER:
        return _JSON.copy()
    return node


# Operators and functions whose first operand Redshift converts to text.
_TEXT_OPERANDS = (exp.Like, exp.ILike, exp.Pad, exp.Left, exp.Right, exp.Length)

_KEY_CONSTRAINTS = (
    exp.PrimaryKeyColumnConstraint,
    exp.UniqueColumnConstraint,
    exp.Reference,
)
_CONSTRAINT_NAMES = {
    exp.PrimaryKeyColumnConstraint: "PRIMARY KEY",
    exp.PrimaryKey: "PRIMARY KEY",
    exp.UniqueColumnConstraint: "UNIQUE",
    exp.Reference: "REFERENCES",
    exp.ForeignKey: "FOREIGN KEY",
}


def _create_table(tree: exp.Create, before: list[str], notices: list[str]) -> None:
    schema = tree.this if isinstance(tree.this, exp.Schema) else None
    if schema is None or tree.args.get("kind", "").upper() != "TABLE":
        return
    table = schema.this
    name = table.name
    if name.startswith("#"):
        tree.set("temporary", True)
    likes = [e for e in schema.expressions if isinstance(e, exp.LikeProperty)]
    if likes:
        # CREATE TABLE t (LIKE other): DuckDB copies the columns by an empty CTAS.
        source = likes[0].this
        tree.set("this", table)
        tree.set("expression", exp.select("*").from_(source.copy()).limit(0))
        return
    dropped = []
    not_null = set()  # a primary key's columns, which stay NOT NULL as in PostgreSQL
    for item in list(schema.expressions):
        if isinstance(item, (exp.PrimaryKey, exp.ForeignKey, exp.UniqueColumnConstraint)):
            dropped.append(_CONSTRAINT_NAMES[type(item)])
            if isinstance(item, exp.PrimaryKey):
                not_null.update(e.name.lower() for e in item.expressions)
            item.pop()
    for item in schema.expressions:
        if not isinstance(item, exp.ColumnDef):
            continue
        for constraint in list(item.args.get("constraints") or []):
            kind = constraint.args.get("kind")
            if isinstance(kind, exp.PrimaryKeyColumnConstraint):
                not_null.add(item.name.lower())
            if isinstance(kind, _KEY_CONSTRAINTS):
                dropped.append(_CONSTRAINT_NAMES[type(kind)])
                constraint.pop()
            elif isinstance(kind, exp.GeneratedAsIdentityColumnConstraint):
                sequence = f"{name.lstrip('#')}_{item.name}_seq"
                if table.db:
                    sequence = f"{table.db}.{sequence}"
                start = kind.args.get("start") or exp.Literal.number(1)
                step = kind.args.get("increment") or exp.Literal.number(1)
                before.append(
                    f"CREATE SEQUENCE IF NOT EXISTS {sequence} START {start.sql()} "
                    f"INCREMENT {step.sql()}"
                )
                constraint.set(
                    "kind",
                    exp.DefaultColumnConstraint(
                        this=exp.func("nextval", exp.Literal.string(sequence))
                    ),
                )
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef) and item.name.lower() in not_null:
            kinds = [c.args.get("kind") for c in item.args.get("constraints") or []]
            if not any(isinstance(k, exp.NotNullColumnConstraint) for k in kinds):
                item.append("constraints", exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
    if dropped:
        names = sorted(set(dropped))
        notices.append(
            f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} accepted and not enforced, "
            "as in Redshift."
        )


def _expression(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.DataType):
        return _data_type(node)
    if isinstance(node, exp.Join) and isinstance(node.this, exp.AtIndex):
        _partiql_unnest(node)
        return node
    if (
        isinstance(node, exp.Bracket)
        and not node.args.get("json_access")
        and not node.args.get("offset")
        and len(node.expressions) == 1
    ):
        # SUPER arrays count from 0, DuckDB's lists from 1. sqlglot moves constant subscripts
        # only; a column's (PartiQL's AT index) moves here, and the node says it is done.
        index = node.expressions[0]
        if index.is_int:
            shifted = exp.Literal.number(int(index.name) + 1)
        else:
            shifted = exp.Add(this=exp.Paren(this=index.copy()), expression=exp.Literal.number(1))
        node.set("expressions", [shifted])
        node.set("offset", 1)
        return node
    if isinstance(node, exp.Table) and node.name.startswith("#"):
        node.set("this", exp.to_identifier(node.name, quoted=True))
        return node
    if isinstance(node, exp.Identifier) and node.this.startswith("#") and not node.quoted:
        return exp.to_identifier(node.this, quoted=True)
    if isinstance(node, exp.Cast) and not isinstance(node, exp.TryCast):
        target = node.to.this
        if target == exp.DataType.Type.DATE:
            return exp.func("redshift_date", node.this)
        if target == exp.DataType.Type.TIMESTAMP:
            return exp.func("redshift_timestamp", node.this)
    if isinstance(node, exp.Window) and node.find(exp.Rand):
        _stable_shuffle(node)
        return node
    if isinstance(node, exp.Trunc) and node.args.get("decimals") is None:
        # TRUNC(timestamp) is its date, TRUNC(number) the number cut to an integer; which one
        # only the argument's type says, so an overloaded macro (SETUP) chooses.
        return exp.func("redshift_trunc", node.this)
    if isinstance(node, _TEXT_OPERANDS) and not (
        node.this.is_string or isinstance(node.this, exp.Cast)
    ):
        # Redshift reads a number or a timestamp as text where text is wanted:
        # LPAD(month, 2, '0'), trip_time LIKE '2018-11%'.
        node.set("this", exp.Cast(this=node.this, to=_VARCHAR.copy()))
        return node
    if isinstance(node, exp.FromBase):
        return exp.func("strtol", node.this, node.expression)
    if isinstance(node, exp.Anonymous):
        name = node.name.upper()
        args = node.expressions
        if name == "TO_CHAR" and len(args) == 2 and args[1].is_string:
            return _to_char(args[0], args[1].name)
        if name == "OCTET_LENGTH" and len(args) == 1:
            return exp.func("strlen", args[0])
        if name == "OBJECT":  # SUPER's OBJECT(key, value, ...): an external model's config
            return exp.func("json_object", *args)
        if name == "JSON_EXTRACT_ARRAY_ELEMENT_TEXT" and len(args) == 2:
            path = exp.DPipe(
                this=exp.DPipe(
                    this=exp.Literal.string("$["),
                    expression=exp.Cast(this=args[1], to=_VARCHAR.copy()),
                ),
                expression=exp.Literal.string("]"),
            )
            return exp.func("json_extract_string", args[0], path)
        if name in ("IS_ARRAY", "IS_OBJECT", "IS_SCALAR") and len(args) == 1:
            kind = exp.func("json_type", exp.func("to_json", args[0]))
            if name == "IS_SCALAR":
                return exp.Not(
                    this=exp.In(
                        this=kind,
                        expressions=[exp.Literal.string("ARRAY"), exp.Literal.string("OBJECT")],
                    )
                )
            return exp.EQ(this=kind, expression=exp.Literal.string(name[3:]))
    if (
        isinstance(node, exp.Window)
        and isinstance(node.this, exp.Anonymous)
        and node.this.name.upper() == "RATIO_TO_REPORT"
        and len(node.this.expressions) == 1
    ):
        value = node.this.expressions[0]
        total = node.copy()
        total.set("this", exp.Sum(this=value.copy()))
        total.set("order", None)
        return exp.Div(
            this=exp.Cast(this=value, to=exp.DataType(this=exp.DataType.Type.DOUBLE)),
            expression=total,
        )
    return node


# Redshift's datetime format patterns, longest first: a strftime code, or a function of the
# value for what strftime has no code for. Matched without regard to case; MONTH, MON, DAY and
# DY follow the pattern's case (MON: JAN, Mon: Jan, mon: jan).
_PATTERNS = (
    ("HH24", "%H"),
    ("HH12", "%I"),
    ("IYYY", "isoyear"),
    ("YYYY", "%Y"),
    ("MONTH", "%B"),
    ("A.M.", "%p"),
    ("P.M.", "%p"),
    ("YYY", "yyy"),
    ("MON", "%b"),
    ("DAY", "%A"),
    ("DDD", "%j"),
    ("HH", "%I"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("MS", "%g"),
    ("US", "%f"),
    ("YY", "%y"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("DY", "%a"),
    ("IW", "%V"),
    ("ID", "isodow"),
    ("WW", "ww"),
    ("AM", "%p"),
    ("PM", "%p"),
    ("TZ", "%Z"),
    ("Q", "q"),
    ("W", "w"),
    ("D", "d"),
    ("Y", "y"),
)


def _to_char(value: exp.Expression, fmt: str) -> exp.Expression:
    """TO_CHAR(value, 'format') as DuckDB's strftime, with the parts it has no code for."""
    pieces: list[exp.Expression] = []
    codes: list[str] = []

    def flush():
        if codes:
            pieces.append(exp.func("strftime", value.copy(), exp.Literal.string("".join(codes))))
            codes.clear()

    i = 0
    while i < len(fmt):
        if fmt[i] == '"':  # quoted text is copied
            end = fmt.find('"', i + 1)
            end = len(fmt) if end < 0 else end
            codes.append(fmt[i + 1 : end].replace("%", "%%"))
            i = end + 1
            continue
        for pattern, code in _PATTERNS:
            written = fmt[i : i + len(pattern)]
            if written.upper() != pattern:
                continue
            if code.startswith("%"):
                if pattern in ("MONTH", "MON", "DAY", "DY") and written != written.title():
                    flush()
                    case = "upper" if written.isupper() else "lower"
                    pieces.append(
                        exp.func(case, exp.func("strftime", value.copy(), exp.Literal.string(code)))
                    )
                else:
                    codes.append(code)
            else:
                flush()
                pieces.append(_format_part(value, code))
            i += len(pattern)
            break
        else:
            codes.append(fmt[i].replace("%", "%%"))
            i += 1
    flush()
    out = pieces[0] if pieces else exp.Literal.string("")
    for piece in pieces[1:]:
        out = exp.DPipe(this=out, expression=piece)
    return out


def _format_part(value: exp.Expression, code: str) -> exp.Expression:
    def text(e):
        return exp.Cast(this=e, to=_VARCHAR.copy())

    v = value.copy()
    if code == "q":
        return text(exp.func("quarter", v))
    if code == "d":  # Sunday is 1
        return text(exp.Add(this=exp.func("dayofweek", v), expression=exp.Literal.number(1)))
    if code == "isodow":
        return text(exp.func("isodow", v))
    if code == "isoyear":
        return text(exp.func("isoyear", v))
    if code == "w":  # week of the month, from its first day
        return text(_week(exp.func("day", v)))
    if code == "ww":  # week of the year, from January 1
        return exp.func(
            "lpad",
            text(_week(exp.func("dayofyear", v))),
            exp.Literal.number(2),
            exp.Literal.string("0"),
        )
    digits = 3 if code == "yyy" else 1
    year = exp.func("strftime", v, exp.Literal.string("%Y"))
    return exp.func("right", year, exp.Literal.number(digits))


def _week(day: exp.Expression) -> exp.Expression:
    """(day - 1) // 7 + 1: the week that day falls in, counted from day 1."""
    start = exp.Paren(this=exp.Sub(this=day, expression=exp.Literal.number(1)))
    weeks = exp.Paren(this=exp.IntDiv(this=start, expression=exp.Literal.number(7)))
    return exp.Add(this=weeks, expression=exp.Literal.number(1))


def _stable_shuffle(window: exp.Window) -> None:
    """``ROW_NUMBER() OVER (ORDER BY RANDOM())``, the tutorials' shuffle before a split: DuckDB
    refuses a volatile window order, so the rows are ordered by a hash of the query's columns
    instead, a shuffle as good for a split (and the same at every run)."""
    select = window.find_ancestor(exp.Select)
    columns = []
    if select is not None:
        for item in select.expressions:
            if item is window or item.find(exp.Window):
                continue
            columns.extend(c.copy() for c in item.find_all(exp.Column))
    for rand in list(window.find_all(exp.Rand)):
        rand.replace(exp.func("hash", *columns) if columns else exp.Literal.number(0))


def _output_name(node: exp.Expression) -> str:
    """The name PostgreSQL (and so Redshift) gives an unnamed result column."""
    while isinstance(node, (exp.Cast, exp.Paren)) and not isinstance(node.this, exp.Literal):
        node = node.this
    if isinstance(node, exp.Bracket):
        return _output_name(node.this)
    if isinstance(node, (exp.Column, exp.Dot)):
        return node.name or "?column?"
    if isinstance(node, exp.Case):
        return "case"
    if isinstance(node, exp.Count):
        return "count"
    if isinstance(node, exp.Window):
        return _output_name(node.this)
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    if isinstance(node, exp.Pad):
        return "lpad" if node.args.get("is_left") else "rpad"
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return "?column?"


def _name_columns(tree: exp.Expression) -> None:
    """Name the result columns of the statement's outer query as Redshift does (``f`` for
    ``f(x)``, ``labels`` for ``p.labels[0]``), where DuckDB would name them by their text."""
    query = tree.expression if isinstance(tree, exp.Create) else tree
    while isinstance(query, exp.SetOperation):
        query = query.this
    if not isinstance(query, exp.Select):
        return
    for n, item in enumerate(query.expressions):
        if isinstance(item, (exp.Alias, exp.Star, exp.Column)):
            continue
        query.expressions[n] = exp.alias_(item, _output_name(item), quoted=True)
        query.expressions[n].parent = query


def _partiql_unnest(join: exp.Join) -> None:
    """``FROM t p, p.a.b AS x AT i``: each element x of the array at p.a.b, with its 0-based
    position i, as a lateral subquery (DuckDB's UNNEST and GENERATE_SUBSCRIPTS)."""
    at = join.this
    if not isinstance(at.this, exp.Alias):
        return
    array, element, index = at.this.this, at.this.alias, at.expression.name
    inner = exp.select(
        exp.alias_(exp.Unnest(expressions=[array.copy()]), element, quoted=False),
        exp.alias_(
            exp.Sub(
                this=exp.func("generate_subscripts", array.copy(), exp.Literal.number(1)),
                expression=exp.Literal.number(1),
            ),
            index,
        ),
    )
    alias = exp.TableAlias(this=exp.to_identifier(f"partiql_{element}"))
    join.set("this", exp.Subquery(this=inner, alias=alias))
