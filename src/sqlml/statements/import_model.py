"""CREATE MODEL m FROM 'path' FUNCTION fn(types) RETURNS type: bring your own model, local
inference (reference §2.9, with a path, file:// or s3:// URL where Redshift takes a SageMaker job).

Two sources: a model file trained elsewhere (``kinds.model_files`` tells its format from its
bytes), which becomes a package of kind ``imported``; or a sqlml package folder exported from
another database (EXPORT MODEL ... FORMAT SQLML), copied with its own kind, for which
``FUNCTION fn`` alone suffices (``statements.import_package``). Either way nothing trains: the file is read, checked against the
declared types, loaded once, and the package written atomically (``ModelStore.create``), READY
at once. Every check runs before the package is written, so a refused statement leaves nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pyarrow as pa

from sqlml import arrowtypes
from sqlml import settings as S
from sqlml.errors import (
    FeatureNotSupported,
    InvalidModelFile,
    ModelSignatureMismatch,
    ObjectNotFound,
    SchemaNotFound,
    SqlmlError,
)
from sqlml.kinds.imported import FORMAT, check_arguments, check_returns, suggested_types
from sqlml.sql import ast, to_sql
from sqlml.store.manifest import MANIFEST_FILE, current_user, new_manifest

# Type names the engine reads as text; any other name it reads as text is one it does not know.
_TEXT_TYPES = {
    "VARCHAR", "CHAR", "CHARACTER", "TEXT", "BPCHAR", "NVARCHAR", "NCHAR", "STRING",
    "CHARACTER VARYING", "NATIONAL CHARACTER", "NATIONAL CHARACTER VARYING", "UUID", "ENUM",
}  # fmt: skip


def import_model(session, stmt: ast.CreateModel) -> dict:
    """Check and write the imported model's package; return its manifest (READY)."""
    from sqlml.statements.create_model import already_exists, check_function_name
    from sqlml.statements.load import check_local_access

    where = f"CREATE MODEL {stmt.name}"
    session.access.require_create(str(stmt.name))
    _check_clauses(stmt, where)
    written = stmt.source.job
    check_local_access(session, written, where)
    if not written.lower().startswith("s3://"):
        resolve(written, where)  # what FROM names first: a job name is not supported yet
    schema = stmt.name.schema or session.engine.current_schema()
    if not session.engine.schema_exists(schema):
        raise SchemaNotFound(
            f"{where}: schema '{schema}' does not exist. CREATE SCHEMA {schema} first."
        )
    existing = session.find_model(ast.Name(stmt.name.name, schema), missing_ok=True)
    if existing is not None:
        raise already_exists(schema, stmt.name.name, existing["state"])
    check_function_name(session, stmt)
    with _local_copy(written, where) as path:
        if path.is_dir():
            from sqlml.statements.import_package import from_package

            manifest, files = from_package(session, stmt, path, schema, where)
        else:
            manifest, files = _from_file(session, stmt, path, schema, where)
        directory = _publish(session, stmt, schema, manifest, files)
    session.sync_functions(force=True)
    return session.store.read(directory)


def _publish(session, stmt, schema: str, manifest: dict, files: dict) -> Path:
    """Write the package (atomically) with the names claimed under the store's lock."""
    from sqlml.statements.create_model import claim_names

    def write(folder: Path) -> dict:
        for name, source in files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, bytes):
                target.write_bytes(source)
            else:
                target.write_bytes(source.read_bytes())
        return {}

    with session.store.locked():  # names are claimed and the package published at once
        claim_names(session, stmt, schema)
        return session.store.create(manifest, write)


@contextlib.contextmanager
def _local_copy(written: str, where: str) -> Iterator[Path]:
    """The local path of what FROM names: the path itself, or for ``s3://`` a download (of
    the object, or of every object under the prefix: a package folder) removed afterwards."""
    if not written.lower().startswith("s3://"):
        yield resolve(written, where)
        return
    from sqlml import objects

    storage = objects.Storage(written, where)
    with tempfile.TemporaryDirectory(prefix="sqlml-import-") as tmp:
        with storage.errors(written):
            key = storage.path.rstrip("/")
            if storage.fs.isfile(key):
                local = Path(tmp) / Path(key).name
                storage.fs.get_file(key, str(local))
            else:
                local = Path(tmp) / "package"
                found = storage.fs.find(key + "/")
                if not found:
                    raise ObjectNotFound(f"{where}: no model file or package folder at {written}.")
                for path in found:
                    target = local / path[len(key) + 1 :]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    storage.fs.get_file(path, str(target))
        yield local


def _check_clauses(stmt: ast.CreateModel, where: str) -> None:
    if stmt.sagemaker is not None:
        raise FeatureNotSupported(
            f"{where}: SAGEMAKER (remote inference) takes no FROM; FROM 'path' imports a model "
            "file for local inference. Remove one of them."
        )
    refused = [
        (stmt.target is not None, "TARGET"),
        (stmt.auto is not None, "AUTO"),
        (stmt.model_type is not None, "MODEL_TYPE"),
        (stmt.problem_type is not None, "PROBLEM_TYPE"),
        (stmt.objective is not None, "OBJECTIVE"),
        (stmt.preprocessors is not None, "PREPROCESSORS"),
        (stmt.hyperparameters is not None, "HYPERPARAMETERS"),
    ]
    for given, clause in refused:
        if given:
            raise FeatureNotSupported(
                f"{where}: {clause} is for models trained here; a model imported FROM a file "
                f"was trained elsewhere. Remove {clause}."
            )


def resolve(written: str, where: str) -> Path:
    """The local path FROM names: a path or a file:// URL."""
    parsed = urlparse(written)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
    elif parsed.scheme in ("http", "https", "gs", "az", "abfs"):
        raise FeatureNotSupported(
            f"{where}: importing a model from {parsed.scheme}:// is not supported yet; copy the "
            "file to this machine and give its path (or a file:// URL)."
        )
    else:
        path = Path(written).expanduser()
    try:
        exists = path.exists()
    except OSError as e:
        raise ObjectNotFound(f"{where}: model file '{written}' cannot be read: {e}") from None
    if not exists:
        if "/" not in written and not parsed.scheme and not Path(written).suffix:
            # Redshift's FROM 'job_name': a SageMaker training or Autopilot job.
            raise FeatureNotSupported(
                f"{where}: bring-your-own-model from a SageMaker training or Autopilot job "
                f"('{written}') is not supported yet, and there is no model file of that name "
                f"({path.resolve()}). Import a model file: FROM '/path/model.txt'."
            )
        raise ObjectNotFound(
            f"{where}: model file '{written}' does not exist (looked at {path.resolve()})."
        )
    if path.is_dir() or path.name != MANIFEST_FILE:
        return path.resolve()
    return path.resolve().parent  # a package's model.json names its folder


# -- a model file ------------------------------------------------------------------------------


def _from_file(session, stmt, path: Path, schema: str, where: str) -> tuple[dict, dict]:
    from sqlml.kinds.model_files import FILE_NAMES, PROBED, detect, load, probe

    if not path.is_file():
        raise InvalidModelFile(f"{where}: '{path}' is not a regular file.")
    shown = f"'{stmt.source.job}'"
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ObjectNotFound(f"{where}: model file {shown} cannot be read: {e}") from None
    fmt = detect(data, shown, where)
    if fmt in PROBED:
        probe(fmt, data, shown, where)
    model = load(fmt, data, shown, where)
    if stmt.function_arg_types is None:
        raise ModelSignatureMismatch(
            f"{where}: a model imported from a file needs its argument types: the {model.label} "
            f"takes ({suggested_types(model)}). Write FUNCTION {stmt.function.name}"
            f"({suggested_types(model)}) RETURNS type."
        )
    if stmt.returns is None:
        raise ModelSignatureMismatch(
            f"{where}: a model imported from a file needs RETURNS type (as in Redshift): e.g. "
            "RETURNS float8 for a value or a probability, RETURNS int or varchar for a class."
        )
    declared = [
        declared_type(session.engine, t, where, "argument") for t in stmt.function_arg_types
    ]
    check_arguments(model, declared, where)
    returns_sql, returns = declared_type(session.engine, stmt.returns, where, "RETURNS")
    conversion = check_returns(model, returns_sql, returns, where)
    names = _parameter_names(model, len(declared))
    _try_predict(model, declared, conversion, returns, shown, where)
    file_name = FILE_NAMES[fmt]
    section = {
        "format": FORMAT,
        "file": file_name,
        **model.section(),
        "conversion": conversion,
        "returns_arrow": arrowtypes.encode(returns),
        "source_sha256": hashlib.sha256(data).hexdigest(),
    }
    features = [{"name": n, "type": sql} for n, (sql, _) in zip(names, declared, strict=True)]
    manifest = new_manifest(
        schema=schema,
        name=stmt.name.name,
        statement=to_sql(stmt),
        source={"kind": "file", "text": stmt.source.job, "path": origin(stmt, path)},
        kind="imported",
        target=None,
        target_type=returns_sql,
        features=features,
        arrow_types={n: arrowtypes.encode(a) for n, (_, a) in zip(names, declared, strict=True)},
        function={"name": stmt.function.name.lower(), "schema": stmt.function.schema},
        problem_type=model.problem_type,
        objective=model.objective or None,
        auto=False,
        model_type=fmt.split("_")[0].upper(),
        iam_role=stmt.iam_role,
        settings=S.effective_settings(stmt.settings_dict, session.default_settings),
        owner=session.user or current_user(),
        owner_user=session.user,
        metrics={},
        training={},
        versions=_versions(fmt),
        model=section,
    )
    return manifest, {file_name: data}


def origin(stmt: ast.CreateModel, path: Path) -> str:
    """Where the model came from: the local path, or the s3:// URL it was downloaded from."""
    written = stmt.source.job
    return written if written.lower().startswith("s3://") else str(path)


def _versions(fmt: str) -> dict:
    from sqlml.store.manifest import library_versions

    library = {"lightgbm": "lightgbm", "catboost": "catboost", "onnx": "onnxruntime"}
    return library_versions(library.get(fmt, "xgboost"), "numpy", "pyarrow")


def declared_type(engine, text: str, where: str, what: str) -> tuple[str, pa.DataType]:
    """A declared type (Redshift's or the engine's spelling) as the engine's SQL type and its
    Arrow type; an unknown name is refused, not read as text."""
    upper = " ".join(text.upper().split())
    if upper == "SUPER":
        raise FeatureNotSupported(
            f"{where}: {what} type SUPER is for remote inference (SAGEMAKER); an imported model "
            "takes and returns scalar types."
        )
    arrow = engine.arrow_type(upper)
    base = upper.split("(")[0].strip()
    if arrowtypes.is_text(arrow) and base not in _TEXT_TYPES:
        raise ModelSignatureMismatch(
            f"{where}: {what} type '{text}' is not a type the database knows. Use e.g. float8, "
            "int, bigint, boolean or varchar."
        )
    return engine.sql_type(arrow) if not pa.types.is_decimal(arrow) else upper, arrow


def _parameter_names(model, count: int) -> list[str]:
    """The model's own input names when they are usable parameter names (distinct, whatever
    the case), else arg1, arg2, ..."""
    from sqlml.store.manifest import is_name

    names = [i.name for i in model.inputs] if model.inputs is not None else []
    distinct = len({n.lower() for n in names}) == count
    if len(names) == count and distinct and all(is_name(n) for n in names):
        return names
    return [f"arg{i + 1}" for i in range(count)]


def _try_predict(model, declared, conversion, returns, shown: str, where: str) -> None:
    """One row of zeros (empty strings for text) through the model, as the function will call
    it: an input the model cannot take fails here, not at the first query."""
    from sqlml.kinds.imported import convert

    columns = [
        pa.array([""], pa.string()) if arrowtypes.is_text(a) else pa.array([0.0], pa.float64())
        for _, a in declared
    ]
    try:
        convert(model, model.predict(columns), conversion, returns)
    except SqlmlError:
        raise
    except Exception as e:  # noqa: BLE001 -- the library's reason, in one line
        first = next((ln for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        raise ModelSignatureMismatch(
            f"{where}: the {model.label} in {shown} cannot predict from the declared types: "
            f"{first.strip()}"
        ) from None
