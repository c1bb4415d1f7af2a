"""The statements of stored procedures, built on :class:`~sqlml.sql.parser.Parser`::

    CREATE [ OR REPLACE ] PROCEDURE [schema.]name ( [ name [ IN | OUT | INOUT ] type [, ...] ] )
      [ NONATOMIC ] AS $$ body $$ LANGUAGE plpgsql [ SECURITY { INVOKER | DEFINER } ]
    DROP PROCEDURE [ IF EXISTS ] [schema.]name [ ( [ [ name ] [ mode ] type [, ...] ] ) ]
    CALL [schema.]name ( [ expression [, ...] ] )

The body is read by ``sql/plpgsql.py`` here, so that a mistake in it, or a construct not
supported yet, fails the CREATE.
"""

from __future__ import annotations

from sqlglot.tokens import TokenType

from sqlml.errors import FeatureNotSupported
from sqlml.sql import ast, plpgsql
from sqlml.sql.lexer import STRING_TYPES, Chunk, tokenize

MODES = ("IN", "OUT", "INOUT")


def parse_create_procedure(parser, or_replace: bool) -> ast.CreateProcedure:
    name = parser.name("a procedure name after CREATE PROCEDURE")
    parser.expect(TokenType.L_PAREN, "'(' and the procedure's parameters")
    parameters: list[ast.ProcedureParameter] = []
    while not parser.accept(TokenType.R_PAREN):
        if parameters:
            parser.expect(TokenType.COMMA, "',' or ')' after a parameter")
        parameters.append(_parameter(parser))
    names = [p.name for p in parameters]
    for n in names:
        if names.count(n) > 1:
            parser.fail(f"Parameter {n} of procedure {name} is named twice")
    body, language, security, atomic = None, None, None, True
    while parser.peek() is not None:
        tok = parser.peek()
        word = parser.peek_word()
        if word == "AS" and body is None:
            parser.advance()
            body_tok = parser.peek()
            if body_tok is None or body_tok.token_type not in STRING_TYPES:
                parser.fail("Expected the procedure's body after AS, as $$ ... $$")
            body = parser.advance().text
        elif word == "LANGUAGE" and language is None:
            parser.advance()
            lang_tok = parser.peek()
            language = parser.identifier("a language after LANGUAGE").lower()
            if language != "plpgsql":
                parser.fail(
                    f"LANGUAGE {language} is not supported: stored procedures are written in "
                    "plpgsql, as in Redshift",
                    lang_tok,
                    FeatureNotSupported,
                )
        elif word == "SECURITY" and security is None:
            parser.advance()
            security = parser.expect_word("INVOKER", "DEFINER")
        elif word == "NONATOMIC" and atomic:
            parser.advance()
            atomic = False
        else:
            parser.fail("Expected AS $$ body $$, LANGUAGE plpgsql, SECURITY or NONATOMIC", tok)
    if body is None:
        parser.fail("CREATE PROCEDURE needs AS $$ body $$")
    if language is None:
        parser.fail("CREATE PROCEDURE needs LANGUAGE plpgsql")
    parsed = plpgsql.parse_body(body, str(name), parser.chunk.dialect)
    known = {p.name for p in parameters} | {v.name for v in parsed.variables}
    for target, line in plpgsql.assigned(parsed.statements):
        if target not in known:
            parser.fail(
                f'"{target}" is not a variable of procedure {name} (line {line} of its body '
                "assigns it): DECLARE it, or name a parameter",
                parser.tokens[0],
            )
    return ast.CreateProcedure(
        name,
        tuple(parameters),
        body,
        or_replace=or_replace,
        security=security or "INVOKER",
        atomic=atomic,
        text=parser.chunk.text.strip(),
    )


def _parameter(parser) -> ast.ProcedureParameter:
    mode = None
    if parser.peek_word() in MODES and parser.peek_word(2) is not None:
        mode = parser.advance().text.upper()  # PostgreSQL's order: mode first
    name = parser.identifier("a parameter name")
    if mode is None and parser.peek_word() in MODES:
        mode = parser.advance().text.upper()
    first, depth = parser.i, 0
    while parser.peek() is not None:
        kind = parser.peek().token_type
        if depth == 0 and kind in (TokenType.COMMA, TokenType.R_PAREN):
            break
        if parser.peek_word() == "DEFAULT" or kind == TokenType.EQ:
            parser.fail("Parameter defaults are not supported yet", exc=FeatureNotSupported)
        depth += (kind == TokenType.L_PAREN) - (kind == TokenType.R_PAREN)
        parser.advance()
    if parser.i == first:
        parser.fail(f"Expected the type of parameter {name}")
    text = parser.script[parser.tokens[first].start : parser.tokens[parser.i - 1].end + 1]
    return ast.ProcedureParameter(name, mode or "IN", text.strip())


def parse_drop_procedure(parser) -> ast.DropProcedure:
    if_exists = parser.if_exists()
    name = parser.name("a procedure name after DROP PROCEDURE")
    types = None
    if parser.accept(TokenType.L_PAREN):
        items, first, depth = [], parser.i, 0
        while True:
            tok = parser.peek()
            if tok is None:
                parser.fail("Expected ')' after the argument types")
            kind = tok.token_type
            if depth == 0 and kind in (TokenType.COMMA, TokenType.R_PAREN):
                if parser.i > first:
                    items.append(
                        parser.script[
                            parser.tokens[first].start : parser.tokens[parser.i - 1].end + 1
                        ]
                    )
                parser.advance()
                first = parser.i
                if kind == TokenType.R_PAREN:
                    break
                continue
            depth += (kind == TokenType.L_PAREN) - (kind == TokenType.R_PAREN)
            parser.advance()
        types = tuple(items)
    parser.done()
    return ast.DropProcedure(name, types, if_exists, text=parser.chunk.text.strip())


def parse_call(parser) -> ast.CallProcedure:
    """CALL's tokens: sqlglot reads all that follows CALL as one string, so it is tokenized
    again here (positions kept as the script's)."""
    from sqlml.sql.parser import Parser

    if parser.peek() is None:
        parser.fail("Expected a procedure name after CALL")
    base = parser.tokens[0].end + 1
    text = parser.script[base : parser.chunk.start + len(parser.chunk.text)]
    tokens = tokenize(text, parser.chunk.dialect)
    for tok in tokens:
        tok.start += base
        tok.end += base
    sub = Parser(parser.script, Chunk(text, base, tuple(tokens), parser.chunk.dialect))
    name = sub.name("a procedure name after CALL")
    sub.expect(TokenType.L_PAREN, f"'(' and the arguments of {name}")
    arguments: list[str] = []
    first, depth = sub.i, 0
    while True:
        tok = sub.peek()
        if tok is None:
            sub.fail("Expected ')' after CALL's arguments")
        kind = tok.token_type
        if depth == 0 and kind in (TokenType.COMMA, TokenType.R_PAREN):
            if sub.i == first and (arguments or kind == TokenType.COMMA):
                sub.fail("Expected an argument")
            if sub.i > first:
                start, end = sub.tokens[first].start, sub.tokens[sub.i - 1].end + 1
                arguments.append(parser.script[start:end])
            sub.advance()
            first = sub.i
            if kind == TokenType.R_PAREN:
                break
            continue
        depth += (kind == TokenType.L_PAREN) - (kind == TokenType.R_PAREN)
        sub.advance()
    sub.done()
    return ast.CallProcedure(name, tuple(arguments), text=parser.chunk.text.strip())
