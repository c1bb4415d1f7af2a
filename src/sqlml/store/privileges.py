"""Privileges on models, groups and roles (Redshift's, reference §9), kept in the model store's
``privileges.json`` beside ``users.json``: rewritten atomically (written beside, fsynced,
renamed) under the store's lock, so that every process serving or embedding the store sees one
consistent set.

What is stored:

- ``grants``: ``{"privilege": "CREATE MODEL" | "DROP MODEL" | "EXECUTE", "model": [schema,
  name] | null, "grantee": [kind, name], "grant_option": bool}``; a grantee's kind is
  ``user``, ``group``, ``role`` or ``public`` (name ``""``);
- ``groups``: group name -> its users;
- ``roles``: role name -> ``{"owner": user or null}``; ``members``: ``{"role": r, "member":
  [kind, name], "admin_option": bool}``, a member being a user or another role;
- ``ids``: a number for every identity once named (``svv_ml_model_privileges.identity_id``).

Users are not here (``users.py``); a model's owner is in its manifest (``owner_user``). This
module only stores and answers questions about the data: who may do what is ``sqlml.access``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from sqlml.store.package import ModelStore, write_atomic

PRIVILEGES_FILE = "privileges.json"
FORMAT = 1
PUBLIC = ("public", "")
FIRST_ID = 100  # as Redshift numbers its users from 100

Identity = tuple[str, str]  # (kind, name)


def model_key(schema: str, name: str) -> tuple[str, str]:
    """Models are matched without regard to case, as the store names their folders."""
    return schema.lower(), name.lower()


class Privileges:
    """The stored grants, groups and roles: read from one version of the file, changed in
    memory and saved by :meth:`PrivilegeStore.change`."""

    def __init__(self, data: dict | None = None):
        data = data or {}
        self.grants: list[dict] = data.get("grants", [])
        self.groups: dict[str, list[str]] = data.get("groups", {})
        self.roles: dict[str, dict] = data.get("roles", {})
        self.members: list[dict] = data.get("members", [])
        self.ids: dict[str, int] = data.get("ids", {})

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "grants": self.grants,
            "groups": self.groups,
            "roles": self.roles,
            "members": self.members,
            "ids": self.ids,
        }

    # -- who is who --------------------------------------------------------------------------

    def identities(self, user: str) -> set[Identity]:
        """Every identity whose privileges ``user`` has: the user, PUBLIC, the user's groups
        and the roles granted to the user, directly or through other roles."""
        out = {("user", user), PUBLIC}
        out |= {("group", g) for g, users in self.groups.items() if user in users}
        return out | self._reach(("user", user))

    def roles_of(self, member: Identity) -> set[str]:
        """The roles ``member`` has, directly or through other roles."""
        return {name for kind, name in self._reach(member) if kind == "role"}

    def _reach(self, member: Identity) -> set[Identity]:
        out: set[Identity] = set()
        todo = [member]
        while todo:
            current = todo.pop()
            for m in self.members:
                role = ("role", m["role"])
                if tuple(m["member"]) == current and role not in out:
                    out.add(role)
                    todo.append(role)
        return out

    def identity_id(self, kind: str, name: str) -> int:
        """The number of an identity (0 for PUBLIC), given when it is first named."""
        if kind == "public":
            return 0
        key = f"{kind}:{name}"
        if key not in self.ids:
            self.ids[key] = max(self.ids.values(), default=FIRST_ID - 1) + 1
        return self.ids[key]

    # -- grants ------------------------------------------------------------------------------

    @staticmethod
    def _matches(grant: dict, privilege: str, model: tuple[str, str] | None) -> bool:
        stored = grant.get("model")
        key = model_key(*stored) if stored else None
        wanted = model_key(*model) if model else None
        return grant["privilege"] == privilege and key == wanted

    def find(self, privilege: str, model: tuple[str, str] | None, grantee: Identity) -> dict | None:
        for grant in self.grants:
            if self._matches(grant, privilege, model) and tuple(grant["grantee"]) == grantee:
                return grant
        return None

    def holds(self, user: str, privilege: str, model: tuple[str, str] | None = None) -> bool:
        """``user`` has the privilege, through any of its identities."""
        mine = self.identities(user)
        return any(
            self._matches(g, privilege, model) and tuple(g["grantee"]) in mine for g in self.grants
        )

    def may_grant(self, user: str, privilege: str, model: tuple[str, str] | None = None) -> bool:
        """``user`` was granted the privilege WITH GRANT OPTION (Redshift gives the option to
        users only, so only the user's own grants count)."""
        grant = self.find(privilege, model, ("user", user))
        return bool(grant and grant.get("grant_option"))

    def grant(
        self,
        privilege: str,
        model: tuple[str, str] | None,
        grantee: Identity,
        grant_option: bool = False,
    ) -> None:
        """Grant (again: the grant option is added, never taken away by a grant)."""
        found = self.find(privilege, model, grantee)
        if found is not None:
            found["grant_option"] = found.get("grant_option", False) or grant_option
            return
        self.identity_id(*grantee)
        self.grants.append(
            {
                "privilege": privilege,
                "model": list(model) if model else None,
                "grantee": list(grantee),
                "grant_option": grant_option,
            }
        )

    def revoke(
        self,
        privilege: str,
        model: tuple[str, str] | None,
        grantee: Identity,
        grant_option_only: bool = False,
    ) -> bool:
        """Take back a grant (or only its grant option); False when there was none."""
        found = self.find(privilege, model, grantee)
        if found is None:
            return False
        if grant_option_only:
            found["grant_option"] = False
        else:
            self.grants.remove(found)
        return True

    def model_grants(self) -> list[dict]:
        return [g for g in self.grants if g.get("model")]

    def forget_model(self, schema: str, name: str) -> int:
        """Remove the grants on a model that is dropped (or created anew under a name that
        grants once named); how many there were."""
        key = model_key(schema, name)
        kept = [g for g in self.grants if not g.get("model") or model_key(*g["model"]) != key]
        removed = len(self.grants) - len(kept)
        self.grants = kept
        return removed

    def forget(self, identity: Identity) -> int:
        """Remove every grant to an identity that is dropped, and its memberships; how many
        grants there were."""
        kept = [g for g in self.grants if tuple(g["grantee"]) != identity]
        removed = len(self.grants) - len(kept)
        self.grants = kept
        self.members = [
            m
            for m in self.members
            if tuple(m["member"]) != identity and ("role", m["role"]) != identity
        ]
        if identity[0] == "user":
            for users in self.groups.values():
                if identity[1] in users:
                    users.remove(identity[1])
        self.ids.pop(f"{identity[0]}:{identity[1]}", None)
        return removed

    # -- groups and roles --------------------------------------------------------------------

    def member(self, role: str, member: Identity) -> dict | None:
        for m in self.members:
            if m["role"] == role and tuple(m["member"]) == member:
                return m
        return None

    def grant_role(self, role: str, member: Identity, admin_option: bool = False) -> None:
        found = self.member(role, member)
        if found is not None:
            found["admin_option"] = found.get("admin_option", False) or admin_option
            return
        self.identity_id(*member)
        self.members.append({"role": role, "member": list(member), "admin_option": admin_option})

    def revoke_role(self, role: str, member: Identity, admin_option_only: bool = False) -> bool:
        found = self.member(role, member)
        if found is None:
            return False
        if admin_option_only:
            found["admin_option"] = False
        else:
            self.members.remove(found)
        return True

    def role_members(self, role: str) -> list[Identity]:
        return [tuple(m["member"]) for m in self.members if m["role"] == role]

    def rename_group(self, old: str, new: str) -> None:
        self.groups[new] = self.groups.pop(old)
        for grant in self.grants:
            if tuple(grant["grantee"]) == ("group", old):
                grant["grantee"] = ["group", new]
        if f"group:{old}" in self.ids:
            self.ids[f"group:{new}"] = self.ids.pop(f"group:{old}")


class PrivilegeStore:
    """The privileges of the databases served from (or embedded over) one model store."""

    def __init__(self, store: ModelStore):
        self.store = store
        self.path = Path(store.root) / PRIVILEGES_FILE

    def read(self) -> Privileges:
        try:
            with open(self.path, encoding="utf-8") as f:
                return Privileges(json.load(f))
        except FileNotFoundError:
            return Privileges()

    def fingerprint(self) -> tuple[int, int] | None:
        """Changes whenever the file is rewritten (every change renames a new file in)."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    def forget_model(self, schema: str, name: str) -> None:
        """Remove the grants on a model, if any (a model dropped, or created under a name
        that an earlier model's grants still name)."""
        if any(
            model_key(*g["model"]) == model_key(schema, name) for g in self.read().model_grants()
        ):
            with self.change() as privileges:
                privileges.forget_model(schema, name)

    @contextlib.contextmanager
    def change(self) -> Iterator[Privileges]:
        """The current privileges, to change and save: read and written under the store's
        lock, so that two sessions granting at once both keep their grant."""
        with self.store.locked():
            privileges = self.read()
            yield privileges
            write_atomic(self.path, json.dumps(privileges.to_json(), indent=1))
            os.chmod(self.path, 0o600)
