"""Bring your own model, local inference: CREATE MODEL m FROM 'model file' FUNCTION fn(types)
RETURNS type, with real model files trained and saved in plain Python here (LightGBM, XGBoost
JSON and UBJSON, CatBoost, ONNX from skl2onnx and onnxmltools), and the mistakes a user makes:
a missing, damaged or pickled file, declared types that do not fit. No trainer process runs.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sqlml
from sqlml.errors import (
    FeatureNotSupported,
    FunctionAlreadyExists,
    InvalidModelFile,
    ModelSignatureMismatch,
    ObjectNotFound,
    SqlSyntaxError,
)
from sqlml.sql import ast, parse, to_sql
from tests.test_s3 import s3, s3_server  # noqa: F401 -- the S3 fixtures (moto's server)

ROWS = 40


def _features(seed: int = 0) -> np.ndarray:
    return np.random.RandomState(seed).rand(300, 3)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """Model files of every format, and each one's own predictions on the table's rows."""
    import lightgbm as lgb
    import xgboost as xgb
    from catboost import CatBoostClassifier

    folder = tmp_path_factory.mktemp("models")
    X = _features()
    y = X[:, 0] * 2 + X[:, 1]
    rows = np.random.RandomState(1).rand(ROWS, 3)
    rows[0, 1] = np.nan  # a NULL argument: a missing value to the model
    out: dict = {"rows": rows, "folder": folder}

    reg = lgb.train(
        {"objective": "regression", "verbose": -1, "num_threads": 1},
        lgb.Dataset(X, y, feature_name=["a", "b", "c"]),
        20,
    )
    reg.save_model(str(folder / "reg.txt"))
    out["lgb_reg"] = reg.predict(rows)
    binary = lgb.train(
        {"objective": "binary", "verbose": -1, "num_threads": 1},
        lgb.Dataset(X, (X[:, 0] > 0.5).astype(int)),
        10,
    )
    binary.save_model(str(folder / "binary.txt"))
    out["lgb_binary"] = binary.predict(rows)

    labels = (X[:, 0] > 0.5).astype(int) + (X[:, 1] > 0.5).astype(int)
    multi = xgb.train(
        {"objective": "multi:softprob", "num_class": 3, "nthread": 1},
        xgb.DMatrix(X, label=labels),
        10,
    )
    multi.save_model(str(folder / "multi.json"))
    multi.save_model(str(folder / "multi.ubj"))
    out["xgb_multi"] = multi.predict(xgb.DMatrix(rows, missing=np.nan)).argmax(axis=1)

    frame = pd.DataFrame({"n": X[:, 0], "s": np.where(X[:, 1] > 0.5, "hi", "lo")})
    cat = CatBoostClassifier(
        iterations=20, verbose=0, thread_count=1, random_seed=0, allow_writing_files=False
    )
    cat.fit(frame, np.where((X[:, 0] + (X[:, 1] > 0.5)) > 1, "yes", "no"), cat_features=[1])
    cat.save_model(str(folder / "cat.cbm"))
    rows_frame = pd.DataFrame({"n": rows[:, 0], "s": np.where(rows[:, 2] > 0.5, "hi", "lo")})
    out["cat"] = cat.predict(rows_frame).ravel()

    _onnx_files(folder, X, y, rows, out)
    return out


def _onnx_files(folder: Path, X, y, rows, out: dict) -> None:
    import lightgbm as lgb
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType as SkFloat
    from skl2onnx.common.data_types import StringTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    model = lgb.LGBMRegressor(n_estimators=20, verbose=-1, n_jobs=1).fit(X.astype(np.float32), y)
    onx = convert_lightgbm(model, initial_types=[("input", FloatTensorType([None, 3]))])
    (folder / "lgb.onnx").write_bytes(onx.SerializeToString())
    out["onnx_lgb"] = model.predict(rows.astype(np.float32))

    frame = pd.DataFrame({"x": X[:, 0], "s": np.where(X[:, 1] > 0.5, "b", "a")})
    pipe = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [("onehot", OneHotEncoder(handle_unknown="ignore"), ["s"])],
                    remainder="passthrough",
                ),
            ),
            ("fit", LinearRegression()),
        ]
    ).fit(frame, y)
    onx = convert_sklearn(
        pipe, initial_types=[("x", SkFloat([None, 1])), ("s", StringTensorType([None, 1]))]
    )
    (folder / "pipe.onnx").write_bytes(onx.SerializeToString())
    out["onnx_pipe"] = pipe.predict(pd.DataFrame({"x": [0.5], "s": ["b"]}))[0]


def _table(conn, rows: np.ndarray) -> None:
    conn.duckdb.register("rows_view", pd.DataFrame(rows, columns=["a", "b", "c"]))
    conn.sql(
        "CREATE TABLE t AS SELECT row_number() OVER () AS id, a, b, c, "
        "CASE WHEN c > 0.5 THEN 'hi' ELSE 'lo' END AS s FROM rows_view"
    )


@pytest.fixture(scope="module")
def imported(files, tmp_path_factory):
    """One database with a model imported from each file (read-only tests share it)."""
    db = tmp_path_factory.mktemp("byom") / "byom.duckdb"
    conn = sqlml.connect(db, synchronous=True)
    _table(conn, files["rows"])
    folder = files["folder"]
    conn.sql(
        f"CREATE MODEL lgb_reg FROM '{folder / 'reg.txt'}' "
        "FUNCTION f_reg(float8, float8, float8) RETURNS float8"
    )
    conn.sql(
        f"CREATE MODEL lgb_bin FROM 'file://{folder / 'binary.txt'}' "
        "FUNCTION f_prob(float8, float8, float8) RETURNS float8"
    )
    conn.sql(
        f"CREATE MODEL lgb_cls FROM '{folder / 'binary.txt'}' "
        "FUNCTION f_cls(float8, float8, float8) RETURNS int"
    )
    conn.sql(
        f"CREATE MODEL xgb_json FROM '{folder / 'multi.json'}' "
        "FUNCTION f_json(float8, float8, float8) RETURNS int"
    )
    conn.sql(
        f"CREATE MODEL xgb_ubj FROM '{folder / 'multi.ubj'}' "
        "FUNCTION f_ubj(float8, float8, float8) RETURNS varchar"
    )
    conn.sql(
        f"CREATE MODEL cat FROM '{folder / 'cat.cbm'}' FUNCTION f_cat(float8, varchar) "
        "RETURNS varchar"
    )
    conn.sql(
        f"CREATE MODEL onnx_lgb FROM '{folder / 'lgb.onnx'}' "
        "FUNCTION f_onnx(float8, float8, float8) RETURNS float8"
    )
    conn.sql(
        f"CREATE MODEL onnx_pipe FROM '{folder / 'pipe.onnx'}' "
        "FUNCTION f_pipe(float8, varchar) RETURNS float8"
    )
    yield conn, db
    conn.close()


def _column(conn, sql: str) -> list:
    return [row[0] for row in conn.execute(sql).fetchall()]


def test_lightgbm_regression_predicts_as_lightgbm(imported, files):
    conn, _ = imported
    got = _column(conn, "SELECT f_reg(a, b, c) FROM t ORDER BY id")
    assert np.allclose(got, files["lgb_reg"], rtol=0, atol=1e-12)


def test_lightgbm_binary_returns_probability_or_class(imported, files):
    conn, _ = imported
    probability = _column(conn, "SELECT f_prob(a, b, c) FROM t ORDER BY id")
    assert np.allclose(probability, files["lgb_binary"], atol=1e-12)
    classes = _column(conn, "SELECT f_cls(a, b, c) FROM t ORDER BY id")
    assert classes == [int(p >= 0.5) for p in files["lgb_binary"]]


def test_xgboost_json_and_ubj_predict_the_class(imported, files):
    conn, _ = imported
    expected = [int(k) for k in files["xgb_multi"]]
    assert _column(conn, "SELECT f_json(a, b, c) FROM t ORDER BY id") == expected
    assert _column(conn, "SELECT f_ubj(a, b, c) FROM t ORDER BY id") == [str(k) for k in expected]


def test_catboost_takes_text_for_its_categorical_feature(imported, files):
    conn, _ = imported
    got = _column(conn, "SELECT f_cat(a, s) FROM t ORDER BY id")
    assert got == list(files["cat"])


def test_onnx_matrix_input_and_one_input_per_argument(imported, files):
    conn, _ = imported
    got = _column(conn, "SELECT f_onnx(a, b, c) FROM t ORDER BY id")
    assert np.allclose(got, files["onnx_lgb"], atol=1e-5)
    (value,) = conn.execute("SELECT f_pipe(0.5, 'b')").fetchone()
    assert value == pytest.approx(files["onnx_pipe"], abs=1e-5)
    # NULL text is the empty string to ONNX (an unseen category for the one-hot encoder).
    assert conn.execute("SELECT f_pipe(0.5, NULL)").fetchone()[0] is not None


def test_show_model_of_an_imported_model(imported, files):
    conn, _ = imported
    rows = dict(conn.execute("SHOW MODEL cat").fetchall())
    assert rows["Model State"] == "READY"
    assert rows["Model File"] == str(files["folder"] / "cat.cbm")
    assert rows["Model Format"] == "CatBoost .cbm model"
    assert rows["Inference Type"] == "Local"
    assert rows["Function Parameters"] == "n s"
    assert rows["Function Parameter Types"] == "DOUBLE VARCHAR"
    assert rows["Function Return Type"] == "VARCHAR"
    assert rows["Classes"] == "no, yes"
    assert "Target Column" not in rows
    reg = dict(conn.execute("SHOW MODEL lgb_reg").fetchall())
    assert reg["Function Parameters"] == "a b c"  # the model's own feature names
    assert reg["Problem Type"] == "Regression"


def test_functions_exist_in_a_new_connection(imported, files):
    conn, db = imported
    with sqlml.connect(db) as other:
        got = [r[0] for r in other.execute("SELECT f_reg(a, b, c) FROM t ORDER BY id").fetchall()]
    assert np.allclose(got, files["lgb_reg"], atol=1e-12)


def test_a_wrong_call_names_the_parameters(imported):
    conn, _ = imported
    with pytest.raises(sqlml.errors.PredictionCallError, match="takes 3 arguments"):
        conn.execute("SELECT f_reg(a, b) FROM t")


def test_explain_model_says_imported_models_have_none(imported):
    conn, _ = imported
    (text,) = conn.execute("SELECT explain_model('lgb_reg')").fetchone()
    assert "imported" in str(text).lower()


# -- mistakes: each a clear error, and nothing left behind ---------------------------------


@pytest.fixture
def empty(tmp_path):
    conn = sqlml.connect(tmp_path / "e.duckdb", synchronous=True)
    yield conn
    conn.close()


def _nothing_left(conn) -> None:
    assert conn.execute("SHOW MODEL ALL").fetchall() == []
    assert [p.name for p in conn.store.root.iterdir() if not p.name.startswith(".")] == []
    assert [p for p in conn.store.root.iterdir() if p.name.startswith(".tmp-")] == []


def test_missing_file(empty, tmp_path):
    with pytest.raises(ObjectNotFound, match="does not exist") as e:
        empty.sql(f"CREATE MODEL m FROM '{tmp_path}/nope.txt' FUNCTION f(float8) RETURNS float8")
    assert e.value.sqlstate == "58P01"
    with pytest.raises(ObjectNotFound, match="does not exist"):
        empty.sql("CREATE MODEL m FROM 'model.txt' FUNCTION f(float8) RETURNS float8")
    with pytest.raises(FeatureNotSupported, match="SageMaker training or Autopilot job"):
        empty.sql("CREATE MODEL m FROM 'my-training-job' FUNCTION f(float8) RETURNS float8")
    _nothing_left(empty)


def _truncated(source: Path, target: Path, size: int) -> Path:
    target.write_bytes(source.read_bytes()[:size])
    return target


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("reg.txt", "damaged or truncated"),
        ("cat.cbm", "truncated"),
        ("multi.ubj", "damaged or truncated"),
        ("multi.json", "not valid JSON"),
        ("lgb.onnx", "does not parse"),
    ],
)
def test_a_damaged_file_is_refused(empty, files, tmp_path, source, match):
    path = _truncated(files["folder"] / source, tmp_path / f"bad-{source}", 300)
    with pytest.raises(InvalidModelFile, match=match) as e:
        empty.sql(f"CREATE MODEL m FROM '{path}' FUNCTION f(float8, float8, float8) RETURNS float8")
    assert e.value.sqlstate == "22P04"
    _nothing_left(empty)


class _Trap:
    """Unpickling it would create a file: the proof that a pickle was loaded."""

    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_is_refused_without_being_loaded(empty, tmp_path):
    trap = _Trap()
    trap.marker = str(tmp_path / "pickle-was-loaded")
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(trap))
    with pytest.raises(InvalidModelFile, match="pickle") as e:
        empty.sql(f"CREATE MODEL m FROM '{path}' FUNCTION f(float8) RETURNS float8")
    assert "runs whatever code" in str(e.value)
    assert not os.path.exists(trap.marker)
    _nothing_left(empty)


def test_an_unknown_file_lists_what_is_read(empty, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(InvalidModelFile, match="LightGBM model text file"):
        empty.sql(f"CREATE MODEL m FROM '{path}' FUNCTION f(float8) RETURNS float8")


@pytest.mark.parametrize(
    ("file", "clause", "match"),
    [
        ("reg.txt", "f(float8, float8) RETURNS float8", "takes 3 input"),
        ("reg.txt", "f(float8, varchar, float8) RETURNS float8", "take numbers"),
        ("reg.txt", "f(float8, float8, date) RETURNS float8", None),
        ("reg.txt", "f(float8, float8, float8) RETURNS varchar", "predicts a number"),
        ("reg.txt", "f(float8, flaot8, float8) RETURNS float8", "not a type"),
        ("reg.txt", "f RETURNS float8", r"FUNCTION f\(float8, float8, float8\)"),
        ("reg.txt", "f(float8, float8, float8)", "needs RETURNS"),
        ("multi.json", "f(float8, float8, float8) RETURNS float8", "one of 3 classes"),
        ("cat.cbm", "f(float8, varchar) RETURNS int", "classes are text"),
        ("cat.cbm", "f(varchar, varchar) RETURNS varchar", "is numeric"),
        ("pipe.onnx", "f(float8, float8) RETURNS float8", "is text"),
        ("pipe.onnx", "f(float8, varchar) RETURNS super", None),
    ],
)
def test_declared_types_that_do_not_fit(empty, files, file, clause, match):
    with pytest.raises((ModelSignatureMismatch, FeatureNotSupported)) as e:
        empty.sql(f"CREATE MODEL m FROM '{files['folder'] / file}' FUNCTION {clause}")
    if match is None:
        assert isinstance(e.value, FeatureNotSupported)
    else:
        assert isinstance(e.value, ModelSignatureMismatch)
        assert e.value.sqlstate == "42804"
        assert e.value.args[0].startswith("CREATE MODEL m:")
        import re

        assert re.search(match, str(e.value)), str(e.value)
    _nothing_left(empty)


def test_training_clauses_are_refused_on_an_import(empty, files):
    path = files["folder"] / "reg.txt"
    with pytest.raises(FeatureNotSupported, match="Remove TARGET"):
        empty.sql(f"CREATE MODEL m FROM '{path}' TARGET y FUNCTION f(float8) RETURNS float8")


def test_remote_inference_is_still_refused(empty):
    with pytest.raises(FeatureNotSupported, match="not supported yet"):
        empty.sql("CREATE MODEL m FUNCTION f(float8) RETURNS float8 SAGEMAKER 'endpoint'")


def test_a_taken_function_name_leaves_nothing(empty, files):
    path = files["folder"] / "reg.txt"
    empty.sql(f"CREATE MODEL m FROM '{path}' FUNCTION f(float8, float8, float8) RETURNS float8")
    with pytest.raises(FunctionAlreadyExists):
        empty.sql(
            f"CREATE MODEL m2 FROM '{path}' FUNCTION f(float8, float8, float8) RETURNS float8"
        )
    assert [r[1] for r in empty.execute("SHOW MODEL ALL").fetchall()] == ["m"]
    empty.sql("DROP MODEL m")
    with pytest.raises(sqlml.errors.ModelNotFound, match="dropped"):
        empty.execute("SELECT f(1, 2, 3)")
    _nothing_left(empty)


# -- EXPORT MODEL's grammar --------------------------------------------------------------------


def test_export_model_parses_and_renders():
    for text, expected in [
        ("EXPORT MODEL m TO '/x'", ast.ExportModel(ast.Name("m"), "/x", "SQLML")),
        ("export model s.m to '/x' format onnx", ast.ExportModel(ast.Name("m", "s"), "/x", "ONNX")),
        ("EXPORT MODEL m TO '/x' FORMAT 'native'", ast.ExportModel(ast.Name("m"), "/x", "NATIVE")),
    ]:
        (stmt,) = parse(text)
        assert stmt == expected
        assert parse(to_sql(stmt)) == [stmt]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("EXPORT MODEL m TO '/x' FORMAT ONXX", "Did you mean ONNX"),
        ("EXPORT MODEL m '/x'", "needs TO 'path'"),
        ("EXPORT MODEL m TO x", "quoted string"),
        ("EXPORT MODEL m TO '/x' FORMAT SQLML extra", "Unexpected token"),
    ],
)
def test_export_model_syntax_errors(text, match):
    with pytest.raises(SqlSyntaxError, match=match):
        parse(text)


# -- EXPORT MODEL of imported models (no trainer: fast) ----------------------------------------


def test_an_imported_model_exports_and_imports_elsewhere(imported, files, tmp_path):
    conn, _ = imported
    conn.sql(f"EXPORT MODEL cat TO '{tmp_path / 'cat'}' FORMAT SQLML")
    conn.sql(f"EXPORT MODEL onnx_lgb TO '{tmp_path / 'onnx'}' FORMAT ONNX")
    conn.sql(f"EXPORT MODEL lgb_reg TO '{tmp_path / 'native'}' FORMAT NATIVE")
    assert (tmp_path / "native" / "model.lgb.txt").read_bytes() == (
        files["folder"] / "reg.txt"
    ).read_bytes()
    with sqlml.connect(tmp_path / "other.duckdb", synchronous=True) as other:
        _table(other, files["rows"])
        other.sql(f"CREATE MODEL c2 FROM '{tmp_path / 'cat'}' FUNCTION g_cat")
        other.sql(
            f"CREATE MODEL o2 FROM '{tmp_path / 'onnx' / 'model.onnx'}' "
            "FUNCTION g_onnx(float8, float8, float8) RETURNS float8"
        )
        assert _column(other, "SELECT g_cat(a, s) FROM t ORDER BY id") == list(files["cat"])
        got = _column(other, "SELECT g_onnx(a, b, c) FROM t ORDER BY id")
        shown = dict(other.execute("SHOW MODEL c2").fetchall())
    assert got == _column(conn, "SELECT f_onnx(a, b, c) FROM t ORDER BY id")
    assert shown["Model Format"] == "CatBoost .cbm model"
    assert shown["Imported From"].endswith("(model main.cat)")


def test_export_of_an_imported_booster_to_onnx_is_not_supported_yet(imported, tmp_path):
    conn, _ = imported
    with pytest.raises(FeatureNotSupported, match="not supported yet for imported lightgbm"):
        conn.sql(f"EXPORT MODEL lgb_reg TO '{tmp_path / 'x'}' FORMAT ONNX")
    assert not (tmp_path / "x").exists()


def test_lightgbm_categories_of_a_pandas_model_take_text(empty, tmp_path):
    import lightgbm as lgb

    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {
            "x": rng.rand(300),
            "s": pd.Categorical(rng.choice(["a", "b", "c"], 300)),
        }
    )
    model = lgb.LGBMRegressor(n_estimators=10, verbose=-1, min_child_samples=5, n_jobs=1)
    model.fit(frame, frame.x + (frame.s == "b") * 2)
    model.booster_.save_model(str(tmp_path / "cat.txt"))
    empty.sql(
        f"CREATE MODEL m FROM '{tmp_path / 'cat.txt'}' FUNCTION f(float8, varchar) RETURNS float8"
    )
    empty.sql(
        f"CREATE MODEL c FROM '{tmp_path / 'cat.txt'}' FUNCTION g(float8, int) RETURNS float8"
    )
    query = pd.DataFrame(
        {"x": [0.5, 0.2], "s": pd.Categorical(["b", "c"], categories=["a", "b", "c"])}
    )
    expected = model.predict(query)
    got = empty.execute("SELECT f(0.5, 'b'), f(0.2, 'c'), g(0.5, 1), f(0.5, 'unseen')").fetchone()
    assert got[:3] == pytest.approx([expected[0], expected[1], expected[0]], abs=1e-12)
    assert got[3] is not None  # an unseen category is a missing value


def test_served_users_neither_read_nor_export_the_servers_files(files, tmp_path):
    path = files["folder"] / "reg.txt"
    db = tmp_path / "served.duckdb"
    with sqlml.connect(db, synchronous=True) as embedded:
        for statement in (
            "CREATE USER boss PASSWORD 'x' SUPERUSER",
            "CREATE USER alice PASSWORD 'x'",
            "GRANT CREATE MODEL TO alice",
        ):
            embedded.sql(statement)
    boss = sqlml.Connection(str(db), user="boss", served=True, synchronous=True)
    alice = sqlml.Connection(str(db), user="alice", served=True, synchronous=True)
    try:
        boss.sql(f"CREATE MODEL m FROM '{path}' FUNCTION f(float8, float8, float8) RETURNS float8")
        boss.sql("GRANT EXECUTE ON MODEL m TO alice")
        with pytest.raises(sqlml.errors.InsufficientPrivilege, match="superuser"):
            alice.sql(
                f"CREATE MODEL a FROM '{path}' FUNCTION g(float8, float8, float8) RETURNS float8"
            )
        with pytest.raises(sqlml.errors.InsufficientPrivilege, match="owner"):
            alice.sql(f"EXPORT MODEL m TO '{tmp_path / 'out'}'")
        assert not (tmp_path / "out").exists()
        boss.sql(f"EXPORT MODEL m TO '{tmp_path / 'out'}'")
        assert (tmp_path / "out" / "model.json").exists()
    finally:
        alice.close()
        boss.close()


# -- object storage (a real S3-compatible server on loopback: moto's) --------------------------


def test_import_and_export_through_s3(s3, files, tmp_path):  # noqa: F811 -- the fixture
    s3.put_object(
        Bucket="data", Key="models/reg.txt", Body=(files["folder"] / "reg.txt").read_bytes()
    )
    with sqlml.connect(tmp_path / "s3.duckdb", synchronous=True) as conn:
        _table(conn, files["rows"])
        conn.sql(
            "CREATE MODEL m FROM 's3://data/models/reg.txt' "
            "FUNCTION f(float8, float8, float8) RETURNS float8"
        )
        assert dict(conn.execute("SHOW MODEL m").fetchall())["Model File"] == (
            "s3://data/models/reg.txt"
        )
        (row,) = conn.execute("EXPORT MODEL m TO 's3://data/exports/m'").fetchall()
        assert row[2] == "s3://data/exports/m/"
        listed = s3.list_objects_v2(Bucket="data", Prefix="exports/m/")["Contents"]
        assert {o["Key"] for o in listed} == {"exports/m/model.json", "exports/m/model.lgb.txt"}
        with pytest.raises(sqlml.errors.ObjectExists, match="never overwrites"):
            conn.sql("EXPORT MODEL m TO 's3://data/exports/m'")
        conn.sql("CREATE MODEL m2 FROM 's3://data/exports/m' FUNCTION g")
        got = _column(conn, "SELECT g(a, b, c) FROM t ORDER BY id")
        assert dict(conn.execute("SHOW MODEL m2").fetchall())["Imported From"] == (
            "s3://data/exports/m (model main.m)"
        )
        with pytest.raises(ObjectNotFound, match="s3://data/nothing"):
            conn.sql("CREATE MODEL m3 FROM 's3://data/nothing' FUNCTION h(float8) RETURNS float8")
    assert np.allclose(got, files["lgb_reg"], atol=1e-12)
