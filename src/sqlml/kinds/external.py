"""CREATE EXTERNAL MODEL (reference §3): an LLM served elsewhere, called by its function.

``MODEL_TYPE BEDROCK`` is Redshift's statement as written; calling Bedrock needs AWS, so it is
refused as not supported yet unless ENDPOINT names an OpenAI-compatible server.
``MODEL_TYPE OPENAI`` (sqlml's) calls an OpenAI-compatible endpoint: local servers (vLLM,
llama.cpp, Ollama) and hosted ones. The API key comes from the environment variable API_KEY_ENV
names, read when the function first runs; neither the key nor its value is stored.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlml.errors import InvalidSetting
from sqlml.kinds.base import Draft, FunctionSpec, ModelKind, check_format
from sqlml.kinds.remote import check_endpoint, check_scope
from sqlml.lazy import pa
from sqlml.runtime import usage
from sqlml.sql import ast

FORMAT = "external/1"
CONFIG_KEYS = ("maxTokens", "temperature", "topP", "stopSequences")


class ExternalKind(ModelKind):
    name = "external"
    trained = False
    libraries = ()

    def claims(self, stmt) -> bool:
        return False  # CREATE EXTERNAL MODEL, not CREATE MODEL

    def check(self, stmt) -> None:
        self.check_external(stmt)

    def check_external(self, stmt: ast.CreateExternalModel) -> None:
        where = f"CREATE EXTERNAL MODEL {stmt.name}"
        settings = stmt.settings_dict
        if stmt.model_type is None:
            raise InvalidSetting(f"{where}: MODEL_TYPE is required: BEDROCK or OPENAI.")
        check_scope(settings, "external", where)
        if "MODEL_ID" not in settings:
            raise InvalidSetting(f"{where}: SETTINGS (MODEL_ID '...') is required.")
        missing = (
            "calling Amazon Bedrock needs AWS and is not supported yet; give an "
            "OpenAI-compatible server instead: SETTINGS (ENDPOINT 'http(s)://host:port/v1', ...)"
            if stmt.model_type == "BEDROCK"
            else "MODEL_TYPE OPENAI needs SETTINGS (ENDPOINT 'http(s)://host:port/v1'): the "
            "OpenAI-compatible server's base URL"
        )
        check_endpoint(settings.get("ENDPOINT"), where, missing)
        request = settings.get("REQUEST_TYPE", "UNIFIED")
        response = settings.get("RESPONSE_TYPE")
        if request == "RAW":
            if response != "SUPER":
                raise InvalidSetting(
                    f"{where}: REQUEST_TYPE RAW takes and returns SUPER: add RESPONSE_TYPE SUPER "
                    "(as in Redshift)."
                )
            for key in ("PROMPT", "SUFFIX", "INFERENCE_CONFIG"):
                if key in settings:
                    raise InvalidSetting(
                        f"{where}: {key} applies to REQUEST_TYPE UNIFIED only; a RAW request "
                        "carries the whole body."
                    )
        if "MAX_BATCH_ROWS" in settings and (
            request == "RAW" or settings.get("API", "CHAT") == "CHAT"
        ):
            raise InvalidSetting(
                f"{where}: MAX_BATCH_ROWS applies to API 'COMPLETIONS' with REQUEST_TYPE "
                "UNIFIED only: a chat completion request carries one conversation, and a RAW "
                "request is one body. Add API 'COMPLETIONS' if the endpoint serves "
                "/completions, or remove MAX_BATCH_ROWS."
            )
        inference_config(settings, where)

    def package(self, stmt: ast.CreateExternalModel, engine) -> dict:
        from sqlml.runtime import llm

        settings = stmt.settings_dict
        where = f"CREATE EXTERNAL MODEL {stmt.name}"
        request = settings.get("REQUEST_TYPE", "UNIFIED")
        response = settings.get("RESPONSE_TYPE") or "VARCHAR"
        # Redshift's signatures: fn(request SUPER) for RAW; fn(input_text [, inference_config
        # SUPER [, additional_model_request_fields SUPER]]) for UNIFIED.
        features = (
            [{"name": "request", "type": "JSON"}]
            if request == "RAW"
            else [
                {"name": "input_text", "type": "VARCHAR"},
                {"name": "inference_config", "type": "JSON"},
                {"name": "additional_model_request_fields", "type": "JSON"},
            ]
        )
        return {
            "source": {"kind": "external", "text": settings["MODEL_ID"]},
            "target": None,
            "target_type": "JSON" if response == "SUPER" else "VARCHAR",
            "features": features,
            "arrow_types": {} if request == "RAW" else {"input_text": "string"},
            "model_type": stmt.model_type,
            "settings": settings,
            "model": {
                "format": FORMAT,
                "endpoint": settings["ENDPOINT"],
                "model_id": settings["MODEL_ID"],
                "prompt": settings.get("PROMPT"),
                "suffix": settings.get("SUFFIX"),
                "request_type": request,
                "response_type": response,
                "inference_config": inference_config(settings, where),
                "api": settings.get("API", "CHAT"),
                "batch_rows": (
                    settings.get("MAX_BATCH_ROWS") or llm.DEFAULT_BATCH_ROWS
                    if settings.get("API") == "COMPLETIONS" and request == "UNIFIED"
                    else 1
                ),
                "concurrency": settings.get("MAX_CONCURRENCY") or llm.DEFAULT_CONCURRENCY,
                "timeout": settings.get("TIMEOUT") or llm.DEFAULT_TIMEOUT,
                "api_key_env": settings.get("API_KEY_ENV"),
                "api_key_file": settings.get("API_KEY_FILE"),
            },
        }

    def draft(self, draft: Draft) -> dict:
        raise AssertionError("external models are not trained")

    def train(self, table, draft, deadline, *, seed, on_trial, scratch):
        raise AssertionError("external models are not trained")

    def load(self, directory: Path, manifest: dict):
        from sqlml.runtime.llm import LlmPredictor

        check_format(manifest, FORMAT)
        return LlmPredictor(manifest, Path(str(directory)))

    def functions(self, manifest: dict) -> dict[str, FunctionSpec]:
        returns = pa.json_() if manifest["model"]["response_type"] == "SUPER" else pa.string()
        optional = len(manifest["features"]) - 1
        spec = FunctionSpec("predict", returns, volatile=True, optional=optional)
        return {manifest["function"]["name"].lower(): spec}

    def show_rows(self, manifest: dict) -> list[tuple[str, str]]:
        from sqlml.runtime.http import shown_url

        model = manifest["model"]
        rows = [
            ("Inference Type", "Remote"),
            ("Model ID", model["model_id"]),
            ("Endpoint URL", shown_url(model["endpoint"])),
            ("Request Type", model["request_type"]),
            ("API", model.get("api") or "CHAT"),
            ("Response Type", model["response_type"]),
        ]
        rows += [(k, model[k.lower()]) for k in ("Prompt", "Suffix") if model.get(k.lower())]
        if model.get("inference_config"):
            rows.append(("Inference Config", json.dumps(model["inference_config"])))
        if model.get("api_key_env"):
            rows.append(("API Key", f"from environment variable {model['api_key_env']}"))
        elif model.get("api_key_file"):
            rows.append(("API Key", f"from file {model['api_key_file']}"))
        rows += [
            ("Max Batch Rows", str(model.get("batch_rows") or 1)),
            ("Max Concurrency", str(model["concurrency"])),
            ("Timeout", f"{model['timeout']} s"),
        ]
        return rows

    def usage_rows(self, folder: Path, manifest: dict) -> list[tuple[str, str]]:
        totals = usage.read(usage.usage_path(folder, manifest["package_id"]))
        return [
            ("Requests", str(totals["requests"])),
            ("Prompts Answered From Earlier Requests", str(totals["cached_prompts"])),
            ("Input Tokens", str(totals["input_tokens"])),
            ("Output Tokens", str(totals["output_tokens"])),
        ]

    def unavailable_explanation(self, manifest: dict) -> str | None:
        return "not available for external models (as in Redshift): the model is served elsewhere"


def inference_config(settings: dict, where: str) -> dict | None:
    """INFERENCE_CONFIG (sqlml extension): a JSON object of Redshift's inference-config keys,
    applied to every request."""
    text = settings.get("INFERENCE_CONFIG")
    if text is None:
        return None
    try:
        config = json.loads(text)
    except ValueError:
        config = None
    if not isinstance(config, dict) or not set(config) <= set(CONFIG_KEYS):
        raise InvalidSetting(
            f"{where}: INFERENCE_CONFIG must be a JSON object with the keys "
            f"{', '.join(CONFIG_KEYS)} (case-sensitive, as in Redshift); got {text!r}."
        )
    return config
