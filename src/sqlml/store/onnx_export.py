"""EXPORT MODEL ... FORMAT ONNX: the model as one ONNX graph, where it converts.

What converts:

- AUTO ON models whose preprocessing passes numbers through (numeric and boolean columns; a
  dropped column is skipped) and whose ensemble members are LightGBM (gbdt) or XGBoost
  boosters: every fold model and refit converted (onnxmltools), averaged with the member's
  model weights, ``log1p`` targets turned back with Exp - 1, the members weighted and summed;
  classifiers' probabilities calibrated by the ensemble's temperature, and the label decided as
  sqlml decides it (the positive class above the tuned threshold, else the most probable).
- AUTO OFF XGBoost models (the columns as they are) whose objective the converter supports.
- Imported ONNX models, copied as they are.

The rest is refused with "not supported yet", naming the part that does not convert
(categorical, date or text columns, guided preprocessing, CatBoost, random forests, k-NN,
linear and MLP members). ONNX tree ensembles compare each feature with float32 thresholds, so
a value within float32 rounding of a threshold can take the other branch: the maximum absolute
difference from sqlml's own predictions, measured on (up to 10,000 rows of) the model's
training query, is written into ``export.json``, with the share of labels that differ.

The graph takes one float32 matrix ``input`` [N, number of parameters], a row's arguments in the
function's order (NULL as NaN), and returns ``prediction`` (regression, [N, 1]) or ``label``
[N] and ``probabilities`` [N, classes] (classification).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sqlml.errors import FeatureNotSupported, SqlmlError
from sqlml.store.integrity import PackageFolder

ONNX_FILE = "model.onnx"
OPSET = 15
ML_OPSET = 3
SAMPLE_ROWS = 10_000
_TREE_LEARNERS = ("lightgbm", "xgboost")


def export_onnx(directory: Path, manifest: dict, folder: Path, session, where: str) -> dict:
    section = manifest.get("model") or {}
    kind = manifest.get("kind")
    if kind == "imported" and section.get("file_format") == "onnx":
        data = (PackageFolder(directory, manifest) / section["file"]).read_bytes()
        (folder / ONNX_FILE).write_bytes(data)
        _describe(folder, manifest, {"max_abs_difference": 0.0, "note": "copied as imported"})
        return {"format": "ONNX", "files": 2, "max_abs_difference": 0.0}
    if kind == "auto":
        model = _auto_graph(directory, manifest, where)
    elif kind == "xgboost":
        model = _xgboost_graph(directory, manifest, where)
    else:
        raise FeatureNotSupported(
            f"{where}: FORMAT ONNX is not supported yet for {_what(manifest)}; use FORMAT NATIVE "
            "(the learners' own files and the preprocessing as JSON) or FORMAT SQLML."
        )
    data = model.SerializeToString()
    (folder / ONNX_FILE).write_bytes(data)
    measured = _measure(directory, manifest, data, session)
    _describe(folder, manifest, measured)
    return {"format": "ONNX", "files": 2, "max_abs_difference": measured["max_abs_difference"]}


def _what(manifest: dict) -> str:
    kind = manifest.get("kind")
    if kind == "imported":
        return f"imported {manifest.get('model', {}).get('file_format')} models"
    return f"{kind} models"


def _refuse(where: str, part: str) -> FeatureNotSupported:
    return FeatureNotSupported(
        f"{where}: FORMAT ONNX is not supported yet for this model: {part} does not convert. "
        "Use FORMAT NATIVE (the learners' own files and the preprocessing as JSON) or FORMAT "
        "SQLML."
    )


# -- building graphs ---------------------------------------------------------------------------


def _convert(learner: str, booster, width: int, where: str):
    """One booster as an ONNX model with input ``input`` [N, width] (onnxmltools)."""
    from onnxmltools.convert.common.data_types import FloatTensorType

    types = [("input", FloatTensorType([None, width]))]
    try:
        if learner == "lightgbm":
            from onnxmltools import convert_lightgbm

            return convert_lightgbm(booster, initial_types=types, zipmap=False, target_opset=OPSET)
        from onnxmltools import convert_xgboost

        return convert_xgboost(booster, initial_types=types, target_opset=OPSET)
    except Exception as e:  # noqa: BLE001 -- the converter's reason, in one line
        first = next((ln for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        raise _refuse(where, f"a {learner} booster ({first.strip()})") from None


class _Graph:
    """Nodes and initializers gathered from converted boosters and the arithmetic around them."""

    def __init__(self):
        self.nodes: list = []
        self.initializers: list = []
        self.count = 0

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def constant(self, value, dtype=np.float32) -> str:
        from onnx import numpy_helper

        name = self.name("const")
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs: list[str], **attributes) -> str:
        from onnx import helper

        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attributes))
        return out

    def booster(self, model) -> dict[str, str]:
        """Add a converted booster; return its outputs' names in this graph, by their names
        in the converter's (``variable``: values [N, 1]; ``label`` and ``probabilities``)."""
        from onnx import compose

        prefix = self.name("m") + "_"
        renamed = compose.add_prefix(model, prefix, rename_inputs=False)
        self.nodes += list(renamed.graph.node)
        self.initializers += list(renamed.graph.initializer)
        return {o.name: prefix + o.name for o in model.graph.output}

    def model(self, outputs: list, width: int):
        from onnx import TensorProto, helper

        graph = helper.make_graph(
            self.nodes,
            "sqlml",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, width])],
            outputs,
            self.initializers,
        )
        opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)]
        return helper.make_model(graph, opset_imports=opsets, producer_name="sqlml")


def _numeric_columns(plan: dict, manifest: dict, where: str) -> list[int]:
    """The function parameters the feature matrix holds, in order: numbers and booleans passed
    through. Anything the plan encodes (categories, dates, text, guided steps) refuses."""
    kept = []
    for spec in plan["columns"]:
        kind = spec["kind"]
        if kind == "dropped":
            continue
        extra = set(spec) - {"name", "kind", "index"}
        if kind not in ("numeric", "boolean") or extra:
            what = f"{kind} column '{spec['name']}'" if not extra else f"column '{spec['name']}'"
            raise _refuse(where, f"the preprocessing of {what}")
        kept.append(spec["index"])
    if plan.get("mixes") or len(kept) != len(plan["features"]):
        raise _refuse(where, "a preprocessing that derives features")
    return kept


def _auto_graph(directory: Path, manifest: dict, where: str):
    from onnx import TensorProto, helper

    from sqlml.automl.learners import LEARNERS
    from sqlml.automl.preprocessing import view
    from sqlml.runtime.predictor import load_fitted

    fitted = load_fitted(PackageFolder(directory, manifest), manifest)
    plan = fitted.plan
    kept = _numeric_columns(plan, manifest, where)
    width = len(manifest["features"])
    classification = fitted.classes is not None
    g = _Graph()
    matrix = "input"
    if kept != list(range(width)):
        matrix = g.op("Gather", ["input", g.constant(kept, np.int64)], axis=1)
    total = None
    for member in fitted.members:
        if member.learner not in _TREE_LEARNERS:
            raise _refuse(where, f"ensemble member {member.name} ({member.learner})")
        indices, _ = view(plan, LEARNERS[member.learner].view)
        if indices is not None and list(indices) != list(range(len(plan["features"]))):
            raise _refuse(where, f"ensemble member {member.name}'s view of the features")
        weights = np.asarray(member.model_weights or [1.0] * len(member.models), np.float64)
        weights = weights / weights.sum()
        summed = None
        for w, booster in zip(weights, member.models, strict=True):
            converted = _convert(member.learner, booster, len(kept), where)
            outputs = g.booster(converted)
            if matrix != "input":
                _rewire(g, converted.graph.input[0].name, matrix, len(converted.graph.node))
            out = outputs["probabilities" if classification else "variable"]
            out = g.op("Mul", [out, g.constant(w)])
            summed = out if summed is None else g.op("Add", [summed, out])
        if member.target_transform == "log1p":
            summed = g.op("Sub", [g.op("Exp", [summed]), g.constant(1.0)])
        elif member.target_transform is not None:
            raise _refuse(where, f"target transform {member.target_transform}")
        part = g.op("Mul", [summed, g.constant(member.weight)])
        total = part if total is None else g.op("Add", [total, part])
    if not classification:
        out = g.op("Cast", [total], to=TensorProto.DOUBLE)
        g.nodes[-1].output[0] = "prediction"
        return g.model(
            [helper.make_tensor_value_info("prediction", TensorProto.DOUBLE, [None, 1])], width
        )
    probabilities = total
    if fitted.temperature != 1.0:
        clipped = g.op("Clip", [total, g.constant(1e-15), g.constant(1.0)])
        scaled = g.op("Div", [g.op("Log", [clipped]), g.constant(fitted.temperature)])
        probabilities = g.op("Softmax", [scaled], axis=1)
    labels, label_type = _label_constant(g, fitted.classes)
    if fitted.positive is not None:
        column = g.op("Gather", [probabilities, g.constant(fitted.positive, np.int64)], axis=1)
        above = g.op("Greater", [column, g.constant(fitted.threshold)])
        index = g.op(
            "Where",
            [
                above,
                g.constant(fitted.positive, np.int64),
                g.constant(1 - fitted.positive, np.int64),
            ],
        )
    else:
        index = g.op("ArgMax", [probabilities], axis=1, keepdims=0)
    g.op("Gather", [labels, index], axis=0)
    g.nodes[-1].output[0] = "label"
    g.op("Identity", [probabilities])
    g.nodes[-1].output[0] = "probabilities"
    k = len(fitted.classes)
    outputs = [
        helper.make_tensor_value_info("label", label_type, [None]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, k]),
    ]
    return g.model(outputs, width)


def _rewire(g: _Graph, old: str, new: str, count: int) -> None:
    """The last ``count`` nodes read ``new`` where they read ``old``."""
    for node in g.nodes[len(g.nodes) - count :]:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new


def _label_constant(g: _Graph, classes: list) -> tuple[str, int]:
    from onnx import TensorProto, helper

    if any(isinstance(c, str) for c in classes):
        name = g.name("labels")
        g.initializers.append(
            helper.make_tensor(
                name, TensorProto.STRING, [len(classes)], [str(c).encode() for c in classes]
            )
        )
        return name, TensorProto.STRING
    if all(isinstance(c, bool) for c in classes):
        return g.constant([int(c) for c in classes], np.int64), TensorProto.INT64
    if all(isinstance(c, int) for c in classes):
        return g.constant(classes, np.int64), TensorProto.INT64
    return g.constant(classes, np.float64), TensorProto.DOUBLE


def _xgboost_graph(directory: Path, manifest: dict, where: str):
    from onnx import TensorProto, helper

    from sqlml.automl.expert import FORMAT, XGBoostModel
    from sqlml.kinds.base import check_format
    from sqlml.kinds.xgboost import boolean_target

    section = check_format(manifest, FORMAT)
    model = XGBoostModel.load(section, PackageFolder(directory, manifest), boolean_target(manifest))
    objective = model.objective
    if not (objective.startswith("reg:") or objective in ("binary:logistic", "multi:softmax")):
        raise _refuse(where, f"XGBoost objective {objective}")
    width = len(manifest["features"])
    converted = _convert("xgboost", model.booster, width, where)
    g = _Graph()
    outputs = g.booster(converted)
    if objective.startswith("reg:"):
        g.op("Cast", [outputs["variable"]], to=TensorProto.DOUBLE)
        g.nodes[-1].output[0] = "prediction"
        info = helper.make_tensor_value_info("prediction", TensorProto.DOUBLE, [None, 1])
    else:
        g.op("Cast", [outputs["label"]], to=TensorProto.INT64)
        g.nodes[-1].output[0] = "label"
        info = helper.make_tensor_value_info("label", TensorProto.INT64, [None])
    return g.model([info], width)


# -- measuring -------------------------------------------------------------------------------


def _measure(directory: Path, manifest: dict, data: bytes, session) -> dict:
    """sqlml's predictions against the ONNX graph's on up to SAMPLE_ROWS rows of the training
    query: the largest absolute difference (of the value, or of the class probabilities) and
    the share of labels that differ."""
    import onnxruntime as ort

    from sqlml.runtime.predictor import load_predictor
    from sqlml.statements import catalog

    features, _ = catalog.columns(manifest, session.engine)
    source = manifest.get("source") or {}
    query = source.get("sql") or session.translate(
        source["text"] if source.get("kind") == "query" else f"SELECT * FROM {source['text']}"
    )
    from sqlml.sql.render import quote_ident

    select = ", ".join(session.engine.as_parameter(quote_ident(f.name), f) for f in features)
    try:
        table = session.engine.query_arrow(
            f"SELECT {select} FROM ({query}) LIMIT {SAMPLE_ROWS}", "EXPORT MODEL"
        )
    except SqlmlError as e:
        return {"max_abs_difference": None, "rows": 0, "note": f"not measured: {e}"}
    columns = list(table.columns)
    columns = [c.combine_chunks() for c in columns]
    predictor = load_predictor(directory, manifest)
    from sqlml.kinds.model_files import numbers

    X = numbers(columns).astype(np.float32)
    session_ = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    outputs = session_.run(None, {"input": X})
    names = [o.name for o in session_.get_outputs()]
    got = dict(zip(names, outputs, strict=True))
    result: dict = {"rows": len(X)}
    if not len(X):
        return {**result, "max_abs_difference": 0.0}
    if "probabilities" in got:  # an AUTO ON classifier: its probabilities, then its labels
        mine = np.asarray(predictor.predict_raw(columns), np.float64)
        result["max_abs_difference"] = float(np.max(np.abs(mine - got["probabilities"])))
        result["compared"] = "class probabilities"
        labels = [str(v) for v in predictor.predict(columns).to_pylist()]
        theirs = [v.decode() if isinstance(v, bytes) else v for v in got["label"].tolist()]
        theirs = [str(v) for v in theirs]
        differ = sum(
            a != b for a, b in zip(_numeric_text(labels), _numeric_text(theirs), strict=True)
        )
        result["labels_differing"] = differ / len(X)
        return result
    mine = np.asarray(predictor.predict(columns).to_numpy(zero_copy_only=False), np.float64)
    theirs = np.asarray(got.get("prediction", got.get("label")), np.float64).reshape(-1)
    result["max_abs_difference"] = float(np.max(np.abs(mine - theirs)))
    if "label" in got:
        result["labels_differing"] = float(np.mean(mine != theirs))
    return result


def _numeric_text(values: list[str]) -> list[str]:
    """Labels as text compare equal whatever their type (True and 1, 2 and 2.0)."""
    out = []
    for v in values:
        low = v.lower()
        out.append("1" if low == "true" else "0" if low == "false" else v.removesuffix(".0"))
    return out


def _describe(folder: Path, manifest: dict, measured: dict) -> None:
    document = {
        "format": "sqlml-onnx/1",
        "model": f"{manifest['schema']}.{manifest['name']}",
        "file": ONNX_FILE,
        "input": "one float32 matrix 'input' [N, parameters], NULL as NaN",
        "features": manifest["features"],
        "target_type": manifest.get("target_type"),
        **measured,
        "precision": (
            "ONNX tree ensembles compare features with float32 thresholds and sum leaves in "
            "float32: a value within float32 rounding of a threshold may take the other branch, "
            "and sums differ in the last digits; max_abs_difference is what it cost here."
        ),
    }
    (folder / "export.json").write_text(json.dumps(document, indent=2, default=str))
