"""CREATE USER, ALTER USER, DROP USER: the users a server lets in (``store/users.py``).

Who may run them is the server's question (``Connection.authorize``: superusers only); here
they change the user store. The last superuser cannot be dropped or demoted: nobody could
manage users after that.
"""

from __future__ import annotations

from sqlml.errors import ObjectInUse
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
    for name in stmt.names:
        session.users.drop(name, missing_ok=stmt.if_exists)
    return StatementResult("DROP ROLE")


def _keep_a_superuser(session, name: str, statement: str) -> None:
    if session.users.superusers() == [name]:
        raise ObjectInUse(
            f'{statement} {name}: "{name}" is the last superuser, and only a superuser can '
            "manage users. Make another user a superuser first (ALTER USER other SUPERUSER)."
        )
