"""Each model file format's reader and predictor (LightGBM, XGBoost, CatBoost, ONNX), behind
``kinds.model_files``: ``LOAD[format](data)`` reads a file's bytes into a
:class:`~sqlml.kinds.model_files.ModelFile` that describes its inputs and output, and
``PREDICT[format](model, columns)`` predicts from Arrow arrays. Each library is imported when
its format is read, and reads with its own loader, which runs no code from the file.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml import arrowtypes
from sqlml.errors import FeatureNotSupported, InvalidModelFile
from sqlml.kinds.model_files import (
    BINARY,
    CATEGORY,
    MULTICLASS,
    NUMBER,
    REGRESSION,
    TEXT,
    Input,
    ModelFile,
    numbers,
    texts,
)


def _names(names: list | None, count: int) -> list[str]:
    if names and len(names) == count and all(isinstance(n, str) and n for n in names):
        return [str(n) for n in names]
    return [f"f{i}" for i in range(count)]


def _load_lightgbm(data: bytes) -> ModelFile:
    import lightgbm as lgb

    from sqlml.automl.learners.lightgbm import check_model_text

    check_model_text(data, "model")  # LightGBM aborts the process on a truncated file
    booster = lgb.Booster(model_str=data.decode("utf-8"))
    header = data[: data.find(b"\n\n")].decode("utf-8", "replace").splitlines()
    objective = next((ln.split("=", 1)[1] for ln in header if ln.startswith("objective=")), "")
    name = objective.split(" ")[0]
    count = booster.num_feature()
    categorical = _lightgbm_categorical(data)
    # A model trained on pandas 'category' columns keeps each one's categories: those inputs
    # take text (mapped to the category's code, unseen as missing) or the code itself.
    known = booster.pandas_categorical or []
    levels = dict(zip(categorical, known, strict=False)) if len(known) == len(categorical) else {}
    inputs = [
        Input(n, CATEGORY if i in levels else NUMBER)
        for i, n in enumerate(_names(booster.feature_name(), count))
    ]
    if name == "binary":
        problem, output, classes = BINARY, "probabilities", [0, 1]
    elif name in ("multiclass", "multiclassova", "softmax", "multiclass_ova", "ova", "ovr"):
        k = booster.num_model_per_iteration()
        problem, output, classes = MULTICLASS, "probabilities", list(range(k))
    else:
        problem, output, classes = REGRESSION, "value", None
    details = {"categorical_features": categorical, "levels": levels}
    return ModelFile("lightgbm", inputs, problem, objective, output, classes, details=details,
                     model=booster)  # fmt: skip


def _lightgbm_categorical(data: bytes) -> list[int]:
    """Features the model splits on as categories (integer codes): ``categorical_feature`` in
    the parameters LightGBM writes at the end of the file."""
    marker = data.rfind(b"[categorical_feature: ")
    if marker < 0:
        return []
    text = data[marker + 22 : data.find(b"]", marker)].decode("ascii", "replace")
    return [int(v) for v in text.split(",") if v.strip().isdigit()]


def _predict_lightgbm(model: ModelFile, columns: list) -> np.ndarray:
    levels = model.details["levels"]
    # As many threads as are free (the learners' rule: OpenMP threads waiting for cores other
    # processes hold cost many times their work).
    threads = predict_threads()
    if not levels:
        return model.model.predict(numbers(columns), num_threads=threads)
    X = np.empty((len(columns[0]), len(columns)), dtype=np.float64)
    for j, column in enumerate(columns):
        if j in levels and arrowtypes.is_text(column.type):
            known = pa.array([str(v) for v in levels[j]], pa.string())
            codes = pc.index_in(pc.cast(column, pa.string()), value_set=known)
            X[:, j] = pc.cast(codes, pa.float64()).to_numpy(zero_copy_only=False)
        else:
            X[:, j] = numbers([column])[:, 0]
    return model.model.predict(X, num_threads=threads)


def _load_xgboost(fmt: str):
    def load_xgboost(data: bytes) -> ModelFile:
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(bytearray(data))
        config = json.loads(booster.save_config())["learner"]
        objective = config["objective"]["name"]
        count = booster.num_features()
        types = booster.feature_types or []
        if "c" in types:
            raise FeatureNotSupported(
                "XGBoost models with categorical features (feature_types 'c') are not supported "
                "yet; train it on integer codes as numbers, or convert it to ONNX."
            )
        inputs = [Input(n, NUMBER) for n in _names(booster.feature_names, count)]
        k = int(config["learner_model_param"].get("num_class") or 0)
        if objective.startswith("binary:"):
            output = "probabilities" if objective == "binary:logistic" else "value"
            problem, classes = (BINARY, [0, 1]) if output == "probabilities" else (REGRESSION, None)
        elif objective == "multi:softprob":
            problem, output, classes = MULTICLASS, "probabilities", list(range(k))
        elif objective == "multi:softmax":
            problem, output, classes = MULTICLASS, "class", list(range(k))
        else:
            problem, output, classes = REGRESSION, "value", None
        return ModelFile(fmt, inputs, problem, objective, output, classes, model=booster)

    return load_xgboost


def _predict_xgboost(model: ModelFile, columns: list) -> np.ndarray:
    import xgboost as xgb

    booster = model.model
    threads = predict_threads()
    matrix = xgb.DMatrix(
        numbers(columns), missing=np.nan, feature_names=booster.feature_names, nthread=threads
    )
    booster.set_param({"nthread": threads})
    out = booster.predict(matrix)
    if model.output == "class":
        return out.astype(np.int64)
    return out


def check_cbm(data: bytes) -> None:
    """Refuse a truncated CatBoost file before CatBoost parses it: it reads past the end of
    the buffer (a crash, or garbage) instead of failing. A .cbm file is ``CBM1``, the size of
    the model's core (uint32, little-endian), the core, then optional counter data."""
    import struct

    core = struct.unpack("<I", data[4:8])[0] if len(data) >= 8 else None
    if core is None or len(data) < 8 + core:
        raise InvalidModelFile(
            f"it is truncated: {len(data)} bytes, where its header announces a model core of "
            f"{core} bytes after 8 bytes of header."
        )


def _load_catboost(data: bytes) -> ModelFile:
    from catboost import CatBoost, CatBoostClassifier, CatBoostRegressor

    check_cbm(data)
    probe = CatBoost()
    probe.load_model(blob=data)
    loss = str(probe.get_all_params().get("loss_function", ""))
    if probe.get_text_feature_indices() or probe.get_embedding_feature_indices():
        raise FeatureNotSupported(
            "CatBoost models with text or embedding features are not supported yet; "
            "numeric and categorical features are."
        )
    classifier = loss.split(":")[0] in (
        "Logloss",
        "CrossEntropy",
        "MultiClass",
        "MultiClassOneVsAll",
    )
    model = CatBoostClassifier() if classifier else CatBoostRegressor()
    model.load_model(blob=data)
    categorical = set(model.get_cat_feature_indices())
    names = _names(model.feature_names_, len(model.feature_names_))
    inputs = [Input(n, CATEGORY if i in categorical else NUMBER) for i, n in enumerate(names)]
    if classifier:
        classes = [c.item() if isinstance(c, np.generic) else c for c in model.classes_]
        problem = BINARY if len(classes) == 2 else MULTICLASS
        return ModelFile("catboost", inputs, problem, loss, "probabilities", classes, model=model)
    return ModelFile("catboost", inputs, REGRESSION, loss, "value", None, model=model)


def _predict_catboost(model: ModelFile, columns: list) -> np.ndarray:
    import pandas as pd

    frame = {}
    # CatBoost checks the columns' names against the model's (its feature_names_).
    names = model.model.feature_names_
    for name, spec, column in zip(names, model.inputs, columns, strict=True):
        if spec.kind == CATEGORY:  # CatBoost reads categories as text; NULL as its own level
            frame[name] = texts(column)
        else:
            frame[name] = numbers([column])[:, 0]
    frame = pd.DataFrame(frame)
    threads = predict_threads()
    if model.output == "probabilities":
        return model.model.predict_proba(frame, thread_count=threads)
    return model.model.predict(frame, thread_count=threads)


_ONNX_TYPES = {
    "tensor(float)": (NUMBER, np.float32),
    "tensor(double)": (NUMBER, np.float64),
    "tensor(int64)": (NUMBER, np.int64),
    "tensor(int32)": (NUMBER, np.int32),
    "tensor(bool)": (NUMBER, np.bool_),
    "tensor(string)": (TEXT, object),
}


def _load_onnx(data: bytes) -> ModelFile:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    found = session.get_inputs()
    for arg in found:
        if arg.type not in _ONNX_TYPES:
            raise FeatureNotSupported(
                f"ONNX input '{arg.name}' is a {arg.type}; sqlml passes SQL values as "
                f"{', '.join(_ONNX_TYPES)} (others are not supported yet)."
            )
    layout: dict = {"inputs": [[a.name, a.type, [_dim(d) for d in a.shape]] for a in found]}
    if len(found) == 1 and len(found[0].shape) == 2 and found[0].shape[1] != 1:
        # One matrix: a row's arguments are its columns.
        width = found[0].shape[1]
        kind = _ONNX_TYPES[found[0].type][0]
        layout["matrix"] = True
        inputs = [Input(f"f{i}", kind) for i in range(width)] if isinstance(width, int) else None
    else:
        bad = [a for a in found if len(a.shape) > 2 or (len(a.shape) == 2 and a.shape[1] != 1)]
        if bad:
            raise FeatureNotSupported(
                f"ONNX input '{bad[0].name}' has shape {layout['inputs'][0][2]}; sqlml passes "
                "one [N, k] matrix or one [N] / [N, 1] input per argument (others are not "
                "supported yet)."
            )
        layout["matrix"] = False
        inputs = [Input(a.name, _ONNX_TYPES[a.type][0]) for a in found]
    outputs = [o for o in session.get_outputs() if o.type.startswith("tensor(")]
    if not outputs:
        raise FeatureNotSupported(
            "the ONNX model has no tensor output (only sequences or maps); sqlml returns a "
            "tensor output's values (convert classifiers without ZipMap)."
        )
    output = outputs[0]
    layout["output"] = [output.name, output.type, [_dim(d) for d in output.shape]]
    if len(output.shape) == 2 and output.shape[1] not in (1, None) or len(output.shape) > 2:
        raise FeatureNotSupported(
            f"the ONNX model's first tensor output '{output.name}' has shape "
            f"{layout['output'][2]}; sqlml returns one value per row (an [N] or [N, 1] output)."
        )
    kind = "text" if output.type == "tensor(string)" else "number"
    layout["output_kind"] = kind
    matrix_kind = found[0].type if layout["matrix"] else None
    return ModelFile(
        "onnx",
        inputs,
        None,
        "",
        "label",
        None,
        input_kind=_ONNX_TYPES[matrix_kind][0] if matrix_kind else NUMBER,
        details=layout,
        model=session,
    )


def _dim(d) -> int | str | None:
    return d if isinstance(d, int | str) or d is None else str(d)


def _predict_onnx(model: ModelFile, columns: list) -> np.ndarray:
    session = model.model
    found = session.get_inputs()
    if model.details["matrix"]:
        kind, dtype = _ONNX_TYPES[found[0].type]
        if kind == TEXT:
            X = np.column_stack([texts(c) for c in columns]).astype(object)
        else:
            X = numbers(columns).astype(dtype)
        feeds = {found[0].name: X}
    else:
        feeds = {}
        for arg, column in zip(found, columns, strict=True):
            kind, dtype = _ONNX_TYPES[arg.type]
            values = texts(column) if kind == TEXT else numbers([column])[:, 0].astype(dtype)
            feeds[arg.name] = values.reshape(-1, 1) if len(arg.shape) == 2 else values
    name = model.details["output"][0]
    out = session.run([name], feeds)[0]
    return np.asarray(out).reshape(len(columns[0]) if columns else 0)


def predict_threads() -> int:
    from sqlml.automl.learners.base import predict_threads as free_cores

    return free_cores()


LOAD = {
    "lightgbm": _load_lightgbm,
    "xgboost_json": _load_xgboost("xgboost_json"),
    "xgboost_ubj": _load_xgboost("xgboost_ubj"),
    "catboost": _load_catboost,
    "onnx": _load_onnx,
}
PREDICT = {
    "lightgbm": _predict_lightgbm,
    "xgboost_json": _predict_xgboost,
    "xgboost_ubj": _predict_xgboost,
    "catboost": _predict_catboost,
    "onnx": _predict_onnx,
}
