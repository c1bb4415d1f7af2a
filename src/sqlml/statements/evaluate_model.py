"""EVALUATE MODEL name FROM { table | (query) }: the model's metrics on labelled rows."""

from __future__ import annotations

from sqlml import kinds
from sqlml.errors import (
    ColumnNotFound,
    CorruptModelPackage,
    FeatureNotSupported,
    ModelNotReady,
    SqlmlError,
)
from sqlml.lazy import pa
from sqlml.results import StatementResult
from sqlml.sql import ast
from sqlml.statements import catalog
from sqlml.statements.create_model import source_query


def evaluate_model(session, stmt: ast.EvaluateModel) -> StatementResult:
    # The metrics' libraries load when a model is evaluated, not at every start of the CLI.
    from sqlml.runtime.evaluation import evaluate
    from sqlml.runtime.predictor import load_predictor

    manifest = session.find_model(stmt.name)
    session.access.require_execute(manifest, "EVALUATE MODEL")
    what = f"{manifest['schema']}.{manifest['name']}"
    if manifest["state"] == "BROKEN":
        raise CorruptModelPackage(f"EVALUATE MODEL {what}: {manifest['failure_reason']}")
    if manifest["state"] != "READY":
        raise ModelNotReady(
            f"EVALUATE MODEL {what}: the model is {manifest['state']}, not READY. "
            f"SHOW MODEL {manifest['name']} shows its progress."
        )
    kind = kinds.for_manifest(manifest)
    if not kind.evaluable:
        which = "AUTO OFF models" if kind.trained else "models served elsewhere"
        raise FeatureNotSupported(
            f"EVALUATE MODEL {what}: evaluating {which} is not supported yet; compare "
            f"{manifest['function']['name']}(...) with the target in a query."
        )
    query, _ = source_query(session, stmt.source)
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
        session.engine.as_parameter(session.engine.quote(by_lower[f.name.lower()]), f)
        for f in features
    ]
    select.append(session.engine.quote(by_lower[target.name.lower()]))
    table = session.engine.query_arrow(
        f"SELECT {', '.join(select)} FROM ({query})", f"EVALUATE MODEL {what}"
    )
    directory = session.store.path(manifest["schema"], manifest["name"])
    predictor = load_predictor(directory, catalog.with_arrow_types(manifest, session.engine))
    n = len(features)
    result = evaluate(predictor, [table.column(i) for i in range(n)], table.column(n), what)
    overlap = _training_overlap(session, manifest, select, query, features, target)
    result = result.append_column(
        pa.field("rows_in_training", pa.int64()), pa.array([overlap], pa.int64())
    )
    out = StatementResult.of_table("EVALUATE MODEL", result)
    if overlap:
        out.notices.append(
            f"EVALUATE MODEL {what}: {overlap} distinct rows of the "
            f"{result.column('rows')[0].as_py()} evaluated also occur in the model's training "
            "data, so the metrics overstate how well it predicts new rows. Evaluate on rows "
            "held out from its FROM query."
        )
    unseen = (
        result.column("unseen_classes")[0].as_py()
        if "unseen_classes" in result.schema.names
        else []
    )
    if unseen:
        out.notices.append(
            f"EVALUATE MODEL {what}: target values {', '.join(unseen[:5])} were never seen in "
            "training; their rows count as errors."
        )
    return out


def _training_overlap(session, manifest, select, query, features, target) -> int | None:
    """How many distinct evaluated rows (features and target) are also rows of the model's
    training query, as it reads now; None when that query no longer runs (a dropped table)."""
    source = manifest.get("source") or {}
    if "sql" in source:  # written in another dialect than the engine's
        training = source["sql"]
    elif source.get("kind") == "table":
        training = f"SELECT * FROM {source['text']}"
    elif source.get("kind") == "query":
        training = source["text"]
    else:
        return None
    try:
        by_lower = {c.name.lower(): c.name for c in session.engine.query_columns(training)}
        names = [f.name for f in features] + [target.name]
        if any(n.lower() not in by_lower for n in names):
            return None
        train_select = [
            session.engine.as_parameter(session.engine.quote(by_lower[f.name.lower()]), f)
            for f in features
        ] + [session.engine.quote(by_lower[target.name.lower()])]
        table = session.engine.query_arrow(
            f"SELECT count(*) FROM (SELECT {', '.join(select)} FROM ({query}) INTERSECT "
            f"SELECT {', '.join(train_select)} FROM ({training}))",
            "EVALUATE MODEL",
        )
    except SqlmlError:  # the training data is gone or changed shape: nothing to compare
        return None
    return int(table.column(0)[0].as_py())
