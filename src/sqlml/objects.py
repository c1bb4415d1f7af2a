"""Object storage for COPY and UNLOAD: S3 (through s3fs) and local files (through fsspec).

``s3://bucket/key`` reaches the S3-compatible endpoint of the environment, as boto finds it
(``AWS_ENDPOINT_URL_S3``, else ``AWS_ENDPOINT_URL``, else AWS itself), with the environment's
credentials (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, or the
rest of botocore's chain). sqlml never stores them and never prints them: every error leaving
this module is a :class:`~sqlml.errors.SqlmlError` that names the URL, with any credential of
the environment masked. ``file:///path`` and plain paths are the local file system.

A COPY source is a prefix, as in Redshift: every object whose key begins with it is loaded
(``s3://b/sales/part`` loads ``sales/part_00`` and ``sales/part_01``). A local path that
names a file or a folder is that file, or every file under that folder; else it is a prefix
too.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlml.errors import (
    InsufficientPrivilege,
    ObjectNotFound,
    ObjectStorageError,
    SqlmlError,
)

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
SECRET_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@dataclass(frozen=True)
class StoredObject:
    url: str  # as a user would write it: s3://bucket/key or the local path
    path: str  # the file system's own path: bucket/key, or the absolute local path
    size: int


def is_local(url: str) -> bool:
    return not url.lower().startswith("s3://")


def endpoint() -> str | None:
    """The S3 endpoint the environment names (None: AWS's own)."""
    return next((os.environ[v] for v in ENDPOINT_VARIABLES if os.environ.get(v)), None)


def configured() -> bool:
    """True when the environment names an S3 endpoint or credentials: then CREATE MODEL's
    S3_BUCKET setting copies the model package there (else it is only recorded, so that
    statements written for Redshift run where there is no object storage)."""
    return bool(endpoint() or os.environ.get("AWS_ACCESS_KEY_ID"))


def model_location(bucket: str, schema: str, name: str) -> str:
    """Where CREATE MODEL ... SETTINGS (S3_BUCKET 'b') copies the package: a folder of its
    own under ``sqlml/``, as Redshift makes a sub-folder of the bucket for each model."""
    bucket = bucket.removeprefix("s3://").strip("/")
    return f"s3://{bucket}/sqlml/{schema}/{name}/"


def upload_folder(folder: Path, url: str, what: str) -> list[str]:
    """Copy every file under ``folder`` to the prefix ``url`` (which ends with ``/``)."""
    storage = Storage(url, what)
    return [
        storage.put(path, storage.path + path.relative_to(folder).as_posix())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


def mask(text: str) -> str:
    """``text`` with every credential of the environment replaced by ``***``."""
    for variable in SECRET_VARIABLES:
        value = os.environ.get(variable)
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


class Storage:
    """One location (an S3 prefix, or a local path) as a statement reads or writes it.
    ``what`` names the statement in errors (``COPY sales``, ``UNLOAD``)."""

    def __init__(self, url: str, what: str, region: str | None = None):
        self.url = url
        self.what = what
        self.local = is_local(url)
        if self.local:
            from fsspec.implementations.local import LocalFileSystem

            self.fs = LocalFileSystem()
            raw = url[len("file://") :] if url.lower().startswith("file://") else url
            self.path = str(Path(raw).expanduser().absolute())
            if url.endswith("/") and not self.path.endswith("/"):
                self.path += "/"
        else:
            self.fs = s3_filesystem(region)
            self.path = url[len("s3://") :]
            if not self.path.split("/", 1)[0]:
                raise ObjectNotFound(f"{what}: {url} names no bucket: write s3://bucket/key.")
            if "/" not in self.path:  # s3://bucket: the whole bucket
                self.path += "/"

    def url_of(self, path: str) -> str:
        return path if self.local else f"s3://{path}"

    # -- reading ---------------------------------------------------------------------------

    def objects(self) -> list[StoredObject]:
        """Every object whose key begins with the location (none: ObjectNotFound)."""
        with self.errors(self.url):
            found = self._under_prefix()
        if not found:
            self._missing()
        return found

    def _under_prefix(self) -> list[StoredObject]:
        parent, _, base = self.path.rpartition("/")
        parent = parent or "/"
        if not self.local:
            listed = self.fs.find(parent, prefix=base, detail=True) if base else None
            if listed is None:
                listed = self.fs.find(parent, detail=True)
            items = [(p, info) for p, info in listed.items() if not p.endswith("/")]
        elif os.path.isfile(self.path):  # a file or folder named exactly: itself
            items = [(self.path, {"size": os.path.getsize(self.path)})]
        elif os.path.isdir(self.path):
            items = list(self.fs.find(self.path, detail=True).items())
        else:
            if not os.path.isdir(parent):
                return []
            items = []
            for entry in sorted(os.scandir(parent), key=lambda e: e.name):
                if not entry.name.startswith(base) or entry.name.startswith("."):
                    continue
                if entry.is_dir():
                    items.extend(self.fs.find(entry.path, detail=True).items())
                elif entry.is_file():
                    items.append((entry.path, {"size": entry.stat().st_size}))
        return sorted(
            (StoredObject(self.url_of(p), p, int(info.get("size") or 0)) for p, info in items),
            key=lambda o: o.path,
        )

    def _missing(self):
        if not self.local:
            bucket = self.path.split("/", 1)[0]
            with self.errors(self.url):
                exists = self.fs.exists(bucket)
            if not exists:
                raise ObjectNotFound(
                    f"{self.what}: bucket {bucket} does not exist ({self.url}). Create it, or "
                    "check the bucket name and the endpoint (AWS_ENDPOINT_URL_S3)."
                )
        raise ObjectNotFound(
            f"{self.what}: no object or file begins with {self.url}. Check the "
            f"{'path' if self.local else 'key or prefix'}."
        )

    def sources(self, manifest: bool) -> list[tuple[Storage, StoredObject]]:
        """What a COPY reads: the objects under the prefix, or those its manifest names."""
        return self.manifest() if manifest else [(self, o) for o in self.objects()]

    def manifest(self) -> list[tuple[Storage, StoredObject]]:
        """The files a COPY manifest names (``{"entries": [{"url": ..., "mandatory": ...}]}``);
        a mandatory one that is missing is an error, an optional one is skipped."""
        with self.errors(self.url):
            if not self.fs.exists(self.path):
                raise ObjectNotFound(f"{self.what}: the manifest {self.url} does not exist.")
            raw = self.fs.cat_file(self.path)
        try:
            entries = json.loads(raw)["entries"]
            wanted = [(str(e["url"]), bool(e.get("mandatory", False))) for e in entries]
        except (ValueError, KeyError, TypeError) as e:
            raise ObjectStorageError(
                f"{self.what}: {self.url} is not a manifest: it must be JSON "
                '{"entries": [{"url": "s3://...", "mandatory": true}, ...]}.'
            ) from e
        found = []
        for url, mandatory in wanted:
            storage = Storage(url, self.what)
            with storage.errors(url):
                exists = storage.fs.exists(storage.path)
                size = storage.fs.size(storage.path) if exists else 0
            if exists:
                found.append((storage, StoredObject(url, storage.path, int(size or 0))))
            elif mandatory:
                raise ObjectNotFound(
                    f"{self.what}: {url}, a mandatory entry of the manifest {self.url}, does "
                    "not exist."
                )
        return found

    def fetch(self, obj: StoredObject, folder: Path) -> Path:
        """A local file with the object's bytes: the file itself when local, else a download
        into ``folder``."""
        if self.local:
            return Path(obj.path)
        target = folder / f"{len(list(folder.iterdir()))}_{Path(obj.path).name}"
        with self.errors(obj.url):
            self.fs.get_file(obj.path, str(target))
        return target

    # -- writing ---------------------------------------------------------------------------

    def listing(self) -> list[StoredObject]:
        """The objects under the location, perhaps none (its bucket must exist)."""
        with self.errors(self.url):
            self._check_bucket()
            return self._under_prefix()

    def remove(self, found: list[StoredObject]) -> None:
        """Remove objects (UNLOAD's CLEANPATH)."""
        if found:
            with self.errors(self.url):
                self.fs.rm([o.path for o in found])

    def put(self, local: Path, path: str) -> str:
        """Write a local file as the object ``path``; return its URL."""
        url = self.url_of(path)
        with self.errors(url):
            if self.local:
                os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            self.fs.put_file(str(local), path)
        return url

    def _check_bucket(self) -> None:
        if self.local:
            return
        bucket = self.path.split("/", 1)[0]
        if not self.fs.exists(bucket):
            raise ObjectNotFound(
                f"{self.what}: bucket {bucket} does not exist ({self.url}). Create it first, or "
                "check the bucket name and the endpoint (AWS_ENDPOINT_URL_S3)."
            )

    # -- errors ----------------------------------------------------------------------------

    def errors(self, url: str):
        """Turn what the file system raises into an error naming ``url``, credentials masked."""
        return translated(self.what, url, self.local)


@contextlib.contextmanager
def translated(what: str, url: str, local: bool, missing: str = "does not exist."):
    """What a file system raises inside, as a SqlmlError naming ``what`` and ``url``
    (``missing``: what a missing file is called), with any credential masked."""
    try:
        yield
    except SqlmlError:
        raise
    except FileNotFoundError as e:
        raise ObjectNotFound(f"{what}: {url} {missing}") from e
    except PermissionError as e:
        raise InsufficientPrivilege(
            f"{what}: access to {url} was denied"
            + (
                "; check the credentials in the environment (AWS_ACCESS_KEY_ID, "
                "AWS_SECRET_ACCESS_KEY) and what they may read and write."
                if not local
                else "."
            )
        ) from e
    except Exception as e:  # noqa: BLE001 -- botocore's and aiohttp's errors are many
        raise ObjectStorageError(mask(f"{what}: {url}: {describe(e)}")) from e


def describe(error: Exception) -> str:
    name = type(error).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return (
            "no credentials for object storage: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY in the environment of sqlml."
        )
    if name in ("EndpointConnectionError", "ClientConnectorError", "ConnectTimeoutError"):
        return f"the object storage endpoint {endpoint() or '(AWS)'} cannot be reached."
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}."
    return f"{name}: {error}"


def s3_filesystem(region: str | None = None):
    """An S3 file system on the environment's endpoint, with no listing cache (another
    session's UNLOAD must be seen by the next COPY)."""
    try:
        import s3fs
    except ImportError as e:  # pragma: no cover -- s3fs is a dependency
        raise ObjectStorageError("s3:// needs the s3fs package: pip install s3fs") from e
    client_kwargs = {}
    if endpoint():
        client_kwargs["endpoint_url"] = endpoint()
    if region:
        client_kwargs["region_name"] = region
    return s3fs.S3FileSystem(
        client_kwargs=client_kwargs, skip_instance_cache=True, use_listings_cache=False
    )
