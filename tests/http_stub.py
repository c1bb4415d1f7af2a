"""A small model server on loopback for the tests and bench/remote.py: it speaks SageMaker's
CSV and JSON lines, SageMaker/MLflow JSON, KServe v2 and OpenAI chat completions, with latency
and failure injection.

The "model" answers each row with the sum of its numbers plus the length of its strings (NULL
and empty fields count 0); the "LLM" answers ``echo: <the user message>`` and counts one token
per word. ``/invocations`` reads the Content-Type; ``/v2/models/<name>/infer`` is KServe;
``/v1/chat/completions`` is OpenAI.

Failures: ``fail_first`` statuses are answered, one per request, before any success (429s with
``retry_after``); ``status`` answers every request with that status; ``garbage`` answers 200
with a body no protocol reads; ``hang`` sleeps that long before answering (from request ``hang_from`` on, when set); ``wrong_count``
answers one value too few.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
        self.retry_after: str | None = None
        self.status: int | None = None
        self.garbage = False
        self.hang = 0.0
        self.hang_from: int | None = None  # requests from this one on (counting from 1) hang
        self.wrong_count = False
        self.requests = 0
        self.rows = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.authorizations: list[str | None] = []
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go in two writes: with Nagle's algorithm the body would wait
            # for the client's delayed ACK (40 ms), not for the model.
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                stub._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.fail_first, self.status, self.garbage, self.hang = [], None, False, 0.0
            self.hang_from = None
            self.retry_after, self.wrong_count = None, False
            self.requests = self.rows = self.max_in_flight = 0
            self.authorizations.clear()
            self.bodies.clear()

    # -- one request --------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.authorizations.append(h.headers.get("Authorization"))
            self.bodies.append(body)
            failure = self.fail_first.pop(0) if self.fail_first else self.status
            hang = self.hang if self.hang_from is None or self.requests >= self.hang_from else 0
        try:
            if self.latency:
                time.sleep(self.latency)
            if hang:
                time.sleep(hang)
            if failure:
                headers = {"Retry-After": self.retry_after} if self.retry_after else {}
                return self._send(h, failure, b'{"message": "injected failure"}', headers)
            if self.garbage:
                return self._send(h, 200, b"<html>not a model</html>")
            answer, content_type = self._answer(h.path, h.headers.get("Content-Type", ""), body)
            self._send(h, 200, answer, {"Content-Type": content_type})
        finally:
            with self._lock:
                self.in_flight -= 1

    def _send(self, h, status: int, body: bytes, headers: dict | None = None) -> None:
        try:
            h.send_response(status)
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True  # the client gave up waiting (a TIMEOUT test)

    def _values(self, rows: list[list]) -> list[float]:
        values = [row_value(r) for r in rows]
        with self._lock:
            self.rows += len(rows)
        return values[:-1] if self.wrong_count else values

    def _answer(self, path: str, content_type: str, body: bytes) -> tuple[bytes, str]:
        if path.endswith("/chat/completions"):
            return self._chat(json.loads(body)), "application/json"
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
                    "message": {"role": "assistant", "content": f"echo: {content}"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": words,
                "completion_tokens": words + 1,
                "total_tokens": 2 * words + 1,
            },  # fmt: skip
        }
        extra = {k: request[k] for k in ("temperature", "max_tokens") if k in request}
        if extra:
            answer["choices"][0]["message"]["content"] += " " + json.dumps(extra, sort_keys=True)
        return json.dumps(answer).encode()
