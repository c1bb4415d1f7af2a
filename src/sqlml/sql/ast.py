"""Typed statement objects for the ML statements.

Each clause of CREATE MODEL is a field; a clause the user left out is ``None``. Objects are frozen
and compare by value, so ``parse(to_sql(stmt)) == stmt`` is a plain equality test. The original
text is kept (``text``) but not compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Name:
    """A possibly schema-qualified name. Unquoted identifiers are folded to lower case."""

    name: str
    schema: str | None = None

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True)
class FromTable:
    table: Name


@dataclass(frozen=True)
class FromQuery:
    """``FROM ( select )``: the query's text exactly as written between the parentheses."""

    sql: str

    def expression(self, dialect: str = "duckdb"):
        """The query as a sqlglot expression tree (parsed on demand; DuckDB runs the text)."""
        import sqlglot

        return sqlglot.parse_one(self.sql, read=dialect)


@dataclass(frozen=True)
class FromJob:
    """``FROM 'job_name'``: bring-your-own-model from a training job or an artifact path."""

    job: str


Source = FromTable | FromQuery | FromJob


@dataclass(frozen=True)
class CreateModel:
    name: Name
    source: Source | None
    function: Name | None
    target: str | None = None
    function_arg_types: tuple[str, ...] | None = None
    returns: str | None = None
    sagemaker: str | None = None
    iam_role: str | None = None  # 'default' or an ARN
    auto: bool | None = None  # None: not written (AUTO ON is the default)
    model_type: str | None = None
    problem_type: str | None = None
    objective: str | None = None
    preprocessors: str | None = None
    # None: no HYPERPARAMETERS clause; () : DEFAULT; otherwise DEFAULT EXCEPT (pairs).
    hyperparameters: tuple[tuple[str, str], ...] | None = None
    settings: tuple[tuple[str, object], ...] = ()
    text: str = field(default="", compare=False, repr=False)

    @property
    def settings_dict(self) -> dict[str, object]:
        return dict(self.settings)


@dataclass(frozen=True)
class CreateExternalModel:
    """``CREATE EXTERNAL MODEL m FUNCTION fn [IAM_ROLE ...] MODEL_TYPE { BEDROCK | OPENAI }
    SETTINGS (...)`` (reference §3): an LLM served elsewhere (kinds/external.py)."""

    name: Name
    function: Name | None
    model_type: str | None
    iam_role: str | None = None
    settings: tuple[tuple[str, object], ...] = ()
    text: str = field(default="", compare=False, repr=False)

    @property
    def settings_dict(self) -> dict[str, object]:
        return dict(self.settings)


@dataclass(frozen=True)
class ShowModel:
    name: Name
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class ShowModelAll:
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class DropModel:
    name: Name
    if_exists: bool = False
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class EvaluateModel:
    """``EVALUATE MODEL name FROM { table | ( query ) }``: the model's metrics on rows that carry
    the target column (BigQuery's ML.EVALUATE)."""

    name: Name
    source: FromTable | FromQuery
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class ExportModel:
    """``EXPORT MODEL name TO 'path' [FORMAT SQLML | NATIVE | ONNX]`` (sqlml's extension): the
    model's package, its learners' native files, or an ONNX graph, written to a folder."""

    name: Name
    target: str
    format: str = "SQLML"
    text: str = field(default="", compare=False, repr=False)


EXPORT_FORMATS = ("SQLML", "NATIVE", "ONNX")


@dataclass(frozen=True)
class CreateUser:
    """``CREATE USER name [WITH] PASSWORD 'secret' [SUPERUSER | NOSUPERUSER]`` (Redshift's
    CREATEUSER / NOCREATEUSER too). ``superuser`` None: not written."""

    name: str
    password: str | None = field(default=None, repr=False)
    superuser: bool | None = None
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class AlterUser:
    """``ALTER USER name [WITH] { PASSWORD 'secret' | PASSWORD DISABLE | SUPERUSER |
    NOSUPERUSER } ...``. ``set_password``: a PASSWORD clause was given (None: DISABLE)."""

    name: str
    password: str | None = field(default=None, repr=False)
    superuser: bool | None = None
    set_password: bool = False
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class DropUser:
    names: tuple[str, ...]
    if_exists: bool = False
    text: str = field(default="", compare=False, repr=False)


# -- privileges, groups and roles (Redshift, reference §9) ---------------------------------------

GRANTEE_KINDS = ("user", "group", "role", "public")
SYSTEM_PRIVILEGES = ("CREATE MODEL", "DROP MODEL")


@dataclass(frozen=True)
class Grantee:
    """Who a privilege or a role is granted to: a user (``name``), ``GROUP g``, ``ROLE r`` or
    ``PUBLIC`` (every user; ``name`` empty). ``with_option``: WITH GRANT OPTION (of a privilege)
    or WITH ADMIN OPTION (of a role), which Redshift gives to users only."""

    kind: str
    name: str = ""
    with_option: bool = False

    def __str__(self) -> str:
        return "PUBLIC" if self.kind == "public" else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class GrantPrivileges:
    """``GRANT { CREATE MODEL | DROP MODEL } [, ...] TO ...`` (system privileges: ``models``
    empty) or ``GRANT { EXECUTE | ALL [PRIVILEGES] } ON MODEL m [, ...] TO ...`` (``privileges``
    is ``("EXECUTE",)``: ALL on a model is EXECUTE)."""

    privileges: tuple[str, ...]
    grantees: tuple[Grantee, ...]
    models: tuple[Name, ...] = ()
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class RevokePrivileges:
    """The REVOKE of :class:`GrantPrivileges`; ``grant_option_for``: REVOKE GRANT OPTION FOR,
    which takes back only the right to grant."""

    privileges: tuple[str, ...]
    grantees: tuple[Grantee, ...]
    models: tuple[Name, ...] = ()
    grant_option_for: bool = False
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class GrantRole:
    """``GRANT ROLE r [, ...] TO { user [WITH ADMIN OPTION] | ROLE r2 } [, ...]``."""

    roles: tuple[str, ...]
    grantees: tuple[Grantee, ...]
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class RevokeRole:
    """``REVOKE [ADMIN OPTION FOR] ROLE r [, ...] FROM { user | ROLE r2 } [, ...]``."""

    roles: tuple[str, ...]
    grantees: tuple[Grantee, ...]
    admin_option_for: bool = False
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class CreateGroup:
    """``CREATE GROUP g [[WITH] USER a [, ...]]``."""

    name: str
    users: tuple[str, ...] = ()
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class AlterGroup:
    """``ALTER GROUP g { ADD | DROP } USER a [, ...]`` or ``ALTER GROUP g RENAME TO n``
    (``action`` ADD, DROP or RENAME)."""

    name: str
    action: str
    users: tuple[str, ...] = ()
    new_name: str | None = None
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class DropGroup:
    names: tuple[str, ...]
    if_exists: bool = False
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class CreateRole:
    name: str
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class DropRole:
    """``DROP ROLE r [FORCE | RESTRICT]``: RESTRICT (the default) refuses a role still granted
    to users or roles; FORCE takes it from them first."""

    name: str
    force: bool = False
    if_exists: bool = False
    text: str = field(default="", compare=False, repr=False)


# -- loading and unloading (Redshift's COPY and UNLOAD, in a redshift session) -----------------


@dataclass(frozen=True)
class CopyFrom:
    """``COPY table [(column, ...)] FROM 'url' [option ...]``: Redshift's load from object
    storage (``s3://``) or files. ``options`` are (NAME, value) in the order written: True for a
    flag, a string, an int, or (number, unit) for a size; ``FORMAT`` is CSV, PARQUET or JSON,
    and JSON's argument ('auto', 'auto ignorecase') follows it as ("JSON", text).
    ``authorization`` (IAM_ROLE, CREDENTIALS, ACCESS_KEY_ID...) is accepted and not used:
    credentials come from the environment; it is kept out of ``repr``."""

    table: Name
    columns: tuple[str, ...] | None
    source: str
    options: tuple[tuple[str, object], ...] = ()
    authorization: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    text: str = field(default="", compare=False, repr=False)

    @property
    def options_dict(self) -> dict[str, object]:
        return dict(self.options)


@dataclass(frozen=True)
class Unload:
    """``UNLOAD ('query') TO 'url' [option ...]``: a query's rows written to object storage or
    files. ``query`` is the query as Redshift SQL (doubled quotes undone); options and
    authorization as in :class:`CopyFrom`."""

    query: str
    target: str
    options: tuple[tuple[str, object], ...] = ()
    authorization: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    text: str = field(default="", compare=False, repr=False)

    @property
    def options_dict(self) -> dict[str, object]:
        return dict(self.options)


# -- stored procedures (PL/pgSQL, sql/plpgsql.py) ------------------------------------------------


@dataclass(frozen=True)
class ProcedureParameter:
    """``name [IN | OUT | INOUT] type``; ``type`` as written, in the session's dialect."""

    name: str
    mode: str  # IN, OUT or INOUT
    type: str


@dataclass(frozen=True)
class CreateProcedure:
    """``CREATE [OR REPLACE] PROCEDURE name(parameter, ...) AS $$ body $$ LANGUAGE plpgsql
    [SECURITY INVOKER | DEFINER]``. ``body`` is the text between the dollar quotes, which
    ``sql/plpgsql.py`` reads (and has read once, so that a mistake in it fails the CREATE)."""

    name: Name
    parameters: tuple[ProcedureParameter, ...]
    body: str
    or_replace: bool = False
    security: str = "INVOKER"
    atomic: bool = True  # NONATOMIC: each statement commits on its own
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class DropProcedure:
    """``DROP PROCEDURE [IF EXISTS] name [( [argname] [mode] type, ... )]``; ``argument_types``
    None when no list was given."""

    name: Name
    argument_types: tuple[str, ...] | None = None
    if_exists: bool = False
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class CallProcedure:
    """``CALL name(argument, ...)``: each argument an expression's text, as written."""

    name: Name
    arguments: tuple[str, ...] = ()
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class Passthrough:
    """Any statement that is not an ML statement: it goes to the database untouched."""

    sql: str


UserStatement = CreateUser | AlterUser | DropUser
PrivilegeStatement = (
    GrantPrivileges | RevokePrivileges | GrantRole | RevokeRole | CreateGroup | AlterGroup
    | DropGroup | CreateRole | DropRole
)  # fmt: skip
MlStatement = (
    CreateModel | CreateExternalModel | ShowModel | ShowModelAll | DropModel | EvaluateModel
    | ExportModel | UserStatement
    | PrivilegeStatement | CopyFrom | Unload | CreateProcedure | DropProcedure | CallProcedure
)  # fmt: skip
Statement = MlStatement | Passthrough
