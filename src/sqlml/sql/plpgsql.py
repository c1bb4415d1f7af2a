"""The body of a stored procedure: the subset of PL/pgSQL that data-preparation procedures use.

Grammar (Redshift's, a subset)::

    [ DECLARE
        name type [ NOT NULL ] [ { DEFAULT | := | = } expression ] ; ... ]
    BEGIN
        statement ...
    END [ ; ]

    statement:
        name { := | = } expression ;
        EXECUTE expression [ INTO name ] ;
        RAISE [ INFO | NOTICE | LOG | WARNING | DEBUG | EXCEPTION ] 'format %' [, expression ...] ;
        IF condition THEN statement ... [ ELSIF condition THEN statement ... ] [ ELSE ... ] END IF ;
        RETURN ;
        NULL ;
        any other SQL statement ;      (run with the variables bound as literals)

Everything else PL/pgSQL has (loops, cursors, exception blocks, nested blocks, COMMIT inside a
procedure...) is refused with :class:`~sqlml.errors.FeatureNotSupported` naming the construct,
when the procedure is created. Expressions and statements are kept as their text (a slice of the
body), which the session evaluates with the engine (``statements/procedures.py``); nothing here
executes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlglot.tokens import Token, TokenType

from sqlml.errors import FeatureNotSupported, SqlSyntaxError
from sqlml.sql.lexer import _TOKENIZED_AS, STRING_TYPES, is_word, position


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    default: str | None  # the initial value's expression; None: NULL
    line: int


@dataclass(frozen=True)
class Assign:
    target: str
    expression: str
    line: int


@dataclass(frozen=True)
class Execute:
    expression: str
    into: str | None
    line: int


@dataclass(frozen=True)
class Sql:
    text: str
    line: int
    into: str | None = None  # SELECT ... INTO variable: its first value goes there


@dataclass(frozen=True)
class Raise:
    level: str
    format: str
    arguments: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class If:
    branches: tuple[tuple[str, tuple], ...]  # (condition, statements)
    otherwise: tuple  # statements of ELSE (empty without one)
    line: int


@dataclass(frozen=True)
class Return:
    line: int


@dataclass(frozen=True)
class Body:
    variables: tuple[Variable, ...]
    statements: tuple


RAISE_LEVELS = ("DEBUG", "LOG", "INFO", "NOTICE", "WARNING", "EXCEPTION")

# Statements PL/pgSQL has that are not supported yet, by their first word(s).
_UNSUPPORTED = {
    "LOOP": "loops (LOOP)",
    "WHILE": "loops (WHILE)",
    "FOR": "loops (FOR)",
    "FOREACH": "loops (FOREACH)",
    "EXIT": "EXIT",
    "CONTINUE": "CONTINUE",
    "OPEN": "cursors (OPEN)",
    "FETCH": "cursors (FETCH)",
    "MOVE": "cursors (MOVE)",
    "CLOSE": "cursors (CLOSE)",
    "GET": "GET DIAGNOSTICS",
    "PERFORM": "PERFORM",
    "CASE": "the CASE statement",
    "DECLARE": "nested blocks (DECLARE)",
    "BEGIN": "nested blocks (BEGIN)",
    "EXCEPTION": "exception blocks (EXCEPTION WHEN ...)",
    "COMMIT": "COMMIT inside a procedure",
    "ROLLBACK": "ROLLBACK inside a procedure",
    "ABORT": "ABORT inside a procedure",
}
_UNSUPPORTED_TYPES = {"CURSOR": "cursors", "REFCURSOR": "cursors", "RECORD": "RECORD variables"}


@functools.lru_cache(maxsize=4)
def _tokenizer_class(dialect: str):
    """The dialect's tokenizer, but with no command words: sqlglot reads what follows EXECUTE,
    CALL, SHOW... as one string, where a procedure's statements need their tokens."""
    from sqlglot.dialects.dialect import Dialect

    base = Dialect.get_or_raise(_TOKENIZED_AS.get(dialect, dialect)).tokenizer_class
    return type(f"{base.__name__}NoCommands", (base,), {"COMMANDS": set()})


def tokenize(text: str, dialect: str = "duckdb") -> list[Token]:
    """Tokens of a procedure's body, or of an expression in it."""
    return _tokenizer_class(dialect)().tokenize(text)


def parse_body(body: str, procedure: str, dialect: str = "duckdb") -> Body:
    """The body's declarations and statements, or the error a CREATE PROCEDURE reports."""
    try:
        tokens = tokenize(body, dialect)
    except Exception as e:  # noqa: BLE001 -- sqlglot's TokenError: an open quote or comment
        raise SqlSyntaxError(f"The body of procedure {procedure} cannot be read: {e}") from None
    return _BodyParser(body, tokens, procedure).parse()


def _name(tok: Token) -> str:
    """A variable's name: unquoted names fold to lower case."""
    return tok.text if tok.token_type == TokenType.IDENTIFIER else tok.text.lower()


class _BodyParser:
    def __init__(self, body: str, tokens: list[Token], procedure: str):
        self.body = body
        self.tokens = tokens
        self.procedure = procedure
        self.i = 0

    # -- tokens ---------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, ahead: int = 0) -> str | None:
        tok = self.peek(ahead)
        return tok.text.upper() if tok is not None and is_word(tok) else None

    def is_type(self, kind: TokenType, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok is not None and tok.token_type == kind

    def line(self, tok: Token | None = None) -> int:
        tok = tok if tok is not None else self.peek()
        if tok is None:
            return self.body.count("\n") + 1
        return position(self.body, tok.start)[0]

    def fail(self, message: str, tok: Token | None = None, exc=SqlSyntaxError):
        tok = tok if tok is not None else self.peek()
        where = f"procedure {self.procedure}, line {self.line(tok)} of its body"
        near = f" near {tok.text!r}" if tok is not None else " at its end"
        if exc is SqlSyntaxError:
            raise SqlSyntaxError(f"{message} ({where}{near})")
        raise exc(f"{message} ({where})")

    def unsupported(self, what: str, tok: Token | None = None):
        self.fail(
            f"{what} is not supported yet in stored procedures (supported: DECLARE, "
            "assignment, EXECUTE [INTO], IF / ELSIF / ELSE, RAISE, RETURN and SQL statements)",
            tok,
            FeatureNotSupported,
        )

    def expect_word(self, word: str, what: str) -> None:
        if self.word() != word:
            self.fail(f"Expected {what}")
        self.i += 1

    def semicolon(self, after: str) -> None:
        if not self.is_type(TokenType.SEMICOLON):
            self.fail(f"Expected ';' after {after}")
        self.i += 1

    def text(self, first: int, last: int) -> str:
        """The body's text from token ``first`` to token ``last`` (inclusive)."""
        return self.body[self.tokens[first].start : self.tokens[last].end + 1]

    def until(self, *stops: str, semicolon: bool = True) -> tuple[int, int]:
        """Indices of the tokens up to (not including) the first top-level stop word or ``;``."""
        first, depth = self.i, 0
        while True:
            tok = self.peek()
            if tok is None:
                return first, self.i - 1
            if tok.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET):
                depth += 1
            elif tok.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET):
                depth -= 1
            elif depth == 0 and (
                (semicolon and tok.token_type == TokenType.SEMICOLON)
                or (is_word(tok) and tok.text.upper() in stops)
            ):
                return first, self.i - 1
            self.i += 1

    def expression(self, what: str, *stops: str) -> str:
        start_tok = self.peek()
        first, last = self.until(*stops)
        if last < first:
            self.fail(f"Expected {what}", start_tok)
        return self.text(first, last)

    # -- the block ------------------------------------------------------------------------

    def parse(self) -> Body:
        if self.is_type(TokenType.LT) and self.is_type(TokenType.LT, 1):
            self.unsupported("Block labels (<<label>>)")
        variables: list[Variable] = []
        if self.word() == "DECLARE":
            self.i += 1
            while self.peek() is not None and self.word() != "BEGIN":
                variables.append(self.declaration())
        self.expect_word("BEGIN", "BEGIN: the body of a procedure is BEGIN ... END")
        statements = self.statements(("END",))
        self.expect_word("END", "END at the end of the procedure's block")
        if self.peek() is not None and is_word(self.peek()):
            self.i += 1  # END label
        if self.is_type(TokenType.SEMICOLON):
            self.i += 1
        if self.peek() is not None:
            self.fail("Unexpected text after the procedure's END")
        names = [v.name for v in variables]
        for name in names:
            if names.count(name) > 1:
                self.fail(f"Variable {name} is declared twice", exc=SqlSyntaxError)
        return Body(tuple(variables), tuple(statements))

    def declaration(self) -> Variable:
        tok = self.peek()
        if tok is None or not (is_word(tok) or tok.token_type == TokenType.IDENTIFIER):
            self.fail("Expected a variable name in DECLARE")
        name = _name(tok)
        self.i += 1
        if self.word() in ("CONSTANT", "ALIAS", "CURSOR", "NO", "SCROLL"):
            self.unsupported(f"{self.word()} in DECLARE", self.peek())
        type_tok, first, depth = self.peek(), self.i, 0
        while self.peek() is not None:  # the type ends at DEFAULT, :=, =, NOT NULL or ';'
            kind = self.peek().token_type
            depth += (kind == TokenType.L_PAREN) - (kind == TokenType.R_PAREN)
            if depth == 0 and (
                kind in (TokenType.SEMICOLON, TokenType.COLON_EQ, TokenType.EQ)
                or self.word() in ("DEFAULT", "NOT")
            ):
                break
            self.i += 1
        if self.i == first:
            self.fail(f"Expected the type of variable {name}", type_tok)
        type_text = self.text(first, self.i - 1)
        base = type_text.split("(")[0].strip().upper()
        if base in _UNSUPPORTED_TYPES:
            self.unsupported(_UNSUPPORTED_TYPES[base], type_tok)
        if "%" in type_text:
            self.unsupported("%TYPE and %ROWTYPE", type_tok)
        if self.word() == "NOT" and self.word(1) == "NULL":
            self.i += 2
        default = None
        if (
            self.word() == "DEFAULT"
            or self.is_type(TokenType.COLON_EQ)
            or self.is_type(TokenType.EQ)
        ):
            self.i += 1
            default = self.expression(f"the initial value of variable {name}")
        self.semicolon(f"the declaration of {name}")
        return Variable(name, type_text, default, self.line(tok))

    def statements(self, stops: tuple[str, ...]) -> list:
        out = []
        while self.peek() is not None and self.word() not in stops:
            statement = self.statement()
            if statement is not None:  # NULL; does nothing
                out.append(statement)
        if self.peek() is None:
            self.fail(f"Expected {' or '.join(stops)}")
        return out

    def statement(self):
        tok = self.peek()
        word = self.word()
        if tok.token_type == TokenType.SEMICOLON:
            self.fail("Unexpected ';' (an empty statement)")
        if self.is_type(TokenType.LT) and self.is_type(TokenType.LT, 1):
            self.unsupported("Block labels (<<label>>)")
        if word == "EXCEPTION":
            self.unsupported(_UNSUPPORTED["EXCEPTION"])
        if word in ("ELSE", "ELSIF", "ELSEIF"):
            self.fail(f"{word} outside an IF statement")
        nxt = self.peek(1)
        if (
            (is_word(tok) or tok.token_type == TokenType.IDENTIFIER)
            and nxt is not None
            and nxt.token_type in (TokenType.COLON_EQ, TokenType.EQ)
        ):
            return self.assignment()
        if word in _UNSUPPORTED:
            self.unsupported(_UNSUPPORTED[word])
        if word == "EXECUTE":
            return self.execute()
        if word == "RAISE":
            return self.raise_()
        if word == "IF":
            return self.if_()
        if word == "RETURN":
            self.i += 1
            if not self.is_type(TokenType.SEMICOLON):
                self.unsupported("RETURN with a value (a procedure returns through INOUT / OUT)")
            self.semicolon("RETURN")
            return Return(self.line(tok))
        if word == "NULL" and self.is_type(TokenType.SEMICOLON, 1):
            self.i += 2
            return None
        return self.sql()

    def assignment(self) -> Assign:
        tok = self.peek()
        name = _name(tok)
        self.i += 2
        expression = self.expression(f"a value to assign to {name}")
        self.semicolon(f"the assignment to {name}")
        return Assign(name, expression, self.line(tok))

    def execute(self) -> Execute:
        tok = self.peek()
        self.i += 1
        expression = self.expression("the statement's text after EXECUTE", "INTO", "USING")
        into = None
        if self.word() == "INTO":
            self.i += 1
            if self.word() == "STRICT":
                self.unsupported("EXECUTE ... INTO STRICT")
            target = self.peek()
            if target is None or not (is_word(target) or target.token_type == TokenType.IDENTIFIER):
                self.fail("Expected a variable name after INTO")
            into = _name(target)
            self.i += 1
            if self.is_type(TokenType.COMMA):
                self.unsupported("EXECUTE ... INTO several variables")
        if self.word() == "USING":
            self.unsupported("EXECUTE ... USING")
        self.semicolon("EXECUTE")
        return Execute(expression, into, self.line(tok))

    def raise_(self) -> Raise:
        tok = self.peek()
        self.i += 1
        level = "EXCEPTION"
        if self.word() in RAISE_LEVELS:
            level = self.word()
            self.i += 1
        fmt_tok = self.peek()
        if fmt_tok is None or fmt_tok.token_type not in STRING_TYPES:
            if self.word() == "USING" or (fmt_tok is not None and is_word(fmt_tok)):
                self.unsupported("RAISE without a format string (a condition name, USING)")
            self.fail("Expected RAISE's message as a quoted string")
        self.i += 1
        arguments = []
        while self.is_type(TokenType.COMMA):
            self.i += 1
            arguments.append(self.expression("an argument of RAISE", "USING"))
            if self.is_type(TokenType.SEMICOLON):
                break
            if self.is_type(TokenType.COMMA):
                continue
        if self.word() == "USING":
            self.unsupported("RAISE ... USING")
        self.semicolon("RAISE")
        fmt = fmt_tok.text
        wanted = fmt.replace("%%", "").count("%")
        if wanted != len(arguments):
            few = "few" if len(arguments) < wanted else "many"
            self.fail(
                f"Too {few} arguments for RAISE: its message has {wanted} '%' and "
                f"{len(arguments)} argument{' follows' if len(arguments) == 1 else 's follow'} it",
                tok,
            )
        return Raise(level, fmt, tuple(arguments), self.line(tok))

    def if_(self) -> If:
        tok = self.peek()
        self.i += 1
        branches = []
        otherwise: list = []
        while True:
            condition = self.expression("a condition after IF", "THEN")
            self.expect_word("THEN", "THEN after IF's condition")
            body = self.statements(("ELSIF", "ELSEIF", "ELSE", "END"))
            branches.append((condition, tuple(body)))
            word = self.word()
            self.i += 1
            if word in ("ELSIF", "ELSEIF"):
                continue
            if word == "ELSE":
                otherwise = self.statements(("END",))
                self.i += 1
            break
        self.expect_word("IF", "END IF")
        self.semicolon("END IF")
        return If(tuple(branches), tuple(otherwise), self.line(tok))

    def sql(self) -> Sql:
        tok = self.peek()
        first, last = self.until()
        self.semicolon("the statement")
        if tok.text.upper() == "SELECT":
            into = self.select_into(first, last)
            if into is not None:
                return into
        return Sql(self.text(first, last), self.line(tok))

    def select_into(self, first: int, last: int) -> Sql | None:
        """``SELECT expression INTO name FROM ...`` (or ``SELECT INTO name expression ...``):
        the query without ``INTO name``, whose first value goes to variable ``name``."""
        depth = 0
        for j in range(first, last + 1):
            kind = self.tokens[j].token_type
            depth += (kind == TokenType.L_PAREN) - (kind == TokenType.R_PAREN)
            if depth or self.tokens[j].text.upper() != "INTO" or j == last:
                continue
            target = self.tokens[j + 1]
            if not (is_word(target) or target.token_type == TokenType.IDENTIFIER):
                return None
            if j + 2 <= last and self.tokens[j + 2].token_type == TokenType.COMMA:
                self.unsupported("SELECT ... INTO several variables", self.tokens[j])
            before = self.body[self.tokens[first].start : self.tokens[j].start]
            after = self.body[self.tokens[j + 1].end + 1 : self.tokens[last].end + 1]
            return Sql(before + " " + after, self.line(self.tokens[first]), _name(target))
        return None


def assigned(statements) -> list[tuple[str, int]]:
    """Every (variable, line) a statement of ``statements`` assigns, nested ones included."""
    out: list[tuple[str, int]] = []
    for statement in statements:
        if isinstance(statement, Assign):
            out.append((statement.target, statement.line))
        elif isinstance(statement, (Execute, Sql)) and statement.into is not None:
            out.append((statement.into, statement.line))
        elif isinstance(statement, If):
            for _, body in statement.branches:
                out.extend(assigned(body))
            out.extend(assigned(statement.otherwise))
    return out
