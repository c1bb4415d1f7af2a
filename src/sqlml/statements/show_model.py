"""SHOW MODEL name and SHOW MODEL ALL, shaped like Redshift's Key/Value output (reference §5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlml import kinds
from sqlml import settings as S
from sqlml.kinds.base import hyperparameter_rows
from sqlml.lazy import pa
from sqlml.results import StatementResult
from sqlml.sql import ast
from sqlml.statements import catalog


def _creation_time(iso: str) -> str:
    # Redshift prints e.g. "Tue, 14.06.2022 17:15:52".
    try:
        return dt.datetime.fromisoformat(iso).strftime("%a, %d.%m.%Y %H:%M:%S")
    except (TypeError, ValueError):
        return str(iso)


def _metric(value: float) -> str:
    return f"{value:.6f}"


def _training_rows(training: dict) -> str:
    used, total = training.get("rows_used"), training.get("rows_total")
    if training.get("sampled"):
        return f"{used} of {total} (random sample: rows x columns above MAX_CELLS)"
    return str(used)


def progress_text(state: str, progress: dict) -> str:
    """One line on a job: e.g. "TRAINING: 12 candidates, best lightgbm_tuned_3 (0.981200),
    35 s elapsed, 25 s left"."""
    if state == "QUEUED":
        return "QUEUED: waiting for a training slot"
    parts = [f"{progress.get('trials', 0)} candidates"]
    best = progress.get("best")
    if best:
        parts.append(f"best {best['candidate']} ({_metric(best['score'])})")
    if "elapsed" in progress:
        parts.append(f"{progress['elapsed']:.0f} s elapsed")
    if "time_left" in progress:
        parts.append(f"{progress['time_left']:.0f} s left")
    return f"{state}: " + ", ".join(parts)


def model_rows(
    manifest: dict, store_path: str, type_label: Callable[[str], str] = str
) -> list[tuple[str, str]]:
    """The Key/Value rows of SHOW MODEL for one manifest; ``type_label`` shortens the engine's
    type names for the one-line parameter type list."""
    settings = manifest.get("settings", {})
    training = manifest.get("training", {})
    model = manifest.get("model", {})
    rows = [
        ("Model Name", manifest["name"]),
        ("Schema Name", manifest["schema"]),
        ("Owner", manifest.get("owner", "")),
        ("Creation Time", _creation_time(manifest.get("created_at"))),
        ("Model State", manifest["state"]),
    ]
    if manifest.get("failure_reason"):
        rows.append(("Failure Reason", manifest["failure_reason"]))
    if manifest["state"] == "BROKEN":  # its package cannot be read: nothing more is known
        return rows + [
            ("Function Name", manifest["function"]["name"] or ""),
            ("Model Store", store_path),
        ]
    if manifest["state"] in ("QUEUED", "TRAINING"):
        rows.append(("Training Job Status", progress_text(manifest["state"], manifest["progress"])))
    rows += [(k, _metric(v)) for k, v in manifest.get("metrics", {}).items()]
    if "seconds" in training:
        rows.append(("Training Time", f"{training['seconds']:.1f} s"))
    source = manifest.get("source", {})
    trained = kinds.for_manifest(manifest).trained  # a remote or external model is not
    if source.get("kind") == "file":  # imported (statements.import_model): nothing trained here
        rows += [("", ""), ("IMPORTED FROM:", ""), ("Model File", source.get("text", ""))]
    elif trained:
        rows += [
            ("", ""),
            ("TRAINING DATA:", ""),
            ("Table" if source.get("kind") == "table" else "Query", source.get("text", "")),
            ("Target Column", manifest.get("target") or ""),
            ("Training Rows", _training_rows(training)),
        ]
    if manifest.get("imported_from"):
        imported = manifest["imported_from"]
        rows.append(("Imported From", f"{imported['path']} (model {imported['model']})"))
    dropped = (
        model.get("dropped_columns") or (model.get("summary") or {}).get("dropped_columns") or {}
    )
    if dropped:
        rows.append(("Ignored Columns", ", ".join(f"{k} ({v})" for k, v in dropped.items())))
    features = manifest["features"]
    problem = manifest.get("problem_type")
    rows += [
        ("", ""),
        ("PARAMETERS:", ""),
        ("Model Type", (manifest.get("model_type") or "auto").lower()),
        ("Problem Type", S.PROBLEM_TYPES.get(problem, "") if problem else ""),
        ("Objective", manifest.get("objective") or ""),
    ]
    if manifest["function"]["name"] is not None:  # a FORECAST model has none
        rows += [
            ("Function Name", manifest["function"]["name"]),
            ("Function Parameters", " ".join(f["name"] for f in features)),
            ("Function Parameter Types", " ".join(type_label(f["type"]) for f in features)),
            ("Function Return Type", manifest.get("target_type", "")),
        ]
    rows += kinds.for_manifest(manifest).show_rows(manifest)
    if manifest["state"] == "READY":
        rows += kinds.for_manifest(manifest).usage_rows(Path(store_path), manifest)
    if manifest.get("auto") is False or manifest.get("preprocessors"):
        rows.append(("Preprocessors", manifest.get("preprocessors") or "none"))
    if manifest.get("iam_role"):
        rows.append(("IAM Role", manifest["iam_role"]))
    if settings.get("S3_BUCKET"):
        rows.append(("S3 Bucket", settings["S3_BUCKET"]))
    if manifest.get("s3_location"):
        rows.append(("S3 Model Path", manifest["s3_location"]))
    rows += [
        ("Max Runtime", str(settings.get("MAX_RUNTIME", ""))),
        ("Max Cells", str(settings.get("MAX_CELLS", ""))),
    ] if trained else []  # fmt: skip
    if settings.get("MAX_TRIALS"):
        rows.append(("Max Trials", str(settings["MAX_TRIALS"])))
    rows.append(("Model Store", store_path))
    return rows + hyperparameter_rows(manifest)


def key_value_table(rows: list[tuple[str, str]]) -> pa.Table:
    return pa.table({"Key": [k for k, _ in rows], "Value": [str(v) for _, v in rows]})


def models_table(manifests: list[dict]) -> pa.Table:
    ordered = sorted(manifests, key=lambda m: (m["schema"], m["name"]))
    return pa.table(
        {
            "Schema Name": [m["schema"] for m in ordered],
            "Model Name": [m["name"] for m in ordered],
            "Model State": [m["state"] for m in ordered],
            "Function Name": pa.array([m["function"]["name"] for m in ordered], pa.string()),
        }
    )


# Shown to the model's owner (and superusers) only: a user with EXECUTE on it does not see
# the IAM role, the S3 bucket, the KMS key or the cost (reference §5.2), nor where the server
# keeps it.
OWNER_ONLY = {"IAM Role", "S3 Bucket", "S3 Model Path", "KMS Key", "Estimated Cost", "Model Store"}


def show_model(session, stmt: ast.ShowModel) -> StatementResult:
    manifest = session.find_model(stmt.name)
    session.access.require_execute(manifest, "SHOW MODEL")
    path = catalog.model_folder(session.store, manifest)
    rows = model_rows(manifest, str(path), session.engine.type_label)
    if not session.access.administers(manifest):
        rows = [(k, v) for k, v in rows if k not in OWNER_ONLY]
    return StatementResult.of_table("SHOW MODEL", key_value_table(rows))


def show_models(session, stmt: ast.ShowModelAll) -> StatementResult:
    """Every model the user may use (reference §5.1): theirs and those granted to them."""
    table = models_table([m for _, m in session.models() if session.access.may_execute(m)])
    return StatementResult.of_table("SHOW MODEL", table)
