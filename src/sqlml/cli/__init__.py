"""The ``sqlml`` command: an interactive shell, ``-c SQL`` (repeatable), or a script file or
stdin; ``sqlml serve DATABASE`` serves the database over the PostgreSQL protocol
(``sqlml.server``).

This is the only part of sqlml that configures logging or prints. It imports only what reading
its arguments needs; the database, the learners and the shell come in when used, so that
``sqlml db -c "SELECT 1"`` starts quickly (bench/startup.py).

Exit status: 0 when every statement succeeded; 1 when one failed (a script stops at its first
error unless ``--continue`` is given, and the error names the statement and its line); 2 for a
mistake in the command line itself.
"""

from __future__ import annotations

import argparse
import logging
import sys

from sqlml.cli.render import MODES

# DuckDB's shell spells the mode flags with one dash.
_MODE_FLAGS = {f"-{mode}": mode for mode in MODES}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sqlml",
        description="Machine learning in plain SQL on an embedded DuckDB database.",
        epilog="In the shell, .help lists its commands (.tables, .schema, .mode, .read ...).",
    )
    parser.add_argument(
        "database",
        nargs="?",
        default=None,
        help="DuckDB database file (default: an in-memory database)",
    )
    parser.add_argument(
        "script", nargs="?", default=None, help="a .sql file of statements to run ('-': stdin)"
    )
    parser.add_argument(
        "-c",
        "--command",
        action="append",
        default=[],
        help="SQL to run (repeatable, in order); the shell does not start",
    )
    for flag, mode in _MODE_FLAGS.items():
        parser.add_argument(
            flag, dest="mode", action="store_const", const=mode, help=f"print results as {mode}"
        )
    parser.add_argument("--mode", dest="mode", choices=MODES, help="print results in this mode")
    parser.add_argument(
        "--continue",
        dest="keep_going",
        action="store_true",
        help="go on after a failed statement in a script (the exit status is still 1)",
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
    parser.add_argument(
        "--dialect",
        default=None,
        choices=("duckdb", "redshift", "spark"),
        help="the SQL the statements are written in (default: the engine's own)",
    )
    parser.add_argument(
        "--engine",
        default=None,
        choices=("duckdb", "spark"),
        help="the database engine (default: duckdb; spark with --spark-master)",
    )
    parser.add_argument(
        "--spark-master",
        default=None,
        metavar="URL",
        help="run on Spark: local[N] or spark://host:port (implies --engine spark; the "
        "models live in --model-store, default ./sqlml-models)",
    )
    parser.add_argument(
        "--executor-store",
        default=None,
        metavar="URL",
        help="on a Spark cluster: where the executors read model packages (s3://bucket/prefix "
        "or any fsspec URL; default: --model-store, which must then be shared)",
    )
    parser.add_argument("--debug", action="store_true", help="print full tracebacks and debug logs")
    return parser


def build_serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sqlml serve",
        description="Serve a database over the PostgreSQL protocol (psql, JDBC, any driver).",
        epilog="The superuser's password comes from the environment variable "
        "SQLML_SUPERUSER_PASSWORD at first start (never from an argument).",
    )
    parser.add_argument("database", help="DuckDB database file; clients name it by its stem")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=5433, help="port to listen on (0: any free)")
    parser.add_argument("--model-store", default=None, help="folder for model packages and users")
    parser.add_argument("--tls-cert", default=None, help="TLS certificate (PEM)")
    parser.add_argument("--tls-key", default=None, help="TLS private key (PEM)")
    parser.add_argument(
        "--require-tls", action="store_true", help="refuse clients that do not use TLS"
    )
    parser.add_argument(
        "--auth",
        choices=("scram", "md5", "trust"),
        default="scram",
        help="how clients prove who they are (default scram: SCRAM-SHA-256)",
    )
    parser.add_argument("--superuser", default="sqlml", help="the superuser created at first start")
    parser.add_argument(
        "--dialect",
        default="redshift",
        choices=("duckdb", "redshift"),
        help="the SQL clients write (default: redshift; duckdb: the engine's own)",
    )
    parser.add_argument("--max-connections", type=int, default=100, help="the most clients at once")
    parser.add_argument("--debug", action="store_true", help="print debug logs")
    return parser


def serve_main(argv: list[str]) -> int:
    args = build_serve_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from sqlml.cli.shell import report
    from sqlml.server import ServerConfig, serve

    config = ServerConfig(
        database=args.database,
        host=args.host,
        port=args.port,
        model_store=args.model_store,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        require_tls=args.require_tls,
        auth=args.auth,
        superuser=args.superuser,
        max_connections=args.max_connections,
        dialect=args.dialect,
    )
    try:
        serve(config)
    except OSError as e:  # the port is taken, say
        print(
            f"ERROR [58000]: sqlml serve cannot listen on {args.host}:{args.port}: {e}",
            file=sys.stderr,
        )
        return 1
    except Exception as e:  # noqa: BLE001 -- the CLI's one place that reports any failure
        report(e, args.debug)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        return serve_main(argv[1:])
    # Intermixed: options may come between the database and the script (argparse alone
    # would take both positionals before the first option).
    args = build_parser().parse_intermixed_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    database, script = args.database, args.script
    if database is not None and database.endswith(".sql") and script is None:
        database, script = None, database
    from sqlml.cli.render import Renderer
    from sqlml.cli.shell import Shell, Source, report

    script_text = None
    if script is not None and script != "-":
        try:
            with open(script, encoding="utf-8") as f:
                script_text = f.read()
        except OSError as e:
            print(f"ERROR [58P01]: Cannot read the script {script}: {e.strerror}.", file=sys.stderr)
            return 1
    try:
        conn = _connect(args, database)
    except Exception as e:  # noqa: BLE001 -- the CLI's one place that reports any failure
        report(e, args.debug)
        return 1
    interactive = not args.command and script is None and sys.stdin.isatty()
    width = None
    if interactive and sys.stdout.isatty():
        import shutil

        width = shutil.get_terminal_size((120, 24)).columns
    mode = args.mode or "table"
    renderer = Renderer(mode, maxrows=MAXROWS if interactive else 0, width=width)
    shell = Shell(
        conn, renderer, wait=not args.no_wait, debug=args.debug, keep_going=args.keep_going
    )
    with conn:
        try:
            if interactive:
                return shell.interact()
            ok = True
            for i, text in enumerate(args.command, start=1):
                name = "-c" if len(args.command) == 1 else f"-c #{i}"
                ok = shell.run_text(text, Source(name)) and ok
                if not ok and not args.keep_going:
                    return 1
            if script_text is not None:
                ok = shell.run_text(script_text, Source(script)) and ok
            elif script == "-" or (not args.command and script is None):
                ok = shell.feed(sys.stdin, Source("stdin")) and ok
            return 0 if ok else 1
        finally:
            shell.close()


MAXROWS = 40


def _connect(args, database: str | None):
    """The command's connection: DuckDB on ``database``, or Spark on ``--spark-master``."""
    import sqlml

    if args.spark_master is None and args.engine != "spark":
        if args.executor_store is not None:
            raise sqlml.InvalidSetting(
                "--executor-store is where Spark's executors read model packages: use it "
                "with --spark-master."
            )
        return sqlml.connect(
            database, model_store=args.model_store, dialect=args.dialect, lazy_functions=True
        )
    if database is not None:
        raise sqlml.InvalidSetting(
            f"On Spark there is no database file ({database}): the tables are the Spark "
            "session's. Give --spark-master URL and --model-store FOLDER only."
        )
    return sqlml.connect(
        args.spark_master,
        engine="spark",
        model_store=args.model_store or "sqlml-models",
        dialect=args.dialect,
        lazy_functions=True,
        executor_store=args.executor_store,
    )
