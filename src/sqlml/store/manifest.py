"""The schema-versioned ``model.json`` manifest of a model package.

A manifest is plain JSON data (a dict). ``FORMAT_VERSION`` grows when a field changes meaning;
``check_manifest`` refuses packages from a newer sqlml rather than misreading them, and any
manifest whose shared fields are not of their type. Version 2 added ``files`` (each artifact's
size and SHA-256, ``store.integrity``); version 1 packages are still read.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import platform
import re
import uuid
from importlib import metadata

from sqlml.errors import CorruptModelPackage
from sqlml.settings import NAME_LIMIT

FORMAT_VERSION = 2
OLDEST_FORMAT = 1
MANIFEST_FILE = "model.json"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
STATES = ("QUEUED", "TRAINING", "READY", "FAILED")
REQUIRED = ("format_version", "package_id", "schema", "name", "state", "function", "features")


def library_versions(*names: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("sqlml", *names):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def new_manifest(**fields) -> dict:
    """A manifest with the bookkeeping fields filled in; ``fields`` supply the rest."""
    manifest = {
        "format_version": FORMAT_VERSION,
        "package_id": uuid.uuid4().hex,
        "owner": current_user(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "state": "READY",
        "failure_reason": None,
    }
    manifest.update(fields)
    return manifest


def dumps(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, sort_keys=False, default=str)


def is_name(value: object) -> bool:
    """A model, schema, function or column name as a manifest may hold it."""
    return (
        isinstance(value, str)
        and 0 < len(value.encode("utf-8", "surrogatepass")) <= NAME_LIMIT
        and "\x00" not in value
    )


def _field(manifest: dict, key: str, ok, what: str, where: str) -> None:
    if key in manifest and not ok(manifest[key]):
        raise CorruptModelPackage(
            f"{where}: its manifest's {key!r} is {_short(manifest[key])}, where {what} is expected."
        )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_column(value: object) -> bool:
    return (
        isinstance(value, dict)
        and is_name(value.get("name"))
        and isinstance(value.get("type"), str)
    )


def _is_file_record(value: object) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("size"), int)
        and not isinstance(value.get("size"), bool)
        and value["size"] >= 0
        and isinstance(value.get("sha256"), str)
        and bool(_SHA256.match(value["sha256"]))
    )


def check_manifest(manifest: object, where: str) -> dict:
    """``manifest`` when it is one this sqlml reads, field by field; else CorruptModelPackage."""
    if not isinstance(manifest, dict) or any(k not in manifest for k in REQUIRED):
        missing = [k for k in REQUIRED if k not in manifest] if isinstance(manifest, dict) else []
        detail = f" (no {', '.join(missing)})" if missing else ""
        raise CorruptModelPackage(f"{where} is not a sqlml model manifest{detail}.")
    version = manifest["format_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise CorruptModelPackage(
            f"{where} has format version {_short(version)}; this sqlml reads versions "
            f"{OLDEST_FORMAT} to {FORMAT_VERSION}. Upgrade sqlml to use this model."
        )
    if version < OLDEST_FORMAT:
        raise CorruptModelPackage(
            f"{where} has format version {version}, older than any sqlml wrote (the oldest "
            f"readable is {OLDEST_FORMAT})."
        )
    if manifest["state"] not in STATES:
        raise CorruptModelPackage(f"{where} has an unknown state {_short(manifest['state'])}.")
    for key in ("package_id", "schema", "name"):
        _field(manifest, key, is_name, "a non-empty name", where)
    forecast = manifest.get("kind") == "forecast"
    _field(
        manifest,
        "function",
        lambda f: (
            isinstance(f, dict)
            # A FORECAST model has no function: its forecast is read with FORECAST(model).
            and (is_name(f.get("name")) or (f.get("name") is None and forecast))
            and (f.get("schema") is None or is_name(f.get("schema")))
        ),
        "{name, schema}",
        where,
    )
    _field(
        manifest,
        "features",
        lambda v: isinstance(v, list) and all(map(_is_column, v)),
        "a list of {name, type}",
        where,
    )
    _field(manifest, "target", lambda v: v is None or is_name(v), "a column name or null", where)
    _field(manifest, "target_type", lambda v: v is None or isinstance(v, str), "a type name", where)
    _field(
        manifest,
        "arrow_types",
        lambda v: isinstance(v, dict) and all(isinstance(t, str) for t in v.values()),
        "column name -> Arrow type",
        where,
    )
    for key in ("settings", "training", "metrics", "source", "versions"):
        _field(manifest, key, lambda v: isinstance(v, dict), "an object", where)
    for key in (
        "kind", "problem_type", "objective", "owner", "owner_user", "created_at", "statement",
    ):  # fmt: skip
        _field(manifest, key, lambda v: v is None or isinstance(v, str), "text", where)
    _field(manifest, "model", lambda v: isinstance(v, dict), "an object", where)
    if manifest["state"] == "READY" and not isinstance(manifest.get("model"), dict):
        raise CorruptModelPackage(f"{where}: its manifest has no 'model' section.")
    if version >= 2:
        files = manifest.get("files")
        if not isinstance(files, dict) or not all(map(_is_file_record, files.values())):
            raise CorruptModelPackage(
                f"{where}: its manifest does not record its files' sizes and SHA-256 "
                "('files'), which format 2 requires."
            )
    return manifest
