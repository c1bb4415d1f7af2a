"""CREATE MODEL: validate the statement against the database, fetch the data, train, register.

Every check that can fail on the user's input runs before any training starts, so a mistake
costs nothing and leaves nothing behind.
"""

from __future__ import annotations

import shutil
import time

from sqlml import hyperparameters, preprocessors
from sqlml import settings as S
from sqlml.automl import expert, guidance
from sqlml.errors import (
    ColumnNotFound,
    FeatureNotSupported,
    FunctionAlreadyExists,
    InvalidSetting,
    ModelAlreadyExists,
    SchemaNotFound,
    TrainingDataError,
)
from sqlml.functions import DESCRIPTIONS, function_names, reserved_names
from sqlml.jobs import status as J
from sqlml.jobs.training import SEED, cancel, submit, wait
from sqlml.sql import ast, to_sql
from sqlml.sql.render import render_name


def check_supported(stmt: ast.CreateModel) -> None:
    """Refuse the clauses whose behaviour sqlml does not have yet, naming the clause."""

    def refuse(what: str, advice: str = "remove the clause") -> None:
        raise FeatureNotSupported(
            f"CREATE MODEL {stmt.name}: {what} is not supported yet; {advice}."
        )

    if (
        isinstance(stmt.source, ast.FromJob)
        or stmt.returns
        or stmt.sagemaker
        or stmt.function_arg_types is not None
    ):
        refuse(
            "bring-your-own-model (FROM 'job', FUNCTION f(types), RETURNS, SAGEMAKER)",
            "train the model from a table or a query instead",
        )
    if stmt.auto is False:
        check_auto_off(stmt)
        return
    if stmt.model_type == "KMEANS":
        raise InvalidSetting(
            f"CREATE MODEL {stmt.name}: MODEL_TYPE KMEANS is trained with AUTO OFF (and "
            "HYPERPARAMETERS DEFAULT EXCEPT (K 'n')); add AUTO OFF."
        )
    if stmt.model_type == "FORECAST":
        refuse(
            f"MODEL_TYPE {stmt.model_type}",
            "use MODEL_TYPE XGBOOST, MLP or LINEAR_LEARNER, or leave it out",
        )
    if stmt.hyperparameters is not None:
        raise InvalidSetting(
            f"CREATE MODEL {stmt.name}: HYPERPARAMETERS is only allowed with AUTO OFF."
        )
    if stmt.objective in S.XGBOOST_OBJECTIVES:
        raise InvalidSetting(
            f"CREATE MODEL {stmt.name}: OBJECTIVE '{stmt.objective}' is an XGBoost objective for "
            f"AUTO OFF; with AUTO ON use one of 'MSE', 'Accuracy', 'F1', 'F1Macro', 'AUC'."
        )
    if stmt.objective in S.FORECAST_OBJECTIVES:
        refuse(f"OBJECTIVE '{stmt.objective}' (FORECAST models)")
    if stmt.target is None:
        raise TrainingDataError(
            f"CREATE MODEL {stmt.name}: a TARGET column is required (only KMEANS models, not "
            "supported yet, are trained without one)."
        )


def check_auto_off(stmt: ast.CreateModel) -> None:
    """Redshift's rules for AUTO OFF (reference §2.2, §2.6), each broken one named."""
    where = f"CREATE MODEL {stmt.name}"
    if stmt.model_type is None:
        raise InvalidSetting(
            f"{where}: AUTO OFF needs MODEL_TYPE XGBOOST (or KMEANS): with AUTO OFF you say "
            "what to train."
        )
    if stmt.model_type in ("MLP", "LINEAR_LEARNER"):
        raise InvalidSetting(
            f"{where}: MODEL_TYPE {stmt.model_type} is trained with AUTO ON only (as in "
            "Redshift); remove AUTO OFF and HYPERPARAMETERS, or use MODEL_TYPE XGBOOST."
        )
    if stmt.model_type == "FORECAST":
        raise FeatureNotSupported(
            f"{where}: MODEL_TYPE FORECAST is not supported yet; use AUTO OFF MODEL_TYPE "
            "XGBOOST or KMEANS, or AUTO ON."
        )
    if stmt.problem_type is not None:
        raise InvalidSetting(
            f"{where}: PROBLEM_TYPE is not allowed with AUTO OFF; the XGBoost OBJECTIVE decides "
            "the kind of model. Remove PROBLEM_TYPE."
        )
    if stmt.model_type == "KMEANS":
        _check_kmeans(stmt, where)
        return
    if stmt.objective is None or stmt.objective not in S.XGBOOST_OBJECTIVES:
        given = "no OBJECTIVE" if stmt.objective is None else f"OBJECTIVE '{stmt.objective}'"
        raise InvalidSetting(
            f"{where}: AUTO OFF MODEL_TYPE XGBOOST needs an XGBoost OBJECTIVE, one of "
            f"{', '.join(repr(o) for o in S.XGBOOST_OBJECTIVES)}; got {given}."
        )
    if stmt.hyperparameters is None:
        raise InvalidSetting(
            f"{where}: AUTO OFF needs HYPERPARAMETERS DEFAULT, or HYPERPARAMETERS DEFAULT "
            "EXCEPT (KEY 'value', ...)."
        )
    if stmt.preprocessors is None or stmt.preprocessors.strip().lower() != "none":
        given = "none" if stmt.preprocessors is None else f"'{stmt.preprocessors}'"
        raise InvalidSetting(
            f"{where}: AUTO OFF MODEL_TYPE XGBOOST trains on the columns as they are and needs "
            f"PREPROCESSORS 'none'; got {given}."
        )
    if stmt.target is None:
        raise TrainingDataError(f"{where}: a TARGET column is required for MODEL_TYPE XGBOOST.")


def _check_kmeans(stmt: ast.CreateModel, where: str) -> None:
    if stmt.target is not None:
        raise InvalidSetting(
            f"{where}: MODEL_TYPE KMEANS clusters rows without a TARGET; remove TARGET "
            f"{stmt.target} (every FROM column is a feature)."
        )
    if stmt.objective is not None:
        raise InvalidSetting(
            f"{where}: MODEL_TYPE KMEANS takes no OBJECTIVE; remove OBJECTIVE '{stmt.objective}'."
        )
    if stmt.hyperparameters is None:
        raise InvalidSetting(
            f"{where}: MODEL_TYPE KMEANS needs HYPERPARAMETERS DEFAULT EXCEPT (K 'n')."
        )
    if stmt.preprocessors is None:
        raise InvalidSetting(
            f"{where}: MODEL_TYPE KMEANS needs PREPROCESSORS: 'none', or a JSON array such as "
            """'[{"ColumnSet": ["*"], "Transformers": ["StandardScaler"]}]'."""
        )


def check_numeric(stmt: ast.CreateModel, names: list[str], types: list[str]) -> None:
    """AUTO OFF trains on the columns as they are: numbers and booleans only."""
    for name, sql_type in zip(names, types, strict=True):
        base = sql_type.upper().split("(")[0].strip()
        if base not in S.AUTO_OFF_TYPES:
            role = "TARGET column" if name == stmt.target else "column"
            raise TrainingDataError(
                f"CREATE MODEL {stmt.name}: {role} '{name}' is {sql_type}; AUTO OFF trains on "
                "numbers and booleans as they are (SMALLINT, INTEGER, BIGINT, DECIMAL, REAL, "
                "DOUBLE, BOOLEAN). CAST it or encode it in the FROM query, or use AUTO ON."
            )


def source_query(source: ast.FromTable | ast.FromQuery) -> tuple[str, dict]:
    """The query that reads ``FROM table | (query)``, and how the manifest records the source."""
    if isinstance(source, ast.FromTable):
        return f"SELECT * FROM {render_name(source.table)}", {
            "kind": "table",
            "text": str(source.table),
        }
    return source.sql, {"kind": "query", "text": source.sql}


def check_function_name(session, stmt: ast.CreateModel) -> None:
    """The new model's functions (``fn``, ``fn_explain``, and ``fn_probabilities`` should it
    classify) must not be taken by another model's functions or by the database's."""
    mine = reserved_names(stmt.function.name)
    for _, manifest in session.models():
        for name, kind in function_names(manifest).items():
            if name in mine:
                what = DESCRIPTIONS[kind]
                raise FunctionAlreadyExists(
                    f"CREATE MODEL {stmt.name}: function {name} is already the {what} function "
                    f"of model {manifest['schema']}.{manifest['name']}. Choose another FUNCTION "
                    "name."
                )
    for name in sorted(mine):
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
    if stmt.target is None and not names:  # KMEANS: every column is a feature
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


def _expert_draft(session, stmt: ast.CreateModel, query: str, target: str) -> dict:
    """The hyperparameters' effective values, checked, and the target checked against the
    objective, before anything is trained."""
    where = f"CREATE MODEL {stmt.name}"
    values = hyperparameters.resolve("XGBOOST", stmt.objective, stmt.hyperparameters, where)
    low, high, integral = session.engine.numeric_summary(query, target)
    expert.check_target(stmt.objective, values.get("num_class"), low, high, integral, target, where)
    return {
        "hyperparameters": values,
        "preprocessors": "none",
        "problem_type": expert.problem_type(stmt.objective),
    }


def _guidance_draft(stmt: ast.CreateModel, names: list[str], types: list[str], target) -> dict:
    """PREPROCESSORS under AUTO ON: validated, and each transformer checked against the type
    of the columns it is given (automl.guidance says what each does)."""
    where = f"CREATE MODEL {stmt.name}"
    features = [n for n in names if n != target]
    entries = preprocessors.parse(stmt.preprocessors, features, preprocessors.TRANSFORMERS, where)
    type_of = dict(zip(names, types, strict=True))
    for columns, transformers in entries or []:
        for column in columns:
            base = type_of[column].upper().split("(")[0].strip()
            for name in transformers:
                if not _fits(name, base):
                    raise InvalidSetting(
                        f"{where}: transformer {name} does not apply to column '{column}' of "
                        f"type {type_of[column]}: {_USES[name]}"
                    )
    return {"preprocessors": stmt.preprocessors, "preprocessor_entries": entries}


_USES = {
    "NumericPassthrough": "it takes numbers and booleans.",
    "StandardScaler": "it takes numbers and booleans.",
    "MinMax": "it takes numbers and booleans.",
    "Normalizer": "it takes numbers and booleans.",
    "PCA": "it takes numbers and booleans.",
    "DateTimeVectorizer": "it takes DATE and TIMESTAMP columns (CAST a text date first).",
    "OneHotEncoder": "a DATE or TIMESTAMP column takes DateTimeVectorizer only.",
    "OrdinalEncoder": "a DATE or TIMESTAMP column takes DateTimeVectorizer only.",
    "Imputer": "a DATE or TIMESTAMP column takes DateTimeVectorizer only.",
    "ImputerWithIndicator": "a DATE or TIMESTAMP column takes DateTimeVectorizer only.",
}


def _fits(transformer: str, base_type: str) -> bool:
    if base_type.startswith(("DATE", "TIMESTAMP")):
        return transformer == "DateTimeVectorizer"
    if transformer == "DateTimeVectorizer":
        return False
    return transformer not in guidance.NUMERIC_ONLY or base_type in S.AUTO_OFF_TYPES


def _kmeans_draft(stmt: ast.CreateModel, names: list[str]) -> dict:
    where = f"CREATE MODEL {stmt.name}"
    values = hyperparameters.resolve("KMEANS", None, stmt.hyperparameters, where)
    if values.setdefault("feature_dim", len(names)) != len(names):
        raise InvalidSetting(
            f"{where}: FEATURE_DIM '{values['feature_dim']}' does not match the FROM query's "
            f"{len(names)} columns; leave FEATURE_DIM out (it is set for you)."
        )
    entries = preprocessors.parse(
        stmt.preprocessors, names, preprocessors.KMEANS_TRANSFORMERS, where
    )
    return {
        "hyperparameters": values,
        "preprocessors": stmt.preprocessors,
        "preprocessor_entries": entries,
        "problem_type": None,
    }


def create_model(session, stmt: ast.CreateModel):
    started = time.monotonic()
    check_supported(stmt)
    schema = stmt.name.schema or session.engine.current_schema()
    if not session.engine.schema_exists(schema):
        raise SchemaNotFound(
            f"CREATE MODEL {stmt.name}: schema '{schema}' does not exist. CREATE SCHEMA {schema} first."
        )
    existing = session.find_model(ast.Name(stmt.name.name, schema), missing_ok=True)
    if existing is not None:
        raise ModelAlreadyExists(
            f"Model {schema}.{stmt.name.name} already exists ({existing['state']}). DROP MODEL "
            "it first or choose another name."
        )
    check_function_name(session, stmt)
    query, source = source_query(stmt.source)
    names, types = session.engine.query_schema(query)
    check_columns(stmt, names)
    target = match_target(stmt, names) if stmt.target is not None else None
    settings = S.effective_settings(stmt.settings_dict)
    kind_fields = {}
    if stmt.model_type == "KMEANS":
        check_numeric(stmt, names, types)
        kind_fields = _kmeans_draft(stmt, names)
    elif stmt.auto is False:
        check_numeric(stmt, names, types)
        kind_fields = _expert_draft(session, stmt, query, target)
    elif stmt.preprocessors is not None:
        kind_fields = _guidance_draft(stmt, names, types, target)
    max_rows = max(1, settings["MAX_CELLS"] // len(names))
    # Classification targets are sampled per class, so rare classes keep their share.
    problem_type = kind_fields.get("problem_type", stmt.problem_type)
    stratify = target if problem_type != "REGRESSION" else None
    job_dir = J.new_job_folder(session.store)
    try:
        rows, total = session.engine.export_training_data(
            query, job_dir / J.SNAPSHOT_FILE, max_rows, SEED, stratify=stratify
        )
    except BaseException:
        shutil.rmtree(job_dir, ignore_errors=True)
        raise
    exported = time.monotonic()
    types_by_name = dict(zip(names, types, strict=True))
    draft = {
        "schema": schema,
        "name": stmt.name.name,
        "statement": to_sql(stmt),
        "source": source,
        "target": target,
        "target_type": types_by_name[target] if target is not None else "INTEGER",
        "features": [
            {"name": n, "type": t} for n, t in zip(names, types, strict=True) if n != target
        ],
        "function": {"name": stmt.function.name.lower(), "schema": stmt.function.schema},
        "problem_type": stmt.problem_type,
        "objective": stmt.objective,
        "auto": stmt.auto is not False,
        **kind_fields,
        "model_type": stmt.model_type,
        "iam_role": stmt.iam_role,
        "settings": settings,
        "training": {
            "rows_total": total,
            "rows_used": rows,
            "sampled": rows < total,
            "max_rows": max_rows,
            "export_seconds": round(exported - started, 3),
        },
    }
    budget = settings["MAX_RUNTIME"] - (exported - started)
    try:
        submit(session.store, job_dir, draft, budget, session.max_training_jobs)
    except BaseException:
        shutil.rmtree(job_dir, ignore_errors=True)
        raise
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
