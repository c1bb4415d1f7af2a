"""The model store under damage and hostile input (issue 17).

Three real models (an AUTO ON ensemble, an AUTO OFF XGBoost model, a K-means model) are trained
once; every test works on its own copy of their database and store, damages it the way a
power loss, a careless hand or a hostile user would, and checks the outcome: a clear error
naming the model and the file, or a clean state. Nothing may crash the process or leave the
other models unusable.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sqlml
from sqlml.store import ModelStore
from sqlml.store.integrity import record_files
from tests.conftest import DATA, PENGUIN_FEATURES, load

FIXTURES = Path(__file__).parent / "fixtures" / "packages"

# Besides "auto", the session's penguins model (conftest), an AUTO ON ensemble.
MODELS = {
    "xgb": (
        "CREATE MODEL xgb FROM (SELECT body_mass_g, bill_length_mm, flipper_length_mm FROM "
        "penguins) TARGET body_mass_g FUNCTION f_xgb AUTO OFF MODEL_TYPE XGBOOST "
        "OBJECTIVE 'reg:squarederror' PREPROCESSORS 'none' "
        "HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '10')"
    ),
    "km": (
        "CREATE MODEL km FROM (SELECT bill_length_mm, bill_depth_mm FROM penguins WHERE "
        "bill_length_mm IS NOT NULL) FUNCTION f_km AUTO OFF MODEL_TYPE KMEANS "
        "PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT EXCEPT (K '3')"
    ),
}
CALLS = {
    "auto": f"SELECT count(predict_species({PENGUIN_FEATURES})) FROM penguins",
    "xgb": "SELECT count(f_xgb(bill_length_mm, flipper_length_mm)) FROM penguins",
    "km": "SELECT count(f_km(bill_length_mm, bill_depth_mm)) FROM penguins",
}
COUNTS = {"auto": 344, "xgb": 344, "km": 344}


@pytest.fixture(scope="module")
def template(_penguins_template, tmp_path_factory) -> Path:
    """A database with the penguins table and the three models, trained once: the session's
    penguins model, renamed "auto" (its function stays predict_species), and two more."""
    db = tmp_path_factory.mktemp("integrity") / "t.duckdb"
    shutil.copyfile(_penguins_template, db)
    store = db.parent / "t.duckdb.models"
    store.mkdir()
    shutil.copytree(_penguins_template.parent / "test.duckdb.models" / "main.peng", store / "peng")
    manifest = json.loads((store / "peng" / "model.json").read_text())
    manifest["name"] = "auto"
    (store / "peng" / "model.json").write_text(json.dumps(manifest))
    (store / "peng").rename(store / "main.auto")
    with sqlml.connect(db, synchronous=True) as conn:
        for statement in MODELS.values():
            conn.sql(statement)
    return db


def copy_of(template: Path, folder: Path) -> tuple[Path, Path]:
    """A private copy of the template: (database file, model store)."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "t.duckdb"
    shutil.copyfile(template, db)
    store = folder / "t.duckdb.models"
    shutil.copytree(template.parent / "t.duckdb.models", store, symlinks=True)
    return db, store


def manifest_of(store: Path, model: str) -> dict:
    return json.loads((store / f"main.{model}" / "model.json").read_text())


def write_manifest(store: Path, model: str, manifest: dict) -> None:
    (store / f"main.{model}" / "model.json").write_text(json.dumps(manifest))


def states(conn) -> dict[str, str]:
    return {row[1]: row[2] for row in conn.execute("SHOW MODEL ALL").fetchall()}


def assert_others_work(conn, broken: str) -> None:
    for model, call in CALLS.items():
        if model != broken:
            assert conn.execute(call).fetchone()[0] == COUNTS[model], model


def assert_broken_and_droppable(conn, model: str, *words: str, function: bool = True) -> str:
    """The model is listed BROKEN with a one-line reason holding ``words``; calling its
    function says so (unless ``function`` is False: an unreadable manifest does not say which
    function was the model's); the other models work; DROP MODEL removes it. Returns the
    reason."""
    assert states(conn)[model] == "BROKEN"
    reason = dict(conn.execute(f"SHOW MODEL {model}").fetchall())["Failure Reason"]
    assert "\n" not in reason
    assert f"main.{model}" in reason
    for word in words:
        assert word in reason, (word, reason)
    if function:
        with pytest.raises(sqlml.CorruptModelPackage) as info:
            conn.execute(CALLS[model])
        assert f"main.{model}" in str(info.value) and "\n" not in str(info.value)
    assert_others_work(conn, model)
    conn.sql(f"DROP MODEL {model}")
    assert model not in states(conn)
    return reason


def artifacts(store: Path, model: str) -> list[str]:
    return sorted(manifest_of(store, model)["files"])


# -- integrity ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_packages_record_every_artifact_with_size_and_sha256(template, tmp_path):
    _, store = copy_of(template, tmp_path)
    for model in CALLS:
        manifest = manifest_of(store, model)
        assert manifest["format_version"] == 2
        folder = store / f"main.{model}"
        on_disk = sorted(
            p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.name != "model.json"
        )
        assert sorted(manifest["files"]) == on_disk and on_disk
        assert record_files(folder) == manifest["files"]


def _truncate_half(path: Path, _other: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty(path: Path, _other: Path) -> None:
    path.write_bytes(b"")


def _flip_a_byte(path: Path, _other: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x5A  # same size: only the checksum can tell
    path.write_bytes(bytes(data))


def _swap(path: Path, other: Path) -> None:
    shutil.copyfile(other, path)


DAMAGES = {"truncated": _truncate_half, "empty": _empty, "flipped": _flip_a_byte, "swapped": _swap}


@pytest.mark.slow
@pytest.mark.parametrize("model", list(CALLS))
def test_every_damaged_artifact_is_refused_before_it_is_parsed(template, tmp_path, model):
    _, template_store = copy_of(template, tmp_path / "names")
    names = artifacts(template_store, model)
    # Swapped in: an artifact of another model (a plausible file of the wrong model).
    other_model = "xgb" if model != "xgb" else "auto"
    other_file = template_store / f"main.{other_model}" / artifacts(template_store, other_model)[0]
    for name in names:
        for damage, apply in DAMAGES.items():
            db, store = copy_of(template, tmp_path / f"{name}-{damage}")
            apply(store / f"main.{model}" / name, other_file)
            with sqlml.connect(db) as conn:
                reason = assert_broken_and_droppable(conn, model, name, "damaged")
                assert "DROP MODEL" in reason


@pytest.mark.slow
def test_a_missing_artifact_is_reported(template, tmp_path):
    db, store = copy_of(template, tmp_path)
    name = artifacts(store, "xgb")[0]
    (store / "main.xgb" / name).unlink()
    with sqlml.connect(db) as conn:
        assert_broken_and_droppable(conn, "xgb", name, "missing")


LOAD_FIXTURE = textwrap.dedent(
    """
    import sys, sqlml
    conn = sqlml.connect(sys.argv[1], model_store=sys.argv[2])
    conn.sql("CREATE TABLE penguins AS FROM read_parquet('" + sys.argv[3] + "')")
    try:
        conn.execute("SELECT count(predict_species(" + sys.argv[4] + ")) FROM penguins")
        print("predicted")
    except sqlml.SqlmlError as e:
        print(type(e).__name__, e)
    """
)


@pytest.mark.parametrize("cut", ["half", "tree boundary", "in the parameters"])
def test_a_truncated_lightgbm_file_in_an_unchecked_package_does_not_crash(tmp_path, cut):
    """Packages of format 1 recorded no checksums: a truncated LightGBM file reaches the
    loader, which must refuse it rather than let LightGBM read past its end (that aborts the
    process). Run in a child process, so a crash would show as its exit status."""
    store = tmp_path / "models"
    shutil.copytree(FIXTURES / "wave1" / "main.peng", store / "main.peng")
    path = store / "main.peng" / "member0_fold0.lgb.txt"
    data = path.read_bytes()
    at = {
        "half": len(data) // 2,
        "tree boundary": data.index(b"Tree=1"),
        "in the parameters": data.index(b"end of parameters") - 40,
    }[cut]
    path.write_bytes(data[:at])
    manifest = json.loads((store / "main.peng" / "model.json").read_text())
    features = ", ".join(f["name"] for f in manifest["features"])
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD_FIXTURE,
            str(tmp_path / "x.duckdb"),
            str(store),
            (DATA / "penguins.parquet").as_posix(),
            features,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.startswith("CorruptModelPackage"), child.stdout + child.stderr[-2000:]
    assert "member0_fold0.lgb.txt" in child.stdout and "damaged" in child.stdout


# -- isolation ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("explanation", "/etc/passwd"),
        ("explanation", "../main.xgb/explanation.json"),
        ("leaderboard", "/etc/hostname"),
        ("preprocessing", "../main.xgb/model.json"),
        ("preprocessing", "sub/../../../etc/passwd"),
        ("preprocessing", "C:\\\\Windows\\\\win.ini"),
        ("preprocessing", ""),
        ("preprocessing", 7),
    ],
)
def test_paths_in_a_manifest_stay_inside_the_package(template, tmp_path, where, value):
    db, store = copy_of(template, tmp_path)
    manifest = manifest_of(store, "auto")
    manifest["model"][where] = value
    write_manifest(store, "auto", manifest)
    with sqlml.connect(db) as conn:
        assert states(conn)["auto"] == "BROKEN"
        with pytest.raises(sqlml.CorruptModelPackage) as info:
            conn.execute("SELECT explain_model('auto')").fetchall()
        assert "root:" not in str(info.value)
        assert_broken_and_droppable(conn, "auto")


@pytest.mark.slow
def test_a_member_file_pointing_at_another_models_file_is_refused(template, tmp_path):
    db, store = copy_of(template, tmp_path)
    manifest = manifest_of(store, "auto")
    manifest["model"]["members"][0]["models"][0]["file"] = "../main.xgb/booster.xgb.ubj"
    write_manifest(store, "auto", manifest)
    with sqlml.connect(db) as conn:
        assert_broken_and_droppable(conn, "auto", "outside the package")


@pytest.mark.slow
def test_a_recorded_file_outside_the_package_is_refused(template, tmp_path):
    db, store = copy_of(template, tmp_path)
    manifest = manifest_of(store, "km")
    passwd = Path("/etc/passwd")
    manifest["files"]["/etc/passwd"] = {"size": passwd.stat().st_size, "sha256": "0" * 64}
    write_manifest(store, "km", manifest)
    with sqlml.connect(db) as conn:
        assert_broken_and_droppable(conn, "km", "outside the package")


@pytest.mark.slow
def test_symbolic_links_are_not_followed(template, tmp_path):
    db, store = copy_of(template, tmp_path)
    # An artifact replaced by a link to another model's file of the same name and kind...
    name = artifacts(store, "km")[0]
    elsewhere = tmp_path / "elsewhere.npz"
    shutil.copyfile(store / "main.km" / name, elsewhere)
    (store / "main.km" / name).unlink()
    (store / "main.km" / name).symlink_to(elsewhere)
    with sqlml.connect(db) as conn:
        assert_broken_and_droppable(conn, "km", "symbolic link")
    # ... a manifest that is a link ...
    db, store = copy_of(template, tmp_path / "manifest")
    outside = tmp_path / "outside.json"
    shutil.move(store / "main.xgb" / "model.json", outside)
    (store / "main.xgb" / "model.json").symlink_to(outside)
    with sqlml.connect(db) as conn:
        assert_broken_and_droppable(conn, "xgb", "symbolic link", function=False)
    # ... and a package folder that is a link to a package kept elsewhere.
    db, store = copy_of(template, tmp_path / "folder")
    shutil.move(store / "main.auto", tmp_path / "kept-elsewhere")
    (store / "main.auto").symlink_to(tmp_path / "kept-elsewhere")
    with sqlml.connect(db) as conn:
        assert states(conn)["auto"] == "BROKEN"
        assert_others_work(conn, "auto")
        conn.sql("DROP MODEL auto")
    assert (tmp_path / "kept-elsewhere" / "model.json").exists()  # the link went, not its target


@pytest.mark.slow
def test_a_package_moved_under_another_name_is_refused(template, tmp_path):
    db, store = copy_of(template, tmp_path)
    shutil.rmtree(store / "main.km")
    shutil.copytree(store / "main.xgb", store / "main.km")
    with sqlml.connect(db) as conn:
        assert states(conn) == {"auto": "READY", "km": "BROKEN", "xgb": "READY"}
        reason = dict(conn.execute("SHOW MODEL km").fetchall())["Failure Reason"]
        assert "main.km: its folder holds the package of model main.xgb" in reason
        assert_others_work(conn, "km")
        conn.sql("DROP MODEL km")
        assert states(conn) == {"auto": "READY", "xgb": "READY"}


# -- tolerant open: malformed manifests --------------------------------------------------------

BAD_VALUES = [None, 0, True, "", "x", [], {}, {"name": 1}, "\x00"]
FIELDS = [
    "format_version",
    "package_id",
    "schema",
    "name",
    "state",
    "function",
    "features",
    "target",
    "target_type",
    "arrow_types",
    "kind",
    "model",
    "files",
    "settings",
    "training",
    "metrics",
    "problem_type",
    "objective",
    "created_at",
    "owner",
]


def try_everything(conn, model: str) -> None:
    """Every way of reading a model answers or raises a SqlmlError."""
    for statement in (f"SHOW MODEL {model}", CALLS[model], f"SELECT explain_model('{model}')"):
        with contextlib.suppress(sqlml.SqlmlError):
            conn.execute(statement).fetchall()


@pytest.mark.slow
def test_no_malformed_field_stops_the_database(template, tmp_path):
    """Every field set to every wrong type (and removed): connect, SHOW MODEL ALL, SHOW MODEL,
    the function and explain_model answer or raise a SqlmlError; the other models work; the
    model can always be dropped."""
    db, store = copy_of(template, tmp_path)
    kept = tmp_path / "kept"
    shutil.copytree(store / "main.auto", kept)
    original = manifest_of(store, "auto")
    cases = [(f, v) for f in FIELDS for v in BAD_VALUES] + [(f, "<removed>") for f in FIELDS]
    cases += [("function", {"name": "sum", "schema": None})]  # a function of the database
    for field, value in cases:
        manifest = dict(original)
        if value == "<removed>":
            manifest.pop(field)
        else:
            manifest[field] = value
        shutil.rmtree(store / "main.auto", ignore_errors=True)
        shutil.copytree(kept, store / "main.auto")
        write_manifest(store, "auto", manifest)
        with sqlml.connect(db) as conn:
            assert states(conn).get("auto") in ("READY", "BROKEN"), (field, value)
            try_everything(conn, "auto")
            assert_others_work(conn, "auto")
            conn.sql("DROP MODEL auto")
            assert "auto" not in states(conn), (field, value)


@pytest.mark.slow
def test_a_manifest_claiming_another_models_function_breaks_only_one(template, tmp_path):
    db, store = copy_of(template, tmp_path)
    manifest = manifest_of(store, "km")
    manifest["function"] = {"name": "f_xgb", "schema": None}
    write_manifest(store, "km", manifest)
    with sqlml.connect(db) as conn:
        found = states(conn)
        # The model created first keeps the function (by the second: either, in one second).
        assert found["auto"] == "READY" and sorted([found["km"], found["xgb"]]) == [
            "BROKEN",
            "READY",
        ]
        loser, winner = ("km", "xgb") if found["km"] == "BROKEN" else ("xgb", "km")
        reason = dict(conn.execute(f"SHOW MODEL {loser}").fetchall())["Failure Reason"]
        assert f"function f_xgb is already a function of model main.{winner}" in reason
        assert conn.execute(CALLS["auto"]).fetchone()[0] == 344
        conn.sql(f"DROP MODEL {loser}")
        assert states(conn)[winner] == "READY"


@pytest.mark.slow
def test_a_model_of_a_newer_or_older_format_is_broken_with_the_reason(template, tmp_path):
    for version, words in [(99, "Upgrade sqlml"), (0, "older than any sqlml wrote")]:
        db, store = copy_of(template, tmp_path / str(version))
        manifest = manifest_of(store, "xgb")
        manifest["format_version"] = version
        write_manifest(store, "xgb", manifest)
        with sqlml.connect(db) as conn:
            assert_broken_and_droppable(conn, "xgb", words)


@pytest.mark.slow
def test_a_broken_models_function_name_stays_taken(template, tmp_path):
    db, store = copy_of(template, tmp_path)
    (store / "main.km" / artifacts(store, "km")[0]).write_bytes(b"garbage")
    with (
        sqlml.connect(db, synchronous=True) as conn,
        pytest.raises(sqlml.FunctionAlreadyExists, match="model main.km"),
    ):
        conn.sql(MODELS["km"].replace("CREATE MODEL km", "CREATE MODEL km2"))


# -- names ---------------------------------------------------------------------------------------


def test_names_longer_than_127_bytes_are_refused_with_the_limit(tmp_path):
    with sqlml.connect(tmp_path / "t.duckdb") as conn:
        load(conn, "penguins")
        long = "m" * 128
        for statement in (
            f"SHOW MODEL {long}",
            f"DROP MODEL {long}",
            f"DROP MODEL IF EXISTS {long}",
            f"CREATE MODEL {long} FROM penguins TARGET species FUNCTION f",
            f"CREATE MODEL m FROM penguins TARGET species FUNCTION {long}",
            f"EVALUATE MODEL {long} FROM penguins",
        ):
            with pytest.raises(sqlml.NameTooLong, match="127 bytes") as info:
                conn.sql(statement)
            assert info.value.sqlstate == "42622"
        with pytest.raises(sqlml.NameTooLong):
            conn.model_status(long)


@pytest.mark.slow
def test_a_127_byte_name_of_many_bytes_gets_a_hashed_folder(tmp_path):
    name = '"' + "é" * 63 + '"'  # 126 bytes; percent-encoded, 378 characters: too long a file name
    with sqlml.connect(tmp_path / "t.duckdb", synchronous=True) as conn:
        load(conn, "penguins")
        conn.sql(MODELS["xgb"].replace("CREATE MODEL xgb", f"CREATE MODEL {name}"))
        assert conn.execute("SHOW MODEL ALL").fetchall()[0][1] == "é" * 63
        assert conn.execute(CALLS["xgb"]).fetchone()[0] == 344
        folders = [p.name for p in (tmp_path / "t.duckdb.models").iterdir()]
        assert [len(f) for f in folders if not f.startswith(".")] == [183]
        conn.sql(f"DROP MODEL {name}")
        assert conn.execute("SHOW MODEL ALL").fetchall() == []


def test_quoting_mistakes_in_the_python_api_are_syntax_errors(tmp_path):
    with sqlml.connect(tmp_path / "t.duckdb") as conn:
        for call, text in [
            (conn.model_status, "it's"),
            (conn.wait_model, "x'"),
            (conn.model_status, ""),
            (conn.model_status, '"x'),
            (conn.model_status, None),
        ]:
            with pytest.raises(sqlml.SqlSyntaxError) as info:
                call(text)
            assert info.value.sqlstate == "42601"
        with pytest.raises(sqlml.SqlSyntaxError, match="quote is not closed") as info:
            conn.execute("SELECT explain_model('it''s')").fetchall()
        assert "column 3" in str(info.value)


def test_a_function_schema_must_exist(tmp_path):
    with sqlml.connect(tmp_path / "t.duckdb") as conn:
        load(conn, "penguins")
        with pytest.raises(sqlml.SchemaNotFound, match="schema 'nosuch' does not exist"):
            conn.sql("CREATE MODEL m FROM penguins TARGET species FUNCTION nosuch.f")
        assert conn.execute("SHOW MODEL ALL").fetchall() == []


@pytest.mark.slow
def test_the_function_of_a_dropped_model_says_the_model_is_gone(template, tmp_path):
    db, _ = copy_of(template, tmp_path)
    with sqlml.connect(db) as conn:
        conn.sql("DROP MODEL km")
        with pytest.raises(sqlml.ModelNotFound, match="main.km, which no longer exists") as info:
            conn.execute(CALLS["km"])
        assert "Did you mean" not in str(info.value)


# -- the second process ------------------------------------------------------------------------


def test_a_second_process_on_one_database_file_is_told_what_to_do(tmp_path):
    db = tmp_path / "t.duckdb"
    with sqlml.connect(db):
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, sqlml\n"
                "try:\n    sqlml.connect(sys.argv[1])\n"
                "except sqlml.DatabaseInUse as e:\n    print(e.sqlstate, e)",
                str(db),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert child.returncode == 0, child.stderr
    assert child.stdout.startswith("55006 Database file")
    assert "model_store" in child.stdout and "another process (PID" in child.stdout


# -- names under the lock, and leftovers, with real processes ----------------------------------

USER = textwrap.dedent(
    """
    import sys, sqlml
    conn = sqlml.connect(sys.argv[1], model_store=sys.argv[2], synchronous=True)
    conn.sql("CREATE TABLE penguins AS FROM read_parquet('" + sys.argv[3] + "')")
    try:
        conn.sql(sys.argv[4])
        print("created")
    except sqlml.SqlmlError as e:
        print(type(e).__name__, e)
    """
)
CREATE = (
    "CREATE MODEL {name} FROM (SELECT species, island, bill_length_mm FROM penguins) "
    "TARGET species FUNCTION {fn} SETTINGS (MAX_RUNTIME 600, MAX_TRIALS 1)"
)


def start_user(tmp_path: Path, db: str, store: Path, statement: str, **env) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            USER,
            str(tmp_path / db),
            str(store),
            (DATA / "penguins.parquet").as_posix(),
            statement,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def wait_for_line(path: Path, point: str, timeout: float = 120.0) -> int:
    import time

    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        if path.exists():
            for line in path.read_text().splitlines():
                if line.startswith(point):
                    return int(line.split()[1])
        time.sleep(0.05)
    raise AssertionError(f"no process paused at {point}")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("first", "second", "error"),
    [
        (("a", "f_same"), ("b", "f_same"), "FunctionAlreadyExists"),
        (("a", "f_one"), ("a", "f_two"), "ModelAlreadyExists"),
    ],
)
def test_two_processes_cannot_both_take_a_name(tmp_path, first, second, error):
    """The first process passes its checks and is held just before submitting; the second
    creates its model meanwhile; the first, released, must lose with the error a sequential
    clash gives."""
    store = tmp_path / "models"
    marker, hold = tmp_path / "paused.txt", tmp_path / "hold"
    hold.write_text("")
    held = start_user(
        tmp_path,
        "one.duckdb",
        store,
        CREATE.format(name=first[0], fn=first[1]),
        SQLML_PAUSE_AT="create:exported",
        SQLML_PAUSE_FILE=str(marker),
        SQLML_PAUSE_UNTIL=str(hold),
    )
    wait_for_line(marker, "create:exported")
    other = start_user(tmp_path, "two.duckdb", store, CREATE.format(name=second[0], fn=second[1]))
    assert other.communicate(timeout=300)[0].strip() == "created"
    hold.unlink()
    out, err = held.communicate(timeout=300)
    assert out.startswith(error), out + err
    with sqlml.connect(tmp_path / "three.duckdb", model_store=store) as conn:
        load(conn, "penguins")
        # The same words as the error of one statement after the other.
        again = CREATE.format(name=first[0], fn=first[1])
        with pytest.raises(sqlml.SqlmlError) as info:
            conn.sql(again)
        assert type(info.value).__name__ == error
        assert out.strip() == f"{error} {info.value}"
        assert [r[1] for r in conn.execute("SHOW MODEL ALL").fetchall()] == [second[0]]


@pytest.mark.slow
def test_leftovers_of_killed_processes_are_swept_at_the_next_open(tmp_path):
    store = tmp_path / "models"
    marker = tmp_path / "paused.txt"
    # A user process killed inside the export: its job folder is still being built.
    user = start_user(
        tmp_path,
        "one.duckdb",
        store,
        CREATE.format(name="a", fn="f_a"),
        SQLML_PAUSE_AT="create:exported",
        SQLML_PAUSE_FILE=str(marker),
    )
    wait_for_line(marker, "create:exported")
    building = [p for p in (store / ".jobs").iterdir() if p.name.startswith(".tmp-")]
    assert len(building) == 1
    # While its process lives, another open leaves the folder alone.
    with sqlml.connect(tmp_path / "two.duckdb", model_store=store):
        assert building[0].exists()
    user.send_signal(signal.SIGKILL)
    user.wait()
    # A trainer killed while packaging: its package folder is half built.
    trainer_env = {"SQLML_PAUSE_AT": "store:packaging", "SQLML_PAUSE_FILE": str(marker)}
    user = start_user(
        tmp_path, "three.duckdb", store, CREATE.format(name="b", fn="f_b"), **trainer_env
    )
    trainer = wait_for_line(marker, "store:packaging")
    assert [p for p in store.iterdir() if p.name.startswith(".tmp-")]
    os.kill(trainer, signal.SIGKILL)
    out, err = user.communicate(timeout=300)
    assert out.startswith("TrainingFailed"), out + err
    with sqlml.connect(tmp_path / "four.duckdb", model_store=store) as conn:
        leftovers = [
            p.name
            for folder in (store, store / ".jobs")
            for p in folder.iterdir()
            if p.name.startswith((".tmp-", ".trash-"))
        ]
        assert leftovers == []
        # The failed statement left nothing behind (the user's process cancelled its job).
        assert conn.execute("SHOW MODEL ALL").fetchall() == []
    assert ModelStore(store).list() == []
