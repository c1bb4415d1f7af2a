"""PostgreSQL protocol 3.0: reading frames off a stream and building the server's messages.

Nothing here decides what to do with a message; :mod:`sqlml.server.session` does. Every frame
is checked before it is buffered: a length below the header's own, above the limit, or a type
byte the protocol does not have is a :class:`ProtocolViolation`, which closes that one
connection (with an ErrorResponse when the stream still takes one) and never the server.
"""

from __future__ import annotations

import asyncio
import struct

from sqlml.errors import SqlmlError

PROTOCOL_3 = 196608  # 3.0
SSL_REQUEST = 80877103
CANCEL_REQUEST = 80877102
GSSENC_REQUEST = 80877104

# A startup packet holds a few parameter names and values; PostgreSQL allows 10,000 bytes.
MAX_STARTUP = 10_000
# The largest message a client may send (a query's text, a Bind's values, one CopyData).
# PostgreSQL's limit is 1 GB; a client that announces more is hostile or broken.
MAX_MESSAGE = 256 * 1024 * 1024

# Message types a client may send (frontend messages after the startup).
FRONTEND_TYPES = frozenset(b"QPBDEHSCXfdcp")

_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")
_U32 = struct.Struct("!I")
_HEADER = struct.Struct("!cI")


class ProtocolViolation(SqlmlError):
    """The client broke the protocol: its connection is closed (SQLSTATE 08P01)."""

    sqlstate = "08P01"


async def read_startup(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The first packet of a connection: (code, body). The code is the protocol version or
    one of the special requests (SSL, GSSENC, cancel)."""
    length = _U32.unpack(await reader.readexactly(4))[0]
    if length < 8 or length > MAX_STARTUP:
        raise ProtocolViolation(f"invalid length of startup packet: {length} bytes")
    packet = await reader.readexactly(length - 4)
    return _U32.unpack_from(packet)[0], packet[4:]


async def read_message(reader: asyncio.StreamReader, limit: int = MAX_MESSAGE) -> tuple[int, bytes]:
    """One frontend message: (type byte, body)."""
    kind, length = _HEADER.unpack(await reader.readexactly(5))
    code = kind[0]
    if code not in FRONTEND_TYPES:
        raise ProtocolViolation(f"invalid frontend message type {code} ({kind!r})")
    if length < 4 or length - 4 > limit:
        raise ProtocolViolation(
            f"invalid message length {length} for message type {kind.decode('latin-1')!r} "
            f"(at most {limit + 4} bytes are accepted)"
        )
    return code, await reader.readexactly(length - 4)


def startup_parameters(body: bytes) -> dict[str, str]:
    """The name/value pairs of a StartupMessage (``user``, ``database``, ``options``...)."""
    parts = body.split(b"\x00")
    if len(parts) < 2 or parts[-1] != b"" or parts[-2] != b"":
        raise ProtocolViolation("invalid startup packet layout: expected a terminator")
    words = parts[:-2]
    if len(words) % 2:
        raise ProtocolViolation("invalid startup packet layout: a parameter has no value")
    try:
        pairs = [w.decode("utf-8") for w in words]
    except UnicodeDecodeError as e:
        raise ProtocolViolation("startup parameters are not valid UTF-8") from e
    return dict(zip(pairs[::2], pairs[1::2], strict=True))


class Buffer:
    """Reads the fields of one message body, checking every length against what is left."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolViolation("message is shorter than its fields say")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def int16(self) -> int:
        return _I16.unpack(self._take(2))[0]

    def int32(self) -> int:
        return _I32.unpack(self._take(4))[0]

    def uint32(self) -> int:
        return _U32.unpack(self._take(4))[0]

    def byte(self) -> int:
        return self._take(1)[0]

    def cstring(self) -> str:
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise ProtocolViolation("a string field is not terminated")
        raw = self.data[self.pos : end]
        self.pos = end + 1
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtocolViolation("a string field is not valid UTF-8") from e

    def value(self) -> bytes | None:
        """A length-prefixed value (-1: NULL)."""
        n = self.int32()
        return None if n == -1 else self._take(n)

    def int16_list(self) -> list[int]:
        return [self.int16() for _ in range(self.int16())]

    def rest(self) -> bytes:
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk


# -- backend messages ---------------------------------------------------------------------------


def message(kind: bytes, body: bytes = b"") -> bytes:
    return kind + _U32.pack(len(body) + 4) + body


def cstr(text: str) -> bytes:
    return text.encode("utf-8") + b"\x00"


def authentication(code: int, data: bytes = b"") -> bytes:
    return message(b"R", _I32.pack(code) + data)


AUTH_OK = authentication(0)


def auth_sasl(mechanisms: list[str]) -> bytes:
    return authentication(10, b"".join(cstr(m) for m in mechanisms) + b"\x00")


def auth_sasl_continue(data: bytes) -> bytes:
    return authentication(11, data)


def auth_sasl_final(data: bytes) -> bytes:
    return authentication(12, data)


def auth_md5(salt: bytes) -> bytes:
    return authentication(5, salt)


def auth_cleartext() -> bytes:
    return authentication(3)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", cstr(name) + cstr(value))


def backend_key_data(pid: int, secret: int) -> bytes:
    return message(b"K", _I32.pack(pid) + _I32.pack(secret))


def ready_for_query(status: str) -> bytes:
    return message(b"Z", status.encode("ascii"))


def row_description(fields: list[tuple[str, int, int, int, int]]) -> bytes:
    """Fields as (name, type oid, type size, type modifier, format code)."""
    parts = [_I16.pack(len(fields))]
    for name, oid, size, modifier, fmt in fields:
        parts.append(cstr(name) + struct.pack("!IhIhih", 0, 0, oid, size, modifier, fmt))
    return message(b"T", b"".join(parts))


NULL_CELL = _I32.pack(-1)


def cell(value: bytes | None) -> bytes:
    """A DataRow's value with its length (the hot path builds these column by column)."""
    return NULL_CELL if value is None else _I32.pack(len(value)) + value


def data_row(cells: tuple[bytes, ...] | list[bytes]) -> bytes:
    body = b"".join(cells)
    return b"D" + _U32.pack(len(body) + 6) + _I16.pack(len(cells)) + body


def command_complete(tag: str) -> bytes:
    return message(b"C", cstr(tag))


EMPTY_QUERY = message(b"I")
PARSE_COMPLETE = message(b"1")
BIND_COMPLETE = message(b"2")
CLOSE_COMPLETE = message(b"3")
NO_DATA = message(b"n")
PORTAL_SUSPENDED = message(b"s")
COPY_DONE = message(b"c")


def parameter_description(oids: list[int]) -> bytes:
    return message(b"t", _I16.pack(len(oids)) + b"".join(_U32.pack(o) for o in oids))


def _fields(fields: dict[str, str]) -> bytes:
    return b"".join(code.encode("ascii") + cstr(value) for code, value in fields.items()) + b"\x00"


def error_response(fields: dict[str, str]) -> bytes:
    """Fields by their one-letter codes: S/V severity, C SQLSTATE, M message, H hint, P position."""
    return message(b"E", _fields(fields))


def notice_response(fields: dict[str, str]) -> bytes:
    return message(b"N", _fields(fields))


def copy_out_response(binary: bool, columns: int) -> bytes:
    fmt = 1 if binary else 0
    return message(b"H", bytes([fmt]) + _I16.pack(columns) + _I16.pack(fmt) * columns)


def copy_in_response(binary: bool, columns: int) -> bytes:
    fmt = 1 if binary else 0
    return message(b"G", bytes([fmt]) + _I16.pack(columns) + _I16.pack(fmt) * columns)


def copy_data(data: bytes) -> bytes:
    return message(b"d", data)
