"""Database users, kept hashed in the model store's ``users.json``.

A user's password is never stored: only its SCRAM-SHA-256 verifier (PostgreSQL's format,
``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>``), from which a server can check a
client's proof but not recover the password; and, only while a server runs with MD5
authentication, PostgreSQL's ``md5`` hash (``md5`` + md5(password + user)), which MD5 login
needs. The file is rewritten atomically (written beside, fsynced, renamed) under the store's lock
and readable by its owner only.

Passwords are used as their UTF-8 bytes; PostgreSQL first normalizes them with SASLprep, which
changes only passwords with unusual Unicode characters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from sqlml.errors import InvalidSetting, UserAlreadyExists, UserNotFound
from sqlml.store.package import ModelStore, write_atomic

USERS_FILE = "users.json"
FORMAT = 1
SCRAM_ITERATIONS = 4096  # PostgreSQL's default (scram_iterations)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def scram_keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    """(StoredKey, ServerKey) of a password (RFC 5802)."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest(), server_key


def scram_verifier(password: str, iterations: int = SCRAM_ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    stored, server = scram_keys(password, salt, iterations)
    return f"SCRAM-SHA-256${iterations}:{_b64(salt)}${_b64(stored)}:{_b64(server)}"


def parse_verifier(verifier: str) -> tuple[int, bytes, bytes, bytes]:
    """(iterations, salt, StoredKey, ServerKey) of a SCRAM-SHA-256 verifier."""
    try:
        method, params, keys = verifier.split("$")
        iterations, salt = params.split(":")
        stored, server = keys.split(":")
        if method != "SCRAM-SHA-256":
            raise ValueError(method)
        return (
            int(iterations),
            base64.b64decode(salt, validate=True),
            base64.b64decode(stored, validate=True),
            base64.b64decode(server, validate=True),
        )
    except ValueError as e:
        raise InvalidSetting(
            "A SCRAM-SHA-256 verifier has the form "
            "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>"
        ) from e


def md5_hash(password: str, user: str) -> str:
    return "md5" + hashlib.md5((password + user).encode("utf-8")).hexdigest()


class UserStore:
    """The users of the databases served from one model store. ``keep_md5``: also store the
    MD5 hash of passwords set from now on (a server with ``--auth md5`` needs it)."""

    def __init__(self, store: ModelStore, keep_md5: bool = False):
        self.store = store
        self.keep_md5 = keep_md5
        self.path = Path(store.root) / USERS_FILE

    def _load(self) -> dict[str, dict]:
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return {}
        return data.get("users", {})

    def _save(self, users: dict[str, dict]) -> None:
        write_atomic(self.path, json.dumps({"format": FORMAT, "users": users}, indent=1))
        os.chmod(self.path, 0o600)

    def get(self, name: str) -> dict | None:
        return self._load().get(name)

    def names(self) -> list[str]:
        return sorted(self._load())

    def superusers(self) -> list[str]:
        return sorted(n for n, u in self._load().items() if u.get("superuser"))

    def _secrets(self, name: str, password: str | None) -> dict:
        if password is None:
            return {}
        if password.startswith("SCRAM-SHA-256$"):  # already a verifier: stored as given
            parse_verifier(password)
            return {"scram": password}
        out = {"scram": scram_verifier(password)}
        if self.keep_md5:
            out["md5"] = md5_hash(password, name)
        return out

    def create(self, name: str, password: str | None, superuser: bool = False) -> None:
        with self.store.locked():
            users = self._load()
            if name in users:
                raise UserAlreadyExists(
                    f'User "{name}" already exists; ALTER USER {name} PASSWORD ... changes '
                    "its password."
                )
            users[name] = {"superuser": bool(superuser), **self._secrets(name, password)}
            self._save(users)

    def alter(
        self, name: str, *, password: str | None = None, set_password: bool = False,
        superuser: bool | None = None,
    ) -> None:  # fmt: skip
        with self.store.locked():
            users = self._load()
            if name not in users:
                raise UserNotFound(self._missing(name, users))
            user = users[name]
            if set_password:
                for key in ("scram", "md5"):
                    user.pop(key, None)
                user.update(self._secrets(name, password))
            if superuser is not None:
                user["superuser"] = superuser
            self._save(users)

    def drop(self, name: str, missing_ok: bool = False) -> bool:
        with self.store.locked():
            users = self._load()
            if name not in users:
                if missing_ok:
                    return False
                raise UserNotFound(self._missing(name, users))
            del users[name]
            self._save(users)
            return True

    @staticmethod
    def _missing(name: str, users: dict) -> str:
        known = ", ".join(sorted(users)) or "none"
        return f'User "{name}" does not exist (users: {known}).'
