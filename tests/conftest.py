"""Shared fixtures: real DuckDB files on disk in a temporary folder, small real tables."""

from __future__ import annotations

from pathlib import Path

import pytest

import sqlml

DATA = Path(__file__).parent / "data"

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


def _train_penguins(conn) -> None:
    load(conn, "penguins")
    conn.sql(
        "CREATE MODEL peng FROM (SELECT species, island, bill_length_mm, bill_depth_mm, "
        "flipper_length_mm, body_mass_g, sex FROM penguins WHERE fold <> 0) "
        "TARGET species FUNCTION predict_species SETTINGS (MAX_RUNTIME 6)"
    )


@pytest.fixture
def penguins(conn):
    """A connection with the penguins table and a trained model ``peng`` / ``predict_species``."""
    _train_penguins(conn)
    return conn


@pytest.fixture(scope="module")
def shared_penguins(tmp_path_factory):
    """``penguins``, trained once per test module, for tests that only read the model and the
    table (they must not change either)."""
    db_path = tmp_path_factory.mktemp("shared") / "test.duckdb"
    connection = sqlml.connect(db_path, synchronous=True)
    _train_penguins(connection)
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
        "TARGET species FUNCTION f_slow SETTINGS (MAX_RUNTIME 20)"
    )
    yield connection
    connection.close()
