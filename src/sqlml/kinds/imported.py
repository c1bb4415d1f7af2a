"""Imported models (bring your own model, local inference; reference §2.9): a model file
trained elsewhere (LightGBM, XGBoost, CatBoost, ONNX: ``kinds.model_files``) in a package of
its own, called through a function whose argument and return types the statement declares.

Nothing trains: CREATE MODEL ... FROM 'path' (``statements.import_model``) checks the file and
the declared types and writes the package, READY at once. A sqlml package exported from another
database is not of this kind: it keeps its own kind (``statements.import_model``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlml import arrowtypes
from sqlml.automl.budget import Deadline
from sqlml.errors import FeatureNotSupported, ModelSignatureMismatch
from sqlml.kinds.base import Draft, FunctionSpec, ModelKind, check_format
from sqlml.kinds.model_files import (
    BINARY,
    CATEGORY,
    MULTICLASS,
    NUMBER,
    REGRESSION,
    TEXT,
    ModelFile,
)
from sqlml.lazy import np, pa
from sqlml.sql import ast

FORMAT = "imported/1"


def _family(arrow: pa.DataType) -> str:
    if arrowtypes.is_number(arrow) or pa.types.is_boolean(arrow):
        return NUMBER
    if arrowtypes.is_text(arrow):
        return TEXT
    return "other"


def check_arguments(model: ModelFile, declared: list[tuple[str, pa.DataType]], where: str) -> None:
    """The declared argument types (SQL spelling, Arrow type) fit the model's inputs: their
    number, and each one's kind (numbers for numeric features, text or integer codes for
    CatBoost's categorical ones, text for ONNX string inputs)."""
    inputs = model.inputs
    if inputs is not None and len(declared) != len(inputs):
        raise ModelSignatureMismatch(
            f"{where}: the FUNCTION declares {len(declared)} argument type(s), but the "
            f"{model.label} takes {len(inputs)} input(s): {describe_inputs(model)}. Declare "
            f"FUNCTION fn({suggested_types(model)})."
        )
    for i, (sql_type, arrow) in enumerate(declared):
        want = inputs[i].kind if inputs is not None else model.input_kind
        name = inputs[i].name if inputs is not None else f"column {i}"
        got = _family(arrow)
        if got == "other":
            raise FeatureNotSupported(
                f"{where}: argument {i + 1} is {sql_type}; imported models take numbers, "
                "booleans and text (date and time arguments are not supported yet: pass a "
                "number, e.g. EXTRACT(EPOCH FROM ts))."
            )
        ok = (
            got == want
            or (want == CATEGORY and (got == TEXT or pa.types.is_integer(arrow)))
            or (want == NUMBER and got == NUMBER)
        )
        if not ok:
            raise ModelSignatureMismatch(
                f"{where}: argument {i + 1} is declared {sql_type}, but input '{name}' of the "
                f"{model.label} is {_kind_text(want)}. {_advice(model)} The model takes "
                f"({suggested_types(model)})."
            )


def _kind_text(kind: str) -> str:
    return {
        NUMBER: "numeric",
        TEXT: "text",
        CATEGORY: "categorical (text or an integer code)",
    }[kind]


def _advice(model: ModelFile) -> str:
    if model.format in ("lightgbm", "xgboost_json", "xgboost_ubj"):
        return (
            "LightGBM and XGBoost models take numbers (a categorical feature as its integer "
            "code; a LightGBM model trained on pandas 'category' columns also takes their "
            "text): declare it float8 or int and pass the code."
        )
    if model.format == "catboost":
        return "CatBoost takes text (or integer codes) for its categorical features only."
    return "ONNX inputs take the SQL type of their element type."


def describe_inputs(model: ModelFile) -> str:
    if model.inputs is None:
        return f"any number of {_kind_text(model.input_kind)} columns"
    return ", ".join(f"{i.name} ({_kind_text(i.kind)})" for i in model.inputs)


def suggested_types(model: ModelFile) -> str:
    if model.inputs is None:
        return "float8, ..." if model.input_kind == NUMBER else "varchar, ..."
    return ", ".join("varchar" if i.kind in (TEXT, CATEGORY) else "float8" for i in model.inputs)


def check_returns(model: ModelFile, sql_type: str, arrow: pa.DataType, where: str) -> str:
    """How the prediction becomes a value of the declared RETURNS type: "value" (a number per
    row), "probability" (binary classifiers: the positive class's), "class" (the class label or
    index), "label" (ONNX: the output as it is)."""
    family = _family(arrow)
    if model.output == "label":  # ONNX: the output tensor's values, cast
        kind = model.details["output_kind"]
        if family == "other" or (kind == "text" and family != TEXT):
            raise ModelSignatureMismatch(
                f"{where}: RETURNS {sql_type}, but the ONNX model's output "
                f"'{model.details['output'][0]}' is {model.details['output'][1]}. Declare "
                f"RETURNS {'varchar' if kind == 'text' else 'float8'}."
            )
        return "label"
    if model.problem_type == REGRESSION:
        if family != NUMBER or pa.types.is_boolean(arrow):
            raise ModelSignatureMismatch(
                f"{where}: RETURNS {sql_type}, but the {model.label} (objective "
                f"{model.objective}) predicts a number. Declare RETURNS float8."
            )
        return "value"
    labels_are_text = any(isinstance(c, str) for c in model.classes or [])
    if pa.types.is_floating(arrow) or pa.types.is_decimal(arrow):
        if model.problem_type == BINARY:
            return "probability"
        raise ModelSignatureMismatch(
            f"{where}: RETURNS {sql_type}, but the {model.label} (objective {model.objective}) "
            f"predicts one of {len(model.classes or [])} classes. Declare RETURNS int (the class "
            "index) or varchar."
        )
    if family == TEXT:
        return "class"
    if family == NUMBER and not labels_are_text:
        if pa.types.is_boolean(arrow) and model.problem_type == MULTICLASS:
            raise ModelSignatureMismatch(
                f"{where}: RETURNS {sql_type}, but the model predicts one of "
                f"{len(model.classes or [])} classes. Declare RETURNS int or varchar."
            )
        return "class"
    raise ModelSignatureMismatch(
        f"{where}: RETURNS {sql_type}, but the {model.label}'s classes are text "
        f"({', '.join(map(str, (model.classes or [])[:5]))}). Declare RETURNS varchar."
    )


class ImportedPredictor:
    """Arrow arrays in, the model's prediction as the declared RETURNS type out."""

    def __init__(self, model: ModelFile, returns: pa.DataType, conversion: str):
        self.model = model
        self.returns = returns
        self.conversion = conversion

    def predict(self, columns: list) -> pa.Array:
        n = len(columns[0]) if columns else 0
        if n == 0:
            return pa.array([], self.returns)
        return convert(self.model, self.model.predict(columns), self.conversion, self.returns)


def convert(model: ModelFile, raw: np.ndarray, conversion: str, returns: pa.DataType) -> pa.Array:
    """The model's raw output as values of ``returns``."""
    raw = np.asarray(raw)
    if conversion == "probability":
        values = raw[:, 1] if raw.ndim == 2 else raw
        return _cast(pa.array(values.astype(np.float64)), returns)
    if conversion == "class":
        if model.output == "class":
            index = raw.astype(np.int64)
        elif raw.ndim == 2:
            index = np.argmax(raw, axis=1)
        else:  # a binary model's probability of class 1
            index = (raw >= 0.5).astype(np.int64)
        labels = pa.array(model.classes) if model.classes else None
        values = labels.take(pa.array(index)) if labels is not None else pa.array(index)
        return _cast(values, returns)
    if raw.ndim == 2:
        raw = raw[:, 0]
    values = pa.array(raw.tolist() if raw.dtype == object else raw)
    return _cast(values, returns)


def _cast(values: pa.Array, returns: pa.DataType) -> pa.Array:
    import pyarrow.compute as pc  # 50 ms: not at the start of every sqlml command

    if values.type == returns:
        return values
    if pa.types.is_integer(returns) and pa.types.is_floating(values.type):
        values = pc.round(values)  # an integer RETURNS rounds, as a cast in SQL does
    return (
        pc.cast(values, returns, safe=False)
        if not arrowtypes.is_text(returns)
        else (pc.cast(values, pa.string()))
    )


class ImportedKind(ModelKind):
    name = "imported"
    libraries = ("lightgbm", "xgboost", "catboost", "onnxruntime", "numpy", "pyarrow")

    def claims(self, stmt: ast.CreateModel) -> bool:
        return isinstance(stmt.source, ast.FromJob) and stmt.sagemaker is None

    def check(self, stmt: ast.CreateModel) -> None:
        """statements.import_model checks and writes imported models; nothing trains."""

    def draft(self, draft: Draft) -> dict:
        raise FeatureNotSupported(f"{draft.where}: an imported model has no FROM query.")

    def train(
        self,
        table: pa.Table,
        draft: dict,
        deadline: Deadline,
        *,
        seed: int,
        on_trial: Callable | None,
        scratch: Path,
    ):
        raise FeatureNotSupported("An imported model is not trained.")

    def load(self, directory: Path, manifest: dict) -> ImportedPredictor:
        from sqlml.kinds.model_files import load

        section = check_format(manifest, FORMAT)
        data = (directory / section["file"]).read_bytes()
        where = f"Model {manifest['schema']}.{manifest['name']}"
        model = load(section["file_format"], data, section["file"], where)
        returns = arrowtypes.decode(section["returns_arrow"])
        return ImportedPredictor(model, returns, section["conversion"])

    def functions(self, manifest: dict) -> dict[str, FunctionSpec]:
        """The prediction function only, returning the declared RETURNS type."""
        name = manifest["function"]["name"].lower()
        returns = (
            arrowtypes.decode(manifest["model"]["returns_arrow"])
            if "model" in manifest
            else (pa.float64())
        )
        return {name: FunctionSpec("predict", returns)}

    def show_rows(self, manifest: dict) -> list[tuple[str, str]]:
        model = manifest.get("model", {})
        from sqlml.kinds.model_files import FORMATS

        rows = [
            ("Inference Type", "Local"),
            ("Model Format", FORMATS.get(model.get("file_format"), str(model.get("file_format")))),
            ("Prediction", _PREDICTION.get(model.get("conversion"), "")),
        ]
        if model.get("classes"):
            rows.append(("Classes", ", ".join(map(str, model["classes"]))))
        if model.get("source_sha256"):
            rows.append(("Source SHA-256", model["source_sha256"]))
        return rows

    def unavailable_explanation(self, manifest: dict) -> str | None:
        return "not available for imported models (trained elsewhere, as in Redshift's BYOM)"


_PREDICTION = {
    "value": "the model's value",
    "probability": "the probability of the positive class",
    "class": "the predicted class",
    "label": "the ONNX model's first tensor output",
}
