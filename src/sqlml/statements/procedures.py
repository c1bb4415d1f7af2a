"""CREATE PROCEDURE, DROP PROCEDURE and CALL: Redshift's stored procedures, in PL/pgSQL's subset
that ``sql/plpgsql.py`` reads.

A procedure is kept with the database by the engine (``Engine.save_procedure``: DuckDB keeps it
in a table of its own, ``sqlml.procedures``), as JSON: its parameters, its body's text, its
owner and its security; so every connection and process opening the database finds it, and a
CREATE inside a transaction rolls back with it. One procedure per name in a schema: CREATE OR
REPLACE replaces it whatever its parameters (Redshift would add an overload).

Privileges (a served session's user; embedded use may do everything): CREATE in the ``public``
schema is every user's (as in Redshift), in another schema a superuser's; replacing, dropping
and calling a procedure are its owner's and the superusers'. GRANT EXECUTE ON PROCEDURE is not
supported yet. The statements of a procedure run as its caller's, checked as if the caller had
typed them (SECURITY INVOKER); SECURITY DEFINER is accepted and runs as the caller when the
caller is the owner, and is refused (not supported yet) for anyone else.

A CALL runs the body in a transaction, when none is open, so that a failing procedure leaves
nothing half done (NONATOMIC: each statement commits on its own), as in Redshift. The body is
read and run in the dialect of the session that calls it.
"""

from __future__ import annotations

import contextlib
import difflib
import json

from sqlml import arrowtypes
from sqlml.errors import (
    DatabaseError,
    FeatureNotSupported,
    InsufficientPrivilege,
    ProcedureAlreadyExists,
    ProcedureNotFound,
    SqlmlError,
)
from sqlml.lazy import pa
from sqlml.results import StatementResult
from sqlml.sql import ast

# sql/plpgsql.py and statements/plpgsql_run.py (and so sqlglot) are imported by the procedure
# statements only: plain SQL from the command line imports no sqlglot.

FORMAT = 1  # the definition's JSON layout


def _full(schema: str, name: str) -> str:
    return f"{schema}.{name}"


def _signature(parameters: list[dict]) -> str:
    return ", ".join(
        f"{p['name']}{'' if p['mode'] == 'IN' else ' ' + p['mode']} {p['type']}" for p in parameters
    )


def _find(session, name: ast.Name) -> tuple[str, str, dict] | None:
    """The procedure ``name`` names: in its schema, or (unqualified) in the current schema,
    else the only one of that name in any schema."""
    every = session.engine.procedures()
    schema = name.schema or session.engine.current_schema()
    matches = [row for row in every if row[0] == schema and row[1] == name.name]
    if not matches and name.schema is None:
        matches = [row for row in every if row[1] == name.name]
        if len(matches) > 1:
            schemas = ", ".join(row[0] for row in matches)
            raise ProcedureNotFound(
                f"procedure {name.name} is in several schemas ({schemas}) and none is the "
                f"current one: name its schema (CALL schema.{name.name}(...))."
            )
    if not matches:
        return None
    schema_name, proc_name, definition = matches[0]
    return schema_name, proc_name, json.loads(definition)


def _not_found(session, name: ast.Name, doing: str) -> ProcedureNotFound:
    names = sorted({row[1] for row in session.engine.procedures()})
    close = difflib.get_close_matches(name.name, names, n=1, cutoff=0.6)
    hint = f' Did you mean "{close[0]}"?' if close else ""
    known = f" The procedures are: {', '.join(names)}." if names and not close else ""
    return ProcedureNotFound(
        f"procedure {name} does not exist, so it cannot be {doing}.{hint}{known} "
        "CREATE PROCEDURE creates one."
    )


def _require_owner(session, schema: str, name: str, definition: dict, doing: str) -> None:
    access = session.access
    if access.unrestricted or definition.get("owner") == access.user:
        return
    owner = definition.get("owner")
    by = f"its owner {owner} or a superuser" if owner else "a superuser (who owns it)"
    raise InsufficientPrivilege(
        f'permission denied to {doing} procedure {_full(schema, name)}: user "{access.user}" '
        f"is not its owner (GRANT EXECUTE ON PROCEDURE is not supported yet). Ask {by}."
    )


# -- CREATE / DROP -------------------------------------------------------------------------------


def create_procedure(session, statement: ast.CreateProcedure) -> StatementResult:
    schema = statement.name.schema or session.engine.current_schema()
    name = statement.name.name
    access = session.access
    if not access.unrestricted and schema != "public":
        raise InsufficientPrivilege(
            f'permission denied to CREATE PROCEDURE in schema {schema}: user "{access.user}" '
            "may create procedures in schema public only (a superuser may in any)."
        )
    if statement.name.schema is not None and not session.engine.schema_exists(schema):
        raise DatabaseError(f'schema "{schema}" does not exist', sqlstate="3F000")
    existing = _find(session, ast.Name(name, schema))
    if existing is not None:
        if not statement.or_replace:
            raise ProcedureAlreadyExists(
                f"procedure {_full(schema, name)} already exists: CREATE OR REPLACE PROCEDURE "
                "replaces it, or DROP PROCEDURE it first."
            )
        _require_owner(session, schema, name, existing[2], "replace")
    from sqlml.sql import plpgsql

    body = plpgsql.parse_body(statement.body, _full(schema, name), session.dialect)
    _check_types(session, statement, body)
    definition = {
        "format": FORMAT,
        "parameters": [
            {"name": p.name, "mode": p.mode, "type": p.type} for p in statement.parameters
        ],
        "body": statement.body,
        "security": statement.security,
        "atomic": statement.atomic,
        "owner": access.user,
        "dialect": session.dialect,
    }
    session.engine.save_procedure(schema, name, json.dumps(definition))
    return StatementResult("CREATE PROCEDURE")


def _check_types(session, statement: ast.CreateProcedure, body) -> None:
    """Every parameter's and variable's type is one the engine knows (asked once, here)."""
    named = [(f"parameter {p.name}", p.type) for p in statement.parameters]
    named += [(f"variable {v.name}", v.type) for v in body.variables]
    for what, sql_type in named:
        try:
            _query(session, f"SELECT CAST(NULL AS {sql_type})")
        except DatabaseError as e:
            e.args = (
                f"CREATE PROCEDURE {statement.name}: the type of {what}, {sql_type}, is not one "
                f"the database knows: {e}",
            )
            raise


def drop_procedure(session, statement: ast.DropProcedure) -> StatementResult:
    found = _find(session, statement.name)
    if found is not None and statement.argument_types is not None:
        wanted = [p for p in found[2]["parameters"] if p["mode"] != "OUT"]
        if len(wanted) != len(statement.argument_types):
            found = None
    if found is None:
        if statement.if_exists:
            result = StatementResult("DROP PROCEDURE")
            result.notices.append(f"procedure {statement.name} does not exist, skipping")
            return result
        raise _not_found(session, statement.name, "dropped")
    schema, name, definition = found
    _require_owner(session, schema, name, definition, "drop")
    session.engine.drop_procedure(schema, name)
    return StatementResult("DROP PROCEDURE")


# -- CALL ----------------------------------------------------------------------------------------


def call_procedure(session, statement: ast.CallProcedure) -> StatementResult:
    found = _find(session, statement.name)
    if found is None:
        if session.dialect == "duckdb" and session.engine.dialect == "duckdb":
            return _engine_call(session, statement)  # DuckDB's own CALL of a table function
        raise _not_found(session, statement.name, "called")
    schema, name, definition = found
    full = _full(schema, name)
    _require_owner(session, schema, name, definition, "call")
    owner = definition.get("owner")
    caller = session.access.user  # None: embedded, single-user
    if definition.get("security") == "DEFINER" and caller is not None and owner != caller:
        raise FeatureNotSupported(
            f"procedure {full} is SECURITY DEFINER and is called by another user than its "
            "owner: running a procedure as its owner is not supported yet."
        )
    from sqlml.sql import plpgsql
    from sqlml.statements.plpgsql_run import Run, _Return, literal

    run = Run(session, full)
    parameters = definition["parameters"]
    _bind_arguments(run, full, parameters, statement.arguments)
    body = plpgsql.parse_body(definition["body"], full, session.dialect)
    for variable in body.variables:  # in order: an initial value may use those before it
        value = None
        if variable.default is not None:
            try:
                value = run.value(variable.default, variable.type)
            except SqlmlError as e:
                raise run.context(e, variable_as_statement(variable)) from e
        run.variables[variable.name] = [variable.type, value]
    atomic = definition.get("atomic", True) and _begin(session)
    try:
        with contextlib.suppress(_Return):
            run.statements(body.statements)
    except BaseException:
        if atomic:
            _finish(session, "ROLLBACK")
        raise
    if atomic:
        _finish(session, "COMMIT")
    out = [p for p in parameters if p["mode"] in ("OUT", "INOUT")]
    if not out:
        result = StatementResult("CALL")
    else:
        columns = ", ".join(
            f"{literal(run.variables[p['name']][1], p['type'])} AS {_quoted(p['name'])}"
            for p in out
        )
        table = _query(session, f"SELECT {columns}")
        result = StatementResult.of_table("CALL", table)
    result.notices.extend(run.notices)
    return result


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def variable_as_statement(variable):
    """A declaration's initial value as the assignment it is, for its errors' context."""
    from sqlml.sql import plpgsql

    return plpgsql.Assign(variable.name, variable.default or "", variable.line)


def _query(session, text: str) -> pa.Table:
    table = None
    for result in session.run(text):
        table = result.arrow()
    return table


def _bind_arguments(run, full: str, parameters: list[dict], arguments) -> None:
    """The parameters' values from CALL's arguments (IN and INOUT ones; OUT parameters are not
    passed, as in Redshift), each checked against its parameter's type."""
    passed = [p for p in parameters if p["mode"] in ("IN", "INOUT")]
    if len(arguments) != len(passed):
        takes = f"{len(passed)} argument{'s' if len(passed) != 1 else ''}"
        raise ProcedureNotFound(
            f"procedure {full} takes {takes} ({_signature(passed)}), and CALL passed "
            f"{len(arguments)}: pass one value for each IN and INOUT parameter, in order "
            "(OUT parameters are not passed)."
        )
    for i, (parameter, argument) in enumerate(zip(passed, arguments, strict=True), start=1):
        what = f"argument {i} of procedure {full} ({parameter['name']} {parameter['type']})"
        table = _query(run.session, f"SELECT ({argument}), CAST(NULL AS {parameter['type']})")
        given, wanted = table.schema.field(0).type, table.schema.field(1).type
        value = table.column(0)[0].as_py() if table.num_rows else None
        untyped = _is_string_literal(argument) or pa.types.is_null(given)
        if not untyped and _family(given) != _family(wanted):
            raise ProcedureNotFound(
                f"{what} takes a {_family(wanted)} value, and CALL passed {argument}, a "
                f"{_family(given)}: CAST it to {parameter['type']}."
            )
        try:
            run.variables[parameter["name"]] = [
                parameter["type"],
                run.coerce(value, parameter["type"]),
            ]
        except SqlmlError as e:
            e.args = (f"{what} cannot take {argument}: {e}",)
            raise
    for parameter in parameters:
        if parameter["mode"] == "OUT":
            run.variables[parameter["name"]] = [parameter["type"], None]


def _is_string_literal(text: str) -> bool:
    """A quoted string alone (PostgreSQL's unknown-typed literal, which any type takes)."""
    text = text.strip()
    return (
        len(text) >= 2
        and text[0] == "'"
        and text[-1] == "'"
        and "'" not in text[1:-1].replace("''", "")
    )


def _family(arrow_type: pa.DataType) -> str:
    return arrowtypes.family(arrow_type) or str(arrow_type)


def _begin(session) -> bool:
    """Open a transaction for the CALL; False when one is open already (it takes part)."""
    try:
        session.engine.execute("BEGIN TRANSACTION")
    except DatabaseError as e:
        if "within a transaction" in str(e) or e.sqlstate == "25001":
            return False
        raise
    return True


def _finish(session, command: str) -> None:
    for result in session.run(command):  # a ROLLBACK through the front door forgets temp views
        result.close()


def _engine_call(session, statement: ast.CallProcedure) -> StatementResult:
    """CALL of a name no procedure has, in a DuckDB session: DuckDB's own CALL."""
    return session.engine.execute(statement.text)
