"""CREATE MODEL: validate the statement against the database, fetch the data, train, register.

Every check that can fail on the user's input runs before any training starts, so a mistake
costs nothing and leaves nothing behind. What depends on the kind of model (AUTO ON, AUTO OFF
XGBoost, K-means, ...) is the kind's (``kinds``): this module does what every kind shares.
"""

from __future__ import annotations

import time

from sqlml import arrowtypes, kinds
from sqlml import settings as S
from sqlml.errors import (
    ColumnNotFound,
    FeatureNotSupported,
    FunctionAlreadyExists,
    ModelAlreadyExists,
    SchemaNotFound,
    SqlmlError,
    TrainingDataError,
)
from sqlml.jobs import status as J
from sqlml.jobs.faults import pause_at
from sqlml.jobs.training import SEED, cancel, submit, wait
from sqlml.kinds.base import DESCRIPTIONS, Draft, reserved_names
from sqlml.kinds.forecast import refuse_forecast_settings
from sqlml.kinds.remote import check_scope
from sqlml.lazy import pa
from sqlml.results import StatementResult
from sqlml.sql import ast, to_sql
from sqlml.sql.render import quote_ident
from sqlml.statements import catalog
from sqlml.store.manifest import current_user


def check_supported(stmt: ast.CreateModel) -> None:
    """Refuse the clauses whose behaviour sqlml does not have yet, naming the clause."""
    if stmt.sagemaker is not None:
        return  # a remote model (kinds/remote.py) checks its own clauses
    if isinstance(stmt.source, ast.FromJob):
        return  # bring your own model, local: statements.import_model
    if stmt.returns or stmt.function_arg_types is not None:
        raise FeatureNotSupported(
            f"CREATE MODEL {stmt.name}: FUNCTION f(types) and RETURNS are for a model imported "
            "from a file (FROM 'path') or served elsewhere (SAGEMAKER 'name' SETTINGS (ENDPOINT "
            "'http(s)://...')); a model trained here from a table or a query takes FUNCTION f "
            "alone."
        )
    check_scope(stmt.settings_dict, "trained", f"CREATE MODEL {stmt.name}")


def _table_name(engine, name: ast.Name) -> str:
    """A table's name as SQL: bare when it may be, else quoted as the engine quotes names
    (Spark's backticks; a double-quoted name is a string there)."""

    def part(text: str) -> str:
        return text if quote_ident(text) == text else engine.quote(text)

    return ".".join(part(p) for p in (name.schema, name.name) if p)


def source_query(session, source: ast.FromTable | ast.FromQuery) -> tuple[str, dict]:
    """The engine's query that reads ``FROM table | (query)``, and how the manifest records the
    source: as the user wrote it (``text``) and, when the session's dialect is not the
    engine's, as the engine runs it (``sql``)."""
    if isinstance(source, ast.FromTable):
        written = f"SELECT * FROM {_table_name(session.engine, source.table)}"
        record = {"kind": "table", "text": str(source.table)}
    else:
        written = source.sql
        record = {"kind": "query", "text": source.sql}
    query = session.translate(written)
    if query != written:
        record["sql"] = query
    return query, record


def already_exists(schema: str, name: str, state: str) -> ModelAlreadyExists:
    return ModelAlreadyExists(
        f"Model {schema}.{name} already exists ({state}). DROP MODEL it first or choose another "
        "name."
    )


def model_copy_location(settings: dict, schema: str, name: str, notices: list) -> str | None:
    """Where the finished package is copied (S3_BUCKET, when the environment configures object
    storage: ``objects.configured``). A bucket that cannot be reached (a statement written for
    Redshift names one of its own) leaves the model uncopied, with a notice that says why."""
    from sqlml import objects

    bucket = settings.get("S3_BUCKET")
    if not bucket or not objects.configured():
        return None
    location = objects.model_location(str(bucket), schema, name)
    try:
        objects.Storage(location, f"S3_BUCKET '{bucket}'").listing()
    except SqlmlError as e:
        notices.append(f"The model package is not copied to S3: {e}")
        return None
    return location


def check_names_free(store, stmt: ast.CreateModel, schema: str) -> None:
    """The model's name and functions are free among the store's models. Run at submit under
    the store lock, so that of two processes creating either at once only one gets it, and the
    other this error, as if they had run one after the other."""
    models = catalog.list_models(store)
    key = (schema.lower(), stmt.name.name.lower())
    for _, manifest in models:
        if (manifest["schema"].lower(), manifest["name"].lower()) == key:
            raise already_exists(schema, stmt.name.name, manifest["state"])
    check_model_functions(stmt, models)


def claim_names(session, stmt: ast.CreateModel, schema: str) -> None:
    """At submit, under the store lock: the names are free, and no grant made on an earlier
    model of this name passes to the new one."""
    check_names_free(session.store, stmt, schema)
    session.privileges.forget_model(schema, stmt.name.name)


def check_model_functions(stmt: ast.CreateModel, models) -> None:
    if stmt.function is None:  # a FORECAST model: no functions
        return
    mine = reserved_names(stmt.function.name)
    for _, manifest in models:
        for name, spec in kinds.function_names(manifest).items():
            if name in mine:
                what = DESCRIPTIONS[spec.method]
                raise FunctionAlreadyExists(
                    f"CREATE MODEL {stmt.name}: function {name} is already the {what} function "
                    f"of model {manifest['schema']}.{manifest['name']}. Choose another FUNCTION "
                    "name."
                )


def check_function_name(session, stmt: ast.CreateModel) -> None:
    """The new model's functions (``fn``, ``fn_explain``, and ``fn_probabilities`` should it
    classify) must not be taken by another model's functions or by the database's."""
    check_model_functions(stmt, session.models())
    if stmt.function is None:
        return
    for name in sorted(reserved_names(stmt.function.name)):
        if session.engine.function_exists(name):
            raise FunctionAlreadyExists(
                f"CREATE MODEL {stmt.name}: {name} is already a function in the database. "
                "Choose another FUNCTION name."
            )


def match_target(stmt: ast.CreateModel, names: list[str]) -> str:
    exact = [n for n in names if n == stmt.target]
    loose = [n for n in names if n.lower() == stmt.target.lower()]
    if exact or len(loose) == 1:
        return (exact or loose)[0]
    hint = S.did_you_mean(stmt.target, names).replace("Did you mean ", "Did you mean column ")
    raise ColumnNotFound(
        f"CREATE MODEL {stmt.name}: TARGET column '{stmt.target}' is not in the FROM query's "
        f"columns ({', '.join(names)}).{hint}"
    )


def check_columns(stmt: ast.CreateModel, names: list[str]) -> None:
    if stmt.target is None and not names:  # no TARGET: every column is a feature
        raise TrainingDataError(f"CREATE MODEL {stmt.name}: the FROM query returns no columns.")
    if stmt.target is not None and len(names) < 2:
        raise TrainingDataError(
            f"CREATE MODEL {stmt.name}: the FROM query returns {len(names)} column(s); it needs "
            "at least two (one or more features and the TARGET column)."
        )
    seen: set[str] = set()
    for n in names:
        if n.lower() in seen:
            raise TrainingDataError(
                f"CREATE MODEL {stmt.name}: the FROM query returns two columns named '{n}'. "
                "Give them distinct aliases."
            )
        seen.add(n.lower())


def create_model(session, stmt: ast.CreateModel, notices: list | None = None):
    """Check, export and queue (synchronous: and wait for) a model; ``notices`` collects what
    the user is told beside the result."""
    notices = notices if notices is not None else []
    started = time.monotonic()
    session.access.require_create(str(stmt.name))
    check_supported(stmt)
    if isinstance(stmt.source, ast.FromJob):
        from sqlml.statements.import_model import import_model

        return import_model(session, stmt)
    kind = kinds.for_statement(stmt)
    refuse_forecast_settings(stmt)
    kind.check(stmt)
    if not kind.trained:  # served elsewhere: READY at once, nothing to train
        from sqlml.statements.create_direct import create_direct

        return create_direct(session, stmt, kind)
    schema = stmt.name.schema or session.engine.current_schema()
    if not session.engine.schema_exists(schema):
        raise SchemaNotFound(
            f"CREATE MODEL {stmt.name}: schema '{schema}' does not exist. CREATE SCHEMA {schema} first."
        )
    function_schema = stmt.function.schema if stmt.function else None
    if function_schema and not session.engine.schema_exists(function_schema):
        raise SchemaNotFound(
            f"CREATE MODEL {stmt.name}: FUNCTION {stmt.function}: schema '{function_schema}' "
            f"does not exist. CREATE SCHEMA {function_schema} first, or name the function "
            "without a schema."
        )
    existing = session.find_model(ast.Name(stmt.name.name, schema), missing_ok=True)
    if existing is not None:
        raise already_exists(schema, stmt.name.name, existing["state"])
    check_function_name(session, stmt)
    query, source = source_query(session, stmt.source)
    columns = session.engine.query_columns(query)
    names = [c.name for c in columns]
    check_columns(stmt, names)
    target = match_target(stmt, names) if stmt.target is not None else None
    settings = S.effective_settings(stmt.settings_dict, session.default_settings)
    s3_location = model_copy_location(settings, schema, stmt.name.name, notices)
    kind_fields = kind.draft(Draft(stmt, columns, target, query, session.engine))
    max_rows = max(1, settings["MAX_CELLS"] // len(names))
    # Classification targets are sampled per class, so rare classes keep their share.
    problem_type = kind_fields.get("problem_type", stmt.problem_type)
    stratify = target if problem_type != "REGRESSION" else None
    with J.new_job_folder(session.store) as job_dir:
        rows, total = session.engine.export_training_data(
            query, job_dir / J.SNAPSHOT_FILE, max_rows, SEED, stratify=stratify
        )
        pause_at("create:exported")
        exported = time.monotonic()
        by_name = {c.name: c for c in columns}
        target_type = (
            session.engine.sql_type(kind.default_target_type()) if target is None else None
        )
        draft = {
            "schema": schema,
            "name": stmt.name.name,
            "statement": to_sql(stmt),
            "source": source,
            "kind": kind.name,
            "target": target,
            "target_type": by_name[target].sql_type if target is not None else target_type,
            "features": [{"name": c.name, "type": c.sql_type} for c in columns if c.name != target],
            "arrow_types": {c.name: arrowtypes.encode(c.arrow) for c in columns},
            "function": {
                "name": stmt.function.name.lower() if stmt.function else None,
                "schema": stmt.function.schema if stmt.function else None,
            },
            "problem_type": stmt.problem_type,
            "objective": stmt.objective,
            "auto": stmt.auto is not False,
            **kind_fields,
            "model_type": stmt.model_type,
            "iam_role": stmt.iam_role,
            "settings": settings,
            **({"s3_location": s3_location} if s3_location else {}),
            # A server's session: its user owns the model (sqlml.access); else the
            # superusers do, and the owner shown is the account that ran it.
            "owner": session.user or current_user(),
            "owner_user": session.user,
            "training": {
                "rows_total": total,
                "rows_used": rows,
                "sampled": rows < total,
                "max_rows": max_rows,
                "export_seconds": round(exported - started, 3),
            },
        }
        budget = settings["MAX_RUNTIME"] - (exported - started)
        submit(
            session.store,
            job_dir,
            draft,
            budget,
            session.max_training_jobs,
            lambda: claim_names(session, stmt, schema),
            lane=kind.lane,
        )
    if not session.synchronous:
        session.sync_functions(force=True)
        return session.find_model(ast.Name(stmt.name.name, schema))
    try:
        manifest = wait(session.store, schema, stmt.name.name)
    except BaseException as e:
        if not isinstance(e, KeyboardInterrupt):
            # A statement that fails leaves nothing behind, as any failed DDL.
            with session.store.locked():
                cancel(session.store, J.job_path(session.store, schema, stmt.name.name))
        raise
    finally:
        session.sync_functions(force=True)
    return manifest


def create_model_statement(session, stmt: ast.CreateModel) -> StatementResult:
    notices: list[str] = []
    result = created(create_model(session, stmt, notices))
    result.notices += notices
    return result


def created(manifest: dict) -> StatementResult:
    """CREATE MODEL's one row: the model, its state, function and (once READY) metric."""
    metric, value = next(iter(manifest["metrics"].items()), (None, None))
    table = pa.table(
        {
            "Model Name": [f"{manifest['schema']}.{manifest['name']}"],
            "Model State": [manifest["state"]],
            "Function Name": [manifest["function"]["name"]],
            "Metric": pa.array([metric], pa.string()),
            "Value": pa.array([value], pa.float64()),
        }
    )
    return StatementResult.of_table("CREATE MODEL", table)
