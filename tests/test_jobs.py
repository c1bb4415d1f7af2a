"""Asynchronous CREATE MODEL: states, progress, cancelling, and crash safety with real processes.

Processes are really killed (SIGKILL) at named points of a job (``sqlml.jobs.faults``), and the
invariants checked afterwards: a model is READY or FAILED with a reason, never stuck; no partial
package is visible; other models and the database are untouched; a FAILED model can be dropped
and created again.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import sqlml
from sqlml.errors import ModelNotFound, ModelNotReady, TrainingDataError
from sqlml.jobs import status as J
from tests.conftest import DATA, PENGUIN_FEATURES, load

CREATE = (
    "CREATE MODEL {name} FROM (SELECT species, island, bill_length_mm, bill_depth_mm, "
    "flipper_length_mm, body_mass_g, sex FROM penguins WHERE fold <> 0) "
    "TARGET species FUNCTION {fn} {model_type} SETTINGS (MAX_RUNTIME {budget}{trials})"
)
# Jobs whose training only has to happen (not to take long) train the fastest family.
FAST = "MODEL_TYPE LINEAR_LEARNER"


# Jobs that are only waited for end after a few candidates: ``create(..., **AWAITED)``.
AWAITED = {"budget": 120, "trials": 2}


def create(conn, name="peng", fn="predict_species", budget=4, model_type=FAST, trials=None):
    """Submit CREATE MODEL; with ``trials``, MAX_TRIALS ends the search after that many
    candidates (else MAX_RUNTIME ``budget`` does, or tuning stops improving)."""
    more = f", MAX_TRIALS {trials}" if trials else ""
    statement = CREATE.format(name=name, fn=fn, budget=budget, model_type=model_type, trials=more)
    return conn.execute(statement).fetchall()


def state(conn, name="peng") -> str:
    return conn.model_status(name)["state"]


def wait_for(predicate, timeout=60.0, what="condition"):
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def pause_marker(tmp_path: Path, point: str, monkeypatch) -> Path:
    """Make processes started from here stop at ``point``; returns the file they report to."""
    marker = tmp_path / "paused.txt"
    monkeypatch.setenv("SQLML_PAUSE_AT", point)
    monkeypatch.setenv("SQLML_PAUSE_FILE", str(marker))
    return marker


def paused_pid(marker: Path, point: str) -> int:
    wait_for(marker.exists, what=f"a process to pause at {point}")
    wait_for(lambda: point in marker.read_text(), what=point)
    line = [x for x in marker.read_text().splitlines() if x.startswith(point)][-1]
    return int(line.split()[1])


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A killed child of this process stays a zombie until reaped; it holds no resources.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture
def aconn(db_path):
    """An asynchronous connection (the default) with the penguins table."""
    connection = sqlml.connect(db_path)
    load(connection, "penguins")
    yield connection
    connection.close()


def no_partial_packages(conn) -> None:
    hidden = [p.name for p in conn.store.root.iterdir() if p.name.startswith(".tmp")]
    assert hidden == []
    for directory in conn.store.directories():
        assert (directory / "model.json").exists()


# -- the asynchronous flow ------------------------------------------------------------------


@pytest.mark.slow
def test_create_model_returns_at_once_and_becomes_ready(aconn):
    started = time.monotonic()
    rows = create(aconn, budget=8)
    assert time.monotonic() - started < 5  # the budget is 10 s: it did not wait for training
    assert rows[0][0] == "main.peng"
    assert rows[0][1] in ("QUEUED", "TRAINING")
    assert state(aconn) in ("QUEUED", "TRAINING")
    show = dict(aconn.execute("SHOW MODEL peng").fetchall())
    assert show["Model State"] in ("QUEUED", "TRAINING")
    assert show["Training Job Status"].startswith(show["Model State"])
    listed = aconn.execute("SHOW MODEL ALL").fetchall()
    assert listed[0][:3] == ("main", "peng", show["Model State"])
    manifest = aconn.wait_model("peng")
    assert manifest["state"] == "READY"
    assert state(aconn) == "READY"
    rows = aconn.execute(f"SELECT predict_species({PENGUIN_FEATURES}) FROM penguins").fetchall()
    assert len(rows) == 344 and {r[0] for r in rows} <= {"Adelie", "Chinstrap", "Gentoo"}


@pytest.mark.slow
def test_progress_is_reported_while_training(aconn):
    create(aconn, budget=16, model_type="")
    wait_for(lambda: aconn.model_status("peng").get("trials", 0) >= 1, what="a first trial")
    status = aconn.model_status("peng")
    assert status["state"] == "TRAINING"
    assert status["best"]["candidate"]
    assert 0 <= status["time_left"] <= 20
    show = dict(aconn.execute("SHOW MODEL peng").fetchall())
    assert "candidates" in show["Training Job Status"]
    assert "s left" in show["Training Job Status"]
    aconn.wait_model("peng")


@pytest.mark.slow
def test_function_of_a_model_not_ready_names_model_and_state(aconn, db_path):
    create(aconn, budget=8)
    with pytest.raises(ModelNotReady, match=r"predict_species of model main\.peng .*READY"):
        aconn.execute(f"SELECT predict_species({PENGUIN_FEATURES}) FROM penguins")
    # the same in another connection of this process
    other = sqlml.connect(db_path)
    try:
        with pytest.raises(ModelNotReady, match="SHOW MODEL peng"):
            other.execute(f"SELECT predict_species({PENGUIN_FEATURES}) FROM penguins")
        aconn.wait_model("peng")
        # ...and both see the real function once READY, without reconnecting
        assert (
            len(
                other.execute(
                    f"SELECT predict_species({PENGUIN_FEATURES}) FROM penguins"
                ).fetchall()
            )
            == 344
        )
    finally:
        other.close()


@pytest.mark.slow
def test_ready_model_is_picked_up_by_a_process_opened_later(aconn, db_path):
    create(aconn, **AWAITED)
    aconn.close()
    code = textwrap.dedent(
        f"""
        import sqlml
        c = sqlml.connect({str(db_path)!r})
        c.wait_model("peng")
        print(c.execute("SELECT count(predict_species({PENGUIN_FEATURES})) FROM penguins").fetchone()[0])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "344"


@pytest.mark.slow
def test_failed_training_is_reported_with_its_reason_and_can_be_recreated(aconn):
    # Only training finds out that the one feature is constant: the job fails, not the statement.
    aconn.sql("CREATE TABLE bad AS SELECT 7 AS x, (range % 2)::VARCHAR AS y FROM range(70)")
    aconn.sql("CREATE MODEL bad FROM bad TARGET y FUNCTION predict_bad SETTINGS (MAX_RUNTIME 5)")
    with pytest.raises(TrainingDataError, match="No feature column can be learned from"):
        aconn.wait_model("bad")
    assert state(aconn, "bad") == "FAILED"
    show = dict(aconn.execute("SHOW MODEL bad").fetchall())
    assert show["Model State"] == "FAILED"
    assert "No feature column can be learned from" in show["Failure Reason"]
    with pytest.raises(ModelNotReady, match="FAILED"):
        aconn.execute("SELECT predict_bad(x) FROM bad")
    with pytest.raises(sqlml.errors.ModelAlreadyExists, match="FAILED"):
        aconn.sql("CREATE MODEL bad FROM bad TARGET y FUNCTION predict_bad2")
    aconn.sql("DROP MODEL bad")
    aconn.sql("CREATE OR REPLACE TABLE bad AS SELECT row_number() OVER () % 7 AS x, y FROM bad")
    aconn.sql(
        "CREATE MODEL bad FROM bad TARGET y FUNCTION predict_bad "
        "SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    assert aconn.wait_model("bad")["state"] == "READY"


@pytest.mark.slow
def test_synchronous_failure_leaves_nothing(db_path):
    with sqlml.connect(db_path, synchronous=True) as conn:
        conn.sql("CREATE TABLE bad AS SELECT 1 AS x, 'a' AS y FROM range(50)")
        with pytest.raises(TrainingDataError):
            conn.sql("CREATE MODEL bad FROM bad TARGET y FUNCTION predict_bad")
        assert conn.execute("SHOW MODEL ALL").fetchall() == []
        assert J.job_folders(conn.store) == []


@pytest.mark.slow
def test_wait_model_errors(aconn):
    with pytest.raises(ModelNotFound, match="SHOW MODEL ALL"):
        aconn.wait_model("nope")
    create(aconn, budget=8)
    with pytest.raises(sqlml.errors.TrainingTimeout, match="goes on training"):
        aconn.wait_model("peng", timeout=0.2)
    aconn.wait_model("main.peng")


# -- queueing and cancelling ------------------------------------------------------------------


@pytest.fixture
def one_slot(db_path):
    """One training slot, taken by model ``first`` (20 s); a second CREATE MODEL must queue."""
    with sqlml.connect(db_path, max_training_jobs=1) as conn:
        load(conn, "penguins")
        create(conn, "first", "f1", budget=16, model_type="")
        yield conn


@pytest.mark.slow
def test_jobs_beyond_the_limit_wait_as_queued(one_slot):
    conn = one_slot
    create(conn, "second", "f2", **AWAITED)
    wait_for(lambda: state(conn, "first") == "TRAINING", what="first TRAINING")
    assert state(conn, "second") == "QUEUED"
    show = dict(conn.execute("SHOW MODEL second").fetchall())
    assert show["Training Job Status"] == "QUEUED: waiting for a training slot"
    conn.wait_model("first")
    assert conn.wait_model("second")["state"] == "READY"


@pytest.mark.slow
def test_drop_model_cancels_a_training_job(aconn):
    create(aconn, budget=60, model_type="")
    wait_for(lambda: state(aconn) == "TRAINING", what="TRAINING")
    job_dir = J.job_path(aconn.store, "main", "peng")
    pid = J.trainer_pid(job_dir)
    started = time.monotonic()
    aconn.sql("DROP MODEL peng")
    assert time.monotonic() - started < 10
    wait_for(lambda: pid_gone(pid), timeout=10, what="the trainer to end")
    assert not job_dir.exists()
    assert aconn.execute("SHOW MODEL ALL").fetchall() == []
    with pytest.raises(Exception, match="predict_species"):
        aconn.execute(f"SELECT predict_species({PENGUIN_FEATURES}) FROM penguins")
    create(aconn, **AWAITED)  # the name is free again
    assert aconn.wait_model("peng")["state"] == "READY"


@pytest.mark.slow
def test_drop_model_cancels_a_queued_job(one_slot):
    conn = one_slot
    create(conn, "second", "f2", budget=5)
    wait_for(lambda: state(conn, "second") == "QUEUED", what="second QUEUED")
    conn.sql("DROP MODEL second")
    assert [r[1] for r in conn.execute("SHOW MODEL ALL").fetchall()] == ["first"]
    assert conn.wait_model("first")["state"] == "READY"


@pytest.mark.slow
def test_four_concurrent_create_model_while_queries_run(db_path):
    with sqlml.connect(db_path, max_training_jobs=2) as conn:
        load(conn, "penguins")
        errors: list[BaseException] = []

        def train(i: int) -> None:
            try:
                with sqlml.connect(db_path, max_training_jobs=2) as own:
                    create(own, f"m{i}", f"predict_m{i}", **AWAITED)
            except BaseException as e:  # noqa: BLE001 -- reported by the assertion below
                errors.append(e)

        threads = [threading.Thread(target=train, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        counts = set()
        while any(t.is_alive() for t in threads) or any(
            state(conn, f"m{i}") not in ("READY", "FAILED")
            for i in range(4)
            if conn.find_model(sqlml.sql.ast.Name(f"m{i}"), missing_ok=True)
        ):
            counts.add(conn.execute("SELECT count(*) FROM penguins").fetchone()[0])
            conn.execute("SELECT * FROM stv_ml_model_info").fetchall()
            time.sleep(0.05)
        for t in threads:
            t.join()
        assert errors == []
        assert counts == {344}
        for i in range(4):
            assert conn.wait_model(f"m{i}")["state"] == "READY"
            n = conn.execute(f"SELECT count(predict_m{i}({PENGUIN_FEATURES})) FROM penguins")
            assert n.fetchone()[0] == 344
        no_partial_packages(conn)


@pytest.mark.slow
def test_catalog_views_show_states(db_path):
    with sqlml.connect(db_path, max_training_jobs=1) as conn:
        load(conn, "penguins")
        create(conn, "first", "f1", budget=8)
        create(conn, "second", "f2", budget=8)
        rows = conn.execute(
            "SELECT model_name, life_cycle, model_state FROM stv_ml_model_info ORDER BY 1"
        ).fetchall()
        assert [r[0] for r in rows] == ["first", "second"]
        assert {r[1] for r in rows} <= {"QUEUED", "TRAINING"}
        conn.wait_model("first")
        conn.wait_model("second")
        rows = conn.execute(
            "SELECT database_name, schema_name, model_name, life_cycle, model_state "
            "FROM svv_ml_model_info ORDER BY model_name"
        ).fetchall()
        assert rows == [
            ("test", "main", "first", "READY", "Model is Ready"),
            ("test", "main", "second", "READY", "Model is Ready"),
        ]


# -- crash safety: the trainer killed --------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("point", ["trainer:queued", "trainer:training"])
def test_trainer_killed_makes_the_model_failed(aconn, tmp_path, monkeypatch, point):
    create(aconn, "keep", "predict_keep", **AWAITED)
    aconn.wait_model("keep")
    marker = pause_marker(tmp_path, point, monkeypatch)
    create(aconn, budget=5)
    pid = paused_pid(marker, point)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: state(aconn) == "FAILED", timeout=5, what="FAILED")
    show = dict(aconn.execute("SHOW MODEL peng").fetchall())
    assert "trainer process died" in show["Failure Reason"]
    with pytest.raises(ModelNotReady, match="FAILED"):
        aconn.execute(f"SELECT predict_species({PENGUIN_FEATURES}) FROM penguins")
    # everything else is untouched
    assert aconn.execute("SELECT count(*) FROM penguins").fetchone()[0] == 344
    assert (
        aconn.execute(f"SELECT count(predict_keep({PENGUIN_FEATURES})) FROM penguins").fetchone()[0]
        == 344
    )
    no_partial_packages(aconn)
    # a FAILED model can be dropped and created again
    monkeypatch.delenv("SQLML_PAUSE_AT")
    aconn.sql("DROP MODEL peng")
    create(aconn, **AWAITED)
    assert aconn.wait_model("peng")["state"] == "READY"


@pytest.mark.slow
def test_trainer_killed_after_publishing_leaves_a_ready_model(aconn, tmp_path, monkeypatch):
    marker = pause_marker(tmp_path, "trainer:published", monkeypatch)
    create(aconn, budget=8)
    pid = paused_pid(marker, "trainer:published")
    os.kill(pid, signal.SIGKILL)
    # The lock goes when the last of the trainer's threads has exited.
    job_dir = J.job_path(aconn.store, "main", "peng")
    wait_for(lambda: not J.alive(job_dir), timeout=5, what="the trainer to end")
    assert state(aconn) == "READY"
    assert (
        aconn.execute(
            f"SELECT count(predict_species({PENGUIN_FEATURES})) FROM penguins"
        ).fetchone()[0]
        == 344
    )
    assert J.job_folders(aconn.store) == []  # the next statement cleaned the leftover job up


# -- crash safety: the user's process killed -------------------------------------------------

USER = textwrap.dedent(
    """
    import sys, sqlml
    c = sqlml.connect(sys.argv[1])
    c.sql("CREATE TABLE penguins AS SELECT *, (row_number() OVER ()) % 5 AS fold "
          "FROM read_parquet('" + sys.argv[2] + "')")
    c.sql(sys.argv[3])
    print("submitted", flush=True)
    import time
    time.sleep(3600)
    """
)


def run_user(db_path, statement, env=None) -> subprocess.Popen:
    penguins = (DATA / "penguins.parquet").as_posix()
    return subprocess.Popen(
        [sys.executable, "-c", USER, str(db_path), penguins, statement],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.slow
def test_user_process_killed_while_training_job_finishes(db_path):
    user = run_user(
        db_path,
        CREATE.format(
            name="peng", fn="predict_species", model_type=FAST, budget=120, trials=", MAX_TRIALS 2"
        ),
    )
    assert user.stdout.readline().strip() == "submitted"
    user.send_signal(signal.SIGKILL)
    user.wait()
    with sqlml.connect(db_path) as conn:
        assert state(conn) in ("QUEUED", "TRAINING", "READY")
        assert conn.wait_model("peng")["state"] == "READY"
        assert (
            conn.execute(
                f"SELECT count(predict_species({PENGUIN_FEATURES})) FROM penguins"
            ).fetchone()[0]
            == 344
        )


def test_user_process_killed_before_the_trainer_started(db_path, tmp_path):
    marker = tmp_path / "paused.txt"
    env = {**os.environ, "SQLML_PAUSE_AT": "submit:spawn", "SQLML_PAUSE_FILE": str(marker)}
    user = run_user(
        db_path,
        CREATE.format(name="peng", fn="predict_species", budget=4, model_type=FAST, trials=""),
        env,
    )
    pid = paused_pid(marker, "submit:spawn")
    assert pid == user.pid
    user.send_signal(signal.SIGKILL)
    user.wait()
    with sqlml.connect(db_path) as conn:
        assert state(conn) == "FAILED"
        assert "trainer process died" in conn.model_status("peng")["error"]
        conn.sql("DROP MODEL peng")
        assert conn.execute("SHOW MODEL ALL").fetchall() == []


TWO = textwrap.dedent(
    """
    import sys, sqlml
    name, store = sys.argv[1], sys.argv[2]
    c = sqlml.connect(sys.argv[3], model_store=store, synchronous=True)
    c.sql("CREATE TABLE penguins AS SELECT *, (row_number() OVER ()) % 5 AS fold "
          "FROM read_parquet('" + sys.argv[4] + "')")
    c.sql(sys.argv[5])
    """
)


@pytest.mark.slow
def test_two_processes_share_one_model_store(tmp_path):
    """Each process has its own database file (DuckDB lets one process write a file at a time);
    both train into one model store at the same moment, and each sees both models."""
    store = tmp_path / "shared.models"
    penguins = (DATA / "penguins.parquet").as_posix()
    users = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                TWO,
                name,
                str(store),
                str(tmp_path / f"{name}.duckdb"),
                penguins,
                CREATE.format(
                    name=name,
                    fn=f"predict_{name}",
                    model_type=FAST,
                    budget=120,
                    trials=", MAX_TRIALS 2",
                ),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for user in users:
        assert user.wait(timeout=120) == 0, user.stderr.read()
    for name in ("a", "b"):
        with sqlml.connect(tmp_path / f"{name}.duckdb", model_store=store) as conn:
            assert [r[1:3] for r in conn.execute("SHOW MODEL ALL").fetchall()] == [
                ("a", "READY"),
                ("b", "READY"),
            ]
            for other in ("a", "b"):
                n = conn.execute(f"SELECT count(predict_{other}({PENGUIN_FEATURES})) FROM penguins")
                assert n.fetchone()[0] == 344
            no_partial_packages(conn)


# -- the data snapshot -----------------------------------------------------------------------


@pytest.mark.slow
def test_snapshot_is_an_arrow_file_of_the_rows_with_enum_and_hugeint_as_the_function_sees_them(
    aconn, tmp_path, monkeypatch
):
    import pyarrow as pa
    import pyarrow.ipc as ipc

    aconn.sql("CREATE TYPE isle AS ENUM ('Biscoe', 'Dream', 'Torgersen')")
    aconn.sql(
        "CREATE TABLE typed AS SELECT species, island::isle AS island, "
        "body_mass_g::HUGEINT AS mass, bill_length_mm FROM penguins"
    )
    marker = pause_marker(tmp_path, "trainer:queued", monkeypatch)
    aconn.sql("CREATE MODEL typed FROM typed TARGET species FUNCTION predict_typed")
    pid = paused_pid(marker, "trainer:queued")
    job_dir = J.job_path(aconn.store, "main", "typed")
    table = ipc.open_file(pa.memory_map(str(job_dir / J.SNAPSHOT_FILE))).read_all()
    assert table.num_rows == 344
    assert table.column_names == ["species", "island", "mass", "bill_length_mm"]
    assert table.schema.field("island").type == pa.string()
    assert table.schema.field("mass").type == pa.float64()
    assert sorted(set(table.column("island").to_pylist())) == ["Biscoe", "Dream", "Torgersen"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: state(aconn, "typed") == "FAILED", timeout=5, what="FAILED")
    aconn.sql("DROP MODEL typed")
    assert not job_dir.exists()
    # and the model trains from it, its function taking the ENUM and HUGEINT columns
    monkeypatch.delenv("SQLML_PAUSE_AT")
    aconn.sql(
        "CREATE MODEL typed FROM typed TARGET species FUNCTION predict_typed "
        f"{FAST} SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 2)"
    )
    aconn.wait_model("typed")
    rows = aconn.execute(
        "SELECT predict_typed(island, mass, bill_length_mm) = species FROM typed "
        "WHERE mass IS NOT NULL"
    ).fetchall()
    assert len(rows) == 342 and sum(r[0] for r in rows) > 250


def test_a_parquet_snapshot_left_by_an_earlier_build_is_still_read(tmp_path):
    import duckdb
    import pyarrow as pa

    from sqlml.jobs.training import _read_snapshot

    legacy = tmp_path / J.LEGACY_SNAPSHOT_FILE
    duckdb.sql(f"COPY (SELECT range AS x, 'a' || range AS s FROM range(5)) TO '{legacy}'")
    draft = {"training": {}}
    table = _read_snapshot(tmp_path / J.SNAPSHOT_FILE, draft)
    assert table.column("x").to_pylist() == [0, 1, 2, 3, 4]
    assert table.schema.field("s").type == pa.string()
    assert draft["training"]["arrow_mb"] >= 0


def _sleeping(pid: int) -> bool:
    try:
        return "nanosleep" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


def _mapped_libraries(pid: int) -> set[str]:
    with open(f"/proc/{pid}/maps") as f:
        return {line.split()[-1] for line in f if "/" in line}


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/<pid>/maps")
@pytest.mark.slow
def test_a_queued_trainer_has_not_loaded_the_learning_libraries(one_slot):
    conn = one_slot
    create(conn, "second", "f2", **AWAITED)
    wait_for(lambda: state(conn, "second") == "QUEUED", what="second QUEUED")
    pid = J.trainer_pid(J.job_path(conn.store, "main", "second"))
    # Past its imports, the trainer sleeps between looks for a free slot.
    wait_for(lambda: _sleeping(pid), what="the queued trainer to wait for a slot")
    assert state(conn, "second") == "QUEUED"
    paths = " ".join(sorted(_mapped_libraries(pid)))
    assert "/python" in paths  # the maps are read right
    for library in ("lightgbm", "catboost", "xgboost", "sklearn", "scipy", "duckdb"):
        assert f"/{library}" not in paths
    conn.wait_model("first")
    assert conn.wait_model("second")["state"] == "READY"


@pytest.mark.slow
def test_a_trainer_whose_job_folder_is_removed_stops(aconn):
    create(aconn, budget=120, model_type="")
    wait_for(lambda: state(aconn) == "TRAINING", what="TRAINING")
    job_dir = J.job_path(aconn.store, "main", "peng")
    pid = J.trainer_pid(job_dir)
    J.remove_folder(job_dir)  # not DROP MODEL: the folder just goes
    wait_for(lambda: pid_gone(pid), timeout=60, what="the trainer to stop")
    assert aconn.store.directories() == []  # it published nothing
    assert aconn.execute("SHOW MODEL ALL").fetchall() == []


@pytest.mark.slow
def test_queued_trainers_stop_when_the_store_is_removed(one_slot):
    conn = one_slot
    create(conn, "second", "f2", budget=24)
    wait_for(lambda: state(conn, "second") == "QUEUED", what="second QUEUED")
    pids = [J.trainer_pid(J.job_path(conn.store, "main", n)) for n in ("first", "second")]
    wait_for(lambda: _sleeping(pids[1]), what="the queued trainer to wait for a slot")
    gone = conn.store.root.with_name("removed-store")
    os.rename(conn.store.root, gone)  # the store disappears at once (rmtree would take a while)
    shutil.rmtree(gone, ignore_errors=True)
    for pid in pids:
        wait_for(lambda pid=pid: pid_gone(pid), timeout=60, what=f"trainer {pid} to stop")
    assert not conn.store.root.exists()  # nobody recreated it


@pytest.mark.slow
def test_an_expert_trainer_whose_job_folder_is_removed_stops_mid_fit(aconn):
    """XGBoost has no candidates to report between: the deadline its rounds check runs out."""
    aconn.sql(
        "CREATE MODEL peng FROM (SELECT body_mass_g, bill_length_mm, flipper_length_mm "
        "FROM penguins WHERE body_mass_g IS NOT NULL) TARGET body_mass_g FUNCTION f_mass "
        "AUTO OFF MODEL_TYPE XGBOOST OBJECTIVE 'reg:squarederror' PREPROCESSORS 'none' "
        "HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '10000000') SETTINGS (MAX_RUNTIME 600)"
    )
    wait_for(lambda: state(aconn) == "TRAINING", what="TRAINING")
    job_dir = J.job_path(aconn.store, "main", "peng")
    pid = J.trainer_pid(job_dir)
    time.sleep(1.0)  # well into the rounds
    J.remove_folder(job_dir)
    wait_for(lambda: pid_gone(pid), timeout=60, what="the trainer to stop")
    assert aconn.store.directories() == []


def test_the_trainers_start_up_comes_out_of_the_wall_clock_budget(monkeypatch):
    """MAX_RUNTIME is the user's wall clock: the seconds between submission and the trainer's
    first candidate that were not spent waiting for a slot (process start, imports) come out
    of it. Under the CPU clock the tests use, nothing does."""
    from sqlml.jobs.trainer import CLOCK_ENV, _start_up

    job = {"submitted_at": time.time() - 5.0}
    monkeypatch.delenv(CLOCK_ENV, raising=False)
    assert 4.0 <= _start_up(job, queued=1.0) < 60  # 4 s, plus however slow this machine is
    assert _start_up({"submitted_at": time.time() + 60}, queued=0.0) == 0.0  # clock skew
    monkeypatch.setenv(CLOCK_ENV, "cpu")
    assert _start_up(job, queued=1.0) == 0.0


@pytest.mark.slow
def test_a_one_fit_job_does_not_wait_behind_a_search(db_path, tmp_path, monkeypatch):
    hold = tmp_path / "hold"
    hold.write_text("")
    with sqlml.connect(db_path, max_training_jobs=1) as conn:
        load(conn, "penguins")
        # The search's trainer stops once TRAINING, holding the only search slot, until released.
        monkeypatch.setenv("SQLML_PAUSE_AT", "trainer:training")
        monkeypatch.setenv("SQLML_PAUSE_UNTIL", str(hold))
        monkeypatch.setenv("SQLML_PAUSE_FILE", str(tmp_path / "paused"))
        create(conn, **AWAITED)
        wait_for((tmp_path / "paused").exists, timeout=120, what="the search to start")
        assert state(conn, "peng") == "TRAINING"
        monkeypatch.delenv("SQLML_PAUSE_AT")
        conn.sql(
            "CREATE MODEL quick FROM (SELECT (species = 'Adelie')::INT AS a, bill_depth_mm "
            "FROM penguins) TARGET a FUNCTION predict_a AUTO OFF MODEL_TYPE XGBOOST "
            "OBJECTIVE 'binary:logistic' PREPROCESSORS 'none' "
            "HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '5')"
        )
        assert conn.wait_model("quick", timeout=240)["state"] == "READY"
        assert state(conn, "peng") == "TRAINING"  # still held: the quick job did not wait for it
        hold.unlink()
        assert conn.wait_model("peng", timeout=300)["state"] == "READY"
