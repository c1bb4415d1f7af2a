"""EXPORT MODEL ... FORMAT ONNX: the model as an ONNX graph, where it converts.

What converts so far: an imported ONNX model (copied as it is). Every other model is refused
with "not supported yet", naming the part that does not convert.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlml.errors import FeatureNotSupported
from sqlml.store.integrity import PackageFolder

ONNX_FILE = "model.onnx"


def export_onnx(directory: Path, manifest: dict, folder: Path, session, where: str) -> dict:
    section = manifest.get("model") or {}
    kind = manifest.get("kind")
    if kind == "imported" and section.get("file_format") == "onnx":
        data = (PackageFolder(directory, manifest) / section["file"]).read_bytes()
        (folder / ONNX_FILE).write_bytes(data)
        _describe(folder, manifest, 0.0, "the imported ONNX model as it was imported")
        return {"format": "ONNX", "files": 2, "max_abs_difference": 0.0}
    raise FeatureNotSupported(
        f"{where}: FORMAT ONNX is not supported yet for {_what(manifest)}; use FORMAT NATIVE "
        "(the learners' own files and the preprocessing as JSON) or FORMAT SQLML."
    )


def _what(manifest: dict) -> str:
    kind = manifest.get("kind")
    if kind == "imported":
        return f"an imported {manifest.get('model', {}).get('file_format')} model"
    return {"auto": "AUTO ON models", "xgboost": "AUTO OFF XGBoost models"}.get(
        kind, f"{kind} models"
    )


def _describe(folder: Path, manifest: dict, difference: float, note: str) -> None:
    document = {
        "format": "sqlml-onnx/1",
        "model": f"{manifest['schema']}.{manifest['name']}",
        "file": ONNX_FILE,
        "features": manifest["features"],
        "target_type": manifest.get("target_type"),
        "max_abs_difference": difference,
        "note": note,
    }
    (folder / "export.json").write_text(json.dumps(document, indent=2))
