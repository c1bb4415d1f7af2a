"""GRANT and REVOKE of model privileges and roles, groups and roles (reference §9).

The privileges are stored in the model store (``store/privileges.py``); who may change them is
``session.access``'s question (``sqlml.access``): in an embedded connection anyone, through
the server superusers, models' owners and those granted WITH GRANT / ADMIN OPTION. Every
name a statement gives (user, group, role, model) must exist, so that a typo is an error
rather than a grant to nobody. Revoking what was not granted is not an error but a NOTICE, as
PostgreSQL warns.
"""

from __future__ import annotations

from sqlml.errors import (
    DependentObjectsExist,
    InvalidGrantOperation,
    RoleAlreadyExists,
    RoleNotFound,
    UserNotFound,
)
from sqlml.results import StatementResult
from sqlml.sql import ast
from sqlml.store.privileges import PUBLIC, Identity, Privileges


def _identity(session, privileges: Privileges, grantee: ast.Grantee) -> Identity:
    """The grantee as stored, once it is known to exist."""
    if grantee.kind == "public":
        return PUBLIC
    if grantee.kind == "user":
        _user_exists(session, grantee.name)
    elif grantee.kind == "group":
        _group_exists(privileges, grantee.name)
    else:
        _role_exists(privileges, grantee.name)
    return grantee.kind, grantee.name


def _user_exists(session, name: str) -> None:
    if session.users.get(name) is None:
        known = ", ".join(session.users.names()) or "none"
        raise UserNotFound(
            f'User "{name}" does not exist (users: {known}). CREATE USER {name} first.'
        )


def _group_exists(privileges: Privileges, name: str) -> None:
    if name not in privileges.groups:
        known = ", ".join(sorted(privileges.groups)) or "none"
        raise RoleNotFound(
            f'Group "{name}" does not exist (groups: {known}). CREATE GROUP {name} first.'
        )


def _role_exists(privileges: Privileges, name: str) -> None:
    if name not in privileges.roles:
        known = ", ".join(sorted(privileges.roles)) or "none"
        raise RoleNotFound(
            f'Role "{name}" does not exist (roles: {known}). CREATE ROLE {name} first.'
        )


def _describe(identity: Identity) -> str:
    return "PUBLIC" if identity == PUBLIC else f"{identity[0]} {identity[1]}"


# -- GRANT / REVOKE privileges -------------------------------------------------------------


def _models(session, stmt: ast.GrantPrivileges | ast.RevokePrivileges, verb: str) -> list[dict]:
    """The models a statement names (each must exist), once the session may grant them."""
    manifests = [session.find_model(name) for name in stmt.models]
    for manifest in manifests:
        session.access.require_grant_execute(manifest, verb)
    return manifests


def _check_system(session, privileges: tuple[str, ...], verb: str) -> None:
    for privilege in privileges:
        if privilege == "CREATE MODEL":
            session.access.require_grant_create(verb)
        else:  # DROP MODEL: a system permission of roles, which superusers manage
            session.access.require_superuser(f"{verb} DROP MODEL")


def grant_privileges(session, stmt: ast.GrantPrivileges) -> StatementResult:
    manifests = _models(session, stmt, "GRANT")
    if not stmt.models:
        _check_system(session, stmt.privileges, "GRANT")
    targets = [(m["schema"], m["name"]) for m in manifests] or [None]
    with session.privileges.change() as privileges:
        for grantee in stmt.grantees:
            identity = _identity(session, privileges, grantee)
            for privilege in stmt.privileges:
                for model in targets:
                    privileges.grant(privilege, model, identity, grantee.with_option)
    return StatementResult("GRANT")


def revoke_privileges(session, stmt: ast.RevokePrivileges) -> StatementResult:
    manifests = _models(session, stmt, "REVOKE")
    if not stmt.models:
        _check_system(session, stmt.privileges, "REVOKE")
    targets = [(m["schema"], m["name"]) for m in manifests] or [None]
    missing = []
    with session.privileges.change() as privileges:
        for grantee in stmt.grantees:
            identity = _identity(session, privileges, grantee)
            for privilege in stmt.privileges:
                for model in targets:
                    if not privileges.revoke(privilege, model, identity, stmt.grant_option_for):
                        on = f" ON MODEL {model[0]}.{model[1]}" if model else ""
                        missing.append(f"{privilege}{on} from {_describe(identity)}")
    result = StatementResult("REVOKE")
    if missing:
        what = "the grant option of " if stmt.grant_option_for else ""
        result.notices.append(
            f"REVOKE: nothing to revoke for {what}{'; '.join(missing)}: it was not granted."
        )
    return result


# -- groups ----------------------------------------------------------------------------------


def create_group(session, stmt: ast.CreateGroup) -> StatementResult:
    session.access.require_superuser("CREATE GROUP")
    for user in stmt.users:
        _user_exists(session, user)
    with session.privileges.change() as privileges:
        if stmt.name in privileges.groups:
            raise RoleAlreadyExists(
                f'Group "{stmt.name}" already exists; ALTER GROUP {stmt.name} ADD USER ... adds '
                "users to it."
            )
        privileges.groups[stmt.name] = sorted(set(stmt.users))
        privileges.identity_id("group", stmt.name)
    return StatementResult("CREATE ROLE")  # PostgreSQL's tag: its groups are roles


def alter_group(session, stmt: ast.AlterGroup) -> StatementResult:
    session.access.require_superuser("ALTER GROUP")
    if stmt.action == "ADD":
        for user in stmt.users:
            _user_exists(session, user)
    result = StatementResult("ALTER ROLE")
    with session.privileges.change() as privileges:
        _group_exists(privileges, stmt.name)
        members = privileges.groups[stmt.name]
        if stmt.action == "RENAME":
            if stmt.new_name in privileges.groups:
                raise RoleAlreadyExists(f'Group "{stmt.new_name}" already exists.')
            privileges.rename_group(stmt.name, stmt.new_name)
        elif stmt.action == "ADD":
            privileges.groups[stmt.name] = sorted(set(members) | set(stmt.users))
        else:
            absent = [u for u in stmt.users if u not in members]
            if absent:
                result.notices.append(
                    f"ALTER GROUP {stmt.name}: {', '.join(absent)} not in the group."
                )
            privileges.groups[stmt.name] = [u for u in members if u not in stmt.users]
    return result


def drop_group(session, stmt: ast.DropGroup) -> StatementResult:
    session.access.require_superuser("DROP GROUP")
    result = StatementResult("DROP ROLE")
    with session.privileges.change() as privileges:
        for name in stmt.names:
            if name not in privileges.groups and stmt.if_exists:
                result.notices.append(f'Group "{name}" does not exist, skipping.')
                continue
            _group_exists(privileges, name)
        for name in stmt.names:
            if privileges.groups.pop(name, None) is not None:
                _dropped_grants(result, f"GROUP {name}", privileges.forget(("group", name)))
    return result


def _dropped_grants(result: StatementResult, what: str, count: int) -> None:
    if count:
        granted = f"{count} privilege{'s' if count != 1 else ''}"
        result.notices.append(f"DROP {what}: the {granted} granted to it went with it.")


# -- roles -----------------------------------------------------------------------------------


def create_role(session, stmt: ast.CreateRole) -> StatementResult:
    session.access.require_superuser("CREATE ROLE")
    with session.privileges.change() as privileges:
        if stmt.name in privileges.roles:
            raise RoleAlreadyExists(f'Role "{stmt.name}" already exists.')
        privileges.roles[stmt.name] = {"owner": session.user}
        privileges.identity_id("role", stmt.name)
    return StatementResult("CREATE ROLE")


def drop_role(session, stmt: ast.DropRole) -> StatementResult:
    result = StatementResult("DROP ROLE")
    with session.privileges.change() as privileges:
        if stmt.name not in privileges.roles and stmt.if_exists:
            result.notices.append(f'Role "{stmt.name}" does not exist, skipping.')
            return result
        _role_exists(privileges, stmt.name)
        owner = privileges.roles[stmt.name].get("owner")
        if owner is None or owner != session.user:  # its owner may drop it, as in Redshift
            session.access.require_superuser(f"DROP ROLE {stmt.name}")
        members = privileges.role_members(stmt.name)
        if members and not stmt.force:
            holders = ", ".join(_describe(m) for m in members)
            raise DependentObjectsExist(
                f"DROP ROLE {stmt.name}: it is granted to {holders}. DROP ROLE {stmt.name} "
                f"FORCE takes it from them first (or REVOKE ROLE {stmt.name} FROM ...)."
            )
        del privileges.roles[stmt.name]
        _dropped_grants(result, f"ROLE {stmt.name}", privileges.forget(("role", stmt.name)))
    return result


def grant_role(session, stmt: ast.GrantRole) -> StatementResult:
    with session.privileges.change() as privileges:
        for role in stmt.roles:
            _role_exists(privileges, role)
            session.access.require_role_admin(role, "GRANT")
        for grantee in stmt.grantees:
            member = _identity(session, privileges, grantee)
            for role in stmt.roles:
                _no_cycle(privileges, role, member)
                privileges.grant_role(role, member, grantee.with_option)
    return StatementResult("GRANT ROLE")


def _no_cycle(privileges: Privileges, role: str, member: Identity) -> None:
    """A role granted to a role must not end up granted to itself."""
    if member[0] != "role":
        return
    if member[1] == role or member[1] in privileges.roles_of(("role", role)):
        raise InvalidGrantOperation(
            f"GRANT ROLE {role} TO ROLE {member[1]}: a role cannot be granted to itself, and "
            f"role {member[1]} is role {role} or already granted to it (directly or through "
            "other roles)."
        )


def revoke_role(session, stmt: ast.RevokeRole) -> StatementResult:
    result = StatementResult("REVOKE ROLE")
    with session.privileges.change() as privileges:
        for role in stmt.roles:
            _role_exists(privileges, role)
            session.access.require_role_admin(role, "REVOKE")
        for grantee in stmt.grantees:
            member = _identity(session, privileges, grantee)
            for role in stmt.roles:
                if not privileges.revoke_role(role, member, stmt.admin_option_for):
                    result.notices.append(
                        f"REVOKE ROLE {role}: it was not granted to {_describe(member)}."
                    )
    return result
