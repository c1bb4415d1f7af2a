"""Property tests of the store's loader: random bytes and random manifests never crash it and
never raise anything but ``CorruptModelPackage`` (issue 17).

Each example is written into a fresh store beside one real package (the session's penguins
model), then read the way a connection reads it: listing, the catalog, SHOW MODEL's rows,
explain_model's document, and loading the predictor of anything that lists as READY.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlml import kinds
from sqlml.errors import CorruptModelPackage, SqlmlError
from sqlml.runtime.predictor import load_predictor
from sqlml.statements import catalog
from sqlml.statements.explain_model import document
from sqlml.statements.show_model import model_rows, models_table
from sqlml.store import ModelStore
from sqlml.store.integrity import sha256
from tests.test_store_integrity import FIELDS

pytestmark = pytest.mark.slow
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    database=None,
    derandomize=True,  # the same examples on every run: CI never flakes on a new one
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_counter = itertools.count()


@pytest.fixture(scope="module")
def package(_penguins_template) -> Path:
    """The session's penguins model: a READY package of format 2."""
    return _penguins_template.parent / "test.duckdb.models" / "main.peng"


def fresh_store(tmp_path: Path, package: Path) -> tuple[ModelStore, Path]:
    root = tmp_path / f"store{next(_counter)}"
    shutil.copytree(package, root / "main.peng")
    return ModelStore(root), root / "main.peng"


def read_everything(store: ModelStore) -> list[dict]:
    """All a connection does with a package before and when it is used. Only
    CorruptModelPackage may come out; any other exception fails the example."""
    listed = catalog.list_models(store)
    for directory, manifest in listed:
        kinds.function_names(manifest)
        models_table([manifest])
        try:
            model_rows(manifest, str(directory))
            document(directory, manifest)
            if manifest["state"] == "READY":
                load_predictor(directory, manifest)
        except CorruptModelPackage:
            pass
    return [m for _, m in listed]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@SETTINGS
@given(data=st.binary(max_size=400))
def test_random_bytes_as_the_manifest(tmp_path, package, data):
    store, folder = fresh_store(tmp_path, package)
    (folder / "model.json").write_bytes(data)
    [manifest] = read_everything(store)
    assert manifest["state"] == "BROKEN" and manifest["name"] == "peng"


@SETTINGS
@given(
    changes=st.dictionaries(
        st.sampled_from(FIELDS),
        json_values,
        min_size=1,
        max_size=3,
    ),
    removed=st.sets(st.sampled_from(["model", "files", "kind", "arrow_types", "target"])),
)
def test_random_manifest_fields(tmp_path, package, changes, removed):
    store, folder = fresh_store(tmp_path, package)
    manifest = json.loads((folder / "model.json").read_text())
    manifest.update(changes)
    for key in removed:
        manifest.pop(key, None)
    (folder / "model.json").write_text(json.dumps(manifest))
    [found] = read_everything(store)
    assert found["state"] in ("READY", "BROKEN")


@SETTINGS
@given(
    section=st.dictionaries(st.text(max_size=12), json_values, max_size=6),
    member_file=json_values,
)
def test_random_model_sections(tmp_path, package, section, member_file):
    store, folder = fresh_store(tmp_path, package)
    manifest = json.loads((folder / "model.json").read_text())
    original = manifest["model"]
    manifest["model"] = {**original, **section}
    if isinstance(manifest["model"].get("members"), list) and manifest["model"]["members"]:
        manifest["model"]["members"][0] = {
            **original["members"][0],
            "models": [{"file": member_file}],
        }
    (folder / "model.json").write_text(json.dumps(manifest))
    read_everything(store)


@SETTINGS
@given(data=st.data())
def test_random_bytes_in_an_artifact_are_caught_by_its_checksum(tmp_path, package, data):
    store, folder = fresh_store(tmp_path, package)
    manifest = json.loads((folder / "model.json").read_text())
    name = data.draw(st.sampled_from(sorted(manifest["files"])))
    (folder / name).write_bytes(data.draw(st.binary(max_size=2000)))
    [found] = read_everything(store)
    assert found["state"] == "BROKEN" and name in found["failure_reason"]


@SETTINGS
@given(data=st.data())
def test_altered_files_with_recomputed_checksums_never_crash_the_loader(tmp_path, package, data):
    """Someone who rewrites a file *and* its checksum gets past the integrity check. A LightGBM
    or JSON file cut anywhere, or replaced by garbage, must still never crash the loader. (A
    well-formed file with altered numbers is trusted: README, "What the store guarantees".)"""
    store, folder = fresh_store(tmp_path, package)
    manifest = json.loads((folder / "model.json").read_text())
    names = sorted(n for n in manifest["files"] if n.endswith((".lgb.txt", ".json")))
    name = data.draw(st.sampled_from(names))
    original = (folder / name).read_bytes()
    altered = data.draw(
        st.one_of(
            st.integers(0, len(original)).map(lambda cut: original[:cut]),
            st.binary(max_size=2000),
        )
    )
    (folder / name).write_bytes(altered)
    manifest["files"][name] = {"size": len(altered), "sha256": sha256(folder / name)}
    (folder / "model.json").write_text(json.dumps(manifest))
    try:
        read_everything(store)
    except SqlmlError as e:  # pragma: no cover - a failure message, should it happen
        raise AssertionError(f"escaped: {e!r}") from e
