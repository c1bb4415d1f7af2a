"""Model files trained elsewhere (bring your own model, local inference): which format a file
is, what it expects as inputs, and how it predicts.

The format is told from the file's bytes, not its name: a LightGBM model text (``tree`` first),
an XGBoost JSON or UBJSON model (an object with a ``learner``), a CatBoost ``.cbm`` model
(``CBM1`` first) or an ONNX model (a protobuf ``ModelProto``, run by onnxruntime). Each is read
by its library's own loader, which runs no code from the file. Pickles (and joblib files, and
archives that usually hold them) are refused before anything reads them: loading a pickle runs
whatever code it holds.

A :class:`ModelFile` is a loaded model: its inputs (one per SQL argument, each numeric, text,
or either), what it predicts (problem type, classes) and ``predict`` from Arrow arrays. Each
format's reader and predictor live in ``kinds.file_formats``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlml.errors import FeatureNotSupported, InvalidModelFile
from sqlml.lazy import np, pa

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
        from sqlml.kinds.file_formats import PREDICT

        return PREDICT[self.format](self, columns)

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
    from sqlml.kinds.file_formats import LOAD

    try:
        return LOAD[fmt](data)
    except (InvalidModelFile, FeatureNotSupported) as e:
        raise type(e)(f"{where}: {shown}: {e}") from None
    except Exception as e:  # noqa: BLE001 -- a library's parse error: a damaged file
        first = next((ln for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        raise InvalidModelFile(
            f"{where}: file {shown} cannot be read ({FORMATS[fmt]}; damaged or truncated?): "
            f"{first.strip()}"
        ) from None


def numbers(columns: list) -> np.ndarray:
    """Numeric and boolean arguments as one float64 matrix, NULL as NaN (a missing value)."""
    import pyarrow.compute as pc  # 50 ms: not at the start of every sqlml command

    n = len(columns[0]) if columns else 0
    X = np.empty((n, len(columns)), dtype=np.float64)
    for j, column in enumerate(columns):
        values = pc.cast(column, pa.float64())
        X[:, j] = values.to_numpy(zero_copy_only=False)
    return X


def texts(column) -> np.ndarray:
    """A text argument as a numpy object array, NULL as the empty string."""
    import pyarrow.compute as pc

    return pc.fill_null(pc.cast(column, pa.string()), "").to_numpy(zero_copy_only=False)
