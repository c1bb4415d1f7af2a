"""``sqlml serve``: the database as a PostgreSQL server (protocol 3.0), so that psql, JDBC and
ODBC tools and every PostgreSQL driver reach it.

Our own code, on asyncio: the Python libraries that speak the protocol were tried and
rejected — one does not install on Python 3.11 with glibc 2.36, the other is unmaintained, has
neither SCRAM nor TLS, and fails psycopg's parameter handling.

- ``protocol``: message framing and the server's messages;
- ``types``: Arrow columns as PostgreSQL type OIDs and text/binary values; Bind parameters;
- ``auth``: SCRAM-SHA-256, MD5 and trust (users in ``store/users.py``);
- ``session``: one client's state machine (startup, simple and extended query, portals);
- ``copy``: COPY TO STDOUT / FROM STDIN;
- ``catalog``: the settings clients SET and SHOW, ``version()``.

One :class:`Server` holds the database open (so that every session's connection is a cursor of
one DuckDB instance) and accepts clients; each client is a :class:`~sqlml.server.session.Session`
with its own ``sqlml.Connection`` and worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import ssl
from dataclasses import dataclass
from pathlib import Path

from sqlml.errors import InvalidSetting, SqlmlError
from sqlml.server.auth import METHODS
from sqlml.server.session import Session
from sqlml.session import Connection
from sqlml.store.users import UserStore

log = logging.getLogger(__name__)

PASSWORD_VARIABLE = "SQLML_SUPERUSER_PASSWORD"


class TooManyConnections(SqlmlError):
    sqlstate = "53300"


@dataclass(frozen=True)
class ServerConfig:
    database: str
    host: str = "127.0.0.1"
    port: int = 5433
    model_store: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    require_tls: bool = False
    auth: str = "scram"
    superuser: str = "sqlml"
    max_connections: int = 100
    # Redshift by default: the server's clients are Redshift's drivers and tools, and the users
    # who move to it bring Redshift SQL (README, "Coming from Redshift").
    dialect: str = "redshift"


class Server:
    def __init__(self, config: ServerConfig):
        if config.auth not in METHODS:
            raise InvalidSetting(
                f"--auth must be one of {', '.join(METHODS)}; got {config.auth!r}."
            )
        if config.database in ("", ":memory:"):
            raise InvalidSetting(
                "sqlml serve needs a database file: every client's session opens it, and an "
                "in-memory database would be a different one for each."
            )
        if config.require_tls and not config.tls_cert:
            raise InvalidSetting("--require-tls needs --tls-cert and --tls-key.")
        if bool(config.tls_cert) != bool(config.tls_key):
            raise InvalidSetting("--tls-cert and --tls-key go together: give both.")
        self.config = config
        self.ssl_context = self._ssl_context()
        # Opened here, and held until the server stops: the database instance the sessions'
        # connections share, and the check that the file opens at all.
        self.root = Connection(config.database, model_store=config.model_store, served=True)
        self.users = UserStore(self.root.store, keep_md5=config.auth == "md5")
        self.database_names = (Path(config.database).stem, "postgres")
        self.sessions: dict[int, Session] = {}
        self._pid = os.getpid() % 10_000 * 100_000
        self._server: asyncio.base_events.Server | None = None

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.config.tls_cert:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.config.tls_cert, self.config.tls_key)
        except (OSError, ssl.SSLError) as e:
            raise InvalidSetting(
                f"Cannot load the TLS certificate {self.config.tls_cert} and key "
                f"{self.config.tls_key}: {e}"
            ) from e
        return context

    def ensure_superuser(self, password: str | None) -> None:
        """Create the ``--superuser`` at first start; its password from the environment."""
        name = self.config.superuser
        if self.users.get(name) is not None:
            return
        if password is None and self.config.auth != "trust":
            raise InvalidSetting(
                f"The superuser {name!r} does not exist yet: set its password in the environment "
                f"variable {PASSWORD_VARIABLE} for the first start (never on the command line, "
                "which other users of the machine can read), or run with --auth trust."
            )
        self.users.create(name, password, superuser=True)
        log.warning("created superuser %s", name)

    def next_pid(self) -> int:
        self._pid += 1
        return self._pid

    def open_connection(self, user: str) -> Connection:
        """A new session's connection for ``user`` (called in the session's worker thread):
        every statement and model function call is checked against the user's privileges."""
        conn = Connection(
            self.config.database,
            model_store=self.root.store.root,
            user=user,
            served=True,
            dialect=self.config.dialect,
        )
        conn.users = self.users
        return conn

    def check_capacity(self) -> None:
        if len(self.sessions) >= self.config.max_connections:
            raise TooManyConnections(
                f"sorry, too many clients already ({self.config.max_connections}; "
                "sqlml serve --max-connections raises the limit)"
            )

    def cancel(self, pid: int, secret: int) -> None:
        session = self.sessions.get(pid)
        if session is not None and session.secret == secret:
            session.cancel()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._client, self.config.host, self.config.port, reuse_address=True
        )

    @property
    def port(self) -> int:
        return self._server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await Session(self, reader, writer).serve()

    async def run(self) -> None:
        await self.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.warning(
            "sqlml serve: listening on %s:%s (database %s)",
            self.config.host,
            self.port,
            " / ".join(self.database_names),
        )
        print(f"sqlml serve: listening on {self.config.host}:{self.port}", flush=True)
        async with self._server:
            await stop.wait()
        # Running statements are interrupted: a worker thread in a long query would otherwise
        # keep the process alive after the event loop ends.
        for session in list(self.sessions.values()):
            session.cancel()
            session.writer.close()
        self.root.close()


def serve(config: ServerConfig) -> None:
    server = Server(config)
    server.ensure_superuser(os.environ.get(PASSWORD_VARIABLE))
    asyncio.run(server.run())


__all__ = ["Server", "ServerConfig", "serve"]
