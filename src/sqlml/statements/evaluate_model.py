"""EVALUATE MODEL name FROM { table | (query) }: the model's metrics on labelled rows."""

from __future__ import annotations

from sqlml import kinds
from sqlml.errors import ColumnNotFound, CorruptModelPackage, FeatureNotSupported, ModelNotReady
from sqlml.results import StatementResult
from sqlml.runtime.evaluation import evaluate
from sqlml.runtime.predictor import load_predictor
from sqlml.sql import ast
from sqlml.sql.render import quote_ident
from sqlml.statements import catalog
from sqlml.statements.create_model import source_query


def evaluate_model(session, stmt: ast.EvaluateModel) -> StatementResult:
    manifest = session.find_model(stmt.name)
    what = f"{manifest['schema']}.{manifest['name']}"
    if manifest["state"] == "BROKEN":
        raise CorruptModelPackage(f"EVALUATE MODEL {what}: {manifest['failure_reason']}")
    if manifest["state"] != "READY":
        raise ModelNotReady(
            f"EVALUATE MODEL {what}: the model is {manifest['state']}, not READY. "
            f"SHOW MODEL {manifest['name']} shows its progress."
        )
    if not kinds.for_manifest(manifest).evaluable:
        raise FeatureNotSupported(
            f"EVALUATE MODEL {what}: evaluating AUTO OFF models is not supported yet; compare "
            f"{manifest['function']['name']}(...) with the target in a query."
        )
    query, _ = source_query(stmt.source)
    names = [c.name for c in session.engine.query_columns(query)]
    by_lower = {n.lower(): n for n in names}
    features, target = catalog.columns(manifest, session.engine)
    wanted = [f.name for f in features] + [target.name]
    missing = [w for w in wanted if w.lower() not in by_lower]
    if missing:
        raise ColumnNotFound(
            f"EVALUATE MODEL {what}: the FROM query has no column {', '.join(missing)}. It needs "
            f"the model's features ({catalog.signature(manifest)}) and its TARGET column "
            f"{target.name}; its columns are {', '.join(names)}."
        )
    # The features are read as the prediction function receives them: the same casts as a call.
    select = [
        session.engine.as_parameter(quote_ident(by_lower[f.name.lower()]), f) for f in features
    ]
    select.append(quote_ident(by_lower[target.name.lower()]))
    table = session.engine.query_arrow(
        f"SELECT {', '.join(select)} FROM ({query})", f"EVALUATE MODEL {what}"
    )
    directory = session.store.path(manifest["schema"], manifest["name"])
    predictor = load_predictor(directory, catalog.with_arrow_types(manifest, session.engine))
    n = len(features)
    result = evaluate(predictor, [table.column(i) for i in range(n)], table.column(n), what)
    return StatementResult.of_table("EVALUATE MODEL", result)
