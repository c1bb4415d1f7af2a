"""EXPORT MODEL's writers: a READY model's package copied out of the store, in three shapes.

- ``SQLML``: the package as the store keeps it (``model.json`` with every file's size and
  SHA-256, and the files), which CREATE MODEL m FROM 'folder' FUNCTION fn imports elsewhere with
  identical predictions.
- ``NATIVE``: the learners' own files (LightGBM text, XGBoost UBJSON, CatBoost .cbm, numpy
  .npz, ONNX) and the preprocessing as JSON, described by ``export.json``: how to load each
  file and how the model combines them, for use without sqlml.
- ``ONNX``: ``store.onnx_export``.

An export is built in a hidden folder beside the target and renamed into place, so a failed
export leaves nothing, and an existing target is never overwritten.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlml.errors import ObjectExists, ObjectNotFound
from sqlml.store.integrity import PackageFolder, fsync_path
from sqlml.store.manifest import MANIFEST_FILE, dumps

EXPORT_FILE = "export.json"
NATIVE_FORMAT = "sqlml-native/1"
# What each file of a package is, by its name's ending: the library and how it loads.
_LOADERS = [
    (".lgb.txt", "lightgbm", "lightgbm.Booster(model_file=path)"),
    (".xgb.ubj", "xgboost", "xgboost.Booster(); booster.load_model(path)"),
    (".xgb.json", "xgboost", "xgboost.Booster(); booster.load_model(path)"),
    (".cbm", "catboost", "catboost.CatBoost().load_model(path, format='cbm')"),
    (".npz", "numpy", "numpy.load(path, allow_pickle=False)"),
    (".onnx", "onnxruntime", "onnxruntime.InferenceSession(path)"),
    (".json", "json", "json.load(open(path))"),
]


def write_export(target: Path, where: str, build: Callable[[Path], None]) -> Path:
    """Build an export with ``build(folder)`` and move it to ``target`` in one rename."""
    target = target.expanduser().absolute()
    if target.exists() and not (target.is_dir() and not any(target.iterdir())):
        raise ObjectExists(
            f"{where}: '{target}' already exists. Choose a new folder (EXPORT MODEL never "
            "overwrites)."
        )
    if not target.parent.is_dir():
        raise ObjectNotFound(f"{where}: folder '{target.parent}' does not exist.")
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex}")
    tmp.mkdir()
    try:
        build(tmp)
        for path in sorted(tmp.rglob("*")):
            fsync_path(path)
        fsync_path(tmp)
        if target.exists():
            target.rmdir()  # empty (checked above)
        os.rename(tmp, target)
        fsync_path(target.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def copy_files(directory: Path, manifest: dict, folder: Path) -> list[str]:
    """Every file the package records, checked (size, SHA-256) as it is copied."""
    package = PackageFolder(directory, manifest)
    names = sorted(manifest.get("files") or {})
    for name in names:
        out = folder / name
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(package / name, out)
    return names


def export_sqlml(directory: Path, manifest: dict, folder: Path) -> dict:
    copy_files(directory, manifest, folder)
    (folder / MANIFEST_FILE).write_text(dumps(manifest))
    return {"format": "SQLML", "files": len(manifest.get("files") or {}) + 1}


def export_native(directory: Path, manifest: dict, folder: Path) -> dict:
    names = copy_files(directory, manifest, folder)
    document = {
        "format": NATIVE_FORMAT,
        "model": f"{manifest['schema']}.{manifest['name']}",
        "kind": manifest.get("kind"),
        "statement": manifest.get("statement"),
        "features": manifest["features"],
        "target": manifest.get("target"),
        "target_type": manifest.get("target_type"),
        "problem_type": manifest.get("problem_type"),
        "objective": manifest.get("objective"),
        "files": [describe_file(name) for name in names],
        "how_to_predict": RECIPES.get(manifest.get("kind") or "auto", ""),
        # The package's description of the model: preprocessing file, members and weights,
        # classes, positive class, decision threshold, temperature (kinds' ``model`` section).
        "model_section": manifest.get("model"),
        "versions": manifest.get("versions"),
    }
    (folder / EXPORT_FILE).write_text(json.dumps(document, indent=2, default=str))
    return {"format": "NATIVE", "files": len(names) + 1}


def describe_file(name: str) -> dict:
    for suffix, library, load in _LOADERS:
        if name.endswith(suffix):
            return {"file": name, "library": library, "load": load}
    return {"file": name, "library": None, "load": None}


RECIPES = {
    "auto": (
        "1. Encode the columns as preprocessing.json describes ('columns': one entry per "
        "input column with its kind and encoding, 'features': the matrix's columns in order; "
        "numbers as they are with NULL as NaN, categories as codes, dates as calendar parts); "
        "members of the 'dense' family read dense.json's one-hot, scaled, imputed encoding "
        "instead; sqlml.automl.preprocessing.transform is the reference implementation. 2. Each member of model_section.members predicts with its library "
        "(classifiers: class probabilities in the order of model_section.classes); a member's "
        "models are averaged with its model_weights (equal when null), then expm1 applied when "
        "target_transform is 'log1p'. 3. The prediction is the sum of weight x member "
        "prediction. 4. Classifiers: probabilities are calibrated as softmax(log(p) / "
        "temperature); the label is the most probable class, or for two classes the "
        "positive_class when its probability is at least threshold."
    ),
    "xgboost": (
        "The columns as they are (numbers, booleans as 0/1, NULL as NaN), in the order of "
        "'features', into the XGBoost booster; its output follows model_section.objective."
    ),
    "kmeans": (
        "The columns scaled as model_section.steps describes (NULL as model_section.fill), "
        "then the index of the nearest row of centers.npz's 'centers' (Euclidean)."
    ),
    "imported": (
        "The model file as it was imported; model_section.conversion says how its output "
        "becomes the function's value (value, probability of class 1, or the class)."
    ),
}


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        shutil.rmtree(path)
