"""DROP MODEL [IF EXISTS]: stop its training if it trains, remove its package, its functions and
the grants on it. Its owner, a superuser or a role with the DROP MODEL permission may."""

from __future__ import annotations

from sqlml.jobs import status as J
from sqlml.jobs import training
from sqlml.results import StatementResult
from sqlml.runtime import usage
from sqlml.sql import ast


def drop_model(session, stmt: ast.DropModel) -> StatementResult:
    schema = stmt.name.schema or session.engine.current_schema()
    store = session.store
    job_dir = J.job_path(store, schema, stmt.name.name)
    # Existence, not readability: a corrupt package can be dropped too.
    if not store.path(schema, stmt.name.name).exists() and not job_dir.exists():
        if stmt.if_exists:
            return StatementResult("DROP MODEL")
        session.find_model(stmt.name)  # raises ModelNotFound with a hint
    manifest = session.find_model(ast.Name(stmt.name.name, schema), missing_ok=True)
    if manifest is not None:
        session.access.require_drop(manifest)
    with store.locked():
        if job_dir.exists():
            training.cancel(store, job_dir)  # QUEUED or TRAINING: stop the trainer first
        store.delete(schema, stmt.name.name)
        session.privileges.forget_model(schema, stmt.name.name)
        if manifest is not None:
            usage.forget(store.root, manifest["package_id"])  # an external model's tokens
    session.sync_functions(force=True)
    return StatementResult("DROP MODEL")
