"""A small model server on loopback for the tests and bench/remote.py: it speaks SageMaker's
CSV and JSON lines, SageMaker/MLflow JSON, KServe v2, OpenAI chat completions and OpenAI
completions (a list of prompts in one request), with latency and failure injection.

The "model" answers each row with the sum of its numbers plus the length of its strings (NULL
and empty fields count 0); the "LLM" answers ``echo: <the user message or prompt>`` and counts
one token per word. ``/invocations`` reads the Content-Type; ``/v2/models/<name>/infer`` is
KServe; ``/v1/chat/completions`` and ``/v1/completions`` are OpenAI.

Failures: ``fail_first`` statuses are answered, one per request, before any success (429s with
``retry_after``); ``fail_requests`` maps a request's number (counting from 1) to the status it
gets; ``status`` answers every request with that status; ``garbage`` answers 200 with a body no
protocol reads; ``hang`` sleeps that long before answering (from request ``hang_from`` on, when
set); ``wrong_count`` answers one value too few (a completions batch: one choice too few);
``shuffle_choices`` answers a completions batch's choices in reverse order (the client must
read each one's ``index``); ``max_concurrent`` answers 429 to a request that arrives while that
many are being served (a server that limits its clients' concurrency).

The server is one asyncio loop in a thread of its own, serving kept-alive HTTP/1.1
connections: a chat request costs it about 0.2 ms of CPU (a thread per connection and
``http.server``'s parsing cost about 0.35 ms), so on a small machine the client, not the stub,
is what a benchmark measures. It reads only what its clients send: a request line, headers and
a body of ``Content-Length`` bytes (no chunked requests, no pipelining needed).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import threading
from http import HTTPStatus


def row_value(row: list) -> float:
    total = 0.0
    for v in row:
        if v is None or v == "":
            continue
        if isinstance(v, bool):
            total += float(v)
        elif isinstance(v, int | float):
            total += v
        else:
            try:
                total += float(v)
            except ValueError:
                total += len(str(v))
    return total


class Stub:
    def __init__(self, latency: float = 0.0):
        self.latency = latency
        self.fail_first: list[int] = []
        self.fail_requests: dict[int, int] = {}
        self.retry_after: str | None = None
        self.status: int | None = None
        self.garbage = False
        self.hang = 0.0
        self.hang_from: int | None = None  # requests from this one on (counting from 1) hang
        self.wrong_count = False
        self.shuffle_choices = False
        self.max_concurrent: int | None = None
        self.throttled = 0
        self.requests = 0
        self.rows = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.authorizations: list[str | None] = []
        self.bodies: list[bytes] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._connections: set[asyncio.Task] = set()
        self.server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=512)
        )
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _shutdown(self) -> None:
        self.server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.sleep(0)

    def reset(self) -> None:
        with self._lock:
            self.fail_first, self.status, self.garbage, self.hang = [], None, False, 0.0
            self.fail_requests = {}
            self.hang_from = None
            self.retry_after, self.wrong_count, self.shuffle_choices = None, False, False
            self.max_concurrent = None
            self.requests = self.rows = self.max_in_flight = self.throttled = 0
            self.authorizations.clear()
            self.bodies.clear()
            self.paths.clear()

    # -- one connection, kept alive --------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                status, answer, answer_headers = await self._handle(path, headers, body)
                reason = HTTPStatus(status).phrase
                extra = "".join(f"{k}: {v}\r\n" for k, v in answer_headers.items())
                head = f"HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: {len(answer)}\r\n\r\n"
                writer.write(head.encode("latin-1") + answer)
                await writer.drain()
        except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError):
            pass  # the client gave up waiting (a TIMEOUT test)
        except asyncio.CancelledError:
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    # -- one request -----------------------------------------------------------------------

    async def _handle(self, path: str, headers: dict, body: bytes) -> tuple[int, bytes, dict]:
        with self._lock:
            self.requests += 1
            number = self.requests
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.authorizations.append(headers.get("authorization"))
            self.bodies.append(body)
            self.paths.append(path)
            failure = self.fail_first.pop(0) if self.fail_first else self.status
            failure = self.fail_requests.get(number, failure)
            if self.max_concurrent is not None and self.in_flight > self.max_concurrent:
                failure = 429
                self.throttled += 1
            hang = self.hang if self.hang_from is None or number >= self.hang_from else 0
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            if hang:
                await asyncio.sleep(hang)
            if failure:
                extra = {"Retry-After": self.retry_after} if self.retry_after else {}
                return failure, b'{"message": "injected failure"}', extra
            if self.garbage:
                return 200, b"<html>not a model</html>", {}
            answer, content_type = self._answer(path, headers.get("content-type", ""), body)
            return 200, answer, {"Content-Type": content_type}
        finally:
            with self._lock:
                self.in_flight -= 1

    def _values(self, rows: list[list]) -> list[float]:
        values = [row_value(r) for r in rows]
        with self._lock:
            self.rows += len(rows)
        return values[:-1] if self.wrong_count else values

    def _answer(self, path: str, content_type: str, body: bytes) -> tuple[bytes, str]:
        if path.endswith("/chat/completions"):
            return self._chat(json.loads(body)), "application/json"
        if path.endswith("/completions"):
            return self._completions(json.loads(body)), "application/json"
        if "/v2/models/" in path:
            request = json.loads(body)
            inputs = request["inputs"]
            if len(inputs) == 1 and len(inputs[0]["shape"]) == 2:
                n, k = inputs[0]["shape"]
                data = inputs[0]["data"]
                rows = [data[i * k : (i + 1) * k] for i in range(n)]
            else:
                rows = [list(r) for r in zip(*(i["data"] for i in inputs), strict=True)]
            values = self._values(rows)
            output = {"name": "output-0", "shape": [len(values)], "datatype": "FP64"}
            return json.dumps(
                {"outputs": [{**output, "data": values}]}
            ).encode(), "application/json"
        text = body.decode("utf-8")
        if content_type.startswith("text/csv"):
            rows = [[None if v == "" else v for v in r] for r in csv.reader(io.StringIO(text))]
            values = self._values(rows)
            return "".join(f"{v}\n" for v in values).encode(), "text/csv"
        if content_type.startswith("application/jsonlines"):
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
            values = self._values(rows)
            return "".join(f"{json.dumps(v)}\n" for v in values).encode(), "application/jsonlines"
        values = self._values(json.loads(text)["instances"])
        return json.dumps({"predictions": values}).encode(), "application/json"

    @staticmethod
    def _echo(text: str, request: dict) -> str:
        extra = {k: request[k] for k in ("temperature", "max_tokens") if k in request}
        return f"echo: {text}" + (" " + json.dumps(extra, sort_keys=True) if extra else "")

    def _chat(self, request: dict) -> bytes:
        content = request["messages"][-1]["content"]
        with self._lock:
            self.rows += 1
        words = len(content.split())
        answer = {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "model": request.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self._echo(content, request)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": words,
                "completion_tokens": words + 1,
                "total_tokens": 2 * words + 1,
            },  # fmt: skip
        }
        return json.dumps(answer).encode()

    def _completions(self, request: dict) -> bytes:
        """OpenAI's completions: ``prompt`` is a string or a list of them; one choice per
        prompt, each with its ``index``; usage summed over the request."""
        prompts = request["prompt"]
        prompts = [prompts] if isinstance(prompts, str) else prompts
        with self._lock:
            self.rows += len(prompts)
        choices = [
            {"index": i, "text": self._echo(p, request), "finish_reason": "length"}
            for i, p in enumerate(prompts)
        ]
        if self.wrong_count:
            choices = choices[:-1]
        if self.shuffle_choices:
            choices.reverse()
        words = sum(len(p.split()) for p in prompts)
        answer = {
            "id": "cmpl-stub",
            "object": "text_completion",
            "model": request.get("model"),
            "choices": choices,
            "usage": {
                "prompt_tokens": words,
                "completion_tokens": words + len(prompts),
                "total_tokens": 2 * words + len(prompts),
            },
        }
        return json.dumps(answer).encode()
