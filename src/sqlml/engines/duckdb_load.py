"""DuckDB's side of COPY and UNLOAD: local files into a table, a query's rows into files.

A COPY stages every file in a temporary table of text values (``__file``, ``__row``, one
column per target column), converts each value to its column's type with ``TRY_CAST`` (or the
statement's date and time formats), reports the rows that do not fit (too many or too few
fields: DuckDB's reject tables, with their line; values that do not convert: the staged row),
and inserts the rest in one statement, so the files load together or not at all.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb

from sqlml.engines import duckdb_errors
from sqlml.engines.base import FileFormat, LoadOutcome, RejectedRow
from sqlml.errors import ColumnNotFound, SqlSyntaxError

SHOWN = 5  # rejected rows reported


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def target_columns(
    con, table: str, columns: list[str] | None, explicit_ids: bool = False
) -> list[tuple[str, str]]:
    """(name, type) of the columns a COPY fills, in order. Without a column list, a column
    filled from a sequence (Redshift's IDENTITY, as the redshift dialect creates it) is left to
    its default, as Redshift's COPY does, unless ``explicit_ids`` (EXPLICIT_IDS)."""
    described = con.execute(f"DESCRIBE {table}").fetchall()
    names = [row[0] for row in described]
    types = {row[0]: str(row[1]) for row in described}
    if columns is None:
        return [
            (name, types[name])
            for name, _, _, _, default, *_ in described
            if explicit_ids or not str(default or "").lower().startswith("nextval(")
        ]
    by_lower = {n.lower(): n for n in names}
    missing = [c for c in columns if c.lower() not in by_lower]
    if missing:
        raise ColumnNotFound(
            f"COPY {table}: the table has no column {', '.join(missing)}; its columns are "
            f"{', '.join(names)}."
        )
    return [(by_lower[c.lower()], types[by_lower[c.lower()]]) for c in columns]


def load_files(
    con, table, columns, paths, fmt: FileFormat, max_errors: int, explicit_ids: bool = False
) -> LoadOutcome:
    try:
        targets = target_columns(con, table, columns, explicit_ids)
    except duckdb.Error as e:
        raise duckdb_errors.translate(e) from e
    tag = uuid.uuid4().hex[:12]
    stage, converted = f"sqlml_stage_{tag}", f"sqlml_converted_{tag}"
    rejected: list[RejectedRow] = []
    skipped: dict[int, list[int]] = {}  # file -> lines rejected for their shape
    try:
        for i, path in enumerate(paths):
            fatal = _stage(con, stage, i, path, fmt, targets, rejected, skipped)
            if fatal is not None:
                return LoadOutcome(0, [fatal], 1)
        con.execute(f"CREATE TEMP TABLE {converted} AS {_conversion(stage, targets, fmt)}")
        ok = " AND ".join(f"(v{k} IS NULL OR x{k} IS NOT NULL)" for k in range(len(targets)))
        bad = con.execute(f"SELECT count(*) FROM {converted} WHERE NOT ({ok})").fetchone()[0]
        total = len(rejected) + bad
        if bad:
            rejected += _bad_values(con, converted, ok, targets, fmt, skipped)
        rejected.sort(key=lambda r: (r.file, r.line))
        if total > max_errors:
            return LoadOutcome(0, rejected[:SHOWN], total)
        names = ", ".join(_ident(n) for n, _ in targets)
        values = ", ".join(f"x{k}" for k in range(len(targets)))
        rows = con.execute(
            f"INSERT INTO {table} ({names}) SELECT {values} FROM {converted} WHERE {ok} "
            "ORDER BY __file, __row"
        ).fetchone()[0]
        return LoadOutcome(int(rows), rejected[:SHOWN], total)
    except duckdb.Error as e:
        raise duckdb_errors.translate(e) from e
    finally:
        _drop(con, stage, converted)


def _drop(con, *tables: str) -> None:
    """Drop the temporary tables of a COPY. In a transaction that the failed COPY aborted they
    cannot be dropped: they go with the ROLLBACK, and the COPY's error is what is reported."""
    for table in tables:
        try:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        except duckdb.Error:
            return


def _stage(con, stage, i, path, fmt, targets, rejected, skipped) -> RejectedRow | None:
    """Append file ``i`` to the staging table; a file that cannot be read at all is returned
    as a rejected row at line 0."""
    verb = f"CREATE TEMP TABLE {stage} AS" if i == 0 else f"INSERT INTO {stage}"
    rejects = f"sqlml_rejects_{uuid.uuid4().hex[:12]}"
    try:
        if fmt.kind in ("text", "csv"):
            con.execute(f"{verb} {_delimited(path, i, fmt, len(targets), rejects)}")
            lines = con.execute(
                f"SELECT line, error_type, error_message FROM {rejects}_t ORDER BY line"
            ).fetchall()
            skipped[i] = [line for line, _, _ in lines]
            rejected += [
                RejectedRow(i, line, _shape(kind, message)) for line, kind, message in lines
            ]
            return None
        source = _reader(path, fmt)
        found = con.sql(f"SELECT * FROM {source} LIMIT 0")
        select = _pick(list(found.columns), [str(t) for t in found.types], targets, fmt)
        if isinstance(select, str):
            return RejectedRow(i, 0, select)
        con.execute(
            f"{verb} SELECT {i} AS __file, row_number() OVER () AS __row, "
            f"{', '.join(select)} FROM {source}"
        )
        return None
    except (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException) as e:
        return RejectedRow(i, 0, duckdb_errors.text(e).split("\n")[0])
    finally:
        _drop(con, f"{rejects}_t", f"{rejects}_s")


def _delimited(path: Path, i: int, fmt: FileFormat, count: int, rejects: str) -> str:
    columns = "{" + ", ".join(f"'c{k}': 'VARCHAR'" for k in range(count)) + "}"
    options = [
        "header = false",
        f"skip = {fmt.header}",
        f"delim = {_literal(fmt.delimiter)}",
        f"quote = {_literal(fmt.quote or '')}",
        f"escape = {_literal(fmt.escape or '')}",
        f"columns = {columns}",
        "auto_detect = false",
        "strict_mode = true",
        f"null_padding = {str(fmt.fill_record).lower()}",
        f"nullstr = {_literal(fmt.null)}",
        "allow_quoted_nulls = false",
        "ignore_errors = true",
        "store_rejects = true",
        f"rejects_table = '{rejects}_t'",
        f"rejects_scan = '{rejects}_s'",
        "parallel = false",
        f"compression = {_literal(fmt.compression or 'none')}",
    ]
    values = ", ".join(f"c{k}" for k in range(count))
    return (
        f"SELECT {i} AS __file, row_number() OVER () AS __row, {values} "
        f"FROM read_csv({_literal(str(path))}, {', '.join(options)})"
    )


def _reader(path: Path, fmt: FileFormat) -> str:
    if fmt.kind == "parquet":
        return f"read_parquet({_literal(str(path))})"
    compression = _literal(fmt.compression or "none")
    return f"read_json({_literal(str(path))}, format = 'auto', compression = {compression})"


def _pick(names, types, targets, fmt: FileFormat) -> list[str] | str:
    """The staged columns' expressions: Parquet's columns by position, JSON's keys by name (a
    key no record has is NULL); a reason when the file does not fit."""

    def text(name: str, sql_type: str) -> str:
        nested = sql_type.startswith(("STRUCT", "MAP")) or sql_type.endswith("]")
        return (
            f"CAST(to_json({_ident(name)}) AS VARCHAR)"
            if nested
            else f"CAST({_ident(name)} AS VARCHAR)"
        )

    if fmt.kind == "parquet":
        if len(names) != len(targets):
            return (
                f"the file has {len(names)} column{'s' * (len(names) != 1)} and the table "
                f"takes {len(targets)} ({', '.join(n for n, _ in targets)})"
            )
        return [f"{text(n, t)} AS c{k}" for k, (n, t) in enumerate(zip(names, types, strict=True))]
    by_name = {n: t for n, t in zip(names, types, strict=True)}
    by_lower = {n.lower(): n for n in names}
    out = []
    for k, (target, _) in enumerate(targets):
        key = (
            target
            if target in by_name
            else by_lower.get(target.lower())
            if fmt.json_ignorecase
            else None
        )
        out.append(
            f"{text(key, by_name[key])} AS c{k}" if key else f"CAST(NULL AS VARCHAR) AS c{k}"
        )
    return out


def _shape(kind: str, message: str) -> str:
    expected = message.split("Expected Number of Columns:")[-1].strip()
    if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
        found = expected.split("Found:")
        if len(found) == 2:
            fields, wanted = found[1].strip(), found[0].strip()
            return f"the line has {fields} field(s) where {wanted} are expected"
    return message.split("\n")[0]


_TEXT_TYPES = ("VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR")


def _conversion(stage: str, targets, fmt: FileFormat) -> str:
    parts = []
    for k, (_, sql_type) in enumerate(targets):
        value, converted = _convert(f"c{k}", sql_type, fmt)
        parts.append(f"{value} AS v{k}, {converted} AS x{k}")
    return f"SELECT __file, __row, {', '.join(parts)} FROM {stage}"


def _convert(src: str, sql_type: str, fmt: FileFormat) -> tuple[str, str]:
    """(the value as read, after NULL rules; the value as the column's type, NULL when it does
    not convert)."""
    base = sql_type.upper().split("(")[0]
    if base in _TEXT_TYPES:
        value = f"trim({src})" if fmt.trim_blanks else src
        if fmt.blanks_as_null:
            value = f"CASE WHEN trim({value}) = '' THEN NULL ELSE {value} END"
        if fmt.empty_as_null:
            value = f"NULLIF({value}, '')"
        return value, value
    value = f"NULLIF(trim({src}), '')"  # an empty field of another type is NULL, as in Redshift
    if base == "DATE" and not fmt.date_format:
        return value, f"COALESCE(TRY_CAST({value} AS DATE), CAST({_auto(value)} AS DATE))"
    if base.startswith("TIMESTAMP") and not fmt.time_format:
        return (
            value,
            f"COALESCE(TRY_CAST({value} AS {sql_type}), CAST({_auto(value)} AS {sql_type}))",
        )
    if base == "DATE" and fmt.date_format:
        return value, f"CAST(TRY_STRPTIME({value}, {_literal(fmt.date_format)}) AS DATE)"
    if base.startswith("TIMESTAMP") and fmt.time_format == "epochsecs":
        return value, f"CAST(to_timestamp(TRY_CAST({value} AS DOUBLE)) AS {sql_type})"
    if base.startswith("TIMESTAMP") and fmt.time_format == "epochmillisecs":
        return value, f"CAST(epoch_ms(TRY_CAST({value} AS BIGINT)) AS {sql_type})"
    if base.startswith("TIMESTAMP") and fmt.time_format:
        return value, f"CAST(TRY_STRPTIME({value}, {_literal(fmt.time_format)}) AS {sql_type})"
    return value, f"TRY_CAST({value} AS {sql_type})"


# What Redshift's DATEFORMAT and TIMEFORMAT 'auto' read beside ISO dates (DuckDB's casts).
AUTO_FORMATS = [
    "%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m-%d-%Y", "%Y/%m/%d", "%Y%m%d",
    "%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%b %d %Y", "%d %B %Y", "%B %d, %Y", "%Y.%m.%d",
]  # fmt: skip


def _auto(value: str) -> str:
    formats = ", ".join(_literal(f) for f in AUTO_FORMATS)
    return f"TRY_STRPTIME({value}, [{formats}])"


def _bad_values(con, converted, ok, targets, fmt, skipped) -> list[RejectedRow]:
    failing = " ".join(
        f"WHEN NOT (v{k} IS NULL OR x{k} IS NOT NULL) THEN {k}" for k in range(len(targets))
    )
    values = ", ".join(f"CAST(v{k} AS VARCHAR)" for k in range(len(targets)))
    rows = con.execute(
        f"SELECT __file, __row, CASE {failing} END, [{values}] FROM {converted} "
        f"WHERE NOT ({ok}) ORDER BY __file, __row LIMIT {SHOWN}"
    ).fetchall()
    out = []
    for file, row, k, row_values in rows:
        line = row
        if fmt.kind in ("text", "csv"):  # the file's line: header and rejected lines counted
            line = row + fmt.header
            for rejected in skipped.get(file, []):
                line += rejected <= line
        name, sql_type = targets[k]
        reason = f"value '{row_values[k]}' of column {name} is not a valid {sql_type}"
        out.append(RejectedRow(file, line, reason, name, row_values[k]))
    return out


def _check_one_select(con, query: str) -> None:
    """The query is one SELECT: it is written into a COPY statement, which must not become
    another statement (a ``)`` ending the query early could name another file)."""
    statements = con.extract_statements(query)
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise SqlSyntaxError("UNLOAD's query must be one SELECT (or WITH ... SELECT) statement.")


def unload_query(con, query: str, folder: Path, fmt: FileFormat, max_file_bytes) -> tuple:
    kind = "csv" if fmt.kind == "text" else fmt.kind
    options = [f"FORMAT {kind}"]
    if kind == "csv":
        quote = fmt.quote or '"'
        options += [
            f"DELIMITER {_literal(fmt.delimiter)}",
            f"HEADER {str(bool(fmt.header)).lower()}",
            f"NULL {_literal(fmt.null)}",
            f"QUOTE {_literal(quote)}",
        ]
        if fmt.force_quote:
            options.append("FORCE_QUOTE *")
    if fmt.compression:
        options.append(f"COMPRESSION {fmt.compression}")
    suffix = {"csv": "csv", "parquet": "parquet", "json": "json"}[kind]
    if max_file_bytes:
        target = folder / "parts"
        options.append(f"FILE_SIZE_BYTES {int(max_file_bytes)}")
    else:
        target = folder / f"data_0.{suffix}"
    try:
        _check_one_select(con, query)
        # On lines of its own, so that a comment ending the query cannot swallow the rest.
        rows = con.execute(
            f"COPY (\n{query}\n) TO {_literal(str(target))} ({', '.join(options)})"
        ).fetchone()[0]
    except duckdb.Error as e:
        error = duckdb_errors.translate(e)
        if hasattr(error, "position"):
            error.position = None  # it would point into the COPY sqlml wrote, not the query
        raise error from e
    if not max_file_bytes:
        return [target], int(rows)
    files = sorted(target.iterdir(), key=lambda p: int(p.name.split("_")[1].split(".")[0]))
    return files, int(rows)
