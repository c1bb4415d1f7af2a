"""Running statements for a person: the interactive shell, scripts and dot-commands.

One :class:`Shell` runs everything the ``sqlml`` command is given, typed or read: ``-c`` text,
a script file, a script piped through stdin and the lines typed at the prompt all go through
:meth:`Shell.feed`, so they behave alike. A script stops at its first error (``--continue``
goes on) and the error names the statement's number and line; the interactive prompt reports
and goes on. Dot-commands (``.help`` lists them) are answered at once, never sent as SQL.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlml.cli.render import MODES, Renderer
from sqlml.errors import SqlmlError
from sqlml.sql.lexer import statement_complete

HISTORY = Path(os.environ.get("SQLML_HISTORY", Path.home() / ".sqlml_history"))
BANNER = 'sqlml shell: end statements with ";". ".help" lists the shell\'s commands.'
MAXROWS = 40  # the interactive shell's default row limit


class ShellError(SqlmlError):
    """A dot-command's mistake: an unknown command, a bad argument, a file that cannot be read."""

    sqlstate = "42601"


@dataclass
class Source:
    """Where statements come from: a name for messages (a file, ``-c``, ``stdin``) and whether a
    person types them (errors are reported and the prompt goes on)."""

    name: str
    interactive: bool = False


class ScriptFailed(Exception):
    """A script stopped at an error (already reported)."""


HELP = [
    (".help", "this list"),
    (".tables", "the tables and views"),
    (".schema [TABLE]", "the CREATE statements of the tables (or of one)"),
    (".models", "the models (SHOW MODEL ALL)"),
    (".mode [MODE]", f"how results print: {', '.join(MODES)} (no argument: the current mode)"),
    (".maxrows [N]", "show at most N rows of a table (0: all; no argument: the current limit)"),
    (".timer on|off", "print how long each statement took"),
    (".read FILE", "run the statements in FILE"),
    (".output [FILE]", "write results to FILE (no argument: back to the terminal)"),
    (".quit, .exit", "leave the shell"),
]
COMMANDS = sorted({name.split()[0].rstrip(",") for name, _ in HELP} | {".exit"})


class Shell:
    def __init__(
        self,
        conn,
        renderer: Renderer,
        *,
        wait: bool = True,
        debug: bool = False,
        keep_going: bool = False,
        out=None,
        err=None,
    ):
        self.conn = conn
        self.renderer = renderer
        self.wait = wait
        self.debug = debug
        self.keep_going = keep_going
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.timer = False
        self.failures = 0
        self._output_file = None
        self._open = False  # a statement is half typed (the prompt shows "...>")
        self._completer = None

    # -- feeding text ------------------------------------------------------------------------

    def run_text(self, text: str, source: Source) -> bool:
        """Run a whole script; False when it stopped at (or, going on, met) an error."""
        return self.feed(text.splitlines(), source)

    def feed(self, lines: Iterable[str], source: Source) -> bool:
        """Run the statements and dot-commands in ``lines``. Returns False if any failed; a
        non-interactive source stops at its first failure unless ``keep_going``."""
        failures = self.failures
        buffer, first_line, number = "", 0, 0
        try:
            for lineno, line in enumerate(lines, start=1):
                line = line.rstrip("\n")
                if not buffer and line.strip().startswith("."):
                    if not self._dot(line.strip(), source, lineno):
                        break
                    continue
                if not buffer:
                    if not line.strip():
                        continue
                    # At the prompt a statement's lines count from its first.
                    first_line = 1 if source.interactive else lineno
                buffer = f"{buffer}\n{line}" if buffer else line
                self._open = True
                if statement_complete(buffer, self.conn.engine.dialect):
                    number = self._statements(buffer, source, first_line, number)
                    buffer, self._open = "", False
                    self._refresh_completion()
            if buffer.strip():
                self._statements(buffer, source, first_line, number)
        except ScriptFailed:
            return False
        return self.failures == failures

    def _statements(self, text: str, source: Source, first_line: int, number: int) -> int:
        """Run the statements of ``text`` (which starts at line ``first_line`` of the source);
        return the number of the last one run."""
        from sqlml.sql.lexer import split_script

        try:
            chunks = split_script(text, self.conn.engine.dialect)
        except Exception:  # noqa: BLE001 -- the engine reports what cannot be split
            chunks = []
        if not chunks:
            from sqlml.sql.lexer import Chunk

            chunks = [Chunk(text, 0, ())]
        for chunk in chunks:
            number += 1
            leading = len(chunk.text) - len(chunk.text.lstrip())
            start = chunk.start + leading
            line = first_line + text.count("\n", 0, start)
            self.execute(chunk.text.strip(), source, number, line)
        return number

    def execute(self, statement: str, source: Source, number: int = 1, line: int = 1) -> None:
        """Run one statement and print its rows; report an error (and stop a script)."""
        started = time.perf_counter()
        try:
            for result in self.conn.run(statement):
                self._print_result(result)
        except KeyboardInterrupt:
            print("Interrupted.", file=self.err)
            self._failed(source)
            return
        except Exception as e:  # noqa: BLE001 -- the one place that reports any failure
            report(e, self.debug, statement=statement, line=line, err=self.err)
            if not source.interactive:
                where = f"statement {number}, line {line}"
                print(f"(in {where} of {source.name})", file=self.err)
            self._failed(source)
            return
        finally:
            if self.timer:
                print(f"Run Time: {time.perf_counter() - started:.3f} s", file=self.out)

    def _failed(self, source: Source) -> None:
        self.failures += 1
        if not source.interactive and not self.keep_going:
            raise ScriptFailed

    def _print_result(self, result) -> None:
        for notice in result.notices:
            print(f"NOTICE: {notice}", file=self.err, flush=True)
        # Every row as Python values is what the other modes print anyway; a table that shows
        # only the first and last rows converts just those from Arrow (a large result).
        plain = None if self.renderer.limits_rows else result.plain_rows()
        if plain is not None:
            self._write(self.renderer.render_rows(plain.names, plain.numeric, plain.rows))
            return
        table = result.arrow()
        if table is None:
            return
        if self.wait and result.command == "CREATE MODEL":
            table = self._followed(table)
        self._write(self.renderer.render(table))

    def _followed(self, table):
        """A CREATE MODEL's row once its training has ended (or as it was, on Ctrl-C)."""
        import pyarrow as pa

        from sqlml.cli.follow import follow

        name = table.column(0)[0].as_py()
        manifest = follow(self.conn, name)
        if manifest is None:
            return table
        metric, value = next(iter(manifest["metrics"].items()), (None, None))
        return pa.table(
            {
                table.column_names[0]: [name],
                table.column_names[1]: ["READY"],
                table.column_names[2]: [manifest["function"]["name"]],
                table.column_names[3]: [metric],
                table.column_names[4]: pa.array([value], pa.float64()),
            }
        )

    def _write(self, text: str) -> None:
        target = self._output_file or self.out
        print(text, file=target)
        target.flush()

    # -- dot-commands ------------------------------------------------------------------------

    def _dot(self, line: str, source: Source, lineno: int) -> bool:
        """Run a dot-command; False when it asks to leave."""
        command, _, argument = line.partition(" ")
        command, argument = command.lower(), argument.strip()
        if command in (".quit", ".exit"):
            return False
        handler = getattr(self, f"_dot_{command[1:]}", None) if command[1:].isalpha() else None
        try:
            if handler is None:
                close = _closest(command, COMMANDS)
                hint = f' Did you mean "{close}"?' if close else ""
                raise ShellError(f"Unknown command {command}.{hint} .help lists the commands.")
            handler(argument)
        except Exception as e:  # noqa: BLE001 -- reported like a statement's error
            report(e, self.debug, err=self.err)
            if not source.interactive:
                print(f"(in line {lineno} of {source.name})", file=self.err)
            self._failed(source)
        return True

    def _dot_help(self, argument: str) -> None:
        width = max(len(name) for name, _ in HELP)
        lines = [f"{name.ljust(width)}  {what}" for name, what in HELP]
        lines.append(
            "Statements end with a semicolon; an unfinished one continues on the next line."
        )
        self._write("\n".join(lines))

    def _dot_tables(self, argument: str) -> None:
        import pyarrow as pa

        rows = self.conn.engine.tables()
        current = self.conn.engine.current_schema()
        names = [name if schema == current else f"{schema}.{name}" for schema, name, _ in rows]
        kinds = [kind for _, _, kind in rows]
        self._write(self.renderer.render(pa.table({"name": names, "type": kinds})))

    def _dot_schema(self, argument: str) -> None:
        definitions = self.conn.engine.table_definitions(argument or None)
        if argument and not definitions:
            raise ShellError(f'No table or view is named "{argument}". .tables lists them.')
        self._write("\n".join(definitions) if definitions else "(no tables)")

    def _dot_models(self, argument: str) -> None:
        self.execute("SHOW MODEL ALL", Source(".models", interactive=True))

    def _dot_mode(self, argument: str) -> None:
        if not argument:
            self._write(f"current output mode: {self.renderer.mode}")
            return
        mode = argument.lower()
        if mode not in MODES:
            raise ShellError(f"Unknown output mode {argument!r}: the modes are {', '.join(MODES)}.")
        self.renderer.mode = mode

    def _dot_maxrows(self, argument: str) -> None:
        if not argument:
            self._write(f"maxrows: {self.renderer.maxrows or 'no limit'}")
            return
        try:
            value = int(argument)
        except ValueError:
            value = -1
        if value < 0:
            raise ShellError(f".maxrows takes a number of rows (0: no limit), not {argument!r}.")
        self.renderer.maxrows = value

    def _dot_timer(self, argument: str) -> None:
        if argument.lower() not in ("on", "off"):
            raise ShellError(f".timer takes on or off, not {argument!r}.")
        self.timer = argument.lower() == "on"

    def _dot_read(self, argument: str) -> None:
        if not argument:
            raise ShellError(".read needs a file name: .read FILE")
        path = Path(_unquote(argument)).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ShellError(f"Cannot read {path}: {e.strerror}.") from None
        self.run_text(text, Source(str(path)))

    def _dot_output(self, argument: str) -> None:
        if self._output_file is not None:
            self._output_file.close()
            self._output_file = None
        if argument:
            path = Path(_unquote(argument)).expanduser()
            try:
                self._output_file = path.open("w", encoding="utf-8")
            except OSError as e:
                raise ShellError(f"Cannot write {path}: {e.strerror}.") from None

    def close(self) -> None:
        if self._output_file is not None:
            self._output_file.close()
            self._output_file = None

    # -- the prompt --------------------------------------------------------------------------

    def interact(self) -> int:
        """The interactive prompt, with history and completion, until .quit or Ctrl-D."""
        readline = _setup_readline(self)
        print(BANNER, file=self.out)

        def typed() -> Iterable[str]:
            buffer_open = False
            while True:
                try:
                    line = input("  ...> " if buffer_open else "sqlml> ")
                except EOFError:
                    print(file=self.out)
                    return
                except KeyboardInterrupt:
                    print(file=self.out)
                    continue
                yield line
                buffer_open = self._open

        try:
            self.feed(typed(), Source("the shell", interactive=True))
        finally:
            if readline is not None:
                with contextlib.suppress(OSError):
                    readline.write_history_file(HISTORY)
        return 0

    def _refresh_completion(self) -> None:
        if self._completer is not None:
            self._completer.refresh()


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _closest(word: str, choices: Iterable[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


# -- completion ------------------------------------------------------------------------------

KEYWORDS = (  # noqa: SIM905 -- a word list reads best as words
    "SELECT FROM WHERE GROUP BY ORDER HAVING LIMIT OFFSET JOIN LEFT RIGHT INNER OUTER ON USING "
    "AS AND OR NOT NULL IS IN BETWEEN LIKE ILIKE CASE WHEN THEN ELSE END DISTINCT UNION ALL "
    "INSERT INTO VALUES UPDATE SET DELETE CREATE TABLE VIEW DROP ALTER WITH DESCRIBE SUMMARIZE "
    "MODEL TARGET FUNCTION RETURNS SETTINGS MAX_RUNTIME MAX_CELLS MAX_TRIALS MODEL_TYPE "
    "PROBLEM_TYPE OBJECTIVE PREPROCESSORS HYPERPARAMETERS AUTO ON OFF SHOW EVALUATE "
    "IAM_ROLE S3_BUCKET KMEANS XGBOOST MLP LINEAR_LEARNER REGRESSION BINARY_CLASSIFICATION "
    "MULTICLASS_CLASSIFICATION IF EXISTS CAST COUNT AVG SUM MIN MAX EXPLAIN_MODEL"
).split()


class Completer:
    """Readline completion of keywords, tables, columns, models and their functions, in the
    case the word was started in."""

    def __init__(self, shell: Shell):
        self.shell = shell
        self.words: list[str] = []
        self.matches: list[str] = []
        self.refresh()

    def refresh(self) -> None:
        engine = self.shell.conn.engine
        names: set[str] = set()
        with contextlib.suppress(Exception):  # a failed transaction: complete what we know
            names |= {name for _, name, _ in engine.tables()}
            names |= set(engine.column_names())
        with contextlib.suppress(Exception):
            for manifest in self.shell.conn.models():
                names.add(manifest["name"])
                function = manifest.get("function") or {}
                if function.get("name"):
                    names.add(function["name"])
                    names.add(f"{function['name']}_probabilities")
        self.words = sorted(names)

    def complete(self, text: str, state: int) -> str | None:
        if state == 0:
            lower = text.lower()
            keywords = [k if text[:1].isupper() or not text else k.lower() for k in KEYWORDS]
            dots = COMMANDS if text.startswith(".") else []
            candidates = [*dots, *self.words, *keywords]
            seen: set[str] = set()
            self.matches = []
            for word in candidates:
                if word.lower().startswith(lower) and word not in seen:
                    seen.add(word)
                    self.matches.append(word)
        return self.matches[state] if state < len(self.matches) else None


def _setup_readline(shell: Shell):
    try:
        import readline
    except ImportError:  # e.g. Windows without pyreadline: the shell still works
        return None
    with contextlib.suppress(OSError):
        readline.read_history_file(HISTORY)
    readline.set_history_length(1000)
    completer = Completer(shell)
    shell._completer = completer
    readline.set_completer(completer.complete)
    readline.set_completer_delims(" \t\n()[],;=<>+-*/'\"")
    if "libedit" in (readline.__doc__ or ""):
        readline.parse_and_bind("bind ^I rl_complete")
    else:
        readline.parse_and_bind("tab: complete")
    return readline


# -- errors ----------------------------------------------------------------------------------


def report(
    error: BaseException,
    debug: bool = False,
    *,
    statement: str | None = None,
    line: int = 1,
    err=None,
) -> None:
    """One block for an error: ``ERROR [SQLSTATE]: message``, the engine's further help (its
    "Did you mean", candidate columns), and a caret under the position it points at."""
    err = err or sys.stderr
    if debug:
        import traceback

        traceback.print_exception(error, file=err)
    code = getattr(error, "sqlstate", None)
    message = getattr(error, "bare_message", None) or str(error).strip() or type(error).__name__
    head, *rest = message.splitlines()
    prefix = f"ERROR [{code}]" if code else "ERROR"
    lines = [f"{prefix}: {head}", *(r for r in rest if r.strip())]
    pointer = _pointer(error, statement, line)
    if pointer:
        lines += pointer
    print("\n".join(lines), file=err, flush=True)


def _pointer(error: BaseException, statement: str | None, first_line: int) -> list[str]:
    """``LINE n: text`` and a caret under the character the error points at, as psql shows it
    (n counts the lines of the script or session, not of the statement)."""
    if not statement:
        return []
    texts = statement.split("\n")
    position = getattr(error, "position", None)
    row = col = None
    if position is not None and 0 < position <= len(statement) + 1:
        before = statement[: position - 1]
        row = before.count("\n")
        col = len(before) - (before.rfind("\n") + 1)
    elif getattr(error, "line", None) is not None and getattr(error, "col", None) is not None:
        row, col = error.line - 1, error.col - 1  # both 1-based
    if row is None or not 0 <= row < len(texts):
        return []
    col = max(0, min(col, len(texts[row])))
    label = f"LINE {first_line + row}: "
    return [label + texts[row], " " * (len(label) + col) + "^"]
