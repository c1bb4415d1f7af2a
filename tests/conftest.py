"""Shared fixtures: real DuckDB files on disk in a temporary folder, small real tables.

Trainer processes started by the tests measure MAX_RUNTIME in their own CPU seconds
(``SQLML_TRAINER_CLOCK=cpu``, inherited by every process the tests start): a budget then buys
the same training however busy the machine is, so a test of what a model learns holds on a slow
or loaded machine as on an idle one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import sqlml

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


# The shared penguins model's budget, in trainer CPU seconds. Large enough that the search
# finishes several candidates (and the model is accurate); it is trained once per test session.
PENGUINS_RUNTIME = 24


def _train_penguins(conn) -> None:
    load(conn, "penguins")
    conn.sql(
        "CREATE MODEL peng FROM (SELECT species, island, bill_length_mm, bill_depth_mm, "
        "flipper_length_mm, body_mass_g, sex FROM penguins WHERE fold <> 0) "
        f"TARGET species FUNCTION predict_species SETTINGS (MAX_RUNTIME {PENGUINS_RUNTIME})"
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
