"""The models a statement can name: READY packages in the store and the jobs of models QUEUED,
TRAINING or FAILED, each as a manifest (a job's is its draft, with its state and progress)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from sqlml import arrowtypes
from sqlml import settings as S
from sqlml.engines.base import Column, Engine
from sqlml.errors import ModelNotFound
from sqlml.jobs import status as J
from sqlml.sql import ast
from sqlml.store.manifest import current_user


def list_models(store) -> list[tuple[Path, dict]]:
    """Every model of the store, with the folder it lives in (package or job)."""
    out = list(store.list())
    taken = {(m["schema"].lower(), m["name"].lower()) for _, m in out}
    for job_dir, job, status in J.list_jobs(store):
        draft = job["draft"]
        if (draft["schema"].lower(), draft["name"].lower()) not in taken:
            out.append((job_dir, job_manifest(job, status)))
    return _one_model_per_function(out)


def _one_model_per_function(models: list[tuple[Path, dict]]) -> list[tuple[Path, dict]]:
    """Models never share a function (CREATE MODEL sees to it), but a manifest edited or
    copied by hand can claim another's: the model created first keeps the function, and the
    other is BROKEN, with the reason."""
    from sqlml import kinds

    owner: dict[str, dict] = {}
    out = []
    ordered = sorted(models, key=lambda e: (str(e[1].get("created_at") or ""), e[0].name))
    for directory, manifest in ordered:
        names = kinds.function_names(manifest) if manifest["state"] != "BROKEN" else {}
        clash = next((owner[n] for n in names if n in owner), None)
        if clash is not None:
            manifest = {
                **manifest,
                "state": "BROKEN",
                "failure_reason": (
                    f"Model {manifest['schema']}.{manifest['name']}: its function "
                    f"{manifest['function']['name']} is already a function of model "
                    f"{clash['schema']}.{clash['name']} (its manifest was edited or copied by "
                    "hand)."
                ),
                "function": {"name": None, "schema": None},
            }
        else:
            owner.update(dict.fromkeys(names, manifest))
        out.append((directory, manifest))
    return out


def find_model(store, engine: Engine, name: ast.Name, *, missing_ok: bool = False) -> dict | None:
    """The manifest of the model ``name`` (in the current schema when unqualified)."""
    schema = name.schema or engine.current_schema()
    manifest = store.get(schema, name.name)
    if manifest is not None and manifest["state"] == "READY":
        # As listed: a READY package whose function another model owns is BROKEN.
        key = (schema.lower(), name.name.lower())
        listed = [
            m for _, m in list_models(store) if (m["schema"].lower(), m["name"].lower()) == key
        ]
        manifest = listed[0] if listed else manifest
    if manifest is None:
        job_dir = J.job_path(store, schema, name.name)
        resolved = J.resolve(store, job_dir) if job_dir.exists() else None
        # No job: it may have just finished.
        manifest = job_manifest(*resolved) if resolved else store.get(schema, name.name)
    if manifest is None and not missing_ok:
        known = [m["name"] for _, m in list_models(store)]
        raise ModelNotFound(
            f"Model {schema}.{name.name} does not exist.{S.did_you_mean(name.name, known)} "
            "SHOW MODEL ALL lists the models."
        )
    return manifest


def model_folder(store, manifest: dict) -> Path:
    if manifest["state"] == "READY":
        return store.path(manifest["schema"], manifest["name"])
    return J.job_path(store, manifest["schema"], manifest["name"])


def failure(status: dict) -> str:
    return (status.get("error") or {}).get("message") or "training failed."


def job_manifest(job: dict, status: dict) -> dict:
    """How a model that is not READY looks to SHOW MODEL and the catalog: its draft manifest,
    with the state, the progress so far and, when FAILED, the reason."""
    draft = job["draft"]
    submitted = dt.datetime.fromtimestamp(job["submitted_at"], dt.UTC)
    progress = {k: status[k] for k in ("trials", "best", "elapsed", "time_left") if k in status}
    if status["state"] == "TRAINING" and "started_at" in status:
        progress["elapsed"] = round(time.time() - status["started_at"], 1)
        budget = job["budget_seconds"]
        progress["time_left"] = round(max(budget - progress["elapsed"], 0.0), 1)
    if status["state"] == "FAILED":
        progress["error"] = failure(status)
    return {
        **draft,
        "package_id": f"job:{draft['schema']}.{draft['name']}:{job['submitted_at']}",
        "owner": draft.get("owner") or current_user(),
        "created_at": submitted.isoformat(timespec="seconds"),
        "state": status["state"],
        "failure_reason": failure(status) if status["state"] == "FAILED" else None,
        "progress": progress,
        "metrics": {},
    }


def with_arrow_types(manifest: dict, engine: Engine) -> dict:
    """The manifest with ``arrow_types`` (column name -> Arrow type text), which packages of
    sqlml before it recorded kinds did not store: the engine reads them from the SQL types."""
    if "arrow_types" in manifest:
        return manifest
    columns = [f for f in manifest["features"] if isinstance(f, dict)]
    if manifest.get("target"):
        columns.append({"name": manifest["target"], "type": manifest.get("target_type", "")})
    types = {c["name"]: arrowtypes.encode(engine.arrow_type(c["type"])) for c in columns}
    return {**manifest, "arrow_types": types}


def columns(manifest: dict, engine: Engine) -> tuple[list[Column], Column | None]:
    """The model's feature columns and its target column, as the engine registers them. A
    column's Arrow type is the recorded one, or the engine's reading of its SQL type."""
    types = manifest.get("arrow_types", {})

    def column(name: str, sql_type: str) -> Column:
        try:
            return Column(name, sql_type, arrowtypes.decode(types[name]))
        except (KeyError, ValueError):  # not recorded, or not a scalar type (a list column)
            return Column(name, sql_type, engine.arrow_type(sql_type))

    features = [column(f["name"], f["type"]) for f in manifest["features"]]
    target = manifest.get("target")
    return features, column(target, manifest["target_type"]) if target else None


def signature(manifest: dict) -> str:
    return ", ".join(f"{f['name']} {f['type']}" for f in manifest["features"])
