"""Statement objects back to SQL text, in the canonical clause order of Redshift's grammar.

``parse(to_sql(stmt)) == stmt`` for every statement the parser produces.
"""

from __future__ import annotations

import re
from functools import singledispatch

from sqlml.sql import ast

_BARE = re.compile(r"[a-z_][a-z0-9_]*\Z")


def quote_ident(name: str) -> str:
    """An identifier as written in SQL: bare when lower-case and simple, else double-quoted."""
    return name if _BARE.match(name) else '"' + name.replace('"', '""') + '"'


def quote_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def render_name(name: ast.Name) -> str:
    base = quote_ident(name.name)
    return f"{quote_ident(name.schema)}.{base}" if name.schema else base


@singledispatch
def to_sql(stmt) -> str:
    raise TypeError(f"cannot render {type(stmt).__name__}")


@to_sql.register
def _(stmt: ast.Passthrough) -> str:
    return stmt.sql


@to_sql.register
def _(stmt: ast.ShowModel) -> str:
    if stmt.name.schema is None and stmt.name.name == "all":  # bare `all` would mean SHOW MODEL ALL
        return 'SHOW MODEL "all"'
    return f"SHOW MODEL {render_name(stmt.name)}"


@to_sql.register
def _(stmt: ast.ShowModelAll) -> str:
    return "SHOW MODEL ALL"


@to_sql.register
def _(stmt: ast.DropModel) -> str:
    return f"DROP MODEL {'IF EXISTS ' if stmt.if_exists else ''}{render_name(stmt.name)}"


@to_sql.register
def _(stmt: ast.EvaluateModel) -> str:
    return f"EVALUATE MODEL {render_name(stmt.name)} FROM {_source(stmt.source)}"


@to_sql.register
def _(stmt: ast.ExportModel) -> str:
    return (
        f"EXPORT MODEL {render_name(stmt.name)} TO {quote_string(stmt.target)} FORMAT {stmt.format}"
    )


def _source(source: ast.Source) -> str:
    if isinstance(source, ast.FromTable):
        return render_name(source.table)
    if isinstance(source, ast.FromQuery):
        return f"({source.sql})"
    return quote_string(source.job)


def _setting_value(value: object) -> str:
    if isinstance(value, str) and value not in ("ON", "OFF"):
        return quote_string(value)
    return str(value)


@to_sql.register
def _(stmt: ast.CreateModel) -> str:
    parts = [f"CREATE MODEL {render_name(stmt.name)}"]
    if stmt.source is not None:
        parts.append(f"FROM {_source(stmt.source)}")
    if stmt.target is not None:
        parts.append(f"TARGET {quote_ident(stmt.target)}")
    if stmt.function is not None:
        args = (
            f"({', '.join(stmt.function_arg_types)})" if stmt.function_arg_types is not None else ""
        )
        parts.append(f"FUNCTION {render_name(stmt.function)}{args}")
    if stmt.returns is not None:
        parts.append(f"RETURNS {stmt.returns}")
    if stmt.sagemaker is not None:
        endpoint, _, model = stmt.sagemaker.partition(":")
        if model:
            parts.append(f"SAGEMAKER {quote_string(endpoint)}:{quote_string(model)}")
        else:  # no model part, or 'endpoint:' whose colon must survive
            parts.append(f"SAGEMAKER {quote_string(stmt.sagemaker)}")
    if stmt.iam_role is not None:
        role = "default" if stmt.iam_role == "default" else quote_string(stmt.iam_role)
        parts.append(f"IAM_ROLE {role}")
    if stmt.auto is not None:
        parts.append(f"AUTO {'ON' if stmt.auto else 'OFF'}")
    if stmt.model_type is not None:
        parts.append(f"MODEL_TYPE {stmt.model_type}")
    if stmt.problem_type is not None:
        parts.append(f"PROBLEM_TYPE {stmt.problem_type}")
    if stmt.objective is not None:
        parts.append(f"OBJECTIVE {quote_string(stmt.objective)}")
    if stmt.preprocessors is not None:
        parts.append(f"PREPROCESSORS {quote_string(stmt.preprocessors)}")
    if stmt.hyperparameters is not None:
        text = "HYPERPARAMETERS DEFAULT"
        if stmt.hyperparameters:
            pairs = ", ".join(
                f"{quote_ident(k)} {quote_string(v)}" for k, v in stmt.hyperparameters
            )
            text += f" EXCEPT ({pairs})"
        parts.append(text)
    if stmt.settings:
        pairs = ", ".join(f"{k} {_setting_value(v)}" for k, v in stmt.settings)
        parts.append(f"SETTINGS ({pairs})")
    return "\n".join(parts)


def _user_options(stmt: ast.CreateUser | ast.AlterUser) -> str:
    parts = []
    if stmt.password is not None:
        parts.append(f"PASSWORD {quote_string(stmt.password)}")
    elif isinstance(stmt, ast.CreateUser) or stmt.set_password:
        parts.append("PASSWORD DISABLE")
    if stmt.superuser is not None:
        parts.append("SUPERUSER" if stmt.superuser else "NOSUPERUSER")
    return "".join(" " + p for p in parts)


@to_sql.register
def _(stmt: ast.CreateUser) -> str:
    return f"CREATE USER {quote_ident(stmt.name)}{_user_options(stmt)}"


@to_sql.register
def _(stmt: ast.AlterUser) -> str:
    return f"ALTER USER {quote_ident(stmt.name)}{_user_options(stmt)}"


@to_sql.register
def _(stmt: ast.DropUser) -> str:
    names = ", ".join(quote_ident(n) for n in stmt.names)
    return f"DROP USER {'IF EXISTS ' if stmt.if_exists else ''}{names}"


# Words a bare name cannot be in the privilege statements: such a name is always quoted.
_PRIVILEGE_WORDS = {"public", "group", "role", "with", "restrict", "force", "user", "all"}


def _name(name: str) -> str:
    return f'"{name}"' if name in _PRIVILEGE_WORDS else quote_ident(name)


def _grantees(grantees: tuple[ast.Grantee, ...], option: str) -> str:
    parts = []
    for g in grantees:
        text = "PUBLIC" if g.kind == "public" else _name(g.name)
        if g.kind in ("group", "role"):
            text = f"{g.kind.upper()} {text}"
        if g.with_option:
            text += f" WITH {option} OPTION"
        parts.append(text)
    return ", ".join(parts)


def _privileges(stmt: ast.GrantPrivileges | ast.RevokePrivileges) -> str:
    if stmt.models:
        return f"EXECUTE ON MODEL {', '.join(render_name(m) for m in stmt.models)}"
    return ", ".join(stmt.privileges)


def _roles(roles: tuple[str, ...]) -> str:
    return ", ".join(f"ROLE {_name(r)}" for r in roles)


@to_sql.register
def _(stmt: ast.GrantPrivileges) -> str:
    return f"GRANT {_privileges(stmt)} TO {_grantees(stmt.grantees, 'GRANT')}"


@to_sql.register
def _(stmt: ast.RevokePrivileges) -> str:
    option = "GRANT OPTION FOR " if stmt.grant_option_for else ""
    return f"REVOKE {option}{_privileges(stmt)} FROM {_grantees(stmt.grantees, 'GRANT')}"


@to_sql.register
def _(stmt: ast.GrantRole) -> str:
    return f"GRANT {_roles(stmt.roles)} TO {_grantees(stmt.grantees, 'ADMIN')}"


@to_sql.register
def _(stmt: ast.RevokeRole) -> str:
    option = "ADMIN OPTION FOR " if stmt.admin_option_for else ""
    return f"REVOKE {option}{_roles(stmt.roles)} FROM {_grantees(stmt.grantees, 'ADMIN')}"


@to_sql.register
def _(stmt: ast.CreateGroup) -> str:
    users = f" WITH USER {', '.join(_name(u) for u in stmt.users)}" if stmt.users else ""
    return f"CREATE GROUP {_name(stmt.name)}{users}"


@to_sql.register
def _(stmt: ast.AlterGroup) -> str:
    if stmt.action == "RENAME":
        return f"ALTER GROUP {_name(stmt.name)} RENAME TO {_name(stmt.new_name)}"
    users = ", ".join(_name(u) for u in stmt.users)
    return f"ALTER GROUP {_name(stmt.name)} {stmt.action} USER {users}"


@to_sql.register
def _(stmt: ast.DropGroup) -> str:
    names = ", ".join(_name(n) for n in stmt.names)
    return f"DROP GROUP {'IF EXISTS ' if stmt.if_exists else ''}{names}"


@to_sql.register
def _(stmt: ast.CreateRole) -> str:
    return f"CREATE ROLE {_name(stmt.name)}"


@to_sql.register
def _(stmt: ast.DropRole) -> str:
    exists = "IF EXISTS " if stmt.if_exists else ""
    return f"DROP ROLE {exists}{_name(stmt.name)}{' FORCE' if stmt.force else ''}"


def _load_options(options: tuple[tuple[str, object], ...]) -> list[str]:
    parts = []
    for key, value in options:
        if key == "FORMAT":
            parts.append(f"FORMAT AS {value}")
        elif key == "JSON":  # JSON's argument, right after FORMAT AS JSON
            parts[-1] += f" {quote_string(value)}"
        elif key == "NULL":
            parts.append(f"NULL AS {quote_string(value)}")
        elif value is True:
            parts.append(key)
        elif value is False:
            parts.append(f"{key} OFF")
        elif isinstance(value, tuple):  # a size
            parts.append(f"{key} {value[0]} {value[1]}")
        elif isinstance(value, str) and key not in ("ENCODING", "MANIFEST"):
            parts.append(f"{key} {quote_string(value)}")
        else:
            parts.append(f"{key} {value}")
    return parts


def _authorization(pairs: tuple[tuple[str, str], ...]) -> list[str]:
    return [
        f"{key} {'default' if key == 'IAM_ROLE' and value == 'default' else quote_string(value)}"
        for key, value in pairs
    ]


@to_sql.register
def _(stmt: ast.CopyFrom) -> str:
    head = f"COPY {render_name(stmt.table)}"
    if stmt.columns is not None:
        head += f" ({', '.join(quote_ident(c) for c in stmt.columns)})"
    parts = [head, f"FROM {quote_string(stmt.source)}"]
    return " ".join(parts + _authorization(stmt.authorization) + _load_options(stmt.options))


@to_sql.register
def _(stmt: ast.Unload) -> str:
    parts = [f"UNLOAD ({quote_string(stmt.query)})", f"TO {quote_string(stmt.target)}"]
    return " ".join(parts + _authorization(stmt.authorization) + _load_options(stmt.options))


@to_sql.register
def _(stmt: ast.CreateProcedure) -> str:
    parameters = ", ".join(f"{quote_ident(p.name)} {p.mode} {p.type}" for p in stmt.parameters)
    head = "CREATE OR REPLACE PROCEDURE" if stmt.or_replace else "CREATE PROCEDURE"
    tag = "$body$" if "$$" in stmt.body else "$$"
    atomic = "" if stmt.atomic else " NONATOMIC"
    return (
        f"{head} {render_name(stmt.name)}({parameters}){atomic} AS {tag}{stmt.body}{tag} "
        f"LANGUAGE plpgsql SECURITY {stmt.security}"
    )


@to_sql.register
def _(stmt: ast.DropProcedure) -> str:
    types = "" if stmt.argument_types is None else f"({', '.join(stmt.argument_types)})"
    exists = "IF EXISTS " if stmt.if_exists else ""
    return f"DROP PROCEDURE {exists}{render_name(stmt.name)}{types}"


@to_sql.register
def _(stmt: ast.CallProcedure) -> str:
    return f"CALL {render_name(stmt.name)}({', '.join(stmt.arguments)})"
