"""Who may do what with models: a session's user against the model store's users and privileges
(Redshift's rules, reference §9), and which session calls a model function.

Embedded use is single-user: a connection without a user may do everything (the privilege
statements are still checked against the store and stored, and take effect once the database is
served). Through ``sqlml serve`` every session has a user. Superusers may do everything; others

- CREATE MODEL with the CREATE MODEL privilege (granted to them, a group of theirs, a role of
  theirs or PUBLIC);
- use a model they own or have EXECUTE on: call its functions, ``explain_model``, EVALUATE
  MODEL, SHOW MODEL (IAM role, S3 bucket and the store's path for owners only); SHOW MODEL ALL
  and the catalog views list only these models;
- DROP MODEL a model they own, or with a role that has the DROP MODEL permission;
- GRANT EXECUTE on a model they own (or were granted EXECUTE on WITH GRANT OPTION), GRANT
  CREATE MODEL if granted it WITH GRANT OPTION, GRANT ROLE of a role they administer.

A model's owner is the user who created it through the server (``owner_user`` in its manifest).
A model created without a user (embedded, or before privileges existed) is owned by the
superusers.
"""

from __future__ import annotations

import os
import secrets
import threading

from sqlml.errors import InsufficientPrivilege
from sqlml.lazy import pa
from sqlml.store.privileges import Privileges, PrivilegeStore
from sqlml.store.users import UserStore


def model_name(manifest: dict) -> str:
    return f"{manifest['schema']}.{manifest['name']}"


def _stat(path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


class Access:
    """The privileges of one session's ``user`` (None: an embedded connection, which may do
    everything). :meth:`refresh` rereads the users and privileges when their files changed;
    the front door calls it before every statement, so a GRANT or REVOKE made by any session
    or process counts from the next statement on."""

    def __init__(self, user: str | None, users: UserStore, privileges: PrivilegeStore):
        self.user = user
        self.users = users
        self.store = privileges
        # (fingerprint, unrestricted, privileges), replaced whole: the functions of a running
        # query read it from DuckDB's threads.
        self._state: tuple = (None, True, Privileges())
        self.refresh()

    def fingerprint(self) -> tuple:
        return _stat(self.users.path), self.store.fingerprint()

    def refresh(self) -> None:
        fingerprint = self.fingerprint()
        if fingerprint == self._state[0]:
            return
        record = self.users.get(self.user) if self.user is not None else None
        unrestricted = self.user is None or bool(record and record.get("superuser"))
        self._state = (fingerprint, unrestricted, self.store.read())

    @property
    def unrestricted(self) -> bool:
        """Embedded, or a superuser: every check passes."""
        return self._state[1]

    @property
    def privileges(self) -> Privileges:
        return self._state[2]

    # -- models ----------------------------------------------------------------------------

    def owns(self, manifest: dict) -> bool:
        return self.user is not None and manifest.get("owner_user") == self.user

    def administers(self, manifest: dict) -> bool:
        """May see everything about the model and grant it: its owner, a superuser."""
        return self.unrestricted or self.owns(manifest)

    def may_execute(self, manifest: dict) -> bool:
        if self.administers(manifest):
            return True
        model = (manifest["schema"], manifest["name"])
        return self.privileges.holds(self.user, "EXECUTE", model)

    def require_execute(self, manifest: dict, doing: str) -> None:
        if self.may_execute(manifest):
            return
        name = model_name(manifest)
        raise InsufficientPrivilege(
            f'permission denied for model {name}: user "{self.user}" has no EXECUTE privilege '
            f"on it, which {doing} needs. Ask {_grantors(manifest)} to GRANT EXECUTE ON MODEL "
            f"{name} TO {self.user}."
        )

    def require_create(self, model: str) -> None:
        if self.unrestricted or self.privileges.holds(self.user, "CREATE MODEL"):
            return
        raise InsufficientPrivilege(
            f'permission denied to CREATE MODEL {model}: user "{self.user}" has no CREATE '
            f"MODEL privilege. Ask a superuser to GRANT CREATE MODEL TO {self.user}."
        )

    def require_drop(self, manifest: dict) -> None:
        if self.administers(manifest):
            return
        roles = self.privileges.roles_of(("user", self.user))
        if any(self.privileges.find("DROP MODEL", None, ("role", r)) for r in roles):
            return
        raise InsufficientPrivilege(
            f"permission denied to DROP MODEL {model_name(manifest)}: it is not "
            f'{self.user}\'s model and user "{self.user}" has no role with the DROP MODEL '
            f"permission. Ask {_grantors(manifest)} to drop it."
        )

    # -- granting --------------------------------------------------------------------------

    def require_grant_execute(self, manifest: dict, verb: str) -> None:
        model = (manifest["schema"], manifest["name"])
        if self.administers(manifest) or self.privileges.may_grant(self.user, "EXECUTE", model):
            return
        raise InsufficientPrivilege(
            f"permission denied to {verb} EXECUTE ON MODEL {model_name(manifest)}: only "
            f"{_grantors(manifest)}, or a user granted EXECUTE on it WITH GRANT OPTION, may "
            f'{verb.lower()} it, and user "{self.user}" is none of these.'
        )

    def require_grant_create(self, verb: str) -> None:
        if self.unrestricted or self.privileges.may_grant(self.user, "CREATE MODEL"):
            return
        raise InsufficientPrivilege(
            f"permission denied to {verb} CREATE MODEL: only a superuser, or a user granted "
            f'CREATE MODEL WITH GRANT OPTION, may {verb.lower()} it, and user "{self.user}" '
            "is neither."
        )

    def require_role_admin(self, role: str, verb: str) -> None:
        """GRANT / REVOKE ROLE: superusers and the role's administrators (its owner, the
        users granted it WITH ADMIN OPTION), as in Redshift."""
        if self.unrestricted:
            return
        owner = self.privileges.roles.get(role, {}).get("owner")
        member = self.privileges.member(role, ("user", self.user))
        if owner == self.user or (member is not None and member.get("admin_option")):
            return
        raise InsufficientPrivilege(
            f"permission denied to {verb} ROLE {role}: only a superuser or an administrator of "
            f'the role (its owner, a user granted it WITH ADMIN OPTION) may, and user "{self.user}" '
            "is neither."
        )

    def require_superuser(self, doing: str) -> None:
        if self.unrestricted:
            return
        raise InsufficientPrivilege(
            f'permission denied to {doing}: only a superuser may, and user "{self.user}" is not '
            "one."
        )


def _grantors(manifest: dict) -> str:
    owner = manifest.get("owner_user")
    return f"its owner {owner} or a superuser" if owner else "a superuser (who owns it)"


class Callers:
    """The sessions of a served database, by a secret key each (128 random bits, as text):
    the first argument of every model function there (see ``functions.py``), so that the
    function knows whose privileges to check, whichever thread DuckDB runs it in."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sessions: dict[str, Access] = {}

    def add(self, access: Access) -> str:
        key = secrets.token_hex(16)
        with self._lock:
            self._sessions[key] = access
        return key

    def remove(self, key: str) -> None:
        with self._lock:
            self._sessions.pop(key, None)

    def of(self, column: pa.Array, function: str) -> Access | None:
        """The session whose key ``column`` holds (None for no rows). A key that is no
        session's (a call that names the function's hidden parameter itself) is refused."""
        import pyarrow.compute as pc  # 40 ms to import: not at every start of the CLI

        keys = pc.unique(column).to_pylist() if len(column) else []
        if not keys:
            return None
        with self._lock:
            found = [self._sessions.get(k) for k in keys]
        if len(found) != 1 or found[0] is None:
            raise InsufficientPrivilege(
                f"permission denied for function {function}: call it by its name, with the "
                "model's arguments only."
            )
        return found[0]


CALLERS = Callers()
