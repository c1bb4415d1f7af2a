"""The SQL surface: ML statements become typed objects; everything else passes through untouched.

Grammar (clauses of CREATE MODEL may come in any order, each at most once)::

    CREATE MODEL [schema.]name
      FROM { table | ( query ) | 'job_name' }
      [ TARGET column ]
      FUNCTION [schema.]name [ ( type, ... ) ]
      [ RETURNS type ] [ SAGEMAKER 'endpoint'[:'model'] ]
      [ IAM_ROLE { default | 'arn' } ] [ AUTO { ON | OFF } ]
      [ MODEL_TYPE word ] [ PROBLEM_TYPE word ] [ OBJECTIVE 'name' ]
      [ PREPROCESSORS 'json' ] [ HYPERPARAMETERS DEFAULT [ EXCEPT ( key 'value', ... ) ] ]
      [ SETTINGS ( KEY value, ... ) ]
    SHOW MODEL { ALL | [schema.]name }
    DROP MODEL [ IF EXISTS ] [schema.]name
    EVALUATE MODEL [schema.]name FROM { table | ( query ) }
    CREATE USER name [WITH] ...   ALTER USER name ...   DROP USER [ IF EXISTS ] name, ...

Privileges, groups and roles (reference §9), a grantee being ``user [WITH GRANT OPTION]``,
``GROUP g``, ``ROLE r`` or ``PUBLIC``::

    GRANT { CREATE MODEL | DROP MODEL } [, ...] TO grantee, ...   (DROP MODEL: roles only)
    GRANT { EXECUTE | ALL [ PRIVILEGES ] } ON MODEL m, ... TO grantee, ...
    REVOKE [ GRANT OPTION FOR ] ... FROM grantee, ... [ RESTRICT ]
    GRANT ROLE r [, [ROLE] r2 ...] TO { user [WITH ADMIN OPTION] | ROLE r }, ...
    REVOKE [ ADMIN OPTION FOR ] ROLE r, ... FROM { user | ROLE r }, ...
    CREATE GROUP g [ [WITH] USER a, ... ]    ALTER GROUP g { ADD | DROP } USER a, ...
    ALTER GROUP g RENAME TO n    DROP GROUP [ IF EXISTS ] g, ...
    CREATE ROLE r    DROP ROLE [ IF EXISTS ] r [ FORCE | RESTRICT ]

In a ``redshift`` session, Redshift's loading and unloading (``sql/load.py``)::

    COPY table [ ( column, ... ) ] FROM 's3://bucket/prefix' | 'file:///path' | 'path' [ option ... ]
    UNLOAD ( 'select ...' ) TO 's3://bucket/prefix' | 'file:///path' | 'path' [ option ... ]

Stored procedures (``sql/procedures.py``; the body's PL/pgSQL in ``sql/plpgsql.py``)::

    CREATE [ OR REPLACE ] PROCEDURE name ( [ arg [ IN | OUT | INOUT ] type, ... ] )
      [ NONATOMIC ] AS $$ body $$ LANGUAGE plpgsql [ SECURITY { INVOKER | DEFINER } ]
    DROP PROCEDURE [ IF EXISTS ] name [ ( type, ... ) ]    CALL name ( expression, ... )

To add a statement, add its first two words and a method to ``parser.STATEMENTS`` (or its
first word to ``parser.FIRST_WORD_STATEMENTS``), a node to ``ast`` and a renderer to ``render``.
"""

from __future__ import annotations

from sqlml.errors import SqlSyntaxError
from sqlml.sql import ast
from sqlml.sql.lexer import DEFAULT_DIALECT, Chunk, position, split_script
from sqlml.sql.render import to_sql


def parse_chunk(script: str, chunk: Chunk) -> ast.Statement:
    if not chunk.is_ml:
        return ast.Passthrough(chunk.text)
    from sqlml.sql.parser import Parser  # and sqlglot: only for our own statements

    return Parser(script, chunk).parse()


def parse(text: str, dialect: str = DEFAULT_DIALECT) -> list[ast.Statement]:
    """Every statement of a script, in order. Non-ML statements become ``Passthrough``."""
    return [parse_chunk(text, chunk) for chunk in split_script(text, dialect)]


def parse_name(text: str, what: str = "a model name", dialect: str = DEFAULT_DIALECT) -> ast.Name:
    """``name`` or ``schema.name``, with SQL's rules: unquoted parts fold to lower case."""
    if not isinstance(text, str):
        raise SqlSyntaxError(f"Expected {what} as text, got {type(text).__name__}", line=1, col=1)
    chunks = split_script(text, dialect)
    if len(chunks) != 1:
        raise SqlSyntaxError(f"Expected {what}, got {text!r}", line=1, col=1)
    if not chunks[0].tokens:  # it could not be tokenized: an unterminated quote
        quote = min((i for i in (text.find("'"), text.find('"')) if i >= 0), default=0)
        line, col = position(text, quote)
        raise SqlSyntaxError(
            f"Expected {what}, got {text!r}: a quote is not closed (double a quote inside quotes)",
            line=line,
            col=col,
        )
    from sqlml.sql.parser import Parser

    parser = Parser(text, chunks[0])
    name = parser.name(what)
    parser.done()
    return name


def parse_one(text: str) -> ast.Statement:
    statements = parse(text)
    if len(statements) != 1:
        raise ValueError(f"expected one statement, found {len(statements)}")
    return statements[0]


__all__ = ["ast", "parse", "parse_chunk", "parse_name", "parse_one", "split_script", "to_sql"]
