"""Authentication of a client: SCRAM-SHA-256 (the default), MD5 or trust.

SCRAM-SHA-256 follows RFC 5802 / RFC 7677 as PostgreSQL speaks it: the SASL messages travel in
AuthenticationSASL / SASLInitialResponse / SASLResponse frames, the user name inside the SCRAM
message is ignored (the startup packet's ``user`` counts), and channel binding is not offered
(``SCRAM-SHA-256-PLUS`` is not announced, so a client may answer ``n`` or ``y``). The server
keeps only verifiers (``store/users.py``): it checks the client's proof against the StoredKey
and proves itself with the ServerKey. For an unknown user the exchange runs to its end against
a made-up salt and fails like a wrong password, so the answer does not tell who exists.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable

from sqlml.errors import AuthenticationFailed
from sqlml.server import protocol as P
from sqlml.store.users import SCRAM_ITERATIONS, UserStore, parse_verifier

METHODS = ("scram", "md5", "trust")
MECHANISM = "SCRAM-SHA-256"

Send = Callable[[bytes], Awaitable[None]]
Receive = Callable[[], Awaitable[tuple[int, bytes]]]

# A per-process secret: made-up salts for unknown users stay the same between attempts.
_MOCK_SECRET = secrets.token_bytes(32)


def _failed(user: str) -> AuthenticationFailed:
    return AuthenticationFailed(f'password authentication failed for user "{user}"')


async def authenticate(
    method: str, user: str, users: UserStore, send: Send, receive: Receive
) -> dict:
    """Run the exchange for ``user``; return the user's record, or raise AuthenticationFailed."""
    record = users.get(user)
    if method == "trust":
        if record is None:
            raise AuthenticationFailed(
                f'role "{user}" does not exist; a superuser creates it with CREATE USER {user} '
                "PASSWORD '...'"
            )
        return record
    if method == "md5" and record is not None and "md5" in record:
        await _md5(user, record["md5"], send, receive)
        return record
    # SCRAM, also for --auth md5 when only a verifier is stored (as PostgreSQL does)
    await _scram(user, (record or {}).get("scram"), send, receive)
    if record is None:
        raise _failed(user)
    return record


async def _password_message(receive: Receive) -> bytes:
    kind, body = await receive()
    if kind != ord("p"):
        raise P.ProtocolViolation(f"expected a password message, got message type {chr(kind)!r}")
    return body


async def _md5(user: str, stored: str, send: Send, receive: Receive) -> None:
    salt = secrets.token_bytes(4)
    await send(P.auth_md5(salt))
    body = await _password_message(receive)
    given = body.rstrip(b"\x00")
    expected = b"md5" + hashlib.md5(stored[3:].encode("ascii") + salt).hexdigest().encode("ascii")
    if not hmac.compare_digest(given, expected):
        raise _failed(user)


def _attributes(text: str) -> dict[str, str]:
    out = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or len(key) != 1:
            raise P.ProtocolViolation(f"malformed SCRAM message: {text!r}")
        out[key] = value
    return out


def _mock_verifier(user: str) -> tuple[int, bytes, bytes, bytes]:
    salt = hmac.new(_MOCK_SECRET, user.encode("utf-8"), hashlib.sha256).digest()[:16]
    return SCRAM_ITERATIONS, salt, secrets.token_bytes(32), secrets.token_bytes(32)


async def _scram(user: str, verifier: str | None, send: Send, receive: Receive) -> None:
    iterations, salt, stored_key, server_key = (
        parse_verifier(verifier) if verifier else _mock_verifier(user)
    )
    await send(P.auth_sasl([MECHANISM]))
    body = P.Buffer(await _password_message(receive))
    mechanism = body.cstring()
    if mechanism != MECHANISM:
        raise AuthenticationFailed(
            f"SASL mechanism {mechanism!r} is not supported (only {MECHANISM})"
        )
    length = body.int32()
    client_first = body.rest()[: max(length, 0)].decode("utf-8", "replace")
    gs2_flag, _, rest = client_first.partition(",")
    authzid, _, client_first_bare = rest.partition(",")
    if gs2_flag.startswith("p"):
        raise AuthenticationFailed("channel binding is not supported by this server")
    if gs2_flag not in ("n", "y") or authzid:
        raise P.ProtocolViolation("malformed SCRAM client-first-message")
    client_nonce = _attributes(client_first_bare).get("r")
    if not client_nonce:
        raise P.ProtocolViolation("SCRAM client-first-message has no nonce")
    nonce = client_nonce + base64.b64encode(secrets.token_bytes(18)).decode("ascii")
    server_first = f"r={nonce},s={base64.b64encode(salt).decode()},i={iterations}"
    await send(P.auth_sasl_continue(server_first.encode("ascii")))

    client_final = (await _password_message(receive)).decode("utf-8", "replace")
    without_proof, _, proof_part = client_final.rpartition(",p=")
    final = _attributes(without_proof)
    expected_binding = base64.b64encode(f"{gs2_flag},{authzid},".encode()).decode()
    if final.get("r") != nonce or final.get("c") != expected_binding or not proof_part:
        raise P.ProtocolViolation("SCRAM client-final-message does not match the exchange")
    auth_message = f"{client_first_bare},{server_first},{without_proof}".encode()
    signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    try:
        proof = base64.b64decode(proof_part, validate=True)
    except ValueError as e:
        raise P.ProtocolViolation("SCRAM proof is not base64") from e
    if len(proof) != len(signature):
        raise _failed(user)
    client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
    if verifier is None or not hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key):
        raise _failed(user)
    server_signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
    await send(P.auth_sasl_final(b"v=" + base64.b64encode(server_signature)))
