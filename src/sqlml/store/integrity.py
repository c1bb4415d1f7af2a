"""What makes a model package safe to load: integrity and isolation.

- **Integrity.** When a package is written, every artifact file gets its size and SHA-256 in the
  manifest (``files``), and files and folders are fsynced before the package is renamed into
  place. Before any library parses an artifact, the file is checked against that record, so a
  truncated or altered file is reported (``CorruptModelPackage``, naming the model and the file)
  instead of reaching a native loader that may crash the process on it.
- **Isolation.** A path in a manifest is a relative name inside its own package folder: no
  absolute path, no ``..``, no symbolic link anywhere on the way, a regular file at the end.

Loaders receive a :class:`PackageFolder` where they used to receive the folder's path:
``folder / name`` gives the checked path of an artifact, so every loader (LightGBM, XGBoost,
CatBoost, numpy, JSON) goes through the check without knowing of it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path, PurePosixPath

from sqlml.errors import CorruptModelPackage

MANIFEST_FILE = "model.json"
_CHUNK = 1 << 20
# SHA-256 of files already verified in this process, by what identifies an unchanged file.
_verified: dict[tuple, str] = {}
_verified_lock = threading.Lock()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def record_files(folder: Path) -> dict[str, dict]:
    """Every artifact under ``folder`` (the manifest aside) with its size and SHA-256, each file
    and folder fsynced: what a package's manifest records before it is renamed into place."""
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            raise CorruptModelPackage(f"A model package may not hold symbolic links: {path}.")
        if path.is_dir():
            fsync_path(path)
            continue
        name = path.relative_to(folder).as_posix()
        if name == MANIFEST_FILE:
            continue
        fsync_path(path)
        files[name] = {"size": path.stat().st_size, "sha256": sha256(path)}
    fsync_path(folder)
    return files


def check_name(name: object, where: str) -> str:
    """``name`` if it is a plain relative path inside a package, else CorruptModelPackage."""
    if not isinstance(name, str) or not name or len(name) > 255 or "\x00" in name:
        raise CorruptModelPackage(f"{where}: {name!r} is not a file name inside the package.")
    parts = PurePosixPath(name).parts
    if "\\" in name or name.startswith("/") or any(p in ("..", ".") for p in parts):
        raise CorruptModelPackage(
            f"{where}: the path {name!r} points outside the package; a package's paths are "
            "names inside its own folder."
        )
    return name


def confined(directory: Path, name: object, where: str) -> Path:
    """The path of file ``name`` inside ``directory``, refusing anything that leaves it: an
    absolute path, ``..``, a symbolic link on the way, or something other than a regular file."""
    check_name(name, where)
    path = directory
    for part in PurePosixPath(name).parts:
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            raise CorruptModelPackage(f"{where}: file {name!r} is missing.") from None
        except OSError as e:
            raise CorruptModelPackage(f"{where}: file {name!r} cannot be read: {e}") from None
        if stat.S_ISLNK(mode):
            raise CorruptModelPackage(
                f"{where}: {name!r} is a symbolic link; a package's files must be inside it."
            )
    if not stat.S_ISREG(mode):
        raise CorruptModelPackage(f"{where}: {name!r} is not a regular file.")
    return path


def verify_file(directory: Path, name: str, record: dict, where: str) -> Path:
    """The path of artifact ``name``, after checking its size and SHA-256 against ``record``."""
    path = confined(directory, name, where)
    info = path.stat()
    if info.st_size != record["size"]:
        raise CorruptModelPackage(
            f"{where}: file {name!r} is damaged: {info.st_size} bytes where the manifest "
            f"records {record['size']} (truncated or overwritten). DROP MODEL it and create it "
            "again."
        )
    key = (str(path), info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    with _verified_lock:
        known = _verified.get(key)
    found = known or sha256(path)
    if found != record["sha256"]:
        raise CorruptModelPackage(
            f"{where}: file {name!r} is damaged: its SHA-256 differs from the manifest's "
            "(altered or swapped). DROP MODEL it and create it again."
        )
    if known is None:
        with _verified_lock:
            _verified[key] = found
    return path


# Keys under which the kinds' ``model`` sections name artifact files (automl.model,
# automl.expert, automl.kmeans, the learners' ``file``; format 1's ``artifacts``).
FILE_KEYS = frozenset(
    {"file", "preprocessing", "dense", "leaderboard", "explanation", "booster", "centers"}
)


def referenced_files(section: object) -> list[object]:
    """The file names a manifest's ``model`` section refers to."""
    found = []
    if isinstance(section, dict):
        for key, value in section.items():
            if key == "artifacts" and isinstance(value, dict):
                found += [v for v in value.values() if v is not None]
            elif key in FILE_KEYS and value is not None and not isinstance(value, dict | list):
                found.append(value)
            else:
                found += referenced_files(value)
    elif isinstance(section, list):
        for value in section:
            found += referenced_files(value)
    return found


def verify_package(directory: Path, manifest: dict, where: str) -> None:
    """Every recorded artifact present, confined and intact, and every file the manifest names
    inside the package and (format 2 on) among the recorded ones. Format 1 packages recorded no
    checksums: their paths are checked, and their files as they are read."""
    files = manifest.get("files")
    for name, record in (files or {}).items():
        verify_file(directory, name, record, where)
    for name in referenced_files(manifest.get("model")):
        check_name(name, where)
        if files is not None and name not in files:
            raise CorruptModelPackage(
                f"{where}: its manifest names file {name!r}, which is not among the package's "
                "recorded files."
            )
        if files is None:
            confined(directory, name, where)


class PackageFolder:
    """A package's folder as its loaders see it: ``folder / name`` is the checked path of an
    artifact (confined to the folder and, when the manifest records checksums, listed there and
    intact)."""

    def __init__(self, directory: Path, manifest: dict):
        self.directory = Path(directory)
        self.files = manifest.get("files")
        self.where = f"Model {manifest.get('schema')}.{manifest.get('name')}"

    def __truediv__(self, name: object) -> Path:
        if self.files is None:
            return confined(self.directory, name, self.where)
        check_name(name, self.where)
        record = self.files.get(name)
        if record is None:
            raise CorruptModelPackage(
                f"{self.where}: its manifest names file {name!r}, which is not among the "
                "package's recorded files."
            )
        return verify_file(self.directory, name, record, self.where)

    def exists(self, name: object) -> bool:
        try:
            self / name
        except CorruptModelPackage:
            return False
        return True

    def __str__(self) -> str:
        return str(self.directory)

    def __repr__(self) -> str:
        return f"PackageFolder({str(self.directory)!r})"
