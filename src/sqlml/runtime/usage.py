"""Token usage of external models, counted across sessions and processes.

A model package is immutable (its files are checksummed), so the counts live beside the
packages: ``<model store>/.usage/<package_id>.json``, read and rewritten under an exclusive
flock on a lock file of their own, so concurrent processes add up instead of overwriting each
other. A model created again under the same name has a new package id and starts at zero.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

FOLDER = ".usage"
FIELDS = ("requests", "input_tokens", "output_tokens", "cached_prompts")


def usage_path(package_folder: Path, package_id: str) -> Path:
    return Path(package_folder).parent / FOLDER / f"{package_id}.json"


def add(path: Path, counts: dict[str, int]) -> None:
    """Add ``counts`` to the totals in ``path``."""
    path.parent.mkdir(exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        totals = read(path)
        for key in FIELDS:
            totals[key] += int(counts.get(key, 0))
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(totals))
        os.replace(tmp, path)


def read(path: Path) -> dict[str, int]:
    try:
        found = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        found = {}
    return {key: int(found.get(key, 0)) if isinstance(found, dict) else 0 for key in FIELDS}


def forget(store_root: Path, package_id: str) -> None:
    """Remove a dropped model's counts."""
    for suffix in (".json", ".lock"):
        (Path(store_root) / FOLDER / f"{package_id}{suffix}").unlink(missing_ok=True)
