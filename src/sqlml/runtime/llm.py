"""An external model (an LLM behind an OpenAI-compatible endpoint) as a predictor.

``UNIFIED`` (the default, Bedrock's Converse in Redshift): each row's text, with PROMPT before
it and SUFFIX after it, is one prompt. With ``API 'CHAT'`` (the default) each prompt is one chat
completion request (``POST {ENDPOINT}/chat/completions``): the chat protocol takes one
conversation per request. With ``API 'COMPLETIONS'`` up to MAX_BATCH_ROWS prompts go in one
request (``POST {ENDPOINT}/completions`` with ``"prompt": [...]``, which OpenAI, vLLM and
llama.cpp's server answer with one choice per prompt, each with its ``index``). The function
returns the generated text (RESPONSE_TYPE VARCHAR) or, as SUPER, Converse's shape:
``{"output": {"message": {"role", "content": [{"text"}]}}, "stopReason", "usage":
{"inputTokens", "outputTokens", "totalTokens"}}``. The inference configuration uses Redshift's
(Bedrock's) keys: ``maxTokens``, ``temperature``, ``topP``, ``stopSequences``.
``RAW``: each row is the request body itself (SUPER), sent as it is; the answer is returned
whole.

A vector's requests go out with at most MAX_CONCURRENCY in flight; identical prompts (text and
configuration) in one statement are asked once (``runtime.generation``); 429 and 5xx back off
and retry (``runtime.http``). Token usage is added to the model's totals (``runtime.usage``)
after each vector. A request's JSON is built from a template made once per configuration: the
prompt's JSON string is put between its two halves.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from sqlml.errors import InvalidSetting, RemoteEndpointError
from sqlml.runtime import generation, usage
from sqlml.runtime.http import Endpoint, Policy
from sqlml.runtime.remote import api_key_headers

# A chat request carries one prompt, so rows/s is at most MAX_CONCURRENCY / latency. Local
# servers (vLLM, llama.cpp, Ollama) queue or batch 64 requests; a hosted API that allows fewer
# answers 429, which halves what the endpoint keeps in flight (runtime/http.py).
DEFAULT_CONCURRENCY = 64
DEFAULT_BATCH_ROWS = 16  # prompts per request with API 'COMPLETIONS'
MAX_REMEMBERED = 100_000  # answers kept for one statement; past it, identical prompts are re-asked
MAX_TEMPLATES = 1_000  # request templates kept (one per distinct inference configuration)
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


@dataclass(frozen=True)
class Template:
    """A request body around its prompt(s): ``head + <JSON of the prompt(s)> + tail``."""

    key: str  # the configuration as canonical JSON: part of an answer's cache key
    head: str
    tail: str
    choices_per_prompt: int  # OpenAI's "n": a batch's choices are indexed prompt * n + j


@dataclass(frozen=True)
class Request:
    body: bytes
    keys: list  # the cache keys of the prompts it asks, in order
    template: Template | None = None


class LlmPredictor:
    def __init__(self, manifest: dict, package_folder: Path):
        model = manifest["model"]
        self.where = f"External model {manifest['schema']}.{manifest['name']}"
        self.model_id = model["model_id"]
        self.request_type = model["request_type"]
        self.response_type = model["response_type"]
        self.api = model.get("api") or "CHAT"
        self.batch_rows = (model.get("batch_rows") or DEFAULT_BATCH_ROWS) if self.batched else 1
        self.prompt, self.suffix = model.get("prompt"), model.get("suffix")
        self.config = openai_config(model.get("inference_config") or {})
        base = model["endpoint"].rstrip("/")
        path = "/chat/completions" if self.api == "CHAT" else "/completions"
        self.url = base if base.endswith(path) else base + path

        def headers() -> dict[str, str]:  # at each request: the key is never kept
            return api_key_headers(model, self.where)

        policy = Policy(concurrency=model["concurrency"], timeout=float(model["timeout"]))
        self.endpoint = Endpoint(self.url, self.where, policy, headers)
        self.usage_file = usage.usage_path(package_folder, manifest["package_id"])
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._answers: dict = {}
        self._templates: dict[tuple, Template] = {}

    @property
    def batched(self) -> bool:
        return self.api == "COMPLETIONS" and self.request_type == "UNIFIED"

    def _statement_answers(self) -> dict:
        """The answers given so far in the current statement, by cache key."""
        with self._lock:
            if self._generation != generation.current or len(self._answers) > MAX_REMEMBERED:
                self._generation, self._answers = generation.current, {}
            return self._answers

    # -- the SQL function ------------------------------------------------------------------

    def predict(self, columns: list) -> pa.Array:
        inputs = columns[0].to_pylist()
        n = len(inputs)
        configs = columns[1].to_pylist() if len(columns) > 1 else [None] * n
        extras = columns[2].to_pylist() if len(columns) > 2 else [None] * n
        templates: dict[str, Template] = {}
        if self.request_type == "RAW":
            keys = [None if v is None else self.raw_body(v) for v in inputs]
        else:
            keys = self._keys(inputs, configs, extras, templates)
        known = self._statement_answers()
        distinct = [k for k in dict.fromkeys(keys) if k is not None and k not in known]
        requests = self._requests(distinct, templates)
        answers = self.endpoint.map(self._ask, requests)
        found = {}
        for request, (values, _) in zip(requests, answers, strict=True):
            found.update(zip(request.keys, values, strict=True))
        counts = {
            "requests": len(requests),
            "cached_prompts": sum(k is not None for k in keys) - len(distinct),
            "input_tokens": sum(u.get("prompt_tokens") or 0 for _, u in answers),
            "output_tokens": sum(u.get("completion_tokens") or 0 for _, u in answers),
        }
        if requests or counts["cached_prompts"]:
            usage.add(self.usage_file, counts)
        with self._lock:
            known.update(found)
        values = [None if k is None else found[k] if k in found else known[k] for k in keys]
        array = pa.array(values, pa.string())
        return array if self.response_type == "VARCHAR" else array.cast(pa.json_())

    def _keys(self, inputs: list, configs: list, extras: list, templates: dict) -> list:
        """Each row's cache key: (its prompt text, its configuration's canonical JSON); the
        configurations' templates are put in ``templates`` by their keys."""
        prompt, suffix = self.prompt, self.suffix
        arguments: dict[tuple, Template] = {}
        keys = []
        for v, c, x in zip(inputs, configs, extras, strict=True):
            if v is None:
                keys.append(None)
                continue
            template = arguments.get((c, x))
            if template is None:
                template = arguments[(c, x)] = self.template(c, x)
                templates[template.key] = template
            text = " ".join(p for p in (prompt, v, suffix) if p) if prompt or suffix else v
            keys.append((text, template.key))
        return keys

    def _requests(self, distinct: list, templates: dict[str, Template]) -> list[Request]:
        """The requests that ask the distinct prompts: one per prompt, or (COMPLETIONS) up to
        MAX_BATCH_ROWS prompts of one configuration per request."""
        if self.request_type == "RAW":
            return [Request(key, [key]) for key in distinct]
        by_config: dict[str, list] = {}
        for key in distinct:
            by_config.setdefault(key[1], []).append(key)
        requests = []
        for config, keys in by_config.items():
            template = templates[config]
            for i in range(0, len(keys), self.batch_rows):
                chunk = keys[i : i + self.batch_rows]
                if self.batched:
                    prompts = "[" + ", ".join(json.dumps(k[0]) for k in chunk) + "]"
                else:
                    prompts = json.dumps(chunk[0][0])
                body = (template.head + prompts + template.tail).encode("utf-8")
                requests.append(Request(body, chunk, template))
        return requests

    # -- request bodies --------------------------------------------------------------------

    def template(self, config: str | None = None, extra: str | None = None) -> Template:
        """The request around the prompt for a row's ``inference_config`` and
        ``additional_model_request_fields`` arguments: the model's inference configuration,
        then the row's, then the row's other fields as they are."""
        with self._lock:
            found = self._templates.get((config, extra))
        if found is not None:
            return found
        body = {
            "model": self.model_id,
            **self.config,
            **openai_config(self._object(config, "inference_config", check_keys=True)),
            **self._object(extra, "additional_model_request_fields"),
        }
        field = "prompt" if self.api == "COMPLETIONS" else "messages"
        body.pop(field, None)  # the prompt is ours
        head = json.dumps(body)[:-1] + f', "{field}": '
        if field == "messages":
            head, tail = head + '[{"role": "user", "content": ', "}]}"
        else:
            tail = "}"
        n = body.get("n")
        template = Template(
            key=json.dumps(body, sort_keys=True),
            head=head,
            tail=tail,
            choices_per_prompt=n if isinstance(n, int) and n > 1 else 1,
        )
        with self._lock:
            if len(self._templates) > MAX_TEMPLATES:
                self._templates.clear()
            self._templates[(config, extra)] = template
        return template

    def raw_body(self, value: str) -> bytes:
        """A RAW row's request body (``model`` added when missing), canonical: the key under
        which identical rows are asked once."""
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

    # -- answers ---------------------------------------------------------------------------

    def _ask(self, request: Request, cancelled) -> tuple[list[str], dict]:
        """(the function's value for each prompt of the request, the request's usage)."""
        raw = self.endpoint.post(request.body, "application/json", cancelled)
        what = "an OpenAI chat completion" if self.api == "CHAT" else "an OpenAI completion"
        try:
            answer = json.loads(raw)
            usage_found = answer.get("usage") or {}
            if self.request_type == "RAW":
                return [raw.decode("utf-8")], usage_found
            if self.api == "CHAT":
                choice = answer["choices"][0]
                choices = [(choice["message"]["content"], choice)]
            else:
                choices = self._completion_choices(answer["choices"], request)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
            excerpt = raw[:120].decode("utf-8", "replace").replace("\n", " ")
            raise RemoteEndpointError(
                f"{self.where}: endpoint {self.url} answered something that is not {what} "
                f"({type(e).__name__}: {e}). It began: {excerpt!r}"
            ) from e
        if self.response_type == "VARCHAR":
            return [text for text, _ in choices], usage_found
        # A batch's usage is the whole request's: a row's own is known only when it was alone.
        alone = usage_found if len(choices) == 1 else {}
        return [self._converse(text, c.get("finish_reason"), alone) for text, c in choices], (
            usage_found
        )

    def _completion_choices(self, choices: list, request: Request) -> list[tuple[str, dict]]:
        """One (text, choice) per prompt of the request, by each choice's ``index`` (servers
        may answer a batch out of order)."""
        per = request.template.choices_per_prompt
        by_prompt: dict[int, dict] = {}
        for choice in choices:
            index = choice["index"]
            if index % per == 0:
                by_prompt.setdefault(index // per, choice)
        wanted = len(request.keys)
        missing = [i for i in range(wanted) if i not in by_prompt]
        if missing:
            raise RemoteEndpointError(
                f"{self.where}: endpoint {self.url} answered {len(choices)} choices for "
                f"{wanted} prompts, none with index {missing[0] * per}; an OpenAI completions "
                "server answers one choice per prompt. Check the server, or set "
                "MAX_BATCH_ROWS 1."
            )
        return [(by_prompt[i]["text"], by_prompt[i]) for i in range(wanted)]

    @staticmethod
    def _converse(text: str, stop: str | None, usage_found: dict) -> str:
        converse = {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": stop,
            "usage": {
                "inputTokens": usage_found.get("prompt_tokens"),
                "outputTokens": usage_found.get("completion_tokens"),
                "totalTokens": usage_found.get("total_tokens"),
            },
        }
        return json.dumps(converse)
