"""BYOM remote (reference §2.10): a model served elsewhere, called by its prediction function.

``CREATE MODEL m FUNCTION fn(types) RETURNS type SAGEMAKER 'endpoint' [IAM_ROLE ...]
SETTINGS (ENDPOINT 'http(s)://...', FORMAT 'CSV' | 'JSONLINES' | 'JSON' | 'KSERVE',
MAX_BATCH_ROWS n, MAX_CONCURRENCY n, TIMEOUT s, API_KEY_ENV 'VAR')``. Nothing is trained: the
package records the endpoint, the request shape and the signature, and is READY at once
(``statements.create_direct``). Calling SageMaker itself needs AWS, so an endpoint off AWS is
named with ENDPOINT; without it the statement is refused as not supported yet.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlml import arrowtypes
from sqlml import settings as S
from sqlml.engines.base import Engine
from sqlml.errors import FeatureNotSupported, InvalidSetting
from sqlml.kinds.base import Draft, FunctionSpec, ModelKind, check_format
from sqlml.lazy import pa
from sqlml.sql import ast

FORMAT = "remote/1"

# Redshift's type names -> the engine's spelling (DuckDB's and PostgreSQL's alike).
_TYPES = {
    "SMALLINT": "SMALLINT", "INT2": "SMALLINT",
    "INTEGER": "INTEGER", "INT": "INTEGER", "INT4": "INTEGER",
    "BIGINT": "BIGINT", "INT8": "BIGINT",
    "DECIMAL": "DECIMAL", "NUMERIC": "DECIMAL",
    "REAL": "REAL", "FLOAT4": "REAL",
    "DOUBLE PRECISION": "DOUBLE", "DOUBLE": "DOUBLE", "FLOAT8": "DOUBLE", "FLOAT": "DOUBLE",
    "BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN",
    "CHAR": "VARCHAR", "CHARACTER": "VARCHAR", "NCHAR": "VARCHAR", "BPCHAR": "VARCHAR",
    "VARCHAR": "VARCHAR", "CHARACTER VARYING": "VARCHAR", "NVARCHAR": "VARCHAR",
    "TEXT": "VARCHAR",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
    "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP WITH TIME ZONE",
    "SUPER": "JSON",
}  # fmt: skip
_TYPE = re.compile(r"^([A-Z][A-Z0-9 ]*?)\s*(?:\(\s*([0-9A-Z ,]*)\s*\))?$")


def declared_type(text: str, engine: Engine, where: str) -> tuple[str, str]:
    """A declared type (Redshift's spelling) as (the engine's type, its Arrow type's text, or
    "json" for SUPER)."""
    m = _TYPE.match(" ".join(text.upper().split()))
    base = _TYPES.get(m.group(1)) if m else None
    if base is None:
        raise InvalidSetting(
            f"{where}: type {text} is not one a remote model takes; use SMALLINT, INTEGER, "
            "BIGINT, DECIMAL(p, s), REAL, DOUBLE PRECISION, BOOLEAN, CHAR, VARCHAR, DATE, "
            "TIMESTAMP, TIMESTAMPTZ or SUPER."
        )
    if base == "JSON":
        return "JSON", "json"
    if base == "DECIMAL" and m.group(2):
        base = f"DECIMAL({m.group(2).replace(' ', '')})"
    return base, arrowtypes.encode(engine.arrow_type(base))


def check_endpoint(url: str | None, where: str, missing: str) -> str:
    if url is None:
        raise FeatureNotSupported(f"{where}: {missing}")
    if not re.match(r"^https?://[^/\s]+", url):
        raise InvalidSetting(
            f"{where}: ENDPOINT '{url}' is not an http:// or https:// URL; give the URL the "
            "model server answers on, e.g. ENDPOINT 'http://localhost:8080/invocations'."
        )
    return url


def check_scope(settings: dict, scope: str, where: str) -> None:
    """Refuse the settings that do not apply to this kind of model."""
    if "API_KEY_ENV" in settings and "API_KEY_FILE" in settings:
        raise InvalidSetting(f"{where}: give API_KEY_ENV or API_KEY_FILE, not both.")
    for key in settings:
        if scope not in S.SETTINGS[key].scope:
            valid = [n for n, s in S.SETTINGS.items() if scope in s.scope and not s.unsupported]
            raise InvalidSetting(
                f"{where}: SETTINGS {key} does not apply to {scope} models; they take "
                f"{', '.join(valid)}."
            )


class RemoteKind(ModelKind):
    name = "remote"
    trained = False
    libraries = ("pyarrow",)

    def claims(self, stmt: ast.CreateModel) -> bool:
        return stmt.sagemaker is not None

    def check(self, stmt: ast.CreateModel) -> None:
        where = f"CREATE MODEL {stmt.name}"
        extra = [
            clause
            for clause, value in (
                ("FROM", stmt.source),
                ("TARGET", stmt.target),
                ("AUTO", stmt.auto),
                ("MODEL_TYPE", stmt.model_type),
                ("PROBLEM_TYPE", stmt.problem_type),
                ("OBJECTIVE", stmt.objective),
                ("PREPROCESSORS", stmt.preprocessors),
                ("HYPERPARAMETERS", stmt.hyperparameters),
            )
            if value is not None
        ]
        if extra:
            raise InvalidSetting(
                f"{where}: a remote model (SAGEMAKER) is not trained, so it takes no "
                f"{', '.join(extra)}; remove {'it' if len(extra) == 1 else 'them'}."
            )
        if not stmt.function_arg_types or stmt.returns is None:
            raise InvalidSetting(
                f"{where}: a remote model (SAGEMAKER) declares its function's argument types "
                "and return type: FUNCTION fn(float8, varchar) RETURNS float8."
            )
        settings = stmt.settings_dict
        check_scope(settings, "remote", where)
        check_endpoint(
            settings.get("ENDPOINT"),
            where,
            f"calling SageMaker endpoint '{stmt.sagemaker}' needs AWS and is not supported yet; "
            "give the URL of a model server off AWS: SETTINGS (ENDPOINT 'http(s)://...').",
        )

    def package(self, stmt: ast.CreateModel, engine: Engine) -> dict:
        """The manifest's fields of a remote model."""
        from sqlml.runtime import remote

        where = f"CREATE MODEL {stmt.name}"
        settings = stmt.settings_dict
        features, arrow = [], {}
        for i, text in enumerate(stmt.function_arg_types, start=1):
            sql, arrow_text = declared_type(text, engine, where)
            features.append({"name": f"arg{i}", "type": sql})
            if arrow_text != "json":
                arrow[f"arg{i}"] = arrow_text
        returns, returns_arrow = declared_type(stmt.returns, engine, where)
        return {
            "source": {"kind": "remote", "text": stmt.sagemaker},
            "target": None,
            "target_type": returns,
            "features": features,
            "arrow_types": arrow,
            "model_type": "remote",
            "settings": settings,
            "model": {
                "format": FORMAT,
                "endpoint": settings["ENDPOINT"],
                "sagemaker": stmt.sagemaker,
                "request_format": settings.get("FORMAT", "CSV"),
                "batch_rows": settings.get("MAX_BATCH_ROWS") or remote.DEFAULT_BATCH_ROWS,
                "concurrency": settings.get("MAX_CONCURRENCY") or remote.DEFAULT_CONCURRENCY,
                "timeout": settings.get("TIMEOUT") or remote.DEFAULT_TIMEOUT,
                "api_key_env": settings.get("API_KEY_ENV"),
                "api_key_file": settings.get("API_KEY_FILE"),
                "returns_arrow": returns_arrow,
            },
        }

    def draft(self, draft: Draft) -> dict:
        raise AssertionError("remote models are not trained")

    def train(self, table, draft, deadline, *, seed, on_trial, scratch):
        raise AssertionError("remote models are not trained")

    def load(self, directory: Path, manifest: dict):
        from sqlml.runtime.remote import RemotePredictor

        check_format(manifest, FORMAT)
        return RemotePredictor(manifest)

    def functions(self, manifest: dict) -> dict[str, FunctionSpec]:
        from sqlml.runtime.remote import declared_arrow

        returns = declared_arrow(manifest["model"]["returns_arrow"]) or pa.json_()
        return {
            manifest["function"]["name"].lower(): FunctionSpec("predict", returns, volatile=True)
        }

    def show_rows(self, manifest: dict) -> list[tuple[str, str]]:
        from sqlml.runtime.http import shown_url

        model = manifest["model"]
        return [
            ("Inference Type", "Remote"),
            ("Endpoint", model["sagemaker"]),
            ("Endpoint URL", shown_url(model["endpoint"])),
            ("Request Format", model["request_format"]),
            ("Max Batch Rows", str(model["batch_rows"])),
            ("Max Concurrency", str(model["concurrency"])),
            ("Timeout", f"{model['timeout']} s"),
        ]

    def unavailable_explanation(self, manifest: dict) -> str | None:
        return "not available for remote models (as in Redshift): the model is served elsewhere"
