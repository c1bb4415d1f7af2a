"""SHOW MODEL and DROP MODEL."""

from __future__ import annotations

import pytest
from parser_cases import SHOW_DROP_CASES, N

from sqlml.errors import SqlSyntaxError
from sqlml.sql import ast, parse, parse_one


@pytest.mark.parametrize(
    ("sql", "expected"), [c[1:] for c in SHOW_DROP_CASES], ids=[c[0] for c in SHOW_DROP_CASES]
)
def test_show_and_drop(sql, expected):
    assert parse_one(sql) == expected


def test_show_model_all_is_not_a_model_named_all():
    assert isinstance(parse_one("SHOW MODEL ALL"), ast.ShowModelAll)
    assert parse_one('SHOW MODEL "ALL"') == ast.ShowModel(N("ALL"))


def test_drop_if_exists_flag():
    assert parse_one("DROP MODEL m").if_exists is False
    assert parse_one("DROP MODEL IF EXISTS m").if_exists is True
    assert parse_one("DROP MODEL IF EXISTS m") != parse_one("DROP MODEL m")


def test_text_field():
    assert parse_one("  show model   all ; ").text == "show model   all"
    assert parse_one("\nDROP MODEL IF EXISTS s.m;").text == "DROP MODEL IF EXISTS s.m"
    assert parse_one("SHOW MODEL s.m -- trailing\n").text == "SHOW MODEL s.m -- trailing"


def test_comments_and_newlines():
    assert parse_one(
        "DROP /* a */ MODEL\n-- b\nIF /* c */ EXISTS\n s /* d */ . m"
    ) == ast.DropModel(N("m", "s"), if_exists=True)
    assert parse_one("SHOW -- x\n MODEL /* y */ ALL /* z */") == ast.ShowModelAll()


def test_several_in_a_script():
    assert parse("SHOW MODEL ALL; SHOW MODEL m; DROP MODEL m; DROP MODEL IF EXISTS m;") == [
        ast.ShowModelAll(),
        ast.ShowModel(N("m")),
        ast.DropModel(N("m")),
        ast.DropModel(N("m"), if_exists=True),
    ]


@pytest.mark.parametrize(
    ("sql", "message", "col", "token"),
    [
        ("SHOW MODEL", "Expected a model name or ALL after SHOW MODEL", 11, None),
        ("SHOW MODEL 'm'", "Expected a model name or ALL after SHOW MODEL", 12, "m"),
        ("SHOW MODEL m extra", "Unexpected token after the end of the statement", 14, "extra"),
        ("SHOW MODEL ALL m", "Unexpected token after the end of the statement", 16, "m"),
        ("SHOW MODEL s.", "Expected a model name or ALL after SHOW MODEL", 14, None),
        ("DROP MODEL", "Expected a model name after DROP MODEL", 11, None),
        ("DROP MODEL IF EXISTS", "Expected a model name after DROP MODEL", 21, None),
        ("DROP MODEL m CASCADE", "Unexpected token after the end of the statement", 14, "CASCADE"),
        ("DROP MODEL IF EXISTS a b", "Unexpected token after the end of the statement", 24, "b"),
        ("DROP MODEL 42", "Expected a model name after DROP MODEL", 12, "42"),
    ],
)
def test_show_drop_errors(sql, message, col, token):
    with pytest.raises(SqlSyntaxError) as info:
        parse_one(sql)
    err = info.value
    assert err.bare_message == message
    assert (err.line, err.col, err.token) == (1, col, token)
