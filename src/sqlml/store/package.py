"""The model store: one folder per model, holding ``model.json`` and native-format artifacts.

Layout: ``<root>/<schema>.<name>/`` with both parts lower-cased (DuckDB matches identifiers
without regard to case, and so do we) and percent-encoded. Every write is atomic: a package is
built in a hidden temporary folder and renamed into place, and a drop renames the folder away
before deleting it. Readers therefore see a whole package or none. A lock file serializes creators and droppers
across processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

from sqlml.errors import CorruptModelPackage, ModelAlreadyExists, ModelNotFound
from sqlml.store.manifest import MANIFEST_FILE, check_manifest, dumps

log = logging.getLogger(__name__)


def _encode(part: str) -> str:
    return quote(part.lower(), safe="").replace(".", "%2E")


def package_key(schema: str, name: str) -> str:
    return f"{_encode(schema)}.{_encode(name)}"


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def remove_folder(path: Path) -> bool:
    """Rename away, then delete: readers never see a half-deleted folder. False when absent."""
    trash = path.with_name(f".trash-{uuid.uuid4().hex}")
    try:
        os.rename(path, trash)
    except FileNotFoundError:
        return False
    shutil.rmtree(trash, ignore_errors=True)
    return True


class ModelStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._held = threading.local()  # lock depth per thread: locked() nests

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r})"

    def path(self, schema: str, name: str) -> Path:
        return self.root / package_key(schema, name)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive lock on the store, held by one process (and thread) at a time. A thread
        that holds it may enter again (a drop that cancels a job and deletes a package)."""
        depth = getattr(self._held, "depth", 0)
        if depth:
            self._held.depth = depth + 1
            try:
                yield
            finally:
                self._held.depth = depth
            return
        with open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._held.depth = 1
            try:
                yield
            finally:
                self._held.depth = 0
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read(self, directory: Path) -> dict:
        where = f"Model package {directory}"
        try:
            manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise CorruptModelPackage(f"{where} has no {MANIFEST_FILE}.") from e
        except (OSError, ValueError) as e:
            raise CorruptModelPackage(f"{where}: {MANIFEST_FILE} cannot be read: {e}") from e
        return check_manifest(manifest, where)

    def get(self, schema: str, name: str) -> dict | None:
        directory = self.path(schema, name)
        return self.read(directory) if directory.is_dir() else None

    def directories(self) -> list[Path]:
        try:
            entries = sorted(self.root.iterdir())
        except FileNotFoundError:
            return []
        return [p for p in entries if p.is_dir() and not p.name.startswith(".")]

    def list(self) -> list[tuple[Path, dict]]:
        """Every readable package. An unreadable one is logged and skipped, never fatal."""
        out = []
        for directory in self.directories():
            try:
                out.append((directory, self.read(directory)))
            except CorruptModelPackage as e:
                log.warning("skipping %s", e)
        return out

    def fingerprint(self) -> tuple:
        """Changes whenever a package appears, disappears or has its manifest rewritten."""
        out = []
        for directory in self.directories():
            with contextlib.suppress(OSError):
                out.append((directory.name, (directory / MANIFEST_FILE).stat().st_mtime_ns))
        return tuple(out)

    def create(
        self,
        manifest: dict,
        write_artifacts: Callable[[Path], dict],
        still_wanted: Callable[[], bool] | None = None,
    ) -> Path:
        """Build a package in a temporary folder and move it into place in one rename.

        ``write_artifacts(folder)`` writes the artifact files and returns fields to merge into
        the manifest. Raises ModelAlreadyExists when the folder is already taken, and
        ModelNotFound when ``still_wanted()`` (asked under the lock) says the model was dropped.
        """
        final = self.path(manifest["schema"], manifest["name"])
        tmp = self.root / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            manifest = {**manifest, **write_artifacts(tmp)}
            write_atomic(tmp / MANIFEST_FILE, dumps(manifest))
            with self.locked():
                if still_wanted is not None and not still_wanted():
                    raise ModelNotFound(
                        f"Model {manifest['schema']}.{manifest['name']} was dropped while training."
                    )
                if final.exists():
                    raise ModelAlreadyExists(
                        f"Model {manifest['schema']}.{manifest['name']} already exists."
                    )
                os.rename(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return final

    def delete(self, schema: str, name: str) -> bool:
        """Remove a package; False when there was none."""
        with self.locked():
            return remove_folder(self.path(schema, name))
