"""The lean HTTP/1.1 client (runtime/wire.py) against real servers on loopback that answer in
the other ways HTTP allows: chunked bodies, a body up to the end of the connection, servers
that close connections, a server that is not there."""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sqlml.runtime import wire


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = b"got " + body
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(answer), 3):
                piece = answer[i : i + 3]
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
            return
        if self.path == "/to-the-end":  # no length: the body ends with the connection
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(answer)
            self.close_connection = True
            return
        self.send_response(201, "Made")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        if self.path == "/then-close":  # keep-alive announced, yet the server closes
            self.close_connection = True


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def post(url: str, body: bytes) -> wire.Response:
    pool = wire.Pool(url, connect_timeout=5, read_timeout=30)
    try:
        return pool.post({"Content-Type": "text/plain"}, body)
    finally:
        pool.close()


def test_content_length_and_keep_alive(server):
    pool = wire.Pool(server + "/x?q=1", connect_timeout=5, read_timeout=30)
    try:
        answers = [pool.post({"Content-Type": "text/plain"}, b"n%d" % i) for i in range(5)]
        assert len(pool._idle) == 1  # one connection carried all five
    finally:
        pool.close()
    assert [(a.status, a.reason, a.data) for a in answers] == [
        (201, "Made", b"got n%d" % i) for i in range(5)
    ]
    assert answers[0].headers["content-length"] == "6"


def test_chunked_body(server):
    answer = post(server + "/chunked", b"a longer body than one chunk")
    assert answer.data == b"got a longer body than one chunk"


def test_body_to_the_end_of_the_connection(server):
    assert post(server + "/to-the-end", b"xyz").data == b"got xyz"


def test_a_closed_idle_connection_is_replaced(server):
    pool = wire.Pool(server + "/then-close", connect_timeout=5, read_timeout=30)
    try:
        for i in range(3):
            assert pool.post({}, b"%d" % i).data == b"got %d" % i
    finally:
        pool.close()


def test_a_server_that_is_not_there():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(wire.ConnectFailed, match="refused"):
            post(f"http://127.0.0.1:{port}/", b"x")


@contextlib.contextmanager
def one_shot_server(reply: bytes):
    """The URL of a server that reads one request, sends ``reply`` (nothing: b"") and closes."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = listener.accept()
        conn.recv(1024)
        if reply:
            conn.sendall(reply)
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        listener.close()


def test_not_http():
    with (
        one_shot_server(b"SSH-2.0-OpenSSH\r\n\r\n") as url,
        pytest.raises(wire.ProtocolError, match="not HTTP"),
    ):
        post(url, b"x")


def test_a_server_closing_before_answering():
    with (
        one_shot_server(b"") as url,
        pytest.raises(wire.Dropped, match="closed the connection before answering"),
    ):
        post(url, b"x")
