"""The sqlml command as a SQL user meets it: output modes, dot-commands, scripts that stop and
say where, errors with everything the engine said, and the interactive shell on a terminal."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.test_cli import sqlml

TABLE = "CREATE TABLE t AS SELECT range AS id, 'row ' || range AS label FROM range(100)"


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "shell.duckdb")
    out = sqlml(path, "-c", TABLE)
    assert out.returncode == 0, out.stderr
    return path


# -- output ----------------------------------------------------------------------------------


def test_numbers_print_as_the_engine_prints_them(db):
    out = sqlml(
        db,
        "-c",
        "SELECT 1234567.0::DOUBLE AS big, 0.1::DOUBLE AS tenth, 12.50 AS money, "
        "1e20::DOUBLE AS huge, NULL AS nothing, [0.25, 0.75] AS probabilities, true AS yes",
    )
    assert out.returncode == 0, out.stderr
    row = [cell.strip() for cell in out.stdout.splitlines()[2].split("|")]
    assert row == ["1234567.0", "0.1", "12.50", "1e+20", "NULL", "[0.25, 0.75]", "true"]


def test_long_values_are_printed_whole_outside_a_terminal(db):
    out = sqlml(db, "-c", "SELECT repeat('x', 300) AS long")
    assert "x" * 300 in out.stdout
    assert "…" not in out.stdout


@pytest.mark.parametrize("flag", [["-csv"], ["--mode", "csv"]])
def test_csv(db, flag):
    out = sqlml(db, *flag, "-c", "SELECT id, label, NULL AS n FROM t WHERE id < 2 ORDER BY id")
    assert out.stdout.splitlines() == ["id,label,n", "0,row 0,", "1,row 1,"]


def test_json(db):
    out = sqlml(db, "-json", "-c", "SELECT id, label, 0.5::DOUBLE AS p FROM t WHERE id < 2")
    assert json.loads(out.stdout) == [
        {"id": 0, "label": "row 0", "p": 0.5},
        {"id": 1, "label": "row 1", "p": 0.5},
    ]
    empty = sqlml(db, "-json", "-c", "SELECT * FROM t WHERE false")
    assert json.loads(empty.stdout) == []


def test_line(db):
    out = sqlml(db, "-line", "-c", "SELECT id, label AS long_name FROM t WHERE id < 2 ORDER BY 1")
    assert out.stdout.splitlines() == [
        "       id = 0",
        "long_name = row 0",
        "",
        "       id = 1",
        "long_name = row 1",
    ]


def test_markdown(db):
    out = sqlml(db, "-markdown", "-c", "SELECT id, 'a|b' AS s FROM t WHERE id = 3")
    assert out.stdout.splitlines() == ["| id | s |", "|---:|---|", "| 3 | a\\|b |"]


def test_scripts_print_every_row(db):
    out = sqlml(db, "-c", "SELECT * FROM t")
    assert out.stdout.splitlines()[-1] == "(100 rows)"
    assert len(out.stdout.splitlines()) == 103


def test_an_unknown_mode_is_a_usage_error(db):
    out = sqlml(db, "--mode", "xml", "-c", "SELECT 1")
    assert out.returncode == 2
    assert "invalid choice: 'xml'" in out.stderr


# -- dot-commands ----------------------------------------------------------------------------


def test_dot_commands_in_a_script(db, tmp_path):
    other = tmp_path / "other.sql"
    other.write_text("SELECT 'from the other file' AS said;\n")
    result = tmp_path / "result.txt"
    script = "\n".join(
        [
            ".tables",
            ".schema t",
            ".mode csv",
            "SELECT id FROM t WHERE id = 7;",
            ".mode",
            f".read {other}",
            f".output {result}",
            "SELECT 42 AS in_the_file;",
            ".output",
            ".timer on",
            "SELECT 1 AS timed;",
            ".help",
        ]
    )
    out = sqlml(db, stdin=script)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:3] == ["name | type", "-----+------", "t    | TABLE"]
    assert 'CREATE TABLE t(id BIGINT, "label" VARCHAR);' in lines
    assert lines[lines.index("id") : lines.index("id") + 2] == ["id", "7"]
    assert "current output mode: csv" in lines
    assert "from the other file" in lines
    assert "in_the_file" not in out.stdout
    assert result.read_text().splitlines() == ["in_the_file", "42"]
    assert any(line.startswith("Run Time: ") and line.endswith(" s") for line in lines)
    assert any(line.startswith(".schema [TABLE]") for line in lines)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (".tabels", 'ERROR [42601]: Unknown command .tabels. Did you mean ".tables"?'),
        (".frobnicate", "ERROR [42601]: Unknown command .frobnicate. .help lists the commands."),
        (".mode xml", "ERROR [42601]: Unknown output mode 'xml': the modes are table, line, csv"),
        (".maxrows many", "ERROR [42601]: .maxrows takes a number of rows (0: no limit)"),
        (".timer maybe", "ERROR [42601]: .timer takes on or off, not 'maybe'."),
        (".read /no/such/file.sql", "ERROR [42601]: Cannot read /no/such/file.sql: No such file"),
        (".read", "ERROR [42601]: .read needs a file name"),
        (".schema nope", 'ERROR [42601]: No table or view is named "nope". .tables lists them.'),
        (".output /no/such/dir/x.txt", "ERROR [42601]: Cannot write /no/such/dir/x.txt"),
    ],
)
def test_dot_command_mistakes_are_answered_at_once(db, command, message):
    # The mistake comes before an unfinished statement would end: it is not read as SQL.
    out = sqlml(db, stdin=f"SELECT 1 AS before;\n{command}\nSELECT 2 AS after;\n")
    assert out.returncode == 1
    assert out.stderr.startswith(message), out.stderr
    assert out.stderr.splitlines()[-1] == "(in line 2 of stdin)"
    assert "before" in out.stdout and "after" not in out.stdout


def test_models_lists_the_models(db):
    out = sqlml(db, stdin=".models\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith("Schema Name | Model Name")


# -- scripts ---------------------------------------------------------------------------------


def test_a_script_file_stops_at_its_first_error_and_names_it(db, tmp_path):
    script = tmp_path / "job.sql"
    script.write_text(
        "SELECT 1 AS first;\n\n-- a comment\nSELECT 2 AS second; SELECT\n  *\nFROM nope;\n"
        "SELECT 3 AS never;\n"
    )
    out = sqlml(db, str(script))
    assert out.returncode == 1
    assert "second" in out.stdout and "never" not in out.stdout
    lines = out.stderr.splitlines()
    assert lines[0] == "ERROR [42P01]: Table with name nope does not exist!"
    assert lines[-1] == f"(in statement 3, line 4 of {script})"
    going_on = sqlml(db, "--continue", str(script))
    assert going_on.returncode == 1 and "never" in going_on.stdout


def test_repeated_commands_run_in_order_and_stop_at_an_error(db):
    out = sqlml(db, "-c", "SELECT 1 AS one", "-c", "SELECT * FROM nope", "-c", "SELECT 3 AS three")
    assert out.returncode == 1
    assert "one" in out.stdout and "three" not in out.stdout
    assert out.stderr.splitlines()[-1] == "(in statement 1, line 1 of -c #2)"


def test_a_missing_script_file(db):
    out = sqlml(db, "/no/such/script.sql")
    assert out.returncode == 1
    assert out.stderr.startswith("ERROR [58P01]: Cannot read the script /no/such/script.sql")


# -- errors ----------------------------------------------------------------------------------


def test_a_misspelt_statement_gets_a_sqlstate_a_suggestion_and_a_caret(db):
    out = sqlml(db, "-c", "CREAT MODEL m FROM t TARGET id FUNCTION f")
    assert out.stderr.splitlines()[:4] == [
        'ERROR [42601]: syntax error at or near "CREAT"',
        'Did you mean "CREATE"? "CREAT" does not begin any statement.',
        "LINE 1: CREAT MODEL m FROM t TARGET id FUNCTION f",
        "        ^",
    ]
    lower = sqlml(db, "-c", "selct 1")
    assert 'Did you mean "select"?' in lower.stderr


def test_the_engines_help_is_kept(db):
    table = sqlml(db, "-c", "SELECT * FROM tt")
    assert table.stderr.splitlines()[:2] == [
        "ERROR [42P01]: Table with name tt does not exist!",
        'Did you mean "t"?',
    ]
    column = sqlml(db, "-c", "SELECT lable FROM t")
    assert column.stderr.startswith('ERROR [42703]: Referenced column "lable" not found')
    assert 'Candidate bindings: "label"' in column.stderr


def test_a_syntax_error_points_at_its_line_and_column(db):
    out = sqlml(db, stdin="SELECT 1 AS a;\nSELECT id,\n  label +\nFROM t;\n")
    lines = out.stderr.splitlines()
    assert lines[0] == 'ERROR [42601]: syntax error at or near "FROM"'
    assert lines[1:3] == ["LINE 4: FROM t", "        ^"]
    assert lines[-1] == "(in statement 2, line 2 of stdin)"


def test_an_ml_syntax_error_points_at_the_token(db):
    out = sqlml(db, stdin="SELECT 1 AS a;\nCREATE MODEL m FROM t\n    TARGT id FUNCTION f;\n")
    lines = out.stderr.splitlines()
    assert lines[0] == "ERROR [42601]: Unknown CREATE MODEL clause. Did you mean TARGET?"
    assert lines[1:3] == ["LINE 3:     TARGT id FUNCTION f", "            ^"]


def test_suggested_columns_are_named_as_written(db):
    out = sqlml(db, "-c", "CREATE MODEL m FROM (SELECT id, label FROM t) TARGET lable FUNCTION f")
    assert "Did you mean column label?" in out.stderr


# -- the interactive shell -------------------------------------------------------------------


def terminal_session(args: list[str], keys: list[bytes], columns: int = 100) -> tuple[int, str]:
    """Run sqlml on a pseudo-terminal, typing each of ``keys`` once the prompt is shown."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:
        os.environ["COLUMNS"] = str(columns)
        os.environ["SQLML_HISTORY"] = os.devnull
        os.execv(sys.executable, [sys.executable, "-m", "sqlml", *args])
    output, pending = b"", list(keys)
    stop = time.monotonic() + 120
    prompts = 0
    while time.monotonic() < stop:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        if pending and output.count(b"sqlml> ") > prompts:
            prompts = output.count(b"sqlml> ")
            os.write(fd, pending.pop(0))
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_the_shell_limits_rows_and_goes_on_after_errors(db):
    code, output = terminal_session(
        [db],
        [
            b"SELECT * FROM t ORDER BY id;\n",
            b"SELECT * FROM nope;\n",
            b"SELECT 7 AS s;\n",
            b".quit\n",
        ],
    )
    assert code == 0, output
    assert "(100 rows, 40 shown; .maxrows 0 shows all)" in output
    assert "row 0" in output and "row 99" in output and "row 50" not in output
    assert "ERROR [42P01]" in output
    assert "(in statement" not in output  # the prompt is not a script
    assert "\n7\r" in output.split("SELECT 7 AS s;")[-1]


def test_the_shell_fits_the_terminal_and_says_what_it_cut(db):
    code, output = terminal_session(
        [db],
        [
            b"SELECT repeat('x', 200) AS long, 1 AS n;\n",
            b".mode line\n",
            b"SELECT repeat('y', 200) AS long;\n",
            b".quit\n",
        ],
        columns=60,
    )
    assert code == 0, output
    assert "x" * 200 not in output and "…" in output
    assert (
        "(some values are cut to fit the terminal's width; .mode line shows them whole)" in output
    )
    assert "y" * 200 in output


def test_tab_completes_keywords_tables_and_columns(db):
    keys = [
        b"sel\t id, lab\t FROM t WHERE id = 5;\n",
        b"CREATE TABLE measurements AS SELECT 1.5 AS reading;\n",
        b"SELECT read\t FROM meas\t;\n",
        b".quit\n",
    ]
    code, output = terminal_session([db], keys)
    assert code == 0, output
    assert "select id, label FROM t WHERE id = 5;" in output
    assert "row 5" in output
    # Names created in the session are completed too.
    assert "SELECT reading FROM measurements;" in output
    assert "1.5" in output


def test_the_shell_maxrows_command(db):
    code, output = terminal_session(
        [db], [b".maxrows 0\n", b"SELECT * FROM t;\n", b".maxrows\n", b".quit\n"]
    )
    assert code == 0, output
    assert "row 50" in output and "(100 rows)" in output and "maxrows: no limit" in output
