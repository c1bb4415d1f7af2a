"""The model store: one folder per model, holding ``model.json`` and native-format artifacts.

Layout: ``<root>/<schema>.<name>/`` with both parts lower-cased (DuckDB matches identifiers
without regard to case, and so do we) and percent-encoded; a key too long for a file name keeps
a readable prefix and a hash. Every write is atomic: a package is built in a hidden temporary
folder, its files recorded (size, SHA-256) and fsynced, and renamed into place; a drop renames
the folder away before deleting it. Readers therefore see a whole package or none. A lock file
serializes creators and droppers across processes.

A package that cannot be read (a bad manifest, a format this sqlml does not read, a damaged
file) never hides the others: it is listed as a BROKEN model with the reason, and can be
dropped. A temporary folder is held (flock on the folder) by the process building it; one that
nobody holds was left by a process that died, and :meth:`ModelStore.sweep` removes it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, unquote

from sqlml.errors import CorruptModelPackage, ModelAlreadyExists, ModelNotFound
from sqlml.jobs.faults import pause_at
from sqlml.store.integrity import fsync_path, record_files, verify_package
from sqlml.store.manifest import MANIFEST_FILE, check_manifest, dumps, is_name

log = logging.getLogger(__name__)


def _encode(part: str) -> str:
    return quote(part.lower(), safe="").replace(".", "%2E")


# A folder name stays well under the 255 bytes file systems allow.
KEY_LIMIT = 200
_HASHED = re.compile(r"~[0-9a-f]{32}$")
TEMPORARY = (".tmp-", ".trash-")


def package_key(schema: str, name: str) -> str:
    key = f"{_encode(schema)}.{_encode(name)}"
    if len(key) <= KEY_LIMIT:
        return key
    return f"{key[:150]}~{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def key_names(key: str) -> tuple[str, str]:
    """The (schema, name) a folder name stands for (for a hashed key, its readable prefix)."""
    schema, _, name = key.partition(".")
    return unquote(schema), unquote(name)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def hold_folder(path: Path) -> int:
    """Make ``path`` (a new folder) and hold an exclusive flock on it for as long as the
    returned descriptor is open: the sign, to :meth:`ModelStore.sweep`, that its owner lives."""
    path.mkdir()
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def unheld(path: Path) -> bool:
    """True when no live process holds the temporary folder ``path``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
    finally:
        os.close(fd)
    return True


def broken_manifest(directory: Path, reason: str, raw: object) -> dict:
    """How a package that cannot be read appears: a BROKEN model named after its folder, with
    the reason, its function name kept (when readable) so no other model takes it."""
    schema, name = key_names(directory.name)
    # A long name's folder: the manifest's names, if they are the ones the folder stands for.
    if (
        isinstance(raw, dict)
        and _HASHED.search(directory.name)
        and is_name(raw.get("schema"))
        and is_name(raw.get("name"))
        and package_key(raw["schema"], raw["name"]) == directory.name
    ):
        schema, name = raw["schema"], raw["name"]
    function = raw.get("function") if isinstance(raw, dict) else None
    function_name = function.get("name") if isinstance(function, dict) else None
    try:
        changed = (directory / MANIFEST_FILE).lstat().st_mtime_ns
    except OSError:
        changed = 0
    return {
        "package_id": f"broken:{directory.name}:{changed}",
        "schema": schema,
        "name": name,
        "state": "BROKEN",
        "failure_reason": reason,
        "function": {"name": function_name if is_name(function_name) else None, "schema": None},
        "features": [],
        "kind": None,
        "owner": raw.get("owner")
        if isinstance(raw, dict) and isinstance(raw.get("owner"), str)
        else "",
        # Kept, so that its owner may still drop it (sqlml.access).
        "owner_user": raw.get("owner_user")
        if isinstance(raw, dict) and isinstance(raw.get("owner_user"), str)
        else None,
        "created_at": raw.get("created_at") if isinstance(raw, dict) else None,
        "metrics": {},
    }


def remove_folder(path: Path) -> bool:
    """Rename away, then delete: readers never see a half-deleted folder. False when absent."""
    trash = path.with_name(f".trash-{uuid.uuid4().hex}")
    try:
        os.rename(path, trash)
    except FileNotFoundError:
        return False
    if trash.is_symlink():  # a package folder that was a link: remove the link, not its target
        trash.unlink()
    else:
        shutil.rmtree(trash, ignore_errors=True)
    return True


class ModelStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._held = threading.local()  # lock depth per thread: locked() nests

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r})"

    def __reduce__(self):
        # A function that reads the store runs in other processes too (Spark's Python
        # workers get it pickled): the store travels as its folder, its lock depth stays.
        return (ModelStore, (self.root,))

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
        """The package's manifest, once the manifest and every file it records are checked;
        CorruptModelPackage (one line: the model, the file, what is wrong) otherwise."""
        return self._read(directory)[0]

    def _read(self, directory: Path) -> tuple[dict, object]:
        schema, name = key_names(directory.name)
        where = f"Model {schema}.{name}"
        raw: object = None
        if directory.is_symlink():
            raise CorruptModelPackage(f"{where}: its folder is a symbolic link; it is not read.")
        try:
            fd = os.open(directory / MANIFEST_FILE, os.O_RDONLY | os.O_NOFOLLOW)
            with open(fd, encoding="utf-8") as f:
                raw = json.loads(f.read())
        except FileNotFoundError as e:
            raise CorruptModelPackage(f"{where}: its package has no {MANIFEST_FILE}.") from e
        except (OSError, ValueError) as e:
            reason = "it is a symbolic link" if getattr(e, "errno", None) == errno.ELOOP else e
            raise CorruptModelPackage(f"{where}: {MANIFEST_FILE} cannot be read: {reason}") from e
        try:
            manifest = check_manifest(raw, where)
            if package_key(manifest["schema"], manifest["name"]) != directory.name:
                raw = None  # another model's manifest: its function is not this model's
                raise CorruptModelPackage(
                    f"{where}: its folder holds the package of model {manifest['schema']}."
                    f"{manifest['name']} (moved or copied by hand)."
                )
            verify_package(directory, manifest, where)
        except CorruptModelPackage as e:
            e.raw_manifest = raw
            raise
        return manifest, raw

    def entry(self, directory: Path) -> dict:
        """The manifest of the package in ``directory``, or its BROKEN stand-in."""
        try:
            return self.read(directory)
        except CorruptModelPackage as e:
            log.info("model package %s is broken: %s", directory.name, e)
            return broken_manifest(directory, str(e), getattr(e, "raw_manifest", None))

    def get(self, schema: str, name: str) -> dict | None:
        """The model's manifest (BROKEN when its package cannot be read); None when absent."""
        directory = self.path(schema, name)
        return self.entry(directory) if directory.is_dir() else None

    def directories(self) -> list[Path]:
        try:
            entries = sorted(self.root.iterdir())
        except FileNotFoundError:
            return []
        return [p for p in entries if p.is_dir() and not p.name.startswith(".")]

    def list(self) -> list[tuple[Path, dict]]:
        """Every package: its manifest, or a BROKEN stand-in when it cannot be read."""
        return [(directory, self.entry(directory)) for directory in self.directories()]

    def sweep(self) -> list[str]:
        """Remove what dead processes left: temporary folders nobody holds (a package being
        built, a job being exported) and folders renamed away for deletion. Returns their
        names."""
        removed = []
        with self.locked():
            for parent in (self.root, self.root / ".jobs"):
                try:
                    entries = list(parent.iterdir())
                except FileNotFoundError:
                    continue
                for path in entries:
                    if not path.name.startswith(TEMPORARY) or path.is_symlink():
                        continue
                    if path.name.startswith(".trash-") or unheld(path):
                        shutil.rmtree(path, ignore_errors=True)
                        removed.append(f"{parent.name}/{path.name}")
        if removed:
            log.info("removed leftovers of dead processes: %s", ", ".join(removed))
        return removed

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
        held = hold_folder(tmp)
        try:
            manifest = {**manifest, **write_artifacts(tmp)}
            manifest["files"] = record_files(tmp)
            write_atomic(tmp / MANIFEST_FILE, dumps(manifest))
            fsync_path(tmp)
            pause_at("store:packaging")
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
                fsync_path(self.root)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
            os.close(held)
        return final

    def delete(self, schema: str, name: str) -> bool:
        """Remove a package; False when there was none."""
        with self.locked():
            return remove_folder(self.path(schema, name))
