"""Recursive-descent parser for the ML statements, over sqlglot's tokens.

Statements dispatch through ``STATEMENTS`` (first two words -> method) and CREATE MODEL's clauses
through ``CLAUSES`` (keyword -> method), so adding a statement or a clause is adding a table row.
Clauses may come in any order (Redshift's documentation itself is not consistent about the
order), but each at most once. Values with a closed vocabulary are checked here, with the
position of the offending token and a "did you mean" where one fits.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot.tokens import Token, TokenType

from sqlml import settings as S
from sqlml.errors import FeatureNotSupported, InvalidSetting, NameTooLong, SqlSyntaxError
from sqlml.sql import ast
from sqlml.sql.lexer import STRING_TYPES, Chunk, is_word, position


class Parser:
    def __init__(self, script: str, chunk: Chunk):
        self.script = script
        self.chunk = chunk
        self.tokens = list(chunk.tokens)
        self.i = 0

    # -- token helpers ---------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def peek_word(self, ahead: int = 0) -> str | None:
        tok = self.peek(ahead)
        return tok.text.upper() if tok is not None and is_word(tok) else None

    def advance(self) -> Token:
        tok = self.peek()
        if tok is None:
            self.fail("Unexpected end of statement")
        self.i += 1
        return tok

    def fail(self, message: str, tok: Token | None = None, exc=SqlSyntaxError):
        tok = tok if tok is not None else self.peek()
        if tok is None:  # point just past the last token
            end = self.tokens[-1].end + 1 if self.tokens else 0
            line, col = position(self.script, end)
            raise SqlSyntaxError(message, line=line, col=col, token=None)
        line, col = position(self.script, tok.start)
        if exc is SqlSyntaxError:
            raise SqlSyntaxError(message, line=line, col=col, token=tok.text)
        raise exc(f"{message} (line {line}, column {col})")

    def expect_word(self, *words: str) -> str:
        word = self.peek_word()
        if word not in words:
            self.fail(f"Expected {' or '.join(words)}")
        self.advance()
        return word

    def accept_word(self, word: str) -> bool:
        if self.peek_word() == word:
            self.i += 1
            return True
        return False

    def accept(self, token_type: TokenType) -> bool:
        tok = self.peek()
        if tok is not None and tok.token_type == token_type:
            self.i += 1
            return True
        return False

    def expect(self, token_type: TokenType, what: str) -> Token:
        tok = self.peek()
        if tok is None or tok.token_type != token_type:
            self.fail(f"Expected {what}")
        return self.advance()

    def string(self, what: str) -> str:
        tok = self.peek()
        if tok is None or tok.token_type not in STRING_TYPES:
            self.fail(f"Expected {what} as a quoted string")
        return self.advance().text

    def identifier(self, what: str) -> str:
        tok = self.peek()
        if tok is not None and tok.token_type == TokenType.IDENTIFIER:
            text = tok.text
        elif tok is not None and is_word(tok):
            text = tok.text.lower()
        else:
            self.fail(f"Expected {what}")
        if not text or len(text.encode("utf-8", "surrogatepass")) > S.NAME_LIMIT:
            size = len(text.encode("utf-8", "surrogatepass"))
            shown = text if len(text) <= 24 else text[:20] + "..."
            self.fail(
                f"The name '{shown}' is {size} bytes long; names are 1 to {S.NAME_LIMIT} bytes "
                "(as in Redshift). Choose a shorter name",
                exc=NameTooLong,
            )
        self.advance()
        return text

    def name(self, what: str) -> ast.Name:
        first = self.identifier(what)
        if self.accept(TokenType.DOT):
            return ast.Name(self.identifier(what), schema=first)
        return ast.Name(first)

    def optional_parens(self, inner: Callable[[], object]) -> object:
        if self.accept(TokenType.L_PAREN):
            value = inner()
            self.expect(TokenType.R_PAREN, "')'")
            return value
        return inner()

    def done(self) -> None:
        if self.peek() is not None:
            self.fail("Unexpected token after the end of the statement")

    # -- statements ------------------------------------------------------------------------

    def parse(self) -> ast.MlStatement:
        first = self.peek_word(0)
        if first in FIRST_WORD_STATEMENTS:
            self.i = 1
            return FIRST_WORD_STATEMENTS[first](self)
        method = STATEMENTS.get((first, self.peek_word(1)))
        if method is None:
            self.fail("Not an ML statement")
        self.i = 2
        return method(self)

    def show_model(self) -> ast.MlStatement:
        nxt = self.peek(1)
        if self.peek_word() == "ALL" and (nxt is None or nxt.token_type != TokenType.DOT):
            self.i += 1  # SHOW MODEL ALL, but not SHOW MODEL all.m (a schema named all)
            self.done()
            return ast.ShowModelAll(text=self.chunk.text.strip())
        name = self.name("a model name or ALL after SHOW MODEL")
        self.done()
        return ast.ShowModel(name, text=self.chunk.text.strip())

    def drop_model(self) -> ast.DropModel:
        if_exists = False
        if self.peek_word() == "IF" and self.peek_word(1) == "EXISTS":
            self.i += 2
            if_exists = True
        name = self.name("a model name after DROP MODEL")
        self.done()
        return ast.DropModel(name, if_exists=if_exists, text=self.chunk.text.strip())

    def evaluate_model(self) -> ast.EvaluateModel:
        name = self.name("a model name after EVALUATE MODEL")
        if self.peek_word() != "FROM":
            self.fail(
                "EVALUATE MODEL needs FROM table or FROM (query): rows with the model's features "
                "and its TARGET column"
            )
        source = self.clause_from(self.advance())["source"]
        if isinstance(source, ast.FromJob):
            self.fail("EVALUATE MODEL reads FROM a table or a (query), not a training job name")
        self.done()
        return ast.EvaluateModel(name, source, text=self.chunk.text.strip())

    def export_model(self) -> ast.ExportModel:
        name = self.name("a model name after EXPORT MODEL")
        if self.peek_word() != "TO":
            self.fail("EXPORT MODEL needs TO 'path': the folder to write the export to")
        self.advance()
        target = self.string("the folder to export to, e.g. TO '/exports/churn'")
        fmt = "SQLML"
        if self.accept_word("FORMAT"):
            tok = self.peek()
            if tok is not None and tok.token_type in STRING_TYPES:
                word = self.advance().text.upper()
            else:
                word = self.peek_word() or ""
                if tok is not None:
                    self.advance()
            if word not in ast.EXPORT_FORMATS:
                self.fail(
                    f"Unknown EXPORT MODEL FORMAT.{S.did_you_mean(word, ast.EXPORT_FORMATS)} "
                    f"Valid formats: {', '.join(ast.EXPORT_FORMATS)}",
                    tok,
                )
            fmt = word
        self.done()
        return ast.ExportModel(name, target, fmt, text=self.chunk.text.strip())

    def create_external_model(self) -> ast.MlStatement:
        from sqlml.sql.external import parse_create_external_model  # it builds on Parser

        return parse_create_external_model(self)

    # -- users ---------------------------------------------------------------------------

    def user_options(self, statement: str) -> dict:
        """``[WITH] PASSWORD 'secret' | PASSWORD DISABLE | SUPERUSER | NOSUPERUSER ...``, each
        at most once (Redshift spells SUPERUSER as CREATEUSER)."""
        self.accept_word("WITH")
        options: dict[str, object] = {}
        while self.peek() is not None:
            tok = self.peek()
            word = self.peek_word()
            key = "password" if word == "PASSWORD" else "superuser" if word in _SUPER else None
            if key is None:
                if word in _LATER_USER_OPTIONS:
                    self.fail(
                        f"The {statement} option {word} is not supported yet "
                        "(supported: PASSWORD, SUPERUSER, NOSUPERUSER)",
                        exc=FeatureNotSupported,
                    )
                self.fail(f"Expected PASSWORD, SUPERUSER or NOSUPERUSER in {statement}")
            if key in options:
                self.fail(f"The {key.upper()} option is given twice", tok)
            self.advance()
            if key == "superuser":
                options[key] = _SUPER[word]
            elif self.peek_word() in ("DISABLE", "NULL"):
                self.advance()
                options[key] = None
            else:
                options[key] = self.string("the password")
        return options

    def create_user(self) -> ast.CreateUser:
        name = self.identifier("a user name after CREATE USER")
        options = self.user_options("CREATE USER")
        return ast.CreateUser(name, **options, text=self.chunk.text.strip())

    def alter_user(self) -> ast.AlterUser:
        name = self.identifier("a user name after ALTER USER")
        options = self.user_options("ALTER USER")
        if not options:
            self.fail("ALTER USER needs PASSWORD, SUPERUSER or NOSUPERUSER")
        return ast.AlterUser(
            name, **options, set_password="password" in options, text=self.chunk.text.strip()
        )

    def drop_user(self) -> ast.DropUser:
        if_exists = self.if_exists()
        names = [self.identifier("a user name after DROP USER")]
        while self.accept(TokenType.COMMA):
            names.append(self.identifier("a user name"))
        self.done()
        return ast.DropUser(tuple(names), if_exists, text=self.chunk.text.strip())

    def names(self, what: str) -> tuple[str, ...]:
        """``name [, name ...]``."""
        out = [self.identifier(what)]
        while self.accept(TokenType.COMMA):
            out.append(self.identifier(what))
        return tuple(out)

    def if_exists(self) -> bool:
        if self.peek_word() == "IF" and self.peek_word(1) == "EXISTS":
            self.i += 2
            return True
        return False

    # -- privileges, groups and roles (reference §9) ----------------------------------------

    def grant(self) -> ast.MlStatement:
        text = self.chunk.text.strip()
        if self.peek_word() == "ROLE":
            roles = self.role_list()
            self.expect_word("TO")
            grantees = self.grantees("GRANT ROLE", ("user", "role"), option="ADMIN")
            self.done()
            return ast.GrantRole(roles, grantees, text=text)
        privileges, models = self.privilege_target("GRANT")
        self.expect_word("TO")
        grantees = self.grantees("GRANT", _grantee_kinds(privileges), "GRANT", privileges)
        self.done()
        return ast.GrantPrivileges(privileges, grantees, models, text=text)

    def revoke(self) -> ast.MlStatement:
        text = self.chunk.text.strip()
        option_tok, option = self.peek(), None
        if self.peek_word() in ("GRANT", "ADMIN") and self.peek_word(1) == "OPTION":
            option = self.advance().text.upper()
            self.advance()
            self.expect_word("FOR")
        if self.peek_word() == "ROLE":
            if option == "GRANT":
                self.fail(
                    "A role is revoked with ADMIN OPTION FOR (REVOKE ADMIN OPTION FOR ROLE r "
                    "FROM user); GRANT OPTION FOR is for privileges",
                    option_tok,
                )
            roles = self.role_list()
            self.expect_word("FROM")
            grantees = self.grantees("REVOKE ROLE", ("user", "role"))
            self.done()
            return ast.RevokeRole(roles, grantees, admin_option_for=option == "ADMIN", text=text)
        if option == "ADMIN":
            self.fail(
                "ADMIN OPTION FOR is for roles (REVOKE ADMIN OPTION FOR ROLE r FROM user); "
                "a privilege is revoked with GRANT OPTION FOR",
                option_tok,
            )
        privileges, models = self.privilege_target("REVOKE")
        self.expect_word("FROM")
        grantees = self.grantees("REVOKE", _grantee_kinds(privileges), None, privileges)
        self.accept_word("RESTRICT")  # Redshift's default: only what was granted directly
        self.done()
        return ast.RevokePrivileges(
            privileges, grantees, models, grant_option_for=option == "GRANT", text=text
        )

    def role_list(self) -> tuple[str, ...]:
        """``ROLE r [, [ROLE] r2 ...]`` (Redshift repeats the keyword; it may be left out)."""
        self.expect_word("ROLE")
        roles = [self.role_name("a role name after ROLE")]
        while self.accept(TokenType.COMMA):
            self.accept_word("ROLE")
            roles.append(self.role_name("a role name"))
        return tuple(roles)

    def role_name(self, what: str) -> str:
        if self.peek_word() in ("TO", "FROM"):  # a bare name, but surely a forgotten one
            self.fail(f"Expected {what}")
        return self.identifier(what)

    def model_name(self, what: str) -> ast.Name:
        if self.peek_word() in ("TO", "FROM"):
            self.fail(f"Expected {what}")
        return self.name(what)

    def privilege_target(self, verb: str) -> tuple[tuple[str, ...], tuple[ast.Name, ...]]:
        """``{ EXECUTE | ALL [PRIVILEGES] } ON MODEL m [, ...]`` or ``{ CREATE MODEL | DROP
        MODEL } [, ...]``: the privileges and the models (none for system privileges)."""
        word = self.peek_word()
        if word in ("EXECUTE", "ALL"):
            self.advance()
            if word == "ALL":
                self.accept_word("PRIVILEGES")
            if self.peek_word() != "ON":
                self.fail(f"Expected ON MODEL after {word}")
            self.advance()
            self.model_object(verb, word)
            models = [self.model_name("a model name after ON MODEL")]
            while self.accept(TokenType.COMMA):
                models.append(self.model_name("a model name"))
            return ("EXECUTE",), tuple(models)
        privileges: list[str] = []
        while True:
            tok = self.peek()
            pair = (self.peek_word(), self.peek_word(1))
            if pair not in (("CREATE", "MODEL"), ("DROP", "MODEL")):
                self.unsupported_privilege(verb, bool(privileges))
            privilege = f"{pair[0]} {pair[1]}"
            if privilege in privileges:
                self.fail(f"{privilege} is given twice", tok)
            privileges.append(privilege)
            self.i += 2
            if not self.accept(TokenType.COMMA):
                return tuple(privileges), ()

    def model_object(self, verb: str, privilege: str) -> None:
        """The ``MODEL`` after ON: other objects (tables, schemas, functions) have no privileges
        in sqlml."""
        tok, word = self.peek(), self.peek_word()
        if word == "MODEL":
            self.advance()
            return
        if tok is None:
            self.fail(f"Expected MODEL after {privilege} ON")
        if word == "FUNCTION":
            self.fail(
                f"{verb} {privilege} ON FUNCTION is not supported: a model's functions are "
                f"granted through the model ({verb} EXECUTE ON MODEL m ...), as in Redshift",
                exc=FeatureNotSupported,
            )
        what = f"ON {word}" if word in _OTHER_OBJECTS else "on tables"
        self.fail(
            f"{verb} {privilege} {what} is not supported: sqlml has privileges on models only "
            f"({verb} EXECUTE ON MODEL m); every user may use every table, schema and function",
            exc=FeatureNotSupported,
        )

    def unsupported_privilege(self, verb: str, after_comma: bool) -> None:
        word = self.peek_word()
        if after_comma:
            self.fail(
                "Expected CREATE MODEL or DROP MODEL: system privileges and EXECUTE ON MODEL "
                "are granted in separate statements"
            )
        if word == "ASSUMEROLE":
            self.fail(
                f"{verb} ASSUMEROLE is not supported: sqlml uses no IAM roles (IAM_ROLE is "
                "accepted and ignored)",
                exc=FeatureNotSupported,
            )
        if word in _TABLE_PRIVILEGES:
            self.fail(
                f"{verb} {word} is not supported: sqlml has privileges on models only (CREATE "
                "MODEL, DROP MODEL, EXECUTE ON MODEL) and roles; every user may use every "
                "table, schema and function",
                exc=FeatureNotSupported,
            )
        self.fail(
            f"Expected CREATE MODEL, DROP MODEL, EXECUTE ON MODEL, ALL ON MODEL or ROLE after "
            f"{verb}"
        )

    def grantees(
        self,
        statement: str,
        kinds: tuple[str, ...],
        option: str | None = None,
        privileges: tuple[str, ...] = (),
    ) -> tuple[ast.Grantee, ...]:
        """``{ user [WITH <option> OPTION] | GROUP g | ROLE r | PUBLIC } [, ...]``, of the
        ``kinds`` the statement takes (``option``: GRANT or ADMIN; None in a REVOKE)."""
        out: list[ast.Grantee] = []
        while True:
            tok, word = self.peek(), self.peek_word()
            if word == "PUBLIC":
                kind = "public"
            elif word in ("GROUP", "ROLE"):
                kind = word.lower()
            else:
                kind = "user"
            if kind not in kinds:
                self.fail(_refused_grantee(statement, kind, privileges), tok)
            if kind == "public":
                self.advance()
                grantee = ast.Grantee("public")
            elif kind == "user":
                grantee = ast.Grantee(
                    "user", self.identifier("a user name, GROUP g, ROLE r or PUBLIC")
                )
            else:
                self.advance()
                grantee = ast.Grantee(kind, self.identifier(f"a {kind} name after {word}"))
            if option is not None and self.peek_word() == "WITH":
                with_tok = self.advance()
                self.expect_word(option)
                self.expect_word("OPTION")
                if kind != "user":
                    self.fail(
                        f"WITH {option} OPTION is given to users only, not to {grantee} "
                        "(as in Redshift)",
                        with_tok,
                    )
                grantee = ast.Grantee("user", grantee.name, with_option=True)
            out.append(grantee)
            if not self.accept(TokenType.COMMA):
                return tuple(out)

    def create_group(self) -> ast.CreateGroup:
        name = self.identifier("a group name after CREATE GROUP")
        users: tuple[str, ...] = ()
        if self.peek() is not None:
            self.accept_word("WITH")
            if self.peek_word() != "USER":
                self.fail("Expected [WITH] USER name, ... after the group name")
            self.advance()
            users = self.names("a user name")
        self.done()
        return ast.CreateGroup(name, users, text=self.chunk.text.strip())

    def alter_group(self) -> ast.AlterGroup:
        name = self.identifier("a group name after ALTER GROUP")
        if self.peek_word() not in ("ADD", "DROP", "RENAME"):
            self.fail("Expected ADD USER, DROP USER or RENAME TO after the group name")
        action = self.advance().text.upper()
        if action == "RENAME":
            self.expect_word("TO")
            new_name = self.identifier("the group's new name after RENAME TO")
            self.done()
            return ast.AlterGroup(name, action, new_name=new_name, text=self.chunk.text.strip())
        self.expect_word("USER")
        users = self.names("a user name")
        self.done()
        return ast.AlterGroup(name, action, users, text=self.chunk.text.strip())

    def drop_group(self) -> ast.DropGroup:
        if_exists = self.if_exists()
        names = self.names("a group name after DROP GROUP")
        self.done()
        return ast.DropGroup(names, if_exists, text=self.chunk.text.strip())

    def create_role(self) -> ast.CreateRole:
        name = self.identifier("a role name after CREATE ROLE")
        if self.peek_word() == "EXTERNALID":
            self.fail(
                "CREATE ROLE ... EXTERNALID is not supported (sqlml has no identity provider)",
                exc=FeatureNotSupported,
            )
        self.done()
        return ast.CreateRole(name, text=self.chunk.text.strip())

    def drop_role(self) -> ast.DropRole:
        if_exists = self.if_exists()
        name = self.identifier("a role name after DROP ROLE")
        force = False
        if self.peek_word() in ("FORCE", "RESTRICT"):
            force = self.advance().text.upper() == "FORCE"
        self.done()
        return ast.DropRole(name, force, if_exists, text=self.chunk.text.strip())

    def alter_role(self) -> ast.MlStatement:
        self.fail(
            "ALTER ROLE is not supported yet (Redshift's renames a role or changes its owner): "
            "DROP ROLE it and CREATE ROLE another",
            self.tokens[0],
            exc=FeatureNotSupported,
        )

    def create_model(self) -> ast.CreateModel:
        fields: dict[str, object] = {"name": self.name("a model name after CREATE MODEL")}
        seen: set[str] = set()
        while self.peek() is not None:
            tok = self.peek()
            word = self.peek_word()
            handler = CLAUSES.get(word)
            if handler is None:
                hint = S.did_you_mean(word, CLAUSES) if word else ""
                self.fail(f"Unknown CREATE MODEL clause.{hint}")
            if word in seen:
                self.fail(f"The {word} clause is given twice")
            seen.add(word)
            self.advance()
            fields.update(handler(self, tok))
        fields.setdefault("source", None)
        fields.setdefault("function", None)
        stmt = ast.CreateModel(**fields, text=self.chunk.text.strip())
        self.check_required(stmt)
        return stmt

    def check_required(self, stmt: ast.CreateModel) -> None:
        if stmt.source is None and stmt.sagemaker is None:
            self.fail(
                "CREATE MODEL needs a FROM clause (FROM table, FROM (query) or FROM 'job')", None
            )
        if stmt.function is None and stmt.model_type != "FORECAST":
            self.fail("CREATE MODEL needs a FUNCTION clause naming the prediction function", None)

    # -- CREATE MODEL clauses: each returns the fields it sets --------------------------------

    def clause_from(self, _kw: Token) -> dict:
        tok = self.peek()
        if tok is not None and tok.token_type in STRING_TYPES:
            return {"source": ast.FromJob(self.advance().text)}
        if tok is not None and tok.token_type == TokenType.L_PAREN:
            inner = self.peek(1)
            if (
                inner is not None
                and inner.token_type in STRING_TYPES
                and self.peek(2) is not None
                and self.peek(2).token_type == TokenType.R_PAREN
            ):
                self.i += 3
                return {"source": ast.FromJob(inner.text)}
            return {"source": ast.FromQuery(self.parenthesized_text("query"))}
        return {"source": ast.FromTable(self.name("a table name or a (query) after FROM"))}

    def parenthesized_text(self, what: str) -> str:
        """Consume ``( ... )`` and return the source text between the parentheses.

        The text runs from the first to the last token inside, so comments before the first or
        after the last token (a trailing ``-- comment`` would swallow the ``)`` when rendered
        back) are not part of it.
        """
        open_tok = self.advance()
        first = self.i
        depth = 1
        while True:
            tok = self.peek()
            if tok is None:
                self.fail(f"Missing ')' to close the {what} opened here", open_tok)
            self.i += 1
            if tok.token_type == TokenType.L_PAREN:
                depth += 1
            elif tok.token_type == TokenType.R_PAREN:
                depth -= 1
                if depth == 0:
                    if self.i - 1 == first:
                        self.fail(f"Empty {what} in parentheses", open_tok)
                    return self.script[self.tokens[first].start : self.tokens[self.i - 2].end + 1]

    def tokens_text(self, first: int, stop: int) -> str:
        """The text of ``tokens[first:stop]``: comments dropped, whitespace collapsed to a space."""
        out: list[str] = []
        for j in range(first, stop):
            tok = self.tokens[j]
            if j > first and tok.start > self.tokens[j - 1].end + 1:
                out.append(" ")
            out.append(self.script[tok.start : tok.end + 1])
        return " ".join("".join(out).split())

    def clause_target(self, _kw: Token) -> dict:
        tok = self.peek()
        if tok is not None and tok.token_type in STRING_TYPES:  # one doc example: TARGET 'Churn'
            return {"target": self.advance().text}
        return {"target": self.identifier("the target column after TARGET")}

    def clause_function(self, _kw: Token) -> dict:
        fields: dict = {"function": self.name("a function name after FUNCTION")}
        if self.peek() is not None and self.peek().token_type == TokenType.L_PAREN:
            first = self.i + 1
            self.parenthesized_text("argument type list")
            fields["function_arg_types"] = tuple(self.split_types(first, self.i - 1))
        return fields

    def split_types(self, first: int, stop: int) -> list[str]:
        """The data types of ``tokens[first:stop]``, split at the commas outside parentheses."""
        parts, depth, start = [], 0, first
        for j in range(first, stop + 1):
            tok = self.tokens[j] if j < stop else None
            if tok is not None and tok.token_type in (TokenType.L_PAREN, TokenType.R_PAREN):
                depth += 1 if tok.token_type == TokenType.L_PAREN else -1
            elif tok is None or (tok.token_type == TokenType.COMMA and depth == 0):
                if j == start:
                    self.fail("Expected a data type", self.tokens[j])
                parts.append(self.tokens_text(start, j).upper())
                start = j + 1
        return parts

    def clause_returns(self, kw: Token) -> dict:
        start = self.peek()
        if start is None or not is_word(start):
            self.fail("Expected a data type after RETURNS")
        first = self.i
        while self.peek() is not None and self.peek_word() not in CLAUSES:
            tok = self.peek()
            if tok.token_type == TokenType.L_PAREN:
                self.parenthesized_text("type arguments")
            else:
                self.advance()
        return {"returns": self.tokens_text(first, self.i).upper()}

    def clause_sagemaker(self, _kw: Token) -> dict:
        endpoint = self.string("the SageMaker endpoint name")
        if self.accept(TokenType.COLON):
            endpoint += ":" + self.string("the model name on the multi-model endpoint")
        return {"sagemaker": endpoint}

    def clause_iam_role(self, _kw: Token) -> dict:
        if self.accept_word("DEFAULT"):
            return {"iam_role": "default"}
        return {"iam_role": self.string("IAM_ROLE default or an IAM role ARN")}

    def clause_auto(self, _kw: Token) -> dict:
        return {"auto": self.expect_word("ON", "OFF") == "ON"}

    def clause_model_type(self, _kw: Token) -> dict:
        tok = self.peek()
        word = self.peek_word()
        supported = [t for t in S.MODEL_TYPES if t not in S.UNSUPPORTED_MODEL_TYPES]
        if word not in S.MODEL_TYPES:
            later = S.UNSUPPORTED_MODEL_TYPES
            self.fail(
                f"Unknown MODEL_TYPE.{S.did_you_mean(word or '', supported)} "
                f"Valid model types: {', '.join(supported)}"
                + (f" ({', '.join(later)}: not supported yet)" if later else ""),
                tok,
            )
        self.advance()
        return {"model_type": word}

    def clause_problem_type(self, _kw: Token) -> dict:
        def inner():
            tok, word = self.peek(), self.peek_word()
            if word not in S.PROBLEM_TYPES:
                self.fail(
                    f"Unknown PROBLEM_TYPE.{S.did_you_mean(word or '', S.PROBLEM_TYPES)} "
                    f"Valid problem types: {', '.join(S.PROBLEM_TYPES)}",
                    tok,
                )
            self.advance()
            return word

        return {"problem_type": self.optional_parens(inner)}

    def clause_objective(self, _kw: Token) -> dict:
        def inner():
            tok = self.peek()
            text = self.string("the objective, e.g. OBJECTIVE 'F1'")
            canonical = S.canonical_objective(text)
            if canonical is None:
                self.fail(
                    f"Unknown OBJECTIVE '{text}'.{S.did_you_mean(text, S.ALL_OBJECTIVES)} "
                    f"Valid objectives: {', '.join(S.ALL_OBJECTIVES)}",
                    tok,
                )
            return canonical

        return {"objective": self.optional_parens(inner)}

    def clause_preprocessors(self, _kw: Token) -> dict:
        return {"preprocessors": self.string("the PREPROCESSORS JSON (or 'none')")}

    def clause_hyperparameters(self, _kw: Token) -> dict:
        self.expect_word("DEFAULT")
        if not self.accept_word("EXCEPT"):
            return {"hyperparameters": ()}
        self.expect(TokenType.L_PAREN, "'(' after DEFAULT EXCEPT")
        pairs: list[tuple[str, str]] = []
        while True:
            key_tok = self.peek()
            key = self.identifier("a hyperparameter name")
            if any(k == key for k, _ in pairs):
                self.fail(f"Hyperparameter {key.upper()} is given twice", key_tok)
            tok = self.peek()
            if tok is not None and tok.token_type == TokenType.NUMBER:
                value = self.advance().text
            else:
                value = self.string(f"the value of hyperparameter {key.upper()}")
            pairs.append((key, value))
            if not self.accept(TokenType.COMMA):
                break
        self.expect(TokenType.R_PAREN, "',' or ')' in the hyperparameter list")
        return {"hyperparameters": tuple(pairs)}

    def clause_settings(self, _kw: Token) -> dict:
        self.expect(TokenType.L_PAREN, "'(' after SETTINGS")
        values: dict[str, object] = {}
        while True:
            key_tok = self.peek()
            key = self.identifier("a setting name").upper()
            try:
                setting = S.lookup_setting(key)
            except InvalidSetting as e:
                self.fail(str(e), key_tok, exc=InvalidSetting)
            if setting.name in values:
                self.fail(f"Setting {setting.name} is given twice", key_tok, exc=InvalidSetting)
            value_tok = self.peek()
            raw = self.setting_value(setting.name)
            try:
                values[setting.name] = setting.validate(raw)
            except InvalidSetting as e:
                self.fail(str(e), value_tok, exc=InvalidSetting)
            except FeatureNotSupported as e:
                self.fail(str(e), key_tok, exc=FeatureNotSupported)
            if not self.accept(TokenType.COMMA):
                break
        self.expect(TokenType.R_PAREN, "',' or ')' in SETTINGS")
        return {"settings": tuple(values.items())}

    def setting_value(self, key: str) -> object:
        tok = self.peek()
        if tok is None:
            self.fail(f"Expected a value for setting {key}")
        if tok.token_type in STRING_TYPES:
            return self.advance().text
        negative = self.accept(TokenType.DASH)
        tok = self.peek()
        if tok is not None and tok.token_type == TokenType.NUMBER:
            text = self.advance().text
            try:
                number = int(text)
            except ValueError:
                return -float(text) if negative else float(text)
            return -number if negative else number
        if not negative and tok is not None and is_word(tok):
            return self.advance().text
        self.fail(f"Expected a value for setting {key}")


STATEMENTS: dict[tuple, Callable[[Parser], ast.MlStatement]] = {
    ("CREATE", "MODEL"): Parser.create_model,
    ("SHOW", "MODEL"): Parser.show_model,
    ("DROP", "MODEL"): Parser.drop_model,
    ("EVALUATE", "MODEL"): Parser.evaluate_model,
    ("EXPORT", "MODEL"): Parser.export_model,
    ("CREATE", "EXTERNAL"): Parser.create_external_model,
    ("CREATE", "USER"): Parser.create_user,
    ("ALTER", "USER"): Parser.alter_user,
    ("DROP", "USER"): Parser.drop_user,
    ("CREATE", "GROUP"): Parser.create_group,
    ("ALTER", "GROUP"): Parser.alter_group,
    ("DROP", "GROUP"): Parser.drop_group,
    ("CREATE", "ROLE"): Parser.create_role,
    ("ALTER", "ROLE"): Parser.alter_role,
    ("DROP", "ROLE"): Parser.drop_role,
}


def _procedure(parser: Parser, or_replace: bool = False) -> ast.MlStatement:
    from sqlml.sql.procedures import parse_create_procedure  # it builds on Parser

    return parse_create_procedure(parser, or_replace)


def _or_replace(parser: Parser) -> ast.MlStatement:
    parser.expect_word("REPLACE")
    parser.expect_word("PROCEDURE")
    return _procedure(parser, or_replace=True)


def _drop_procedure(parser: Parser) -> ast.MlStatement:
    from sqlml.sql.procedures import parse_drop_procedure

    return parse_drop_procedure(parser)


def _call(parser: Parser) -> ast.MlStatement:
    from sqlml.sql.procedures import parse_call

    return parse_call(parser)


STATEMENTS[("CREATE", "PROCEDURE")] = _procedure
STATEMENTS[("CREATE", "OR")] = _or_replace  # CREATE OR REPLACE PROCEDURE (lexer: only that)
STATEMENTS[("DROP", "PROCEDURE")] = _drop_procedure


def _copy(parser: Parser) -> ast.MlStatement:
    from sqlml.sql.load import parse_copy  # it builds on Parser

    return parse_copy(parser)


def _unload(parser: Parser) -> ast.MlStatement:
    from sqlml.sql.load import parse_unload

    return parse_unload(parser)


# Statements known by their first word alone (COPY and UNLOAD: in a redshift session only,
# ``lexer.is_load_statement``).
FIRST_WORD_STATEMENTS: dict[str, Callable[[Parser], ast.MlStatement]] = {
    "GRANT": Parser.grant,
    "REVOKE": Parser.revoke,
    "COPY": _copy,
    "UNLOAD": _unload,
    "CALL": _call,
}


def _grantee_kinds(privileges: tuple[str, ...]) -> tuple[str, ...]:
    """Who the privileges are granted to: DROP MODEL is a system permission of roles only."""
    return ("role",) if "DROP MODEL" in privileges else ("user", "group", "role", "public")


def _refused_grantee(statement: str, kind: str, privileges: tuple[str, ...]) -> str:
    if "DROP MODEL" in privileges:
        return (
            "DROP MODEL is a system permission of roles only (GRANT DROP MODEL TO ROLE r), as "
            "in Redshift: grant a role that has it, or let the model's owner drop it"
        )
    target = "PUBLIC" if kind == "public" else f"a {kind}"
    return f"{statement} takes users and roles, not {target} (as in Redshift)"


# SUPERUSER and Redshift's CREATEUSER (a user who may create users is a superuser there).
_SUPER = {"SUPERUSER": True, "CREATEUSER": True, "NOSUPERUSER": False, "NOCREATEUSER": False}
_LATER_USER_OPTIONS = {
    "CREATEDB", "NOCREATEDB", "VALID", "CONNECTION", "IN", "SYSLOG", "SESSION", "EXTERNALID",
    "CREATEROLE", "NOCREATEROLE", "LOGIN", "NOLOGIN", "INHERIT", "NOINHERIT",
}  # fmt: skip

# Privileges of other objects, refused with their own message.
_TABLE_PRIVILEGES = {
    "SELECT", "INSERT", "UPDATE", "DELETE", "REFERENCES", "TRIGGER", "TRUNCATE", "USAGE",
    "CREATE", "TEMP", "TEMPORARY", "ALTER", "DROP", "CONNECT", "EXECUTE", "ALL",
}  # fmt: skip
_OTHER_OBJECTS = {
    "TABLE", "SCHEMA", "DATABASE", "PROCEDURE", "LANGUAGE", "ALL", "DATASHARE", "SEQUENCE",
}  # fmt: skip

CLAUSES: dict[str, Callable[[Parser, Token], dict]] = {
    "FROM": Parser.clause_from,
    "TARGET": Parser.clause_target,
    "FUNCTION": Parser.clause_function,
    "RETURNS": Parser.clause_returns,
    "SAGEMAKER": Parser.clause_sagemaker,
    "IAM_ROLE": Parser.clause_iam_role,
    "AUTO": Parser.clause_auto,
    "MODEL_TYPE": Parser.clause_model_type,
    "PROBLEM_TYPE": Parser.clause_problem_type,
    "OBJECTIVE": Parser.clause_objective,
    "PREPROCESSORS": Parser.clause_preprocessors,
    "HYPERPARAMETERS": Parser.clause_hyperparameters,
    "SETTINGS": Parser.clause_settings,
}
