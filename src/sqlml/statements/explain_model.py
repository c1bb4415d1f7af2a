"""``explain_model('[schema.]model')``: the model's global Shapley values as a JSON document in
Redshift's shape (reference §7), read from the package where training left it.

Training explains a sample of its rows (automl.explain.global_explanation); this function only
reads the file, so it is cheap and runs inside a query without touching the database. A model
that is not READY gets Redshift's status document instead of an error, as in Redshift.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlml import settings as S
from sqlml.errors import CorruptModelPackage, ModelNotFound, SqlmlError, SqlSyntaxError
from sqlml.lazy import pa
from sqlml.sql import parse_name

FUNCTION = "explain_model"
WAITING = "waiting for training job to complete"


def _status(text: str) -> str:
    return json.dumps({"explanations": text})


def document(directory: Path | str, manifest: dict) -> str:
    from sqlml import kinds

    what = f"{manifest['schema']}.{manifest['name']}"
    state = manifest["state"]
    if state == "FAILED":
        return _status(f"training job failed: {manifest.get('failure_reason') or 'unknown'}")
    if state == "BROKEN":
        raise CorruptModelPackage(f"{FUNCTION}('{what}'): {manifest['failure_reason']}")
    kind = kinds.for_manifest(manifest)
    unavailable = kind.unavailable_explanation(manifest)
    if unavailable:
        return _status(unavailable)
    if state != "READY":
        return _status(WAITING)
    from sqlml.store import mirror

    # On a Spark executor with an executor store: the package's copy, fetched to this host.
    found = kind.explanation(mirror.readable(directory, manifest), manifest)
    if found is None:
        return _status(
            f"not available: model {what} was trained by a version of sqlml that did not "
            f"explain models, or explaining it failed; CREATE MODEL it again, or use "
            f"{manifest['function']['name']}_explain(...) for per-row contributions"
        )
    return found


def resolve(models: list[tuple[Path, dict]], text: str) -> tuple[Path, dict]:
    """The model named by ``text``. An unqualified name must match one model in any schema: a
    function inside a query cannot ask the database for the current schema."""
    try:
        ref = parse_name(text)
    except SqlSyntaxError as e:
        raise SqlSyntaxError(
            f"{FUNCTION}({text!r}): {e.bare_message}", line=e.line, col=e.col, token=e.token
        ) from e
    matches = [
        (d, m)
        for d, m in models
        if m["name"].lower() == ref.name.lower()
        and (ref.schema is None or m["schema"].lower() == ref.schema.lower())
    ]
    if len(matches) == 1:
        return matches[0]
    if matches:
        schemas = ", ".join(sorted(f"{m['schema']}.{m['name']}" for _, m in matches))
        raise SqlmlError(
            f"{FUNCTION}({text!r}): models {schemas} have this name; name the schema, "
            f"e.g. {FUNCTION}('{matches[0][1]['schema']}.{ref.name}')."
        )
    known = [m["name"] for _, m in models]
    raise ModelNotFound(
        f"{FUNCTION}({text!r}): model {ref} does not exist.{S.did_you_mean(ref.name, known)} "
        "SHOW MODEL ALL lists the models."
    )


def function(models: Callable[[], list[tuple[Path, dict]]]):
    """The vectorized SQL function over a column of model names. Called with the session's
    ``access`` (a served database), it explains only models the session may execute."""

    def call(columns: list, access=None) -> pa.Array:
        names = columns[0].to_pylist()
        found: dict[str, str] = {}
        listed = None
        out = []
        for text in names:
            if text is None:
                out.append(None)
                continue
            if text not in found:
                listed = models() if listed is None else listed
                directory, manifest = resolve(listed, text)
                if access is not None:
                    access.require_execute(manifest, f"{FUNCTION}('{text}')")
                found[text] = document(directory, manifest)
            out.append(found[text])
        return pa.array(out, pa.json_())  # Arrow's JSON extension type: DuckDB's JSON

    return call
