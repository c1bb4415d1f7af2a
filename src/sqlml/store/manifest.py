"""The schema-versioned ``model.json`` manifest of a model package.

A manifest is plain JSON data (a dict). ``FORMAT_VERSION`` grows when a field changes meaning;
``check_manifest`` refuses packages from a newer sqlml rather than misreading them.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import platform
import uuid
from importlib import metadata

from sqlml.errors import CorruptModelPackage

FORMAT_VERSION = 1
MANIFEST_FILE = "model.json"
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


def check_manifest(manifest: object, where: str) -> dict:
    if not isinstance(manifest, dict) or any(k not in manifest for k in REQUIRED):
        raise CorruptModelPackage(f"{where} is not a sqlml model manifest.")
    version = manifest["format_version"]
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CorruptModelPackage(
            f"{where} has format version {version!r}; this sqlml reads versions up to "
            f"{FORMAT_VERSION}. Upgrade sqlml to use this model."
        )
    if manifest["state"] not in STATES:
        raise CorruptModelPackage(f"{where} has an unknown state {manifest['state']!r}.")
    return manifest
