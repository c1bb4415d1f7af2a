"""EXPORT MODEL name TO 'path' [FORMAT SQLML | NATIVE | ONNX] (sqlml's extension): a READY
model written to a new folder (``store.export``). Its owner (or a superuser) may export it; a
served session's user must be a superuser to write the server's files, as with COPY."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from sqlml.errors import (
    CorruptModelPackage,
    FeatureNotSupported,
    InsufficientPrivilege,
    ModelNotReady,
)
from sqlml.lazy import pa
from sqlml.results import StatementResult
from sqlml.sql import ast
from sqlml.statements import catalog


def export_model(session, stmt: ast.ExportModel) -> StatementResult:
    from sqlml.statements.load import check_local_access
    from sqlml.store import export

    manifest = session.find_model(stmt.name)
    what = f"{manifest['schema']}.{manifest['name']}"
    where = f"EXPORT MODEL {what}"
    if not session.access.administers(manifest):
        raise InsufficientPrivilege(
            f"{where}: only the model's owner ({manifest.get('owner')}) or a superuser may "
            "export it; EXECUTE on a model lets a user call its function, not copy it."
        )
    if manifest["state"] == "BROKEN":
        raise CorruptModelPackage(f"{where}: {manifest['failure_reason']}")
    if manifest["state"] != "READY":
        raise ModelNotReady(
            f"{where}: the model is {manifest['state']}, not READY. SHOW MODEL "
            f"{manifest['name']} shows its progress."
        )
    check_local_access(session, stmt.target, where)
    remote = stmt.target.lower().startswith("s3://")
    target = None if remote else _local_path(stmt.target, where)
    directory = catalog.model_folder(session.store, manifest)
    info: dict = {}

    def build(folder: Path) -> None:
        if stmt.format == "SQLML":
            info.update(export.export_sqlml(directory, manifest, folder))
        elif stmt.format == "NATIVE":
            info.update(export.export_native(directory, manifest, folder))
        else:
            from sqlml.store.onnx_export import export_onnx

            info.update(export_onnx(directory, manifest, folder, session, where))

    if remote:
        path = _export_to_s3(stmt.target, where, build)
    else:
        path = str(export.write_export(target, where, build))
    table = pa.table(
        {
            "Model Name": [what],
            "Format": [stmt.format],
            "Path": [path],
            "Files": pa.array([info.get("files")], pa.int64()),
            "Max Abs Difference": pa.array([info.get("max_abs_difference")], pa.float64()),
        }
    )
    return StatementResult.of_table("EXPORT MODEL", table)


def _export_to_s3(url: str, where: str, build) -> str:
    """Build the export locally, then upload it under the prefix ``url/``, which must hold no
    object yet (an export never overwrites)."""
    import tempfile

    from sqlml import objects
    from sqlml.errors import ObjectExists
    from sqlml.store import export

    prefix = url.rstrip("/") + "/"
    storage = objects.Storage(prefix, where)
    if storage.listing():
        raise ObjectExists(
            f"{where}: {prefix} already holds objects. Choose a new prefix (EXPORT MODEL never "
            "overwrites)."
        )
    with tempfile.TemporaryDirectory(prefix="sqlml-export-") as tmp:
        folder = export.write_export(Path(tmp) / "export", where, build)
        objects.upload_folder(folder, prefix, where)
    return prefix


def _local_path(written: str, where: str) -> Path:
    parsed = urlparse(written)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme in ("http", "https", "gs", "az", "abfs"):
        raise FeatureNotSupported(
            f"{where}: exporting to {parsed.scheme}:// is not supported yet; export to a local "
            "folder (a path or a file:// URL) and copy it."
        )
    return Path(written)
