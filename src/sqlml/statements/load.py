"""COPY table FROM 'url' and UNLOAD ('query') TO 'url', as Redshift runs them (a redshift
session's statements): files or objects under a prefix loaded into a table, a query's rows
written as ``<prefix>0000_part_00`` (``<prefix>000`` with PARALLEL OFF).

Object storage is ``objects.py``'s; the engine reads and writes local files (a downloaded
copy of each object, an upload of each file written). Authorization clauses are accepted and
not used: the environment's credentials reach the storage. A served session's user who is not
a superuser may not read or write the server's own files (as PostgreSQL's COPY FROM a file).
"""

from __future__ import annotations

import bz2
import json
import re
import shutil
import tempfile
from pathlib import Path

from sqlml import objects
from sqlml.engines import FileFormat, LoadOutcome
from sqlml.errors import (
    BadLoadFormat,
    BadLoadValue,
    FeatureNotSupported,
    InsufficientPrivilege,
    ObjectExists,
    SqlmlError,
    SqlSyntaxError,
)
from sqlml.results import StatementResult
from sqlml.sql import ast
from sqlml.sql.render import render_name

FORMAT_KINDS = {"CSV": "csv", "PARQUET": "parquet", "JSON": "json"}
# Options of delimited text only (Redshift refuses them with columnar and JSON files).
TEXT_ONLY = ("DELIMITER", "IGNOREHEADER", "NULL", "REMOVEQUOTES", "FILLRECORD", "QUOTE")
# Redshift's datetime format elements, longest first, as strptime's.
_DATETIME_ELEMENTS = [
    ("YYYY", "%Y"), ("MONTH", "%B"), ("HH24", "%H"), ("HH12", "%I"), ("MON", "%b"),
    ("DAY", "%A"), ("YY", "%y"), ("MM", "%m"), ("DD", "%d"), ("HH", "%H"), ("MI", "%M"),
    ("SS", "%S"), ("US", "%f"), ("MS", "%g"), ("AM", "%p"), ("PM", "%p"), ("DY", "%a"),
]  # fmt: skip


# -- COPY ----------------------------------------------------------------------------------


def copy_from(session, stmt: ast.CopyFrom) -> StatementResult:
    what = f"COPY {stmt.table}"
    options = stmt.options_dict
    fmt = copy_format(what, options)
    max_errors = int(options.get("MAXERROR", 0))
    check_local_access(session, stmt.source, what)
    storage = objects.Storage(stmt.source, what, _region(options))
    sources = storage.sources(manifest=bool(options.get("MANIFEST")))
    with tempfile.TemporaryDirectory(prefix="sqlml-copy-") as folder:
        paths = [_local_file(s, o, Path(folder), options) for s, o in sources]
        columns = list(stmt.columns) if stmt.columns is not None else None
        outcome = session.engine.load_files(
            render_name(stmt.table),
            columns,
            paths,
            fmt,
            max_errors,
            explicit_ids=bool(options.get("EXPLICIT_IDS")),
        )
    urls = [o.url for _, o in sources]
    if outcome.rejected and (outcome.rejected_count > max_errors or outcome.rejected[0].line == 0):
        error = rejected_error(what, fmt, outcome, urls, max_errors)
        text = str(error)
        for path, url in zip(paths, urls, strict=True):  # a download's name is ours, not theirs
            text = text.replace(str(path), url)
        raise type(error)(text)
    result = StatementResult("COPY", rowcount=outcome.rows)
    result.notices.append(
        f"Load into table '{stmt.table.name}' completed, {outcome.rows} record(s) loaded "
        "successfully."
    )
    if outcome.rejected_count:
        first = outcome.rejected[0]
        result.notices.append(
            f"{outcome.rejected_count} row(s) were skipped (MAXERROR {max_errors}); the first: "
            f"{urls[first.file]}, {_where(fmt, first.line)}: {first.reason}."
        )
    return result


def copy_format(what: str, options: dict) -> FileFormat:
    """How COPY reads its files, checked against what Redshift allows together."""
    from sqlml.sql.load import character  # with the parser, sqlglot: not at start-up

    kind = FORMAT_KINDS.get(options.get("FORMAT"), "text")
    name = options.get("FORMAT", "text")
    if kind in ("parquet", "json"):
        for option in TEXT_ONLY + ("GZIP", "BZIP2", "ZSTD") * (kind == "parquet"):
            if option in options:
                raise FeatureNotSupported(
                    f"{what}: {option} does not apply to FORMAT {name} (it is for delimited "
                    "text and CSV files)."
                )
    if "QUOTE" in options and kind != "csv":
        raise FeatureNotSupported(f"{what}: QUOTE is an option of FORMAT CSV only.")
    if "REMOVEQUOTES" in options and kind == "csv":
        raise FeatureNotSupported(f"{what}: REMOVEQUOTES cannot be used with CSV (CSV's quotes "
                                  "are always removed).")  # fmt: skip
    if "ESCAPE" in options:
        raise FeatureNotSupported(f"{what}: the ESCAPE option is not supported yet.")
    quote = None
    if kind == "csv":
        quote = character(options.get("QUOTE", '"'))
    elif options.get("REMOVEQUOTES"):
        quote = '"'
    compression = {"GZIP": "gzip", "ZSTD": "zstd"}
    return FileFormat(
        kind=kind,
        delimiter=character(options.get("DELIMITER", "," if kind == "csv" else "|")),
        quote=quote,
        escape=quote if kind == "csv" else None,
        null=options.get("NULL", "\\N"),
        header=int(options.get("IGNOREHEADER", 0)),
        compression=next((v for k, v in compression.items() if k in options), None),
        empty_as_null=bool(options.get("EMPTYASNULL")),
        blanks_as_null=bool(options.get("BLANKSASNULL")),
        trim_blanks=bool(options.get("TRIMBLANKS")),
        fill_record=bool(options.get("FILLRECORD")),
        date_format=_datetime_format(options.get("DATEFORMAT")),
        time_format=_datetime_format(options.get("TIMEFORMAT")),
        json_ignorecase=options.get("JSON") == "auto ignorecase",
    )


def _datetime_format(text: str | None) -> str | None:
    """Redshift's DATEFORMAT / TIMEFORMAT as strptime's (None for 'auto')."""
    if text is None or text.lower() == "auto":
        return None
    if text.lower() in ("epochsecs", "epochmillisecs"):
        return text.lower()
    out, i = [], 0
    while i < len(text):
        for element, code in _DATETIME_ELEMENTS:
            if text[i : i + len(element)].upper() == element:
                out.append(code)
                i += len(element)
                break
        else:
            out.append("%%" if text[i] == "%" else text[i])
            i += 1
    return "".join(out)


def _local_file(storage, obj, folder: Path, options: dict) -> Path:
    path = storage.fetch(obj, folder)
    if not options.get("BZIP2"):  # GZIP and ZSTD: the engine reads them
        return path
    plain = folder / f"{len(list(folder.iterdir()))}_plain"
    try:
        with bz2.open(path, "rb") as source, open(plain, "wb") as target:
            shutil.copyfileobj(source, target)
    except OSError as e:
        raise BadLoadFormat(
            f"COPY: {obj.url} is not a BZIP2 file ({e}); leave BZIP2 out for plain files."
        ) from e
    return plain


def _where(fmt: FileFormat, line: int) -> str:
    return f"line {line}" if fmt.kind in ("text", "csv") else f"record {line}"


def rejected_error(
    what: str, fmt: FileFormat, outcome: LoadOutcome, urls: list[str], max_errors: int
) -> SqlmlError:
    first = outcome.rejected[0]
    url = urls[first.file]
    if first.line == 0:
        name = {"text": "pipe-delimited text"}.get(fmt.kind, fmt.kind.upper())
        return BadLoadFormat(
            f"{what}: {url} cannot be read as {name}: {first.reason}. Check FORMAT, the "
            "compression option and the column list."
        )
    count = outcome.rejected_count
    more = f" {count} rows do not fit" if count > 1 else ""
    if max_errors:
        more += f" (MAXERROR {max_errors} allows {max_errors})"
    more += "." if more else ""
    if first.column is None:
        return BadLoadFormat(
            f"{what}: {url}, {_where(fmt, first.line)}: {first.reason}.{more} Check the "
            "DELIMITER (and FORMAT), name the columns the file holds in COPY's column list, or "
            "skip bad rows with MAXERROR n."
        )
    return BadLoadValue(
        f"{what}: {url}, {_where(fmt, first.line)}: {first.reason}.{more} Fix the file, check "
        "DATEFORMAT / TIMEFORMAT and the column order, or skip bad rows with MAXERROR n."
    )


# -- UNLOAD --------------------------------------------------------------------------------


def unload(session, stmt: ast.Unload) -> StatementResult:
    what = "UNLOAD"
    options = stmt.options_dict
    fmt = unload_format(what, options)
    query = unload_query(session, stmt.query)
    check_local_access(session, stmt.target, what)
    storage = objects.Storage(stmt.target, what, _region(options))
    parallel = options.get("PARALLEL", True)
    pattern = re.compile(r"(\d{4}_part_\d{2}|\d{3})(\..*)?|manifest")
    existing = storage.listing()
    prefix = storage.path
    if options.get("CLEANPATH"):
        storage.remove(existing)
    elif not options.get("ALLOWOVERWRITE"):
        taken = [o.url for o in existing if pattern.fullmatch(o.path[len(prefix) :])]
        if taken:
            shown = ", ".join(taken[:3]) + (" ..." if len(taken) > 3 else "")
            raise ObjectExists(
                f"UNLOAD to {stmt.target} would overwrite {shown}. Add ALLOWOVERWRITE (or "
                "CLEANPATH to remove what is under the prefix first), or unload to another "
                "prefix."
            )
    extension = _extension(fmt, options)
    with tempfile.TemporaryDirectory(prefix="sqlml-unload-") as folder:
        files, rows = session.engine.unload_query(
            query, Path(folder), fmt, _bytes(options.get("MAXFILESIZE"))
        )
        names = [
            prefix + (f"0000_part_{k:02d}" if parallel else f"{k:03d}") + extension
            for k in range(len(files))
        ]
        urls = [storage.put(f, n) for f, n in zip(files, names, strict=True)]
        if options.get("MANIFEST"):
            entries = [
                {"url": u, "meta": {"content_length": f.stat().st_size}}
                for u, f in zip(urls, files, strict=True)
            ]
            manifest = Path(folder) / "manifest.json"
            manifest.write_text(json.dumps({"entries": entries}, indent=2))
            storage.put(manifest, prefix + "manifest")
    result = StatementResult("UNLOAD", rowcount=rows)
    result.notices.append(f"UNLOAD completed, {rows} record(s) unloaded successfully.")
    return result


def unload_format(what: str, options: dict) -> FileFormat:
    from sqlml.sql.load import character

    kind = FORMAT_KINDS.get(options.get("FORMAT"), "text")
    if kind in ("parquet", "json"):
        refused = ("HEADER", "DELIMITER", "ADDQUOTES", "NULL") + ("GZIP", "ZSTD") * (
            kind == "parquet"
        )
        for option in refused:
            if option in options:
                raise FeatureNotSupported(
                    f"{what}: {option} does not apply to FORMAT {options['FORMAT']}."
                )
    compression = {"GZIP": "gzip", "ZSTD": "zstd"}
    return FileFormat(
        kind=kind,
        delimiter=character(options.get("DELIMITER", "," if kind == "csv" else "|")),
        quote='"',
        null=options.get("NULL", ""),
        header=1 if options.get("HEADER") else 0,
        compression=next((v for k, v in compression.items() if k in options), None),
        force_quote=bool(options.get("ADDQUOTES")),
    )


def unload_query(session, query: str) -> str:
    """UNLOAD's query as the engine's SQL; anything but a query is refused."""
    import sqlglot
    from sqlglot import exp

    sql = session.translate(query)
    try:
        tree = sqlglot.parse_one(sql, read=session.engine.dialect)
    except sqlglot.errors.ParseError:
        return sql  # the engine says what is wrong with it
    if not isinstance(tree, exp.Query):
        raise SqlSyntaxError(
            "UNLOAD's query must be one SELECT (or WITH ... SELECT) statement; this one is "
            f"{'several statements' if isinstance(tree, exp.Block) else tree.key.upper()}."
        )
    return sql


def _extension(fmt: FileFormat, options: dict) -> str:
    if "EXTENSION" in options:
        ext = "." + options["EXTENSION"].lstrip(".")
    else:
        ext = ".parquet" if fmt.kind == "parquet" else ""
    return ext + {"gzip": ".gz", "zstd": ".zst", None: ""}[fmt.compression]


def _bytes(size) -> int | None:
    if size is None:
        return None
    number, unit = size
    if number < 5 and unit == "MB":
        raise FeatureNotSupported("UNLOAD: MAXFILESIZE must be at least 5 MB (as in Redshift).")
    # The engine starts a new file once one has passed the size it is given: aim below.
    return int(number * (1 << 20 if unit == "MB" else 1 << 30) * 0.8)


# -- both ----------------------------------------------------------------------------------


def check_local_access(session, url: str, what: str) -> None:
    """The server's files are a superuser's only (PostgreSQL's rule for COPY with a file)."""
    if objects.is_local(url) and session.user is not None and not session.access.unrestricted:
        raise InsufficientPrivilege(
            f"{what}: only a superuser may read or write the server's files ({url}); use an "
            "s3:// URL."
        )


def _region(options: dict) -> str | None:
    region = options.get("REGION")
    return region if isinstance(region, str) else None
