"""Model files trained elsewhere (bring your own model, local inference): which format a file
is, what it expects as inputs, and how it predicts.

The format is told from the file's bytes, not its name: a LightGBM model text (``tree`` first),
an XGBoost JSON or UBJSON model (an object with a ``learner``), a CatBoost ``.cbm`` model
(``CBM1`` first) or an ONNX model (a protobuf ``ModelProto``, run by onnxruntime). Each is read
by its library's own loader, which runs no code from the file. Pickles (and joblib files, and
archives that usually hold them) are refused before anything reads them: loading a pickle runs
whatever code it holds.

A :class:`ModelFile` is a loaded model: its inputs (one per SQL argument, each numeric, text,
or either), what it predicts (problem type, classes) and ``predict`` from Arrow arrays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml import arrowtypes
from sqlml.errors import FeatureNotSupported, InvalidModelFile

# Formats, as the manifest names them, and what messages call them.
FORMATS = {
    "lightgbm": "LightGBM model text",
    "xgboost_json": "XGBoost JSON model",
    "xgboost_ubj": "XGBoost UBJSON model",
    "catboost": "CatBoost .cbm model",
    "onnx": "ONNX model",
}
# The file's name inside the package (the extension says the format to each loader).
FILE_NAMES = {
    "lightgbm": "model.lgb.txt",
    "xgboost_json": "model.xgb.json",
    "xgboost_ubj": "model.xgb.ubj",
    "catboost": "model.cbm",
    "onnx": "model.onnx",
}
SUPPORTED = (
    "a LightGBM model text file (booster.save_model('model.txt')), an XGBoost JSON or UBJSON "
    "model (save_model('model.json' | 'model.ubj')), a CatBoost model (save_model('model.cbm')), "
    "an ONNX model, or a sqlml package folder (EXPORT MODEL ... FORMAT SQLML)"
)
# Input kinds: what SQL values an input takes.
NUMBER, TEXT, CATEGORY = "number", "text", "category"  # CATEGORY: text or an integer code
REGRESSION = "REGRESSION"
BINARY = "BINARY_CLASSIFICATION"
MULTICLASS = "MULTICLASS_CLASSIFICATION"


@dataclass(frozen=True)
class Input:
    name: str
    kind: str


@dataclass
class ModelFile:
    """A loaded model file. ``inputs`` is None when the model takes any number of features
    (an ONNX input of unknown width) of ``input_kind``. ``output``: "value" (one number per
    row), "probabilities" (a class's probability per column; binary: the positive class's),
    "class" (a class index) or "label" (ONNX: the output tensor's values as they are)."""

    format: str
    inputs: list[Input] | None
    problem_type: str | None
    objective: str
    output: str
    classes: list | None = None
    input_kind: str = NUMBER
    details: dict = field(default_factory=dict)
    model: object = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return FORMATS[self.format]

    def predict(self, columns: list) -> np.ndarray:
        return _PREDICT[self.format](self, columns)

    def section(self) -> dict:
        """What the manifest records of the model (its ``model`` section adds the file)."""
        return {
            "file_format": self.format,
            "objective": self.objective,
            "output": self.output,
            "classes": self.classes,
            "inputs": None if self.inputs is None else [[i.name, i.kind] for i in self.inputs],
            "input_kind": self.input_kind,
            "details": self.details,
        }


# -- telling the format ------------------------------------------------------------------------

_REFUSED = [
    # (prefix, what it is)
    (b"\x80", "a Python pickle"),
    (b"PK\x03\x04", "a zip archive (a PyTorch, Keras or joblib model, or a NumPy .npz)"),
    (b"\x1f\x8b", "a gzip file (a SageMaker model.tar.gz, or a compressed joblib pickle)"),
    (b"\x78\x9c", "a zlib-compressed file (a compressed joblib pickle)"),
    (b"\x78\x01", "a zlib-compressed file (a compressed joblib pickle)"),
    (b"\x78\xda", "a zlib-compressed file (a compressed joblib pickle)"),
    (b"BZh", "a bzip2 file (a compressed joblib pickle)"),
    (b"\xfd7zXZ", "an xz file (a compressed joblib pickle)"),
    (b"\x89HDF", "an HDF5 file (a Keras model)"),
]


def detect(data: bytes, shown: str, where: str) -> str:
    """The format of the model file ``data`` (read from ``shown``), from its bytes."""
    if not data:
        raise InvalidModelFile(f"{where}: file {shown} is empty. Point FROM at a model file.")
    if data.startswith(b"tree\n"):
        return "lightgbm"
    if data.startswith(b"CBM1"):
        return "catboost"
    if data[:1] == b"{":
        return _json_format(data, shown, where)
    for prefix, what in _REFUSED:
        if data.startswith(prefix) and not (prefix == b"\x80" and data[1:2] > b"\x05"):
            raise InvalidModelFile(
                f"{where}: file {shown} is {what}, which sqlml does not load: loading a pickle "
                "runs whatever code it holds, and sqlml loads no code with a model. Save the "
                f"model in its library's own format instead: {SUPPORTED}."
            )
    if data[:1] == b"\x08":  # a protobuf's first field: an ONNX ModelProto's ir_version
        if _parses_as_onnx(data):
            return "onnx"
        raise InvalidModelFile(
            f"{where}: file {shown} starts like an ONNX model but does not parse as one (damaged "
            "or truncated?)."
        )
    raise InvalidModelFile(
        f"{where}: file {shown} is not a model file sqlml reads (its first bytes are "
        f"{data[:8]!r}). sqlml imports {SUPPORTED}."
    )


def _json_format(data: bytes, shown: str, where: str) -> str:
    if data[1:2] in (b"L", b"l", b"i", b"U", b"I", b"#", b"$") and b"learner" in data[:64]:
        return "xgboost_ubj"
    try:
        document = json.loads(data)
    except ValueError as e:
        raise InvalidModelFile(
            f"{where}: file {shown} starts like JSON but is not valid JSON ({e}); an XGBoost "
            "JSON model is written by booster.save_model('model.json')."
        ) from None
    if isinstance(document, dict) and isinstance(document.get("learner"), dict):
        return "xgboost_json"
    if isinstance(document, dict) and document.get("format_version") and "kind" in document:
        raise InvalidModelFile(
            f"{where}: file {shown} is a sqlml manifest; point FROM at the folder that holds it "
            "(the package EXPORT MODEL ... FORMAT SQLML wrote)."
        )
    raise InvalidModelFile(
        f"{where}: file {shown} is JSON but not an XGBoost model (no 'learner' object). sqlml "
        f"imports {SUPPORTED}."
    )


def _parses_as_onnx(data: bytes) -> bool:
    """A protobuf ModelProto with a graph (parsing protobuf runs no code)."""
    import onnx

    try:
        model = onnx.load_model_from_string(data)
    except Exception:  # noqa: BLE001 -- any parse failure means "not ONNX"
        return False
    return len(model.graph.node) > 0


# -- reading each format ---------------------------------------------------------------------


def probe(fmt: str, data: bytes, shown: str, where: str) -> None:
    """Read ``data`` once in a child process first: a native loader may crash the process on a
    damaged file (CatBoost segfaults on a truncated .cbm, LightGBM aborts), which must cost a
    clear error, not the session. The package's checksums then guarantee the file loaded later
    is the one probed."""
    import subprocess
    import sys

    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, fmt],
            input=data,
            capture_output=True,
            timeout=PROBE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InvalidModelFile(
            f"{where}: reading file {shown} ({FORMATS[fmt]}) took more than "
            f"{PROBE_SECONDS} s; it is refused."
        ) from None
    if done.returncode < 0 or done.returncode > 1:
        raise InvalidModelFile(
            f"{where}: file {shown} cannot be read ({FORMATS[fmt]}): its library crashed "
            f"reading it (exit status {done.returncode}); the file is damaged or truncated."
        )


PROBE_SECONDS = 300
# Formats whose loader may crash on a damaged file even after the checks here: CatBoost reads
# its flatbuffer without bounds (check_cbm catches truncation, not every altered byte). LightGBM
# is guarded by check_model_text, XGBoost and onnxruntime raise errors, protobuf runs no code.
PROBED = ("catboost",)
_PROBE = (
    "import sys\n"
    "from sqlml.kinds.model_files import load\n"
    "try:\n"
    "    load(sys.argv[1], sys.stdin.buffer.read(), 'stdin', 'probe')\n"
    "except Exception:\n"
    "    sys.exit(1)\n"
)


def load(fmt: str, data: bytes, shown: str, where: str) -> ModelFile:
    """The model file ``data`` of format ``fmt``, loaded and described; InvalidModelFile when
    its library cannot read it (a damaged file), naming the file and the library's reason."""
    try:
        return _LOAD[fmt](data)
    except (InvalidModelFile, FeatureNotSupported) as e:
        raise type(e)(f"{where}: {shown}: {e}") from None
    except Exception as e:  # noqa: BLE001 -- a library's parse error: a damaged file
        first = next((ln for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        raise InvalidModelFile(
            f"{where}: file {shown} cannot be read ({FORMATS[fmt]}; damaged or truncated?): "
            f"{first.strip()}"
        ) from None


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


def numbers(columns: list) -> np.ndarray:
    """Numeric and boolean arguments as one float64 matrix, NULL as NaN (a missing value)."""
    n = len(columns[0]) if columns else 0
    X = np.empty((n, len(columns)), dtype=np.float64)
    for j, column in enumerate(columns):
        values = pc.cast(column, pa.float64())
        X[:, j] = values.to_numpy(zero_copy_only=False)
    return X


def texts(column) -> np.ndarray:
    """A text argument as a numpy object array, NULL as the empty string."""
    return pc.fill_null(pc.cast(column, pa.string()), "").to_numpy(zero_copy_only=False)


_LOAD = {
    "lightgbm": _load_lightgbm,
    "xgboost_json": _load_xgboost("xgboost_json"),
    "xgboost_ubj": _load_xgboost("xgboost_ubj"),
    "catboost": _load_catboost,
    "onnx": _load_onnx,
}
_PREDICT = {
    "lightgbm": _predict_lightgbm,
    "xgboost_json": _predict_xgboost,
    "xgboost_ubj": _predict_xgboost,
    "catboost": _predict_catboost,
    "onnx": _predict_onnx,
}
