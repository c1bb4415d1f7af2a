"""GRANT and REVOKE (model privileges and roles), groups and roles: every statement of the
reference's §9 parses to its typed object and renders back; mistakes are errors with the
position of the offending token, and what sqlml does not have is 0A000."""

from __future__ import annotations

import pytest

from sqlml.errors import FeatureNotSupported, SqlSyntaxError
from sqlml.sql import ast, parse, parse_one, to_sql

U = ast.Grantee


def user(name: str, option: bool = False) -> ast.Grantee:
    return U("user", name, option)


CASES = [
    # GRANT CREATE MODEL TO { username [WITH GRANT OPTION] | ROLE r | GROUP g | PUBLIC } [, ...]
    (
        "GRANT CREATE MODEL TO alice",
        ast.GrantPrivileges(("CREATE MODEL",), (user("alice"),)),
    ),
    (
        "grant create model to Bob with grant option, group Analysts, role reader, public",
        ast.GrantPrivileges(
            ("CREATE MODEL",),
            (user("bob", True), U("group", "analysts"), U("role", "reader"), U("public")),
        ),
    ),
    # GRANT { EXECUTE | ALL [PRIVILEGES] } ON MODEL m [, ...] TO ...
    (
        "GRANT EXECUTE ON MODEL churn, ml.Risk TO bob, GROUP analysts",
        ast.GrantPrivileges(
            ("EXECUTE",),
            (user("bob"), U("group", "analysts")),
            (ast.Name("churn"), ast.Name("risk", "ml")),
        ),
    ),
    (
        "GRANT ALL ON MODEL churn TO PUBLIC",
        ast.GrantPrivileges(("EXECUTE",), (U("public"),), (ast.Name("churn"),)),
    ),
    (
        'GRANT ALL PRIVILEGES ON MODEL "Churn" TO "public"',
        ast.GrantPrivileges(("EXECUTE",), (user("public"),), (ast.Name("Churn"),)),
    ),
    # system permissions of roles
    (
        "GRANT CREATE MODEL, DROP MODEL TO ROLE ml_admin",
        ast.GrantPrivileges(("CREATE MODEL", "DROP MODEL"), (U("role", "ml_admin"),)),
    ),
    (
        "GRANT DROP MODEL TO ROLE ml_admin",
        ast.GrantPrivileges(("DROP MODEL",), (U("role", "ml_admin"),)),
    ),
    # REVOKE [GRANT OPTION FOR] ... FROM ... [RESTRICT]
    (
        "REVOKE CREATE MODEL FROM PUBLIC",
        ast.RevokePrivileges(("CREATE MODEL",), (U("public"),)),
    ),
    (
        "REVOKE GRANT OPTION FOR EXECUTE ON MODEL churn FROM bob RESTRICT",
        ast.RevokePrivileges(
            ("EXECUTE",), (user("bob"),), (ast.Name("churn"),), grant_option_for=True
        ),
    ),
    (
        "REVOKE ALL PRIVILEGES ON MODEL a, b FROM GROUP g, ROLE r",
        ast.RevokePrivileges(
            ("EXECUTE",), (U("group", "g"), U("role", "r")), (ast.Name("a"), ast.Name("b"))
        ),
    ),
    (
        "REVOKE DROP MODEL FROM ROLE ml_admin",
        ast.RevokePrivileges(("DROP MODEL",), (U("role", "ml_admin"),)),
    ),
    # roles
    ("CREATE ROLE reader", ast.CreateRole("reader")),
    ("DROP ROLE reader", ast.DropRole("reader")),
    ("DROP ROLE reader RESTRICT", ast.DropRole("reader")),
    ("DROP ROLE IF EXISTS reader FORCE", ast.DropRole("reader", force=True, if_exists=True)),
    (
        "GRANT ROLE reader TO bob",
        ast.GrantRole(("reader",), (user("bob"),)),
    ),
    (
        "GRANT ROLE a, ROLE b TO bob WITH ADMIN OPTION, ROLE c",
        ast.GrantRole(("a", "b"), (user("bob", True), U("role", "c"))),
    ),
    ("GRANT ROLE a, b TO carol", ast.GrantRole(("a", "b"), (user("carol"),))),
    (
        "REVOKE ADMIN OPTION FOR ROLE reader FROM bob",
        ast.RevokeRole(("reader",), (user("bob"),), admin_option_for=True),
    ),
    (
        "REVOKE ROLE reader FROM bob, ROLE c",
        ast.RevokeRole(("reader",), (user("bob"), U("role", "c"))),
    ),
    # groups
    ("CREATE GROUP analysts", ast.CreateGroup("analysts")),
    ("CREATE GROUP analysts WITH USER alice, bob", ast.CreateGroup("analysts", ("alice", "bob"))),
    ("create group analysts user alice", ast.CreateGroup("analysts", ("alice",))),
    (
        "ALTER GROUP analysts ADD USER bob, carol",
        ast.AlterGroup("analysts", "ADD", ("bob", "carol")),
    ),
    ("ALTER GROUP analysts DROP USER bob", ast.AlterGroup("analysts", "DROP", ("bob",))),
    (
        "ALTER GROUP analysts RENAME TO quants",
        ast.AlterGroup("analysts", "RENAME", new_name="quants"),
    ),
    ("DROP GROUP analysts", ast.DropGroup(("analysts",))),
    ("DROP GROUP IF EXISTS a, b", ast.DropGroup(("a", "b"), if_exists=True)),
]


@pytest.mark.parametrize(("sql", "expected"), CASES, ids=[c[0] for c in CASES])
def test_statement_parses_and_renders_back(sql, expected):
    statement = parse_one(sql)
    assert statement == expected
    rendered = to_sql(statement)
    assert parse_one(rendered) == statement
    assert to_sql(parse_one(rendered)) == rendered


def test_names_that_are_keywords_render_quoted():
    statement = ast.GrantRole(("role",), (user("public"), U("role", "group")))
    assert to_sql(statement) == 'GRANT ROLE "role" TO "public", ROLE "group"'
    assert parse_one(to_sql(statement)) == statement


def test_a_script_mixes_privilege_statements_with_others():
    statements = parse("CREATE GROUP g; SELECT 1; GRANT CREATE MODEL TO GROUP g")
    assert [type(s) for s in statements] == [ast.CreateGroup, ast.Passthrough, ast.GrantPrivileges]


# (sql, start of the message, line, column, token)
SYNTAX_ERRORS = [
    (
        "GRANT",
        "Expected CREATE MODEL, DROP MODEL, EXECUTE ON MODEL, ALL ON MODEL or ROLE",
        1,
        6,
        None,
    ),
    ("GRANT FOO TO bob", "Expected CREATE MODEL, DROP MODEL, EXECUTE ON MODEL", 1, 7, "FOO"),
    ("GRANT CREATE MODEL bob", "Expected TO", 1, 20, "bob"),
    ("GRANT CREATE MODEL TO", "Expected a user name, GROUP g, ROLE r or PUBLIC", 1, 22, None),
    ("GRANT CREATE MODEL TO bob,", "Expected a user name, GROUP g, ROLE r or PUBLIC", 1, 27, None),
    ("GRANT CREATE MODEL TO GROUP", "Expected a group name after GROUP", 1, 28, None),
    ("GRANT CREATE MODEL TO bob carol", "Unexpected token after the end", 1, 27, "carol"),
    ("GRANT CREATE MODEL, CREATE MODEL TO ROLE r", "CREATE MODEL is given twice", 1, 21, "CREATE"),
    (
        "GRANT CREATE MODEL, EXECUTE ON MODEL m TO bob",
        "Expected CREATE MODEL or DROP MODEL: system privileges and EXECUTE ON MODEL",
        1,
        21,
        "EXECUTE",
    ),
    ("GRANT EXECUTE MODEL m TO bob", "Expected ON MODEL after EXECUTE", 1, 15, "MODEL"),
    ("GRANT EXECUTE ON MODEL TO bob", "Expected a model name after ON MODEL", 1, 24, "TO"),
    ("GRANT EXECUTE ON MODEL m", "Expected TO", 1, 25, None),
    ("GRANT ALL ON MODEL m FROM bob", "Expected TO", 1, 22, "FROM"),
    # DROP MODEL is a system permission of roles only
    ("GRANT DROP MODEL TO bob", "DROP MODEL is a system permission of roles only", 1, 21, "bob"),
    (
        "GRANT CREATE MODEL, DROP MODEL TO PUBLIC",
        "DROP MODEL is a system permission of roles only",
        1,
        35,
        "PUBLIC",
    ),
    # WITH GRANT / ADMIN OPTION: users only
    (
        "GRANT CREATE MODEL TO GROUP g WITH GRANT OPTION",
        "WITH GRANT OPTION is given to users only, not to group g",
        1,
        31,
        "WITH",
    ),
    ("GRANT CREATE MODEL TO bob WITH ADMIN OPTION", "Expected GRANT", 1, 32, "ADMIN"),
    ("GRANT ROLE r TO bob WITH GRANT OPTION", "Expected ADMIN", 1, 26, "GRANT"),
    ("GRANT ROLE r TO GROUP g", "GRANT ROLE takes users and roles, not a group", 1, 17, "GROUP"),
    ("GRANT ROLE r TO PUBLIC", "GRANT ROLE takes users and roles, not PUBLIC", 1, 17, "PUBLIC"),
    ("GRANT ROLE TO bob", "Expected a role name after ROLE", 1, 12, "TO"),
    ("REVOKE CREATE MODEL FROM bob WITH GRANT OPTION", "Unexpected token", 1, 30, "WITH"),
    ("REVOKE CREATE MODEL TO bob", "Expected FROM", 1, 21, "TO"),
    (
        "REVOKE GRANT OPTION FOR ROLE r FROM bob",
        "A role is revoked with ADMIN OPTION FOR",
        1,
        8,
        "GRANT",
    ),
    (
        "REVOKE ADMIN OPTION FOR CREATE MODEL FROM bob",
        "ADMIN OPTION FOR is for roles",
        1,
        8,
        "ADMIN",
    ),
    ("REVOKE GRANT OPTION CREATE MODEL FROM bob", "Expected FOR", 1, 21, "CREATE"),
    # groups and roles
    ("CREATE GROUP", "Expected a group name after CREATE GROUP", 1, 13, None),
    ("CREATE GROUP g WITH alice", "Expected [WITH] USER name", 1, 21, "alice"),
    ("CREATE GROUP g WITH USER", "Expected a user name", 1, 25, None),
    ("ALTER GROUP g ADD bob", "Expected USER", 1, 19, "bob"),
    ("ALTER GROUP g REMOVE USER bob", "Expected ADD USER, DROP USER or RENAME TO", 1, 15, "REMOVE"),
    ("ALTER GROUP g RENAME h", "Expected TO", 1, 22, "h"),
    ("DROP GROUP", "Expected a group name after DROP GROUP", 1, 11, None),
    ("CREATE ROLE r s", "Unexpected token after the end", 1, 15, "s"),
    ("DROP ROLE r CASCADE", "Unexpected token after the end", 1, 13, "CASCADE"),
    ("GRANT CREATE MODEL\n  TO bob,\n     GROUP", "Expected a group name after GROUP", 3, 11, None),
]


@pytest.mark.parametrize(
    ("sql", "message", "line", "col", "token"), SYNTAX_ERRORS, ids=[c[0] for c in SYNTAX_ERRORS]
)
def test_syntax_errors_point_at_the_offending_token(sql, message, line, col, token):
    with pytest.raises(SqlSyntaxError) as info:
        parse_one(sql)
    error = info.value
    assert error.bare_message.startswith(message), error.bare_message
    assert (error.line, error.col, error.token) == (line, col, token)
    assert error.sqlstate == "42601"


# (sql, start of the message, line, column)
NOT_SUPPORTED = [
    (
        "GRANT SELECT ON t TO bob",
        "GRANT SELECT is not supported: sqlml has privileges on models",
        1,
        7,
    ),
    ("REVOKE INSERT ON TABLE t FROM bob", "REVOKE INSERT is not supported", 1, 8),
    (
        "GRANT EXECUTE ON TABLE t TO bob",
        "GRANT EXECUTE ON TABLE is not supported: sqlml has privileges on models only",
        1,
        18,
    ),
    ("GRANT ALL ON SCHEMA s TO bob", "GRANT ALL ON SCHEMA is not supported", 1, 14),
    ("GRANT EXECUTE ON t TO bob", "GRANT EXECUTE on tables is not supported", 1, 18),
    (
        "GRANT EXECUTE ON FUNCTION predict_churn TO bob",
        "GRANT EXECUTE ON FUNCTION is not supported: a model's functions are granted through "
        "the model",
        1,
        18,
    ),
    (
        "GRANT ASSUMEROLE ON default TO bob FOR CREATE MODEL",
        "GRANT ASSUMEROLE is not supported: sqlml uses no IAM roles",
        1,
        7,
    ),
    ("SELECT 1;\nALTER ROLE r RENAME TO s", "ALTER ROLE is not supported yet", 2, 1),
    ("CREATE ROLE r EXTERNALID 'x'", "CREATE ROLE ... EXTERNALID is not supported", 1, 15),
]


@pytest.mark.parametrize(
    ("sql", "message", "line", "col"), NOT_SUPPORTED, ids=[c[0] for c in NOT_SUPPORTED]
)
def test_what_sqlml_has_no_privileges_for_is_0a000_with_its_position(sql, message, line, col):
    with pytest.raises(FeatureNotSupported) as info:
        parse(sql)
    text = str(info.value)
    assert text.startswith(message), text
    assert text.endswith(f"(line {line}, column {col})")
    assert info.value.sqlstate == "0A000"
