"""The one exception tree of sqlml.

Every error a user can cause is a subclass of :class:`SqlmlError`. Each class carries the
PostgreSQL SQLSTATE that a wire-protocol server (and the CLI today) reports for it, so the mapping
from error to code lives here and nowhere else.
"""

from __future__ import annotations


class SqlmlError(Exception):
    """Root of every sqlml error. ``sqlstate`` is the PostgreSQL error code reported for it."""

    sqlstate = "XX000"


class SqlSyntaxError(SqlmlError):
    """An ML statement does not follow the grammar. Carries the position of the offending token."""

    sqlstate = "42601"

    def __init__(
        self, message: str, *, line: int | None = None, col: int | None = None, token=None
    ):
        self.line = line
        self.col = col
        self.token = token
        near = f" near {token!r}" if token else ""
        where = f" (line {line}, column {col}{near})" if line is not None else ""
        super().__init__(f"{message}{where}")
        self.bare_message = message


class NameTooLong(SqlmlError):
    """A model, schema or function name longer than names may be (127 bytes, as in Redshift)."""

    sqlstate = "42622"


class FeatureNotSupported(SqlmlError):
    """A clause or statement is part of Redshift ML's grammar but sqlml does not run it yet."""

    sqlstate = "0A000"


class InvalidSetting(SqlmlError, ValueError):
    """A SETTINGS value (or another clause value) is of the wrong type or out of range."""

    sqlstate = "22023"


class StatementTooComplex(SqlmlError):
    """A statement nested beyond what can be read (PostgreSQL's "stack depth limit exceeded")."""

    sqlstate = "54001"


class ModelNotFound(SqlmlError):
    sqlstate = "42704"


class ModelAlreadyExists(SqlmlError):
    sqlstate = "42710"


class FunctionAlreadyExists(SqlmlError):
    """The FUNCTION name of CREATE MODEL is taken by another model or by a database function."""

    sqlstate = "42723"


class SchemaNotFound(SqlmlError):
    sqlstate = "3F000"


class ColumnNotFound(SqlmlError):
    sqlstate = "42703"


class TrainingQueryError(SqlmlError):
    """The FROM query of CREATE MODEL failed in the database; the database's message is kept."""

    sqlstate = "42000"


class TrainingDataError(SqlmlError):
    """The training data cannot give a model: too few columns, an all-NULL target, one class..."""

    sqlstate = "22000"


class TrainingTimeout(SqlmlError):
    """MAX_RUNTIME was too short for even one candidate model to finish."""

    sqlstate = "57014"


class PredictionCallError(SqlmlError):
    """A prediction function was called with the wrong number or types of arguments."""

    sqlstate = "42883"


class ModelNotReady(SqlmlError):
    """A prediction function was called while its model is not READY."""

    sqlstate = "55000"


class TrainingFailed(SqlmlError):
    """Training stopped without an error of its own: the trainer process died."""

    sqlstate = "58000"


class CorruptModelPackage(SqlmlError):
    """A model package on disk cannot be read (missing file, bad manifest, newer format)."""

    sqlstate = "XX001"


class DatabaseInUse(SqlmlError):
    """The database file is open in another process (DuckDB allows one writer process)."""

    sqlstate = "55006"


class InsufficientPrivilege(SqlmlError):
    """The user may not run the statement, or use the model (reference §9): the message names
    the model, the user, the missing privilege and whom to ask for it."""

    sqlstate = "42501"


class RoleNotFound(SqlmlError):
    """A group or role that does not exist (PostgreSQL's groups are roles too)."""

    sqlstate = "42704"


class RoleAlreadyExists(SqlmlError):
    sqlstate = "42710"


class InvalidGrantOperation(SqlmlError):
    """A grant that cannot be: a role granted to itself, through other roles or not."""

    sqlstate = "0LP01"


class DependentObjectsExist(SqlmlError):
    """What is dropped still has dependents: a user who owns models, a role granted to users."""

    sqlstate = "2BP01"


class UserNotFound(SqlmlError):
    sqlstate = "42704"


class UserAlreadyExists(SqlmlError):
    sqlstate = "42710"


class AuthenticationFailed(SqlmlError):
    """Wrong password, unknown user, or a user who may not log in this way."""

    sqlstate = "28P01"


class ObjectInUse(SqlmlError):
    """The object is in use: the user of the session, or the last superuser."""

    sqlstate = "55006"


class BadLoadFormat(SqlmlError):
    """A row of a file that COPY loads does not fit the table (too many or too few fields), or
    the file is not in the format the statement names."""

    sqlstate = "22P04"


class BadLoadValue(SqlmlError):
    """A value of a file that COPY loads cannot be converted to its column's type."""

    sqlstate = "22P02"


class ObjectNotFound(SqlmlError):
    """A file, bucket or object that COPY or UNLOAD names does not exist."""

    sqlstate = "58P01"


class ObjectExists(SqlmlError):
    """UNLOAD would overwrite files or objects that exist (without ALLOWOVERWRITE)."""

    sqlstate = "58P02"


class ObjectStorageError(SqlmlError):
    """Object storage (S3 or the file system) failed: unreachable, refused, or out of space."""

    sqlstate = "58030"


class InvalidModelFile(SqlmlError):
    """A model file CREATE MODEL ... FROM 'path' imports is not one sqlml reads: an unknown or
    damaged format, or a format refused because loading it would run code (pickle)."""

    sqlstate = "22P04"


class ModelSignatureMismatch(SqlmlError):
    """The argument or return types a CREATE MODEL declares do not fit the imported model's
    inputs or output."""

    sqlstate = "42804"


class RemoteEndpointError(SqlmlError):
    """A remote model's or an external model's endpoint failed for good: an error status after
    the retries, or an answer that cannot be read (PostgreSQL's external_routine_exception)."""

    sqlstate = "38000"


class RemoteEndpointUnreachable(SqlmlError):
    """A remote or external model's endpoint cannot be connected to."""

    sqlstate = "08001"


class RemoteEndpointTimeout(SqlmlError):
    """A request to a remote or external model's endpoint took longer than its TIMEOUT."""

    sqlstate = "57014"


class ProcedureNotFound(SqlmlError):
    """CALL or DROP PROCEDURE of a procedure that does not exist, or with arguments that match
    none (PostgreSQL's undefined_function)."""

    sqlstate = "42883"


class ProcedureAlreadyExists(SqlmlError):
    sqlstate = "42723"


class RaisedException(SqlmlError):
    """RAISE EXCEPTION in a stored procedure (PostgreSQL's raise_exception)."""

    sqlstate = "P0001"


class InternalError(SqlmlError):
    sqlstate = "XX000"


class DatabaseError(SqlmlError):
    """An error the database engine raised for a statement, translated by the engine: the
    SQLSTATE is chosen per error (``sqlstate``, PostgreSQL's code for the same mistake), the
    message keeps what the engine said that helps (its "Did you mean", candidate columns), and
    ``position`` is the 1-based character of the statement it points at, when it points.
    ``name`` and ``arguments`` are set for a call of an unknown function (the function name and
    the argument types as the engine printed them), so the front door can say more when the
    function belongs to a model."""

    sqlstate = "XX000"

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        position: int | None = None,
        hint: str | None = None,
        name: str | None = None,
        arguments: str | None = None,
    ):
        super().__init__(message)
        if sqlstate is not None:
            self.sqlstate = sqlstate
        self.position = position
        self.hint = hint
        self.name = name
        self.arguments = arguments


__all__ = [
    "AuthenticationFailed",
    "BadLoadFormat",
    "BadLoadValue",
    "ColumnNotFound",
    "CorruptModelPackage",
    "DatabaseError",
    "DatabaseInUse",
    "DependentObjectsExist",
    "FeatureNotSupported",
    "FunctionAlreadyExists",
    "InsufficientPrivilege",
    "InternalError",
    "StatementTooComplex",
    "InvalidGrantOperation",
    "InvalidModelFile",
    "InvalidSetting",
    "ModelAlreadyExists",
    "ModelNotFound",
    "ModelNotReady",
    "ModelSignatureMismatch",
    "NameTooLong",
    "ObjectExists",
    "ObjectNotFound",
    "ObjectStorageError",
    "ObjectInUse",
    "ProcedureAlreadyExists",
    "ProcedureNotFound",
    "RaisedException",
    "PredictionCallError",
    "RemoteEndpointError",
    "RemoteEndpointTimeout",
    "RemoteEndpointUnreachable",
    "RoleAlreadyExists",
    "RoleNotFound",
    "SchemaNotFound",
    "SqlSyntaxError",
    "SqlmlError",
    "TrainingDataError",
    "TrainingQueryError",
    "TrainingTimeout",
    "UserAlreadyExists",
    "UserNotFound",
]
