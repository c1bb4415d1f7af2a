"""An external model (an LLM behind an OpenAI-compatible endpoint) as a predictor.

``UNIFIED`` (the default, Bedrock's Converse in Redshift): each row's text, with PROMPT before
it and SUFFIX after it, is one chat completion request (``POST {ENDPOINT}/chat/completions``);
the function returns the generated text (RESPONSE_TYPE VARCHAR) or, as SUPER, Converse's shape:
``{"output": {"message": {"role", "content": [{"text"}]}}, "stopReason", "usage":
{"inputTokens", "outputTokens", "totalTokens"}}``. The inference configuration uses Redshift's
(Bedrock's) keys: ``maxTokens``, ``temperature``, ``topP``, ``stopSequences``.
``RAW``: each row is the request body itself (SUPER), sent as it is; the answer is returned
whole.

A vector's rows are asked with at most MAX_CONCURRENCY requests in flight; identical requests
in one statement are asked once (``runtime.generation``); 429 and 5xx back off and retry (``runtime.http``). Token usage is
added to the model's totals (``runtime.usage``) after each vector.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pyarrow as pa

from sqlml.errors import InvalidSetting, RemoteEndpointError
from sqlml.runtime import generation, usage
from sqlml.runtime.http import Endpoint, Policy
from sqlml.runtime.remote import api_key_headers

DEFAULT_CONCURRENCY = 32
MAX_REMEMBERED = (
    100_000  # answers kept for one statement; past it, identical prompts are asked again
)
DEFAULT_TIMEOUT = 300
# Bedrock's inferenceConfig keys -> OpenAI's request fields.
CONFIG_KEYS = {
    "maxTokens": "max_tokens",
    "temperature": "temperature",
    "topP": "top_p",
    "stopSequences": "stop",
}


def openai_config(config: dict) -> dict:
    """An inference configuration (Redshift's keys; OpenAI's are taken as they are)."""
    return {CONFIG_KEYS.get(k, k): v for k, v in config.items()}


class LlmPredictor:
    def __init__(self, manifest: dict, package_folder: Path):
        model = manifest["model"]
        self.where = f"External model {manifest['schema']}.{manifest['name']}"
        self.model_id = model["model_id"]
        self.request_type = model["request_type"]
        self.response_type = model["response_type"]
        self.prompt, self.suffix = model.get("prompt"), model.get("suffix")
        self.config = openai_config(model.get("inference_config") or {})
        base = model["endpoint"].rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"

        def headers() -> dict[str, str]:  # at each request: the key is never kept
            return api_key_headers(model, self.where)

        policy = Policy(concurrency=model["concurrency"], timeout=float(model["timeout"]))
        self.endpoint = Endpoint(self.url, self.where, policy, headers)
        self.usage_file = usage.usage_path(package_folder, manifest["package_id"])
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._answers: dict[bytes, tuple[str, dict]] = {}

    def _statement_answers(self) -> dict[bytes, tuple[str, dict]]:
        """The answers given so far in the current statement, by request body."""
        with self._lock:
            if self._generation != generation.current or len(self._answers) > MAX_REMEMBERED:
                self._generation, self._answers = generation.current, {}
            return self._answers

    def predict(self, columns: list) -> pa.Array:
        inputs = columns[0].to_pylist()
        n = len(inputs)
        configs = columns[1].to_pylist() if len(columns) > 1 else [None] * n
        extras = columns[2].to_pylist() if len(columns) > 2 else [None] * n
        bodies = [
            None if v is None else self.request(v, c, x)
            for v, c, x in zip(inputs, configs, extras, strict=True)
        ]
        known = self._statement_answers()
        distinct = [b for b in dict.fromkeys(bodies) if b is not None and b not in known]
        answers = self.endpoint.map(self._ask, distinct)
        by_body = {**known, **dict(zip(distinct, answers, strict=True))}
        counts = {
            "requests": len(distinct),
            "cached_prompts": sum(b is not None for b in bodies) - len(distinct),
            "input_tokens": sum(a[1].get("prompt_tokens", 0) for a in answers),
            "output_tokens": sum(a[1].get("completion_tokens", 0) for a in answers),
        }
        if distinct or counts["cached_prompts"]:
            usage.add(self.usage_file, counts)
        with self._lock:
            known.update(zip(distinct, answers, strict=True))
        values = [None if b is None else by_body[b][0] for b in bodies]
        return (
            pa.array(values, pa.string())
            if self.response_type == "VARCHAR"
            else (pa.array(values, pa.string()).cast(pa.json_()))
        )

    def request(self, value: str, config: str | None = None, extra: str | None = None) -> bytes:
        """The request body for one row (the key under which identical rows are asked once):
        the model's inference configuration, then the row's (``inference_config``), then the
        row's ``additional_model_request_fields`` as they are."""
        if self.request_type == "RAW":
            try:
                body = json.loads(value)
            except ValueError as e:
                raise RemoteEndpointError(
                    f"{self.where}: a RAW request must be a JSON object (the request body); "
                    f"got {value[:80]!r}."
                ) from e
            if isinstance(body, dict):
                body.setdefault("model", self.model_id)
            return json.dumps(body, sort_keys=True).encode("utf-8")
        text = " ".join(p for p in (self.prompt, value, self.suffix) if p)
        body = {
            "model": self.model_id,
            "messages": [{"role": "user", "content": text}],
            **self.config,
            **openai_config(self._object(config, "inference_config", check_keys=True)),
            **self._object(extra, "additional_model_request_fields"),
        }
        return json.dumps(body, sort_keys=True).encode("utf-8")

    def _object(self, text: str | None, what: str, check_keys: bool = False) -> dict:
        if text is None:
            return {}
        try:
            found = json.loads(text)
        except ValueError:
            found = None
        if not isinstance(found, dict):
            raise InvalidSetting(f"{self.where}: {what} must be a JSON object; got {text[:80]!r}.")
        unknown = sorted(set(found) - set(CONFIG_KEYS)) if check_keys else []
        if unknown:
            raise InvalidSetting(
                f"{self.where}: {what} key {unknown[0]!r} is not one of "
                f"{', '.join(CONFIG_KEYS)} (case-sensitive, as in Redshift)."
            )
        return found

    def _ask(self, body: bytes, cancelled) -> tuple[str, dict]:
        """(the function's value, the usage) for one request."""
        raw = self.endpoint.post(body, "application/json", cancelled)
        try:
            answer = json.loads(raw)
            usage_found = answer.get("usage") or {}
            if self.request_type == "RAW":
                return raw.decode("utf-8"), usage_found
            choice = answer["choices"][0]
            text = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
            excerpt = raw[:120].decode("utf-8", "replace").replace("\n", " ")
            raise RemoteEndpointError(
                f"{self.where}: endpoint {self.url} answered something that is not an OpenAI "
                f"chat completion ({type(e).__name__}: {e}). It began: {excerpt!r}"
            ) from e
        if self.response_type == "VARCHAR":
            return text, usage_found
        converse = {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": choice.get("finish_reason"),
            "usage": {
                "inputTokens": usage_found.get("prompt_tokens"),
                "outputTokens": usage_found.get("completion_tokens"),
                "totalTokens": usage_found.get("total_tokens"),
            },
        }
        return json.dumps(converse), usage_found
