"""Copies of model packages where a cluster's executors can read them: any fsspec location.

Spark's executors load a model's package at the first batch they score. On one machine
(``local[n]``) or with a folder mounted at the same path everywhere, they read the model
store's own folder. A cluster whose executors cannot see the driver's disk names a location
they can read instead: ``sqlml.connect(spark=..., executor_store=URL)`` (``s3://bucket/prefix``,
``hdfs://...``, ``file:///mnt/shared``, whatever fsspec opens). The driver copies each READY
package there once, when it registers the model's functions (``publish``), to
``URL/<schema.name>/<package id>/``; a package id is never reused, so a copy never changes
after it is written and a re-created model gets a folder of its own. Each executor host copies
a package to its local disk once (``local_copy``; the first worker process to finish wins, the
others use its copy) and loads it from there.

What an executor takes is decided by the manifest, which travels with the function from the
driver, not by the remote folder: only the files the manifest records are fetched, their
names checked (no absolute paths, no ``..``), and each one's size and SHA-256 verified against
the manifest before a library parses it (``PackageFolder``), so an object altered in the bucket
is a ``CorruptModelPackage``, never loaded. s3:// reaches the environment's endpoint with its
credentials as COPY and UNLOAD do (``objects``); the executors need the same environment.

Copies are not removed by DROP MODEL (as Redshift leaves a model's S3 artifacts in place);
remove old ones with the storage's own lifecycle rules.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from sqlml.errors import CorruptModelPackage, InvalidSetting
from sqlml.store.integrity import MANIFEST_FILE, check_name

CACHE_VARIABLE = "SQLML_PACKAGE_CACHE"  # where executors keep their copies (default: temp dir)
_PACKAGE_ID = re.compile(r"[0-9a-f]{8,64}")


def is_remote(location: object) -> bool:
    """True for a URL (``scheme://...``), False for a path of this machine's file system."""
    return isinstance(location, str) and "://" in location


def check_url(url: str) -> str:
    """``url`` without a trailing slash, if fsspec knows its scheme; else InvalidSetting."""
    text = str(url).strip()
    if not text:
        raise InvalidSetting("executor_store is empty: give a URL the executors can read.")
    if is_remote(text):
        import fsspec

        protocol = text.split("://", 1)[0].lower()
        if protocol not in fsspec.available_protocols():
            raise InvalidSetting(
                f"executor_store {text!r}: fsspec knows no file system {protocol!r}:// "
                "(s3://, file://, hdfs://, gs:// with its package installed)."
            )
    return text.rstrip("/")


def location(url: str, manifest: dict) -> str:
    """Where ``publish`` copies the package of ``manifest`` under ``url``."""
    from sqlml.store.package import package_key

    key = package_key(manifest["schema"], manifest["name"])
    return f"{url.rstrip('/')}/{key}/{_package_id(manifest)}"


def publish(directory: Path, manifest: dict, url: str) -> str:
    """Copy the READY package in ``directory`` under ``url`` (once: a copy whose manifest is
    there is complete, as the manifest is written last) and return its location."""
    target = location(url, manifest)
    what = f"Model {manifest['schema']}.{manifest['name']}: executor_store"
    fs, root = _filesystem(target, what)
    with _errors(what, target):
        if fs.exists(f"{root}/{MANIFEST_FILE}"):
            return target
        for name in sorted(manifest.get("files") or {}):
            check_name(name, what)
            fs.put_file(str(Path(directory) / name), f"{root}/{name}")
        fs.put_file(str(Path(directory) / MANIFEST_FILE), f"{root}/{MANIFEST_FILE}")
    return target


def readable(where: Path | str, manifest: dict) -> Path:
    """A folder of this machine holding the package: ``where`` itself, or a local copy of the
    remote location ``where`` (made once per host)."""
    return local_copy(where, manifest) if is_remote(where) else Path(where)


def local_copy(remote: str, manifest: dict) -> Path:
    """This host's copy of the package at ``remote``: the manifest's files, fetched into a
    private folder and renamed into place, so that a copy in place is complete."""
    cache = Path(os.environ.get(CACHE_VARIABLE) or Path(tempfile.gettempdir()) / "sqlml-packages")
    final = cache / _package_id(manifest)
    if final.is_dir():
        return final
    what = f"Model {manifest['schema']}.{manifest['name']}"
    files = manifest.get("files")
    if not files:
        raise CorruptModelPackage(
            f"{what}: its manifest records no files, so its copy at {remote} cannot be checked; "
            "CREATE MODEL it again with this version of sqlml."
        )
    cache.mkdir(parents=True, exist_ok=True)
    fs, root = _filesystem(remote, what)
    scratch = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=cache))
    try:
        with _errors(what, remote):
            for name in sorted(files):
                check_name(name, what)
                path = scratch / PurePosixPath(name)
                path.parent.mkdir(parents=True, exist_ok=True)
                fs.get_file(f"{root}/{name}", str(path))
        with contextlib.suppress(OSError):  # another worker of this host was first: use its
            os.rename(scratch, final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not final.is_dir():
        raise CorruptModelPackage(f"{what}: its copy from {remote} could not be put in {cache}.")
    return final


def _package_id(manifest: dict) -> str:
    found = str(manifest.get("package_id", ""))
    if not _PACKAGE_ID.fullmatch(found):  # a folder name on every executor: hex only
        raise CorruptModelPackage(
            f"Model {manifest.get('schema')}.{manifest.get('name')}: package id {found!r} "
            "cannot name a copy; CREATE MODEL it again."
        )
    return found


def _filesystem(url: str, what: str):
    """(fsspec file system, the path it knows ``url`` by)."""
    if url.lower().startswith("s3://"):
        from sqlml import objects

        return objects.s3_filesystem(), url[len("s3://") :].rstrip("/")
    try:
        import fsspec

        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as e:
        raise InvalidSetting(f"{what}: {url} cannot be opened: {e}") from e
    return fs, path.rstrip("/")


def _errors(what: str, url: str):
    """What a file system raises, as an error naming the model and the location."""
    from sqlml import objects

    return objects.translated(
        what,
        url,
        not url.lower().startswith("s3://"),
        missing="has no copy of the package: it was removed after the driver copied it "
        "there. Copies must stay as long as their model exists.",
    )
