"""The interactive shell: multi-line statements ending in ``;``, with history (readline)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

HISTORY = Path(os.environ.get("SQLML_HISTORY", Path.home() / ".sqlml_history"))
BANNER = 'sqlml shell: end statements with ";", ".quit" or Ctrl-D to leave.'


def _setup_history():
    try:
        import readline
    except ImportError:  # e.g. Windows without pyreadline: the shell still works
        return None
    with contextlib.suppress(OSError):
        readline.read_history_file(HISTORY)
    readline.set_history_length(1000)
    return readline


def statement_complete(buffer: str, dialect: str = "duckdb") -> bool:
    """True when ``buffer`` ends with a ``;`` that is not inside a quote or comment."""
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    from sqlml.sql.lexer import tokenize

    try:
        tokens = tokenize(buffer, dialect)
    except TokenError:
        return False  # an open quote or comment: keep reading
    return bool(tokens) and tokens[-1].token_type == TokenType.SEMICOLON


def run_shell(conn, *, debug: bool = False, stdin=None, wait: bool = True) -> int:
    from sqlml.cli import report, run_text

    stdin = stdin or sys.stdin
    interactive = stdin.isatty()
    readline = _setup_history() if interactive else None
    if interactive:
        print(BANNER)
    buffer = ""
    while True:
        try:
            line = (
                input("sqlml> " if not buffer else "  ...> ") if interactive else stdin.readline()
            )
            if not interactive and line == "":
                raise EOFError
        except EOFError:
            break
        except KeyboardInterrupt:
            print()
            buffer = ""
            continue
        line = line.rstrip("\n")
        if not buffer and line.strip() in (".quit", ".exit"):
            break
        buffer = f"{buffer}\n{line}" if buffer else line
        if statement_complete(buffer, conn.engine.dialect):
            try:
                run_text(conn, buffer, wait=wait)
            except Exception as e:  # noqa: BLE001 -- one clear line, the shell goes on
                report(e, debug)
            buffer = ""
    if buffer.strip():
        try:
            run_text(conn, buffer, wait=wait)
        except Exception as e:  # noqa: BLE001
            report(e, debug)
    if readline is not None:
        with contextlib.suppress(OSError):
            readline.write_history_file(HISTORY)
    return 0
