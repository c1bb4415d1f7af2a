"""CREATE USER, ALTER USER, DROP USER: the users a server lets in (``store/users.py``).

Who may run them is the server's question (``Connection.authorize``: superusers only); here
they change the user store. The last superuser cannot be dropped or demoted: nobody could
manage users after that. A user who owns models cannot be dropped (as in Redshift): they would
be left to nobody. A dropped user's privileges, memberships and roles go with it, so that a
new user of the same name inherits none of them.
"""

from __future__ import annotations

from sqlml.errors import DependentObjectsExist, ObjectInUse
from sqlml.results import StatementResult
from sqlml.sql import ast


def create_user(session, stmt: ast.CreateUser) -> StatementResult:
    session.users.create(stmt.name, stmt.password, superuser=bool(stmt.superuser))
    return StatementResult("CREATE ROLE")  # PostgreSQL's tag for CREATE USER


def alter_user(session, stmt: ast.AlterUser) -> StatementResult:
    if stmt.superuser is False:
        _keep_a_superuser(session, stmt.name, "ALTER USER ... NOSUPERUSER")
    session.users.alter(
        stmt.name,
        password=stmt.password,
        set_password=stmt.set_password,
        superuser=stmt.superuser,
    )
    return StatementResult("ALTER ROLE")


def drop_user(session, stmt: ast.DropUser) -> StatementResult:
    for name in stmt.names:
        _keep_a_superuser(session, name, "DROP USER")
        _owns_no_model(session, name)
    for name in stmt.names:
        if session.users.drop(name, missing_ok=stmt.if_exists):
            with session.privileges.change() as privileges:
                privileges.forget(("user", name))
                for role in privileges.roles.values():
                    if role.get("owner") == name:
                        role["owner"] = None  # the superusers', from now on
    return StatementResult("DROP ROLE")


def _owns_no_model(session, name: str) -> None:
    owned = sorted(
        f"{m['schema']}.{m['name']}" for _, m in session.models() if m.get("owner_user") == name
    )
    if owned:
        raise DependentObjectsExist(
            f'DROP USER {name}: user "{name}" owns model{"s" if len(owned) > 1 else ""} '
            f"{', '.join(owned)}. DROP MODEL them first (a model's owner cannot be changed)."
        )


def _keep_a_superuser(session, name: str, statement: str) -> None:
    if session.users.superusers() == [name]:
        raise ObjectInUse(
            f'{statement} {name}: "{name}" is the last superuser, and only a superuser can '
            "manage users. Make another user a superuser first (ALTER USER other SUPERUSER)."
        )
