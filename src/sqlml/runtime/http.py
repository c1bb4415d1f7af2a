"""Requests to the endpoints of remote and external models: several in flight, retried.

One :class:`Endpoint` per loaded model and process keeps a pool of kept-alive connections
(``runtime.wire``, a lean HTTP/1.1 client) and a thread pool bounding the requests in flight
(MAX_CONCURRENCY): at most that many worker threads take a call's requests one after another.
A 429 also halves the requests the endpoint may have in flight (at most once per round trip),
and each success grows it back by one per window of answers, up to MAX_CONCURRENCY (TCP's
additive increase, multiplicative decrease): a server that limits its clients' concurrency
settles the pace instead of failing the statement once the retries run out. A request that
meets 429 or a 5xx status, or cannot connect, is tried again after a backoff that doubles
(Retry-After, when the server sends one, is honoured up to a cap). A request that fails for
good fails the whole call: the statement gets no partial results, and the error names the
endpoint and the status. Headers (an API key) are never part of a message.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from sqlml.errors import RemoteEndpointError, RemoteEndpointTimeout, RemoteEndpointUnreachable
from sqlml.runtime import wire

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0  # seconds: a longer Retry-After fails the request instead


@dataclass(frozen=True)
class Policy:
    concurrency: int = 8
    timeout: float = 60.0  # seconds per request
    retries: int = 4  # tries after the first
    backoff: float = 0.1  # seconds before the first retry; doubles, with jitter


def shown_url(url: str) -> str:
    """The URL without user:password, for messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class _Window:
    """How many requests may be in flight now: ``maximum`` at first, halved by a 429 (once per
    round trip: only a request that started after the last cut may cut again), grown by
    1/limit per success."""

    def __init__(self, maximum: int):
        self.maximum = maximum
        self.limit = float(maximum)
        self.in_flight = 0
        self._cut_at = 0.0
        self._changed = threading.Condition()

    def acquire(self, cancelled: threading.Event) -> float:
        with self._changed:
            while self.in_flight >= int(self.limit):
                if cancelled.is_set():
                    raise _Cancelled()
                self._changed.wait(0.05)
            self.in_flight += 1
            return time.monotonic()

    def release(self, started: float, status: int | None) -> None:
        with self._changed:
            self.in_flight -= 1
            if status == 429:
                if started >= self._cut_at:
                    self.limit = max(1.0, self.limit / 2)
                    self._cut_at = time.monotonic()
            elif status is not None and 200 <= status < 300:
                self.limit = min(float(self.maximum), self.limit + 1 / self.limit)
            self._changed.notify_all()


class Endpoint:
    """POSTs to ``url`` for the model ``where`` names (e.g. "Remote model main.m")."""

    def __init__(self, url: str, where: str, policy: Policy, headers: Callable[[], dict[str, str]]):
        self.url, self.where, self.policy = url, where, policy
        self._headers = headers  # read per request (may hold a key: never printed)
        self._pool = wire.Pool(
            url, connect_timeout=min(policy.timeout, 10.0), read_timeout=policy.timeout
        )
        self._executor = ThreadPoolExecutor(policy.concurrency, thread_name_prefix="sqlml-http")
        self._window = _Window(policy.concurrency)
        self._closed = threading.Event()

    def close(self) -> None:
        self._closed.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._pool.close()

    def _fail(self, cls, detail: str):
        return cls(f"{self.where}: endpoint {shown_url(self.url)} {detail}")

    def post(
        self, body: bytes, content_type: str, cancelled: threading.Event | None = None
    ) -> bytes:
        """One request, retried on 429, 5xx and failed connections; the answer's body.
        ``cancelled``: set when another request of the same call failed, so this one stops
        retrying."""
        headers = {**self._headers(), "Content-Type": content_type, "Accept": "*/*"}
        cancelled = cancelled or threading.Event()
        attempts = self.policy.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            if cancelled.is_set():
                raise _Cancelled()
            started = self._window.acquire(cancelled)
            status = None
            try:
                response = self._pool.post(headers, body)
                status = response.status
            except wire.ProtocolError as e:
                raise self._fail(
                    RemoteEndpointError, f"answered something that is not HTTP: {e}"
                ) from e
            except TimeoutError as e:
                # Not retried: a model that is this slow would make the statement wait again.
                raise self._fail(
                    RemoteEndpointTimeout,
                    f"did not answer within TIMEOUT {self.policy.timeout:g} s; raise TIMEOUT, "
                    "lower MAX_BATCH_ROWS or check the server",
                ) from e
            except OSError as e:  # cannot connect, or the connection broke: tried again
                if last:
                    raise self._unreachable(e, attempts) from e
                response = None
            finally:
                self._window.release(started, status)  # before any backoff: no slot held
            if response is None:
                self._sleep(attempt, None, cancelled)
                continue
            if 200 <= response.status < 300:
                return response.data
            if response.status in RETRY_STATUSES and not last:
                self._sleep(attempt, response.headers.get("retry-after"), cancelled)
                continue
            tries = f" after {attempt + 1} attempts" if attempt else ""
            raise self._fail(
                RemoteEndpointError,
                f"answered HTTP {response.status} {response.reason or ''}".rstrip()
                + f"{tries}: {_excerpt(response.data)}",
            )
        raise AssertionError("unreachable")  # the loop returns or raises

    def _unreachable(self, error: Exception, attempts: int) -> RemoteEndpointUnreachable:
        return self._fail(
            RemoteEndpointUnreachable,
            f"cannot be reached ({_reason(error)}) after {attempts} attempts; check that the "
            "server runs and the ENDPOINT setting",
        )

    def _sleep(self, attempt: int, retry_after: str | None, cancelled: threading.Event) -> None:
        wait_s = self.policy.backoff * (2**attempt) * (0.75 + 0.5 * random.random())
        if retry_after:
            # An HTTP date (rare from model servers) is not read: the backoff stands.
            with contextlib.suppress(ValueError):
                wait_s = max(wait_s, min(float(retry_after), MAX_RETRY_AFTER))
        if cancelled.wait(wait_s):
            raise _Cancelled()

    def post_all(self, bodies: list[bytes], content_type: str) -> list[bytes]:
        """Every body's answer, in order, with at most ``concurrency`` requests in flight. The
        first failure cancels what has not started and is raised."""
        return self.map(lambda body, cancelled: self.post(body, content_type, cancelled), bodies)

    def map(self, fn: Callable, items: list) -> list:
        """``fn(item, cancelled)`` of every item, in order, at most ``concurrency`` at once.
        The first failure sets ``cancelled`` (the others stop retrying and take no more
        items) and is raised."""
        cancelled = threading.Event()
        if len(items) == 1:
            return [fn(items[0], cancelled)]
        results: list = [None] * len(items)
        todo = iter(range(len(items)))
        lock = threading.Lock()

        def work() -> None:  # one worker takes items until none is left (no future per item)
            while not cancelled.is_set():
                with lock:
                    i = next(todo, None)
                if i is None:
                    return
                results[i] = fn(items[i], cancelled)

        workers = min(self.policy.concurrency, len(items))
        futures = [self._executor.submit(work) for _ in range(workers)]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f in done and f.exception() is not None), None)
        if failed is not None:
            cancelled.set()
            for f in pending:
                f.cancel()
            raise failed.exception()
        return results


class _Cancelled(Exception):
    """Another request of the same call failed: this one's answer is not wanted."""


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    return text.split(": ", 1)[-1][:200]


def _excerpt(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip().replace("\n", " ")
    return (text[:200] + "...") if len(text) > 200 else (text or "(empty body)")
