"""The sqlml command, run as a real process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import DATA

PENGUINS = (DATA / "penguins.parquet").as_posix()


def sqlml(*args: str, stdin: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sqlml", *args],
        input=stdin,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_command_prints_aligned_tables(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    out = sqlml(db, "-c", "SELECT 1 AS a, 'long value' AS b UNION ALL SELECT 22, 'x' ORDER BY a")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "a  | b",
        "---+-----------",
        " 1 | long value",
        "22 | x",
        "(2 rows)",
    ]


@pytest.mark.slow
def test_script_file_trains_and_shows_a_model(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    script = tmp_path / "train.sql"
    script.write_text(f"""
        CREATE TABLE penguins AS SELECT * FROM read_parquet('{PENGUINS}');
        CREATE MODEL peng
        FROM (SELECT species, island, bill_length_mm, sex FROM penguins)
        TARGET species FUNCTION predict_species SETTINGS (MAX_RUNTIME 240, MAX_TRIALS 2);
        SHOW MODEL peng;
    """)
    out = sqlml(db, str(script))
    assert out.returncode == 0, out.stderr
    assert "Model State              | READY" in out.stdout
    again = sqlml(db, "-c", "SELECT predict_species('Biscoe', 47.5, 'MALE') AS p")
    assert again.stdout.splitlines()[2] == "Gentoo"


def test_errors_are_one_clear_block(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    out = sqlml(db, "-c", "SHOW MODEL nope")
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        "ERROR [42704]: Model main.nope does not exist. SHOW MODEL ALL lists the models.",
        "(in statement 1, line 1 of -c)",
    ]
    syntax = sqlml(db, "-c", "CREATE MODEL m FROM t TARGT x FUNCTION f")
    assert syntax.stderr.startswith("ERROR [42601]: Unknown CREATE MODEL clause")
    assert "Traceback" not in syntax.stderr


def test_debug_shows_the_traceback(tmp_path):
    out = sqlml(str(tmp_path / "cli.duckdb"), "--debug", "-c", "SHOW MODEL nope")
    assert "Traceback" in out.stderr
    assert out.returncode == 1


def test_stdin_reads_multi_line_statements_and_stops_at_an_error(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    session = (
        "SELECT\n  40 + 2\n  AS answer;\nSELECT 'a;b' AS s;\nSHOW MODEL nope;\nSELECT 1 AS one;\n"
    )
    out = sqlml(db, stdin=session)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[:3] == ["answer", "------", "    42"]
    assert "a;b" in lines
    assert "one" not in lines  # a script stops at its first error
    assert out.stderr.splitlines() == [
        "ERROR [42704]: Model main.nope does not exist. SHOW MODEL ALL lists the models.",
        "(in statement 3, line 5 of stdin)",
    ]
    going_on = sqlml(db, "--continue", stdin=session)
    assert going_on.returncode == 1  # it went on, and still says a statement failed
    assert "one" in going_on.stdout.splitlines()


def test_help_lists_the_options():
    out = sqlml("--help")
    assert out.returncode == 0
    for option in ("-c", "--model-store", "--debug"):
        assert option in out.stdout


# -- following a CREATE MODEL in a terminal ------------------------------------------------

FOLLOWED = (
    "CREATE MODEL peng FROM (SELECT species, island, bill_length_mm, sex FROM penguins) "
    "TARGET species FUNCTION predict_species SETTINGS ({settings})"
)
# Tests that watch the training follow a search that lasts its whole budget; the others end it
# after a few candidates, long before MAX_RUNTIME.
WATCHED = "MAX_RUNTIME 16"
AWAITED = "MAX_RUNTIME 240, MAX_TRIALS 2"


def in_terminal(
    args: list[str], interrupt_after: str | None = None, timeout=120
) -> tuple[int, str]:
    """Run the sqlml command on a pseudo-terminal; return its exit code and everything it wrote.
    With ``interrupt_after``, type Ctrl-C once that text has appeared."""
    import os
    import pty
    import select
    import signal
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, with the pty as its terminal
        # As in a user's terminal: a runner started in the background may ignore SIGINT, and
        # an ignored signal stays ignored across exec.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execv(sys.executable, [sys.executable, "-m", "sqlml", *args])
    output, interrupted = b"", False
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal: it has ended
                break
            if not chunk:
                break
            output += chunk
        if interrupt_after and not interrupted and interrupt_after.encode() in output:
            os.write(fd, b"\x03")  # Ctrl-C, as typed: the terminal sends SIGINT
            interrupted = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def prepare(tmp_path) -> str:
    db = str(tmp_path / "cli.duckdb")
    out = sqlml(db, "-c", f"CREATE TABLE penguins AS SELECT * FROM read_parquet('{PENGUINS}')")
    assert out.returncode == 0, out.stderr
    return db


@pytest.mark.slow
def test_terminal_shows_live_progress_until_ready(tmp_path):
    db = prepare(tmp_path)
    code, output = in_terminal([db, "-c", FOLLOWED.format(settings=WATCHED)])
    assert code == 0, output
    # The progress line is redrawn in place (carriage return, clear line) with the live figures.
    assert "\r\x1b[Kmain.peng: TRAINING: " in output
    assert " candidates, best " in output and " s left" in output
    assert "| READY" in output  # the final table, once READY


@pytest.mark.slow
def test_ctrl_c_detaches_and_training_goes_on(tmp_path):
    db = prepare(tmp_path)
    # Interrupt at the first progress line (QUEUED or TRAINING), long before the budget ends.
    code, output = in_terminal(
        [db, "-c", FOLLOWED.format(settings=WATCHED)], interrupt_after="main.peng: "
    )
    assert code == 0, output
    assert "Detached from main.peng: it goes on training." in output
    # Not cancelled: the model becomes READY after the command has ended.
    import sqlml as api

    with api.connect(db) as conn:
        assert conn.wait_model("peng")["state"] == "READY"


@pytest.mark.slow
def test_no_wait_returns_at_once(tmp_path):
    db = prepare(tmp_path)
    out = sqlml(db, "--no-wait", "-c", FOLLOWED.format(settings=AWAITED))
    assert out.returncode == 0, out.stderr
    state = out.stdout.splitlines()[2].split("|")[1].strip()
    assert state in ("QUEUED", "TRAINING")
    import sqlml as api

    with api.connect(db) as conn:
        assert conn.wait_model("peng")["state"] == "READY"


@pytest.mark.slow
def test_piped_output_prints_state_changes_only(tmp_path):
    db = prepare(tmp_path)
    out = sqlml(db, "-c", FOLLOWED.format(settings=AWAITED))
    assert out.returncode == 0, out.stderr
    assert "\r" not in out.stderr
    assert "main.peng: TRAINING" in out.stderr.splitlines()
    assert "| READY" in out.stdout


def test_model_functions_are_registered_when_a_statement_needs_them(tmp_path):
    """The command registers model functions lazily (a SELECT 1 imports neither pyarrow nor
    numpy): a function called through a view, inside a transaction, or beside the catalog
    views must still be found, and a statement that fails to bind must not run twice."""
    db = str(tmp_path / "cli.duckdb")
    made = sqlml(
        db,
        "-c",
        "CREATE TABLE t AS SELECT i::DOUBLE AS a, (i % 7)::DOUBLE AS b, 2.0 * i + 1 AS y "
        "FROM range(200) r(i)",
        "-c",
        "CREATE MODEL x FROM (SELECT a, b, y FROM t) TARGET y FUNCTION f_x AUTO OFF "
        "MODEL_TYPE XGBOOST OBJECTIVE 'reg:squarederror' PREPROCESSORS 'none' "
        "HYPERPARAMETERS DEFAULT SETTINGS (MAX_RUNTIME 300)",
    )
    assert made.returncode == 0, made.stderr
    # A view that calls the function is created by a fresh process...
    view = sqlml(db, "-c", "CREATE VIEW v AS SELECT f_x(a, b) AS p FROM t")
    assert view.returncode == 0, view.stderr
    # ...and read by another one, whose statement names no function.
    read = sqlml(db, "-csv", "-c", "SELECT count(*) AS n, count(p) AS m FROM v")
    assert read.stdout.splitlines() == ["n,m", "200,200"], read.stderr
    # In a transaction, the first statement after BEGIN calls the function.
    in_transaction = sqlml(
        db, "-csv", "-c", "BEGIN", "-c", "SELECT f_x(1.0, 1.0) > 0 AS ok", "-c", "COMMIT"
    )
    assert in_transaction.stdout.splitlines() == ["ok", "true"], in_transaction.stderr
    catalog = sqlml(db, "-csv", "-c", "SELECT model_name, model_state FROM stv_ml_model_info")
    assert catalog.stdout.splitlines() == ["model_name,model_state", "x,Model is Ready"], (
        catalog.stderr
    )
    # An INSERT that fails to bind is run again once the functions are there: once, not twice.
    twice = sqlml(
        db, "-c", "CREATE TABLE out AS SELECT 1.0 AS p LIMIT 0",
        "-c", "INSERT INTO out SELECT f_x(a, b) FROM t WHERE a < 3",
        "-csv", "-c", "SELECT count(*) AS n FROM out",
    )  # fmt: skip
    assert twice.stdout.splitlines()[-2:] == ["n", "3"], twice.stderr
    # A genuine mistake is still reported as one, after the retry.
    wrong = sqlml(db, "-c", "SELECT f_y(1.0, 1.0)")
    assert wrong.returncode == 1
    assert "f_y" in wrong.stderr and "42883" in wrong.stderr
