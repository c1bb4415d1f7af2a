"""A lean HTTP/1.1 client for POSTing to model servers over kept-alive connections.

Why not urllib3 (or http.client): a request through them costs about 0.3 ms of Python (URL
parsing, header objects, the email parser for the answer's headers), which is the bound of an
LLM's one-prompt-per-request chat path on a small machine. This does only what a POST to a
model server needs: one ``sendall`` of the request line, headers and body; the status line and
headers read by splitting bytes; a body of ``Content-Length`` bytes, chunked, or up to the
end of the connection. TLS goes through ``ssl`` as usual. Idle connections wait in a pool; one
the server has closed meanwhile is noticed before reuse (or, if the close crosses our request,
by an answer that ends before its first byte) and replaced by a fresh one.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEAD = 256 * 1024  # bytes of status line and headers before the answer is refused
RECV = 256 * 1024


class ConnectFailed(OSError):
    """The TCP (or TLS) connection could not be made: the server is not there (retried)."""


class Dropped(OSError):
    """The connection broke before or during the answer."""


class ProtocolError(OSError):
    """The answer is not HTTP/1.x."""


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: dict[str, str]  # names in lower case
    data: bytes


class Target:
    """Where POSTs go: the connection's address and the request line's path."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.tls = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.tls else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default = (self.tls and self.port == 443) or (not self.tls and self.port == 80)
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.host_header = host if default else f"{host}:{self.port}"


class Pool:
    """Kept-alive connections to one server; ``post`` is safe from many threads."""

    def __init__(self, url: str, connect_timeout: float, read_timeout: float):
        self.target = Target(url)
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self._idle: deque[socket.socket] = deque()
        self._closed = threading.Event()
        self._tls = ssl.create_default_context() if self.target.tls else None

    def close(self) -> None:
        self._closed.set()
        while self._idle:
            _close(self._idle.pop())

    def post(self, headers: dict[str, str], body: bytes) -> Response:
        t = self.target
        lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head = (
            f"POST {t.path} HTTP/1.1\r\nHost: {t.host_header}\r\n{lines}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        message = head + body
        while True:
            sock, reused = self._take()
            try:
                try:
                    sock.sendall(message)
                except (ConnectionResetError, BrokenPipeError) as e:
                    raise Dropped(e.errno, "the connection was reset") from e
                response, keep = _read_response(sock)
            except Dropped:
                _close(sock)
                if reused:
                    continue  # the server closed an idle connection as we sent: a fresh one
                raise
            except BaseException:
                _close(sock)
                raise
            if keep and not self._closed.is_set():
                self._idle.append(sock)
            else:
                _close(sock)
            return response

    def _take(self) -> tuple[socket.socket, bool]:
        while True:
            try:
                sock = self._idle.pop()
            except IndexError:
                return self._connect(), False
            if _still_open(sock):
                return sock, True
            _close(sock)

    def _connect(self) -> socket.socket:
        t = self.target
        try:
            sock = socket.create_connection((t.host, t.port), timeout=self.connect_timeout)
        except OSError as e:
            raise ConnectFailed(e.errno, _text(e)) from e
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=t.host)
        except OSError as e:
            _close(sock)
            raise ConnectFailed(e.errno, _text(e)) from e
        sock.settimeout(self.read_timeout)
        return sock


def _text(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()


def _still_open(sock: socket.socket) -> bool:
    """An idle connection is usable if nothing is waiting to be read on it: a readable idle
    socket is one the server closed (or one with stray bytes)."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return False
    try:
        poller = select.poll()  # not select.select: it fails on descriptors past 1023
        poller.register(sock, select.POLLIN)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


def _read_response(sock: socket.socket) -> tuple[Response, bool]:
    """The answer, and whether the connection may carry another request."""
    data = b""
    while True:
        end = data.find(b"\r\n\r\n")
        while end < 0:
            chunk = _recv(sock, started=bool(data))
            data += chunk
            if len(data) > MAX_HEAD:
                raise ProtocolError("the answer's headers are too long")
            end = data.find(b"\r\n\r\n")
        head, data = data[:end].decode("latin-1"), data[end + 4 :]
        status_line, *lines = head.split("\r\n")
        version, _, rest = status_line.partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise ProtocolError(f"the answer is not HTTP/1.x: {status_line[:80]!r}")
        status = int(code)
        if 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
            continue
        break
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status in (204, 304):
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body, data = _chunked(sock, data)
    elif "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise ProtocolError("the answer's Content-Length is not a number") from None
        if len(data) < length:
            buffer = bytearray(data)
            while len(buffer) < length:
                buffer += _recv(sock, started=True)
            data = bytes(buffer)
        body, data = data[:length], data[length:]
    else:  # the body runs to the end of the connection
        chunks = [data]
        while chunk := sock.recv(RECV):
            chunks.append(chunk)
        body, data, keep = b"".join(chunks), b"", False
    return Response(status, reason, headers, body), keep and not data


def _recv(sock: socket.socket, started: bool) -> bytes:
    """More bytes of the answer; a connection that ends here is Dropped."""
    try:
        chunk = sock.recv(RECV)
    except (ConnectionResetError, BrokenPipeError) as e:
        raise Dropped(e.errno, "the connection was reset") from e
    if not chunk:
        where = "in the middle of its answer" if started else "before answering"
        raise Dropped(f"the server closed the connection {where}")
    return chunk


def _chunked(sock: socket.socket, data: bytes) -> tuple[bytes, bytes]:
    """A chunked body, and what follows it."""
    parts = []
    while True:
        while (end := data.find(b"\r\n")) < 0:
            data += _recv(sock, started=True)
        size_text = data[:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size {size_text[:20]!r}") from None
        data = data[end + 2 :]
        if size == 0:
            while (end := data.find(b"\r\n")) != 0:  # trailers, then an empty line
                if end < 0:
                    data += _recv(sock, started=True)
                else:
                    data = data[end + 2 :]
            return b"".join(parts), data[2:]
        while len(data) < size + 2:
            data += _recv(sock, started=True)
        parts.append(data[:size])
        data = data[size + 2 :]
