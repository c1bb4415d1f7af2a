"""CREATE USER, ALTER USER, DROP USER (privileges, groups and roles: test_parse_privileges.py)."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.errors import FeatureNotSupported, SqlSyntaxError
from sqlml.sql import ast, parse_one, to_sql


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CREATE USER Alice PASSWORD 's3cret'", ast.CreateUser("alice", "s3cret")),
        (
            "create user bob with password 'x' createuser",
            ast.CreateUser("bob", "x", superuser=True),
        ),
        ('CREATE USER "Bob" NOSUPERUSER', ast.CreateUser("Bob", None, superuser=False)),
        (
            "ALTER USER bob PASSWORD DISABLE",
            ast.AlterUser("bob", None, set_password=True),
        ),
        ("ALTER USER bob WITH SUPERUSER", ast.AlterUser("bob", superuser=True)),
        ("DROP USER IF EXISTS a, b", ast.DropUser(("a", "b"), if_exists=True)),
    ],
)
def test_user_statements_parse_and_render_back(text, expected):
    statement = parse_one(text)
    assert statement == expected
    assert parse_one(to_sql(statement)) == statement


def test_a_password_is_not_shown_in_the_statement_repr():
    assert "s3cret" not in repr(parse_one("CREATE USER a PASSWORD 's3cret'"))


def test_user_options_sqlml_does_not_have_are_not_supported_yet():
    with pytest.raises(FeatureNotSupported) as caught:
        parse_one("CREATE USER bob PASSWORD 'x' CREATEDB")
    assert caught.value.sqlstate == "0A000"
    assert "not supported yet" in str(caught.value)


def test_user_statement_mistakes_are_syntax_errors():
    with pytest.raises(SqlSyntaxError, match="password as a quoted string"):
        parse_one("CREATE USER bob PASSWORD")
    with pytest.raises(SqlSyntaxError, match="given twice"):
        parse_one("CREATE USER bob PASSWORD 'a' PASSWORD 'b'")


def test_embedded_connections_keep_users_hashed_in_the_model_store(tmp_path):
    with sqlml.connect(tmp_path / "db.duckdb") as conn:
        tags = [r.tag for r in conn.run("CREATE USER ann PASSWORD 'pw' SUPERUSER; CREATE USER bo")]
        assert tags == ["CREATE ROLE", "CREATE ROLE"]
        assert conn.users.names() == ["ann", "bo"] and conn.users.superusers() == ["ann"]
        with pytest.raises(sqlml.errors.UserAlreadyExists):
            list(conn.run("CREATE USER bo"))
        with pytest.raises(sqlml.errors.ObjectInUse, match="last superuser"):
            list(conn.run("DROP USER ann"))
        assert [r.tag for r in conn.run("DROP USER bo")] == ["DROP ROLE"]
    stored = (tmp_path / "db.duckdb.models" / "users.json").read_text()
    assert "'pw'" not in stored and '"pw"' not in stored and "SCRAM-SHA-256$4096:" in stored
