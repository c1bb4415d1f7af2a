"""The runtime Predictor: loaded once per package, one contiguous matrix per batch, and the same
answers whether DuckDB runs a function on one thread or several."""

from __future__ import annotations

import threading

import numpy as np
import pyarrow.parquet as pq
import pytest

from sqlml.runtime.predictor import load_predictor
from tests.conftest import PENGUIN_FEATURES

COLUMNS = [c.strip() for c in PENGUIN_FEATURES.split(",")]

# Every test here uses a trained model: trained by a trainer process (shared fixtures included).
pytestmark = pytest.mark.slow


@pytest.fixture
def peng(shared_penguins):
    return shared_penguins[0]


def test_parallel_scans_give_the_serial_answers(peng):
    """Many DuckDB vectors on two threads: every function's result equals the one-thread run."""
    peng.sql(
        "CREATE TEMP TABLE many AS SELECT row_number() OVER () AS id, p.* "
        "FROM penguins p, range(10)"
    )
    query = (
        f"SELECT id, predict_species({PENGUIN_FEATURES}), "
        f"predict_species_probabilities({PENGUIN_FEATURES}), "
        f"predict_species_explain({PENGUIN_FEATURES}) FROM many ORDER BY id"
    )
    try:
        peng.sql("SET threads = 1")
        serial = peng.execute(query).fetchall()
        peng.sql("SET threads = 4")
        parallel = peng.execute(query).fetchall()
    finally:
        peng.sql("RESET threads")
        peng.sql("DROP TABLE many")
    assert len(serial) == 344 * 10
    assert parallel == serial


def test_python_threads_share_one_loaded_model(peng):
    manifest = peng.store.get("main", "peng")
    directory = peng.store.path("main", "peng")
    table = pq.read_table("tests/data/penguins.parquet")
    columns = [table.column(c) for c in COLUMNS]
    expected = load_predictor(directory, manifest).predict_raw(columns)
    seen, results = [], []

    def work():
        predictor = load_predictor(directory, manifest)
        seen.append(predictor)
        for _ in range(20):
            results.append(predictor.predict_raw(columns))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(p) for p in seen}) == 1  # loaded once per process
    assert len(results) == 80
    assert all(np.array_equal(r, expected) for r in results)


def test_a_batch_is_one_contiguous_matrix(peng):
    manifest = peng.store.get("main", "peng")
    predictor = load_predictor(peng.store.path("main", "peng"), manifest)
    table = pq.read_table("tests/data/penguins.parquet")
    matrices = predictor.model.matrices([table.column(c) for c in COLUMNS])
    for X in matrices.values():
        assert X.flags.c_contiguous and X.dtype == np.float32
        assert X.shape[0] == table.num_rows


def test_a_new_package_under_the_same_name_is_loaded_afresh(penguins):
    before = penguins.store.get("main", "peng")
    old = load_predictor(penguins.store.path("main", "peng"), before)
    penguins.sql("DROP MODEL peng")
    penguins.sql(
        "CREATE MODEL peng FROM (SELECT species, island, bill_length_mm FROM penguins) "
        "TARGET species FUNCTION predict_species SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"
    )
    after = penguins.store.get("main", "peng")
    assert after["package_id"] != before["package_id"]
    new = load_predictor(penguins.store.path("main", "peng"), after)
    assert new is not old
    assert len(new.manifest["features"]) == 2
    (label,) = penguins.execute("SELECT predict_species('Biscoe', 48.0)").fetchone()
    assert label in ("Adelie", "Chinstrap", "Gentoo")
