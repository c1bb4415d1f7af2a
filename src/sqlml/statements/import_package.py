"""CREATE MODEL m FROM 'folder' FUNCTION fn: a sqlml package exported from another database
(EXPORT MODEL ... FORMAT SQLML), checked like the store checks its own (manifest, every file's
size and SHA-256, paths inside the folder), loaded once in a child process and once here, and
copied under the new name with its own kind (``statements.import_model`` writes it)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from sqlml import arrowtypes, kinds
from sqlml.errors import CorruptModelPackage, InvalidModelFile, ModelSignatureMismatch
from sqlml.sql import to_sql
from sqlml.statements.import_model import declared_type, origin
from sqlml.store.manifest import MANIFEST_FILE, check_manifest, current_user, new_manifest


def from_package(session, stmt, folder: Path, schema: str, where: str) -> tuple[dict, dict]:
    """A package exported from another database (EXPORT MODEL ... FORMAT SQLML): checked like
    the store checks its own (manifest, every file's size and SHA-256, paths inside the
    folder), loaded once, and copied under the new name with its own kind."""
    from sqlml.runtime.predictor import reading_package
    from sqlml.store.integrity import PackageFolder, verify_package

    shown = f"'{stmt.source.job}'"
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise InvalidModelFile(
            f"{where}: {shown} is a folder without a {MANIFEST_FILE}; point FROM at a model "
            "file, or at a package folder written by EXPORT MODEL ... FORMAT SQLML."
        )
    package = f"{where}: the sqlml package in {shown}"
    try:
        raw = json.loads(manifest_path.read_text(encoding="utf-8"))
        original = check_manifest(raw, package)
        if original["state"] != "READY":
            raise CorruptModelPackage(f"{package} is {original['state']}, not READY.")
        if original.get("files") is None:
            raise CorruptModelPackage(
                f"{package} records no checksums (format 1); export it again with this sqlml."
            )
        verify_package(folder, original, package)
        kind = kinds.for_manifest(original)
        _probe_package(folder, package)
        with reading_package(folder, original):
            kind.load(PackageFolder(folder, original), original)
    except CorruptModelPackage as e:
        raise InvalidModelFile(str(e)) from None
    except ValueError as e:
        raise InvalidModelFile(f"{package}: {MANIFEST_FILE} is not JSON: {e}") from None
    _check_package_signature(session, stmt, original, where)
    manifest = {
        **original,
        "package_id": new_manifest()["package_id"],
        "created_at": new_manifest()["created_at"],
        "schema": schema,
        "name": stmt.name.name,
        "statement": to_sql(stmt),
        "function": {"name": stmt.function.name.lower(), "schema": stmt.function.schema},
        "owner": session.user or current_user(),
        "owner_user": session.user,
        "imported_from": {
            "path": origin(stmt, folder),
            "model": f"{original['schema']}.{original['name']}",
            "package_id": original["package_id"],
            "statement": original.get("statement"),
        },
    }
    for key in ("files", "s3_location"):
        manifest.pop(key, None)
    files = {name: PackageFolder(folder, original) / name for name in original["files"]}
    return manifest, files


_PACKAGE_PROBE = (
    "import json, sys\n"
    "from pathlib import Path\n"
    "from sqlml import kinds\n"
    "from sqlml.store.integrity import PackageFolder\n"
    "folder = Path(sys.argv[1])\n"
    "manifest = json.loads((folder / 'model.json').read_text())\n"
    "try:\n"
    "    kinds.for_manifest(manifest).load(PackageFolder(folder, manifest), manifest)\n"
    "except Exception:\n"
    "    sys.exit(1)\n"
)


def _probe_package(folder: Path, package: str) -> None:
    """Load the package once in a child process: its checksums only say its files are the
    ones its (foreign) manifest lists, not that a native loader survives them."""
    import subprocess
    import sys

    from sqlml.kinds.model_files import PROBE_SECONDS

    try:
        done = subprocess.run(
            [sys.executable, "-c", _PACKAGE_PROBE, str(folder)],
            capture_output=True,
            timeout=PROBE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InvalidModelFile(f"{package} took more than {PROBE_SECONDS} s to load.") from None
    if done.returncode < 0 or done.returncode > 1:
        raise InvalidModelFile(
            f"{package} cannot be loaded: a library crashed reading it (exit status "
            f"{done.returncode}); a file is damaged."
        )


def _check_package_signature(session, stmt, original: dict, where: str) -> None:
    """Declared types, when given, must match the package's parameters and return type."""
    features = original["features"]
    signature = ", ".join(f"{f['name']} {f['type']}" for f in features)
    if stmt.function_arg_types is not None:
        declared = [
            declared_type(session.engine, t, where, "argument") for t in stmt.function_arg_types
        ]
        if len(declared) != len(features):
            raise ModelSignatureMismatch(
                f"{where}: the FUNCTION declares {len(declared)} argument type(s), but the "
                f"package's model takes {len(features)} ({signature}). Write FUNCTION "
                f"{stmt.function.name} alone: the package knows its parameters."
            )
        for i, ((sql, arrow), feature) in enumerate(zip(declared, features, strict=True)):
            want = session.engine.arrow_type(feature["type"])
            if _kind(arrow) != _kind(want):
                raise ModelSignatureMismatch(
                    f"{where}: argument {i + 1} is declared {sql}, but the package's parameter "
                    f"{feature['name']} is {feature['type']} ({signature})."
                )
    if stmt.returns is not None:
        _, arrow = declared_type(session.engine, stmt.returns, where, "RETURNS")
        target = original.get("target_type") or ""
        if _kind(arrow) != _kind(session.engine.arrow_type(target)):
            raise ModelSignatureMismatch(
                f"{where}: RETURNS {stmt.returns}, but the package's model returns {target}. "
                "Leave RETURNS out: the package knows its return type."
            )


def _kind(arrow: pa.DataType) -> str:
    if arrowtypes.is_number_or_boolean(arrow):
        return "number"
    return "text" if arrowtypes.is_text(arrow) else str(arrow)
