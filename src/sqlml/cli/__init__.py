"""The ``sqlml`` command: an interactive shell, ``-c SQL``, or a script file.

This is the only part of sqlml that configures logging or prints.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sqlml.cli.render import format_table
from sqlml.cli.shell import run_shell


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sqlml",
        description="Machine learning in plain SQL on an embedded DuckDB database.",
    )
    parser.add_argument(
        "database",
        nargs="?",
        default=None,
        help="DuckDB database file (default: an in-memory database)",
    )
    parser.add_argument("script", nargs="?", default=None, help="a .sql file of statements to run")
    parser.add_argument(
        "-c",
        "--command",
        action="append",
        default=[],
        help="SQL to run (repeatable); the shell does not start",
    )
    parser.add_argument(
        "--model-store",
        default=None,
        help="folder for model packages (default: DATABASE.models beside the file)",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="CREATE MODEL returns once training has started, without following its progress",
    )
    parser.add_argument("--debug", action="store_true", help="print full tracebacks and debug logs")
    return parser


def run_text(conn, text: str, out=sys.stdout, *, wait: bool = True) -> None:
    """Run a script, printing the result of every statement that returns rows. A CREATE MODEL
    is followed until the model is READY or FAILED, unless ``wait`` is False."""
    from sqlml.cli.follow import follow

    for result in conn.run(text):
        table = result.arrow()
        if table is None:
            continue
        rows = list(zip(*(c.to_pylist() for c in table.columns), strict=True))
        if wait and result.command == "CREATE MODEL":
            manifest = follow(conn, rows[0][0])
            if manifest is not None:
                metric, value = next(iter(manifest["metrics"].items()), (None, None))
                rows = [(rows[0][0], "READY", manifest["function"]["name"], metric, value)]
        print(format_table(table.column_names, rows), file=out)


def report(error: BaseException, debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exception(error)
    code = getattr(error, "sqlstate", None)
    prefix = f"ERROR [{code}]" if code else "ERROR"
    print(
        f"{prefix}: {str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__}",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    database, script = args.database, args.script
    if database is not None and database.endswith(".sql") and script is None:
        database, script = None, database
    import sqlml

    try:
        conn = sqlml.connect(database, model_store=args.model_store)
    except Exception as e:  # noqa: BLE001 -- the CLI's one place that reports any failure
        report(e, args.debug)
        return 1
    with conn:
        if args.command or script:
            try:
                wait = not args.no_wait
                for text in args.command:
                    run_text(conn, text, wait=wait)
                if script:
                    run_text(conn, Path(script).read_text(encoding="utf-8"), wait=wait)
            except Exception as e:  # noqa: BLE001
                report(e, args.debug)
                return 1
            return 0
        return run_shell(conn, debug=args.debug, wait=not args.no_wait)
