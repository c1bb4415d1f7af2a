"""Every value a user can give CREATE MODEL, declared once.

The tables here drive the parser's checks, SHOW MODEL's output and the README. A SETTINGS key is a
:class:`Setting` (name, kind, range, default, help); the word-valued clauses (PROBLEM_TYPE,
MODEL_TYPE, OBJECTIVE) are option tables. Messages follow one shape:
``The 'MAX_RUNTIME' setting must be an integer in [1, 604800]. Got -5 instead.``
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlml.errors import FeatureNotSupported, InvalidSetting


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str  # "int", "string" or "onoff"
    default: object
    help: str
    low: int | None = None
    high: int | None = None
    # Set when the key belongs to Redshift's grammar but sqlml cannot honour it yet.
    unsupported: str | None = None
    # Which models take it: "trained" (CREATE MODEL ... FROM), "remote" (SAGEMAKER / ENDPOINT),
    # "external" (CREATE EXTERNAL MODEL); defaults are filled in for trained models only.
    scope: tuple[str, ...] = ("trained",)
    choices: tuple[str, ...] | None = None  # the words a "string" setting may take

    def describe(self) -> str:
        if self.kind == "int":
            return f"an integer in [{self.low}, {self.high}]"
        if self.kind == "onoff":
            return "ON or OFF"
        if self.choices:
            return " or ".join(self.choices)
        return "a quoted string"

    def validate(self, value: object) -> object:
        """Return ``value`` in its canonical Python form, or raise InvalidSetting."""
        if self.unsupported:
            raise FeatureNotSupported(
                f"SETTINGS {self.name} is not supported yet: {self.unsupported}"
            )
        ok = (
            (self.kind == "int" and isinstance(value, int) and not isinstance(value, bool))
            or (self.kind == "string" and isinstance(value, str))
            or (self.kind == "onoff" and isinstance(value, str) and value.upper() in ("ON", "OFF"))
        )
        if ok and self.choices:
            ok = value.upper() in self.choices
            value = value.upper() if ok else value
        if ok and self.kind == "int":
            ok = (self.low is None or value >= self.low) and (
                self.high is None or value <= self.high
            )
        if not ok:
            raise InvalidSetting(
                f"The '{self.name}' setting must be {self.describe()}. Got {value!r} instead."
            )
        return value.upper() if self.kind == "onoff" else value


MAX_RUNTIME_DEFAULT = 5400
_REMOTE = ("remote", "external")
# Models served elsewhere: BYOM remote (SAGEMAKER / ENDPOINT, kinds/remote.py) and CREATE
# EXTERNAL MODEL (kinds/external.py).
REMOTE_SETTINGS = [
    Setting(
        "ENDPOINT",
        "string",
        None,
        "sqlml extension: the http(s) URL the rows are sent to (a model server's inference "
        "URL; an OpenAI-compatible base URL such as http://host:8000/v1 for external models).",
        scope=_REMOTE,
    ),
    Setting(
        "FORMAT",
        "string",
        "CSV",
        "sqlml extension: the request shape: CSV (SageMaker's text/csv lines), JSONLINES (one "
        'JSON array per line), JSON ({"instances": [...]} -> {"predictions": [...]}: '
        "SageMaker JSON, MLflow and TF serving) or KSERVE (the KServe v2 / Open Inference "
        "Protocol).",
        scope=("remote",),
        choices=("CSV", "JSONLINES", "JSON", "KSERVE"),
    ),
    Setting(
        "MAX_BATCH_ROWS",
        "int",
        None,
        "Rows per remote inference request (default 256); prompts per request for an "
        "external model with API 'COMPLETIONS' (default 16).",
        low=1,
        high=2_147_483_647,
        scope=_REMOTE,
    ),
    Setting(
        "MAX_CONCURRENCY",
        "int",
        None,
        "sqlml extension: the most requests in flight at once per model and process (default "
        "8 for remote models, 32 for external ones).",
        low=1,
        high=256,
        scope=_REMOTE,
    ),
    Setting(
        "TIMEOUT",
        "int",
        None,
        "sqlml extension: seconds one request may take (default 60; 300 for external models).",
        low=1,
        high=3600,
        scope=_REMOTE,
    ),
    Setting(
        "API_KEY_ENV",
        "string",
        None,
        "sqlml extension: the environment variable holding the API key sent as a bearer token "
        "(the key itself is never stored).",
        scope=_REMOTE,
    ),
    Setting(
        "API_KEY_FILE",
        "string",
        None,
        "sqlml extension: a file holding the API key (a mounted secret such as "
        "/run/secrets/openai_key), read at each request; the key itself is never stored.",
        scope=_REMOTE,
    ),
    Setting("MODEL_ID", "string", None, "The model the endpoint runs.", scope=("external",)),
    Setting("PROMPT", "string", None, "Text put before every input.", scope=("external",)),
    Setting("SUFFIX", "string", None, "Text put after every input.", scope=("external",)),
    Setting(
        "REQUEST_TYPE",
        "string",
        "UNIFIED",
        "UNIFIED: the function takes text and sends a chat request; RAW: it takes the "
        "request body (SUPER) as it is.",
        scope=("external",),
        choices=("UNIFIED", "RAW"),
    ),
    Setting(
        "API",
        "string",
        "CHAT",
        "sqlml extension: the OpenAI-compatible API the endpoint speaks: CHAT (POST "
        "/chat/completions, one prompt per request) or COMPLETIONS (POST /completions, up to "
        "MAX_BATCH_ROWS prompts per request).",
        scope=("external",),
        choices=("CHAT", "COMPLETIONS"),
    ),
    Setting(
        "INFERENCE_CONFIG",
        "string",
        None,
        "sqlml extension: a JSON object of inference-config keys (maxTokens, temperature, "
        "topP, stopSequences) sent with every request.",
        scope=("external",),
    ),
    Setting(
        "RESPONSE_TYPE",
        "string",
        None,
        "VARCHAR: the generated text; SUPER: the whole response (text, stop reason, usage).",
        scope=("external",),
        choices=("VARCHAR", "SUPER"),
    ),
]
# Model, schema and function names: Redshift's identifier limit, in bytes of UTF-8.
NAME_LIMIT = 127

SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting(
            "S3_BUCKET",
            "string",
            None,
            "Where the finished model package is copied (s3://bucket/sqlml/schema/model/) when "
            "the environment configures object storage (AWS_ENDPOINT_URL_S3 or credentials); "
            "else recorded only. Models live in the local model store either way.",
        ),
        Setting("TAGS", "string", None, "Free-form tags, recorded in the model manifest."),
        Setting(
            "S3_GARBAGE_COLLECT",
            "onoff",
            "ON",
            "Accepted and recorded; there is no S3 export to delete.",
        ),
        Setting(
            "MAX_CELLS",
            "int",
            1_000_000,
            "Cap on rows x columns used for training; above it a seeded random sample of "
            "MAX_CELLS / columns rows is drawn.",
            low=1,
            high=2**62,
        ),
        Setting(
            "MAX_RUNTIME",
            "int",
            MAX_RUNTIME_DEFAULT,
            "Training time budget in seconds.",
            low=1,
            high=604_800,
        ),
        Setting(
            "MAX_TRIALS",
            "int",
            None,
            "sqlml extension, like BigQuery ML's NUM_TRIALS: the most candidate models an AUTO "
            "ON search evaluates; it ends at MAX_TRIALS or MAX_RUNTIME, whichever comes first. "
            "Unset, the search runs its portfolio and tunes until tuning stops improving.",
            low=1,
            high=10_000,
        ),
        Setting(
            "KMS_KEY_ID",
            "string",
            None,
            "Encryption key for exported data.",
            unsupported="the local model store is not encrypted; remove the setting",
        ),
        Setting(
            "HORIZON",
            "int",
            None,
            "FORECAST models (required): how many time steps ahead to forecast (Amazon "
            "Forecast's limit: at most 500, and at most a third of the longest series).",
            low=1,
            high=500,
        ),
        Setting(
            "FREQUENCY",
            "string",
            None,
            "FORECAST models (required): the step between timestamps: 'Y', 'M', 'W', 'D', 'H', "
            "'30min', '15min', '10min', '5min' or '1min'.",
        ),
        Setting(
            "PERCENTILES",
            "string",
            None,
            "FORECAST models: the forecast's columns, up to 5 of quantiles 0.01 to 0.99 and "
            "'mean' (default '0.1,0.5,0.9', as in Amazon Forecast).",
        ),
        *REMOTE_SETTINGS,
    ]
}


def did_you_mean(word: str, choices) -> str:
    """A ' Did you mean X?' suffix for a misspelt name, or ''."""
    # Compared case-blind, named as written: a lower-case column stays lower case.
    written = {}
    for choice in choices:
        written.setdefault(str(choice).upper(), str(choice))
    close = difflib.get_close_matches(word.upper(), list(written), n=1, cutoff=0.6)
    return f" Did you mean {written[close[0]]}?" if close else ""


def lookup_setting(key: str) -> Setting:
    setting = SETTINGS.get(key.upper())
    if setting is None:
        raise InvalidSetting(
            f"Unknown setting '{key}'.{did_you_mean(key, SETTINGS)} "
            f"Valid settings: {', '.join(n for n, s in SETTINGS.items() if not s.unsupported)}"
            f" ({', '.join(n for n, s in SETTINGS.items() if s.unsupported)}: not supported yet)."
        )
    return setting


def effective_settings(
    given: dict[str, object], defaults: dict[str, object] | None = None
) -> dict[str, object]:
    """The user's settings with every supported default filled in: the connection's own
    defaults first (``connect(default_settings=...)``), then sqlml's."""
    out = {
        s.name: s.default
        for s in SETTINGS.values()
        if not s.unsupported and s.scope == ("trained",)
    }
    out.update(defaults or {})
    out.update(given)
    return out


def check_defaults(defaults: dict[str, object]) -> dict[str, object]:
    """Default SETTINGS for a connection's CREATE MODEL statements, validated like SETTINGS."""
    out = {}
    for key, value in defaults.items():
        setting = lookup_setting(str(key))
        out[setting.name] = setting.validate(value)
    return out


# Word-valued clauses. Keys are the canonical SQL spelling; values how SHOW MODEL prints them.
PROBLEM_TYPES = {
    "REGRESSION": "Regression",
    "BINARY_CLASSIFICATION": "BinaryClassification",
    "MULTICLASS_CLASSIFICATION": "MulticlassClassification",
}

MODEL_TYPES = ("XGBOOST", "MLP", "LINEAR_LEARNER", "KMEANS", "FORECAST")
# Part of Redshift's grammar, parsed, but not trained yet (none left).
UNSUPPORTED_MODEL_TYPES: tuple[str, ...] = ()

# AUTO ON objectives, keyed by their upper-case spelling; F1_Macro is also written F1Macro.
AUTO_OBJECTIVES = {
    "MSE": "MSE",
    "ACCURACY": "Accuracy",
    "F1": "F1",
    "F1_MACRO": "F1Macro",
    "F1MACRO": "F1Macro",
    "AUC": "AUC",
}
XGBOOST_OBJECTIVES = (
    "reg:squarederror",
    "reg:squaredlogerror",
    "reg:logistic",
    "reg:pseudohubererror",
    "reg:tweedie",
    "binary:logistic",
    "binary:hinge",
    "multi:softmax",
)
FORECAST_OBJECTIVES = ("RMSE", "WAPE", "MAPE", "MASE", "AverageWeightedQuantileLoss")

# Which objectives make sense for which problem type (SageMaker AutoMLJobObjective rules).
OBJECTIVES_BY_PROBLEM = {
    "REGRESSION": ("MSE",),
    "BINARY_CLASSIFICATION": ("F1", "AUC", "Accuracy", "F1Macro"),
    "MULTICLASS_CLASSIFICATION": ("Accuracy", "F1Macro"),
}
DEFAULT_OBJECTIVE = {
    "REGRESSION": "MSE",
    "BINARY_CLASSIFICATION": "F1",
    "MULTICLASS_CLASSIFICATION": "Accuracy",
}


def canonical_objective(text: str) -> str | None:
    """The canonical spelling of an objective, or None when it is not one Redshift knows."""
    if text.upper() in AUTO_OBJECTIVES:
        return AUTO_OBJECTIVES[text.upper()]
    for name in XGBOOST_OBJECTIVES + FORECAST_OBJECTIVES:
        if text.lower() == name.lower():
            return name
    return None


ALL_OBJECTIVES = (
    tuple(dict.fromkeys(AUTO_OBJECTIVES.values())) + XGBOOST_OBJECTIVES + FORECAST_OBJECTIVES
)
