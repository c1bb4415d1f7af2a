"""CREATE MODEL of a model served elsewhere (SAGEMAKER / ENDPOINT) and CREATE EXTERNAL MODEL:
no data and no training job; the package is written at once and is READY.

The package appears by the store's atomic rename, with the model's and its function's names
claimed under the store lock, so a statement that fails leaves nothing behind and two
processes creating the same name get one model and one ModelAlreadyExists.
"""

from __future__ import annotations

from sqlml.errors import SchemaNotFound
from sqlml.kinds.base import ModelKind
from sqlml.results import StatementResult
from sqlml.sql import ast
from sqlml.statements.create_model import already_exists, check_function_name, claim_names
from sqlml.store.manifest import current_user, library_versions, new_manifest


def create_direct(session, stmt, kind: ModelKind) -> dict:
    """Write the package of ``stmt`` (an ast.CreateModel or ast.CreateExternalModel) whose
    ``kind`` is not trained; its manifest."""
    where = f"{statement_name(stmt)} {stmt.name}"
    schema = stmt.name.schema or session.engine.current_schema()
    for part, name in ((f"schema '{schema}'", schema), ("", stmt.function.schema)):
        if name and not session.engine.schema_exists(name):
            what = part or f"FUNCTION {stmt.function}: schema '{name}'"
            raise SchemaNotFound(f"{where}: {what} does not exist. CREATE SCHEMA {name} first.")
    existing = session.find_model(ast.Name(stmt.name.name, schema), missing_ok=True)
    if existing is not None:
        raise already_exists(schema, stmt.name.name, existing["state"])
    check_function_name(session, stmt)
    manifest = new_manifest(
        schema=schema,
        name=stmt.name.name,
        statement=statement_text(stmt),
        kind=kind.name,
        function={"name": stmt.function.name.lower(), "schema": stmt.function.schema},
        problem_type=None,
        objective=None,
        auto=None,
        iam_role=stmt.iam_role,
        owner=session.user or current_user(),
        owner_user=session.user,
        metrics={},
        versions=library_versions(*kind.libraries),
        **kind.package(stmt, session.engine),
    )

    def claim() -> bool:  # under the store lock, just before the rename
        claim_names(session, stmt, schema)
        return True

    try:
        session.store.create(manifest, lambda folder: {}, still_wanted=claim)
    finally:
        session.sync_functions(force=True)
    return session.find_model(ast.Name(stmt.name.name, schema))


def statement_name(stmt) -> str:
    return "CREATE EXTERNAL MODEL" if isinstance(stmt, ast.CreateExternalModel) else "CREATE MODEL"


def statement_text(stmt) -> str:
    if isinstance(stmt, ast.CreateModel):
        from sqlml.sql import to_sql

        return to_sql(stmt)
    return stmt.text


def create_external_model_statement(session, stmt: ast.CreateExternalModel) -> StatementResult:
    from sqlml import kinds

    session.access.require_create(str(stmt.name))
    kind = kinds.KINDS["external"]
    kind.check_external(stmt)
    manifest = create_direct(session, stmt, kind)
    return _result("CREATE MODEL", manifest)


def _result(tag: str, manifest: dict) -> StatementResult:
    import pyarrow as pa

    table = pa.table(
        {
            "Model Name": [f"{manifest['schema']}.{manifest['name']}"],
            "Model State": [manifest["state"]],
            "Function Name": [manifest["function"]["name"]],
            "Metric": pa.array([None], pa.string()),
            "Value": pa.array([None], pa.float64()),
        }
    )
    return StatementResult.of_table(tag, table)
