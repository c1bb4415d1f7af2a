"""Shared fixtures: real DuckDB files on disk in a temporary folder, small real tables.

Trainer processes started by the tests measure MAX_RUNTIME in their own CPU seconds
(``SQLML_TRAINER_CLOCK=cpu``, inherited by every process the tests start): a budget then buys
the same training however busy the machine is, so a test of what a model learns holds on a slow
or loaded machine as on an idle one.

The learning libraries run one thread per process here (``OMP_THREAD_LIMIT=1`` for LightGBM and
XGBoost, ``OPENBLAS_NUM_THREADS=1`` for numpy): the tests' tables are tiny, and on a small machine
two OpenMP or OpenBLAS threads that wait for each other cost 10 to 50 times the CPU of one
(LightGBM: 500 rounds on penguins took 0.2 s on one thread, 4 to 25 s on two), so CPU seconds
would measure the waiting, not the work. Models that are READY when their tests need them train a
few candidates (MAX_TRIALS) within a generous MAX_RUNTIME, so the count, not the clock, ends them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# Before anything loads libgomp or OpenBLAS (they read these once); inherited by trainers.
os.environ["OMP_THREAD_LIMIT"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import pytest  # noqa: E402

import sqlml  # noqa: E402

DATA = Path(__file__).parent / "data"

os.environ["SQLML_TRAINER_CLOCK"] = "cpu"

PENGUIN_FEATURES = "island, bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, sex"


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "test.duckdb"


@pytest.fixture
def conn(db_path):
    connection = sqlml.connect(db_path, synchronous=True)
    yield connection
    connection.close()


def load(conn, name: str, table: str | None = None) -> None:
    path = (DATA / f"{name}.parquet").as_posix()
    conn.sql(
        f"CREATE TABLE {table or name} AS "
        f"SELECT *, (row_number() OVER ()) % 5 AS fold FROM read_parquet('{path}')"
    )


# The shared penguins model's search: its first candidates (lightgbm, then linear: an ensemble of
# a tree and a dense learner), ended by MAX_TRIALS; MAX_RUNTIME, in trainer CPU seconds, is far
# more than they need on a busy machine. It is trained once per test session.
PENGUINS_RUNTIME = 240
PENGUINS_TRIALS = 2


def _train_penguins(conn) -> None:
    load(conn, "penguins")
    conn.sql(
        "CREATE MODEL peng FROM (SELECT species, island, bill_length_mm, bill_depth_mm, "
        "flipper_length_mm, body_mass_g, sex FROM penguins WHERE fold <> 0) "
        "TARGET species FUNCTION predict_species "
        f"SETTINGS (MAX_RUNTIME {PENGUINS_RUNTIME}, MAX_TRIALS {PENGUINS_TRIALS})"
    )


@pytest.fixture(scope="session")
def _penguins_template(tmp_path_factory) -> Path:
    """A database ``test.duckdb`` with the penguins table and its model store holding ``peng``,
    trained once per session; the fixtures below hand out copies of it."""
    db_path = tmp_path_factory.mktemp("penguins-template") / "test.duckdb"
    with sqlml.connect(db_path, synchronous=True) as connection:
        _train_penguins(connection)
    return db_path


def _copy_penguins(template: Path, db_path: Path) -> None:
    shutil.copyfile(template, db_path)
    shutil.copytree(
        template.parent / f"{template.name}.models", db_path.parent / f"{db_path.name}.models"
    )


@pytest.fixture
def penguins(_penguins_template, db_path):
    """A connection with the penguins table and a trained model ``peng`` / ``predict_species``:
    a private copy of the session's model, so the test may change or drop it."""
    _copy_penguins(_penguins_template, db_path)
    connection = sqlml.connect(db_path, synchronous=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def shared_penguins(_penguins_template, tmp_path_factory):
    """``penguins``, one copy per test module, for tests that only read the model and the
    table (they must not change either)."""
    db_path = tmp_path_factory.mktemp("shared") / "test.duckdb"
    _copy_penguins(_penguins_template, db_path)
    connection = sqlml.connect(db_path, synchronous=True)
    yield connection, db_path
    connection.close()


@pytest.fixture
def training(tmp_path):
    """An asynchronous connection whose model ``slow`` (FUNCTION ``f_slow``, a penguins species
    classifier on ``island, bill_length_mm``) has just been submitted: it is QUEUED or TRAINING
    for the next seconds (a trainer takes longer than that to start up and fit)."""
    connection = sqlml.connect(tmp_path / "async.duckdb")
    load(connection, "penguins")
    connection.sql(
        "CREATE MODEL slow FROM (SELECT species, island, bill_length_mm FROM penguins) "
        "TARGET species FUNCTION f_slow SETTINGS (MAX_RUNTIME 16)"
    )
    yield connection
    connection.close()
