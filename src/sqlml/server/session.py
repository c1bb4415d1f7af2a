"""One client's session: the startup handshake, authentication, and the message loop of the
simple and extended query protocols.

Every client gets its own :class:`sqlml.Connection` (a cursor of the one database the server
holds open) and its own worker thread: every call into the connection runs there, in order, so a
slow statement of one client holds only that client, while the event loop goes on serving the
others. Result batches are encoded to DataRow messages in the worker thread too.

Statements are run as late as possible: a portal (``portals.py``) runs when it is first
described or executed, and keeps its result open so that ``Execute`` with a row limit resumes
where the last one stopped (PortalSuspended).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import sqlml
from sqlml.errors import (
    AuthenticationFailed,
    DatabaseError,
    InsufficientPrivilege,
    ObjectInUse,
    SqlmlError,
)
from sqlml.results import StatementResult
from sqlml.server import auth, catalog, copy, cursors
from sqlml.server import protocol as P
from sqlml.server import types as T
from sqlml.server.portals import Portal, Prepared, row_description, row_tag
from sqlml.sql import ast, split_script
from sqlml.statements import create_model
from sqlml.statements.show_model import progress_text

log = logging.getLogger(__name__)

# A client that connects but does not finish logging in within this time is dropped
# (PostgreSQL's authentication_timeout).
STARTUP_TIMEOUT = 60.0
# A session waiting on a model (sqlml.synchronous) looks this often, and says how training
# goes at least this often.
POLL_SECONDS = 0.25
PROGRESS_SECONDS = 5.0


class ClientError(Exception):
    """An error that ends the connection, sent as FATAL."""

    def __init__(self, error: SqlmlError):
        super().__init__(str(error))
        self.error = error


class Worker:
    """The session's one thread."""

    def __init__(self, name: str):
        self.pool = ThreadPoolExecutor(1, thread_name_prefix=name)
        self.calls = 0  # calls submitted and not finished: the session's connection is busy

    async def __call__(self, fn: Callable, *args):
        loop = asyncio.get_running_loop()
        self.calls += 1
        try:
            return await loop.run_in_executor(self.pool, functools.partial(fn, *args))
        finally:
            self.calls -= 1

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False)


def _ignore_outcome(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()


def _error_fields(error: BaseException, severity: str = "ERROR") -> dict[str, str]:
    if isinstance(error, SqlmlError):
        sqlstate = error.sqlstate
        message = str(error)
    else:
        sqlstate, message = "XX000", f"internal error: {type(error).__name__}: {error}"
    first, _, detail = message.partition("\n")
    fields = {"S": severity, "V": severity, "C": sqlstate, "M": first}
    hint = getattr(error, "hint", None)
    if detail.strip() and not hint:
        hint = detail.strip()
    if hint:
        fields["H"] = hint
    position = getattr(error, "position", None)
    if position:
        fields["P"] = str(position)
    return fields


class Session:
    def __init__(self, server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.pid = server.next_pid()
        self.secret = secrets.randbits(31)
        self.user = ""
        self.superuser = False
        self.conn: sqlml.Connection | None = None
        self.worker = Worker(f"sqlml-session-{self.pid}")
        self.settings: catalog.Settings | None = None
        self.statements: dict[str, Prepared] = {}
        self.portals: dict[str, Portal] = {}
        self.status = "I"  # transaction status: Idle, in Transaction, failed (E)
        self.skipping = False  # after an error in the extended protocol, until Sync
        self.tls = False
        self.rewrite = catalog.Rewriter(())
        self._installed = -1  # the settings' version the engine's emulation was made from
        self.waiting = self.stop_waiting = False  # on a model (sqlml.synchronous)

    # -- output ----------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def flush(self) -> None:
        await self.writer.drain()

    def send_error(self, error: BaseException, severity: str = "ERROR") -> None:
        self.send(P.error_response(_error_fields(error, severity)))

    def send_notice(self, text: str) -> None:
        self.send(P.notice_response({"S": "NOTICE", "V": "NOTICE", "C": "00000", "M": text}))

    # -- life ------------------------------------------------------------------------------

    async def serve(self) -> None:
        try:
            await asyncio.wait_for(self.handshake(), STARTUP_TIMEOUT)
            if self.conn is None:
                return  # a cancel request, or refused
            self.server.sessions[self.pid] = self
            await self.loop()
        except ClientError as e:
            await self._fatal(e.error)
        except SqlmlError as e:  # a protocol violation, a failed login, a full server
            await self._fatal(e)
        except TimeoutError:
            await self._fatal(P.ProtocolViolation("the client did not log in within 60 seconds"))
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client went away
        except Exception as e:  # noqa: BLE001 -- one client's failure never reaches the server
            log.exception("session %s failed", self.pid)
            await self._fatal(e)
        finally:
            await self.close()

    async def _fatal(self, error: BaseException) -> None:
        try:
            self.send_error(error, "FATAL")
            await asyncio.wait_for(self.flush(), 5)
        except (ConnectionError, TimeoutError, RuntimeError):
            pass

    async def close(self) -> None:
        self.server.sessions.pop(self.pid, None)
        if self.conn is not None:
            await self.worker(self._close_connection)
        self.worker.shutdown()
        with contextlib.suppress(ConnectionError, RuntimeError):
            self.writer.close()

    def _close_connection(self) -> None:
        for portal in list(self.portals.values()):
            portal.close()
        self.portals.clear()
        if self.status != "I":
            with contextlib.suppress(SqlmlError):
                list(self.conn.run("ROLLBACK"))
        self.conn.close()
        self.conn = None

    def cancel(self) -> None:
        """A CancelRequest for this session (from another connection, on the event loop)."""
        self.stop_waiting = self.waiting
        if self.worker.calls and self.conn is not None:
            self.conn.engine.interrupt()

    # -- startup ---------------------------------------------------------------------------

    async def handshake(self) -> None:
        code, body = await P.read_startup(self.reader)
        while code in (P.SSL_REQUEST, P.GSSENC_REQUEST):
            if code == P.SSL_REQUEST and self.server.ssl_context is not None and not self.tls:
                self.send(b"S")
                await self.flush()
                await self.writer.start_tls(self.server.ssl_context)
                self.tls = True
            else:
                self.send(b"N")
                await self.flush()
            code, body = await P.read_startup(self.reader)
        if code == P.CANCEL_REQUEST:
            buffer = P.Buffer(body)
            self.server.cancel(buffer.int32(), buffer.int32())
            return
        if code != P.PROTOCOL_3:
            raise ClientError(
                P.ProtocolViolation(
                    f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}: "
                    "this server supports protocol 3.0"
                )
            )
        params = P.startup_parameters(body)
        await self.login(params)

    async def login(self, params: dict[str, str]) -> None:
        config = self.server.config
        self.user = params.get("user", "")
        if not self.user:
            raise ClientError(AuthenticationFailed("no user name given in the startup packet"))
        if config.require_tls and not self.tls:
            raise ClientError(
                AuthenticationFailed(
                    f'connection for user "{self.user}" refused: this server requires TLS '
                    "(connect with sslmode=require)"
                )
            )
        database = params.get("database") or self.user
        if database not in self.server.database_names:
            names = " or ".join(f'"{n}"' for n in self.server.database_names)
            raise ClientError(
                DatabaseError(
                    f'database "{database}" does not exist; this server serves {names}',
                    sqlstate="3D000",
                )
            )
        self.server.check_capacity()
        record = await auth.authenticate(
            config.auth, self.user, self.server.users, self._auth_send, self._auth_receive
        )
        self.server.check_capacity()
        self.superuser = bool(record.get("superuser"))
        self.conn = await self.worker(self.server.open_connection, self.user)
        self.conn.authorize = self.authorize
        self.settings = catalog.Settings(
            self.user, self.superuser, params.get("application_name", "")
        )
        await self.worker(self._emulate_catalog)
        self.send(P.AUTH_OK)
        for name, value in self.settings.reported():
            self.send(P.parameter_status(name, value))
        self.send(P.backend_key_data(self.pid, self.secret))
        self.send(P.ready_for_query("I"))
        await self.flush()

    def _emulate_catalog(self) -> None:
        users = self.server.users
        roles = [(name, name in users.superusers()) for name in users.names()]
        self._installed = self.settings.version
        relations = self.conn.engine.emulate_postgres_catalog(
            self.user, roles, self.settings.values, catalog.version_text()
        )
        self.rewrite = catalog.Rewriter(relations)

    async def _auth_send(self, data: bytes) -> None:
        self.send(data)
        await self.flush()

    async def _auth_receive(self) -> tuple[int, bytes]:
        return await P.read_message(self.reader, 64 * 1024)

    def authorize(self, statement) -> None:
        """Only superusers manage users; nobody drops the user they are logged in as."""
        if isinstance(statement, ast.CreateUser | ast.AlterUser | ast.DropUser):
            what = statement.text.split(None, 2)[:2]
            if not self.superuser:
                raise InsufficientPrivilege(
                    f"permission denied to {' '.join(what).upper()}: only a superuser manages "
                    f'users, and "{self.user}" is not one.'
                )
            if isinstance(statement, ast.DropUser) and self.user in statement.names:
                raise ObjectInUse(
                    f"DROP USER {self.user}: the session's own user cannot be dropped."
                )

    # -- the message loop ------------------------------------------------------------------

    async def loop(self) -> None:
        handlers = {
            ord("Q"): self.on_query,
            ord("P"): self.on_parse,
            ord("B"): self.on_bind,
            ord("D"): self.on_describe,
            ord("E"): self.on_execute,
            ord("C"): self.on_close,
        }
        while True:
            kind, body = await P.read_message(self.reader)
            if kind == ord("X"):
                return
            if kind == ord("S"):
                self.skipping = False
                await self.ready()
            elif kind == ord("H"):
                await self.flush()
            elif kind == ord("Q"):
                self.skipping = False
                await self.guarded(self.on_query, body)
                await self.ready()
            elif kind in handlers:
                if not self.skipping:
                    await self.guarded(handlers[kind], body, extended=True)
            elif kind in (ord("d"), ord("c"), ord("f")):
                pass  # COPY messages outside a COPY are ignored, as PostgreSQL does
            else:
                raise P.ProtocolViolation(f"unexpected message type {chr(kind)!r}")

    async def guarded(self, handler, body: bytes, extended: bool = False) -> None:
        try:
            await handler(body)
        except (ConnectionError, asyncio.IncompleteReadError, P.ProtocolViolation):
            raise
        except Exception as e:  # noqa: BLE001 -- reported to the client, the session goes on
            if not isinstance(e, SqlmlError):
                log.exception("session %s: statement failed", self.pid)
            self.send_error(e)
            if self.status == "T":
                self.status = "E"
            if extended:
                self.skipping = True

    async def ready(self) -> None:
        for name, value in self.settings.take_changes():
            self.send(P.parameter_status(name, value))
        self.send(P.ready_for_query(self.status))
        await self.flush()

    # -- simple query ----------------------------------------------------------------------

    async def on_query(self, body: bytes) -> None:
        text = P.Buffer(body).cstring()
        chunks = split_script(text, self.conn.dialect)
        if not chunks:
            self.send(P.EMPTY_QUERY)
            return
        for chunk in chunks:
            statement = Prepared(chunk.text, [], chunk.tokens, chunk.start)
            portal = Portal(statement, None, [0])
            try:
                await self.execute(portal, 0, simple=True)
            except DatabaseError as e:
                if e.position is not None:
                    e.position += chunk.start
                raise
            finally:
                await self.worker(Portal.close, portal)

    # -- extended query --------------------------------------------------------------------

    async def on_parse(self, body: bytes) -> None:
        buffer = P.Buffer(body)
        name, text = buffer.cstring(), buffer.cstring()
        oids = [buffer.uint32() for _ in range(buffer.int16())]
        chunks = split_script(text, self.conn.dialect)
        if len(chunks) > 1:
            raise DatabaseError(
                "cannot insert multiple commands into a prepared statement", sqlstate="42601"
            )
        tokens = chunks[0].tokens if chunks else ()
        statement = Prepared(
            chunks[0].text if chunks else "", oids, tokens, chunks[0].start if chunks else 0
        )
        if name and name in self.statements:
            raise DatabaseError(f'prepared statement "{name}" already exists', sqlstate="42P05")
        statement.answer = catalog.recognize(tokens, self.settings)
        if statement.answer is not None:
            answer = statement.answer
            statement.param_oids = oids or list(answer.param_oids)
        elif tokens and not self._server_side(statement):
            await self.worker(self._describe_statement, statement)
        self.statements[name] = statement
        self.send(P.PARSE_COMPLETE)

    @staticmethod
    def _server_side(statement: Prepared) -> bool:
        """COPY with the client and cursor statements: the server runs them itself."""
        text, tokens, start = statement.text, statement.tokens, statement.start
        return (
            copy.parse(tokens, text, start) is not None
            or cursors.parse(tokens, text, start) is not None
        )

    def _describe_statement(self, statement: Prepared) -> None:
        """Parameter types and result columns, asked of the engine (not run). A statement it
        cannot describe (an ML statement) is described by running it, at Describe time."""
        self._park_open_portals()
        shape = self.conn.describe(self.rewrite(statement.text))
        if shape is None:
            return
        statement.described = True
        statement.columns = shape.columns
        oids = list(statement.param_oids) + [0] * (
            len(shape.parameters) - len(statement.param_oids)
        )
        for i, column in enumerate(shape.parameters):
            if oids[i] == 0:
                oids[i] = T.pg_type(column.arrow, column.sql_type).oid
        statement.param_oids = oids

    async def on_bind(self, body: bytes) -> None:
        buffer = P.Buffer(body)
        portal_name, statement_name = buffer.cstring(), buffer.cstring()
        statement = self._statement(statement_name)
        param_formats = buffer.int16_list()
        values = [buffer.value() for _ in range(buffer.int16())]
        result_formats = buffer.int16_list()
        params = self._decode_params(statement, param_formats, values)
        if portal_name in self.portals:
            if portal_name:
                raise DatabaseError(f'cursor "{portal_name}" already exists', sqlstate="42P03")
            await self.worker(Portal.close, self.portals.pop(portal_name))
        self.portals[portal_name] = Portal(statement, params, result_formats or [0])
        self.send(P.BIND_COMPLETE)

    def _statement(self, name: str) -> Prepared:
        try:
            return self.statements[name]
        except KeyError:
            raise DatabaseError(
                f'prepared statement "{name}" does not exist', sqlstate="26000"
            ) from None

    @staticmethod
    def _decode_params(statement: Prepared, formats: list[int], values: list) -> list | None:
        if not values:
            return None
        if len(formats) not in (0, 1, len(values)):
            raise P.ProtocolViolation(
                f"bind message has {len(formats)} parameter formats but {len(values)} parameters"
            )
        oids = statement.param_oids + [0] * (len(values) - len(statement.param_oids))
        out = []
        for i, value in enumerate(values):
            fmt = formats[i] if len(formats) > 1 else (formats[0] if formats else 0)
            out.append(T.decode_parameter(oids[i], fmt == 1, value))
        return out

    async def on_describe(self, body: bytes) -> None:
        buffer = P.Buffer(body)
        what, name = buffer.byte(), buffer.cstring()
        if what == ord("S"):
            statement = self._statement(name)
            self.send(P.parameter_description(statement.param_oids))
            answer = statement.answer
            if answer is not None and answer.names is not None:
                self.send(row_description(answer.names, answer.types, [0]))
            elif statement.columns is None:
                self.send(P.NO_DATA)
            else:
                types = [T.pg_type(c.arrow, c.sql_type) for c in statement.columns]
                names = [c.name for c in statement.columns]
                self.send(row_description(names, types, [0]))
            return
        if what != ord("P"):
            raise P.ProtocolViolation(f"invalid DESCRIBE message subtype {what}")
        portal = self._portal(name)
        await self.start(portal)
        if portal.fetch is not None:
            cursor = self._portal_named_cursor(portal.fetch.name)
            cursor.formats = portal.formats
            self._describe_portal(cursor)
            return
        self._describe_portal(portal)

    def _portal(self, name: str) -> Portal:
        try:
            return self.portals[name]
        except KeyError:
            raise DatabaseError(f'portal "{name}" does not exist', sqlstate="34000") from None

    def _describe_portal(self, portal: Portal) -> None:
        result = portal.result
        if result is None or not result.has_rows:
            self.send(P.NO_DATA)
            return
        self.send(row_description(portal.names, portal.fields, portal.formats))

    async def on_execute(self, body: bytes) -> None:
        buffer = P.Buffer(body)
        name, max_rows = buffer.cstring(), buffer.int32()
        await self.execute(self._portal(name), max(max_rows, 0))

    async def on_close(self, body: bytes) -> None:
        buffer = P.Buffer(body)
        what, name = buffer.byte(), buffer.cstring()
        if what == ord("S"):
            self.statements.pop(name, None)
        elif what == ord("P"):
            portal = self.portals.pop(name, None)
            if portal is not None:
                await self.worker(Portal.close, portal)
        else:
            raise P.ProtocolViolation(f"invalid CLOSE message subtype {what}")
        self.send(P.CLOSE_COMPLETE)

    # -- running a portal ------------------------------------------------------------------

    async def start(self, portal: Portal) -> None:
        """Run the portal's statement if it has not run: its result (rows or not) is then
        known, for Describe and Execute."""
        if portal.started:
            return
        portal.started = True
        statement = portal.statement
        self._check_transaction(statement.tokens)
        cursor = cursors.parse(statement.tokens, statement.text, statement.start)
        if cursor is not None:
            await self._cursor_statement(portal, cursor)
            return
        if statement.answer is None and statement.tokens and not statement.described:
            statement.answer = catalog.recognize(statement.tokens, self.settings)
        if statement.answer is not None:
            portal.result = statement.answer.run(portal.params)
            portal.wire_types = statement.answer.types
        else:
            await self.worker(self._run, portal)
        result = portal.result
        if result is not None and result.command == "CREATE MODEL" and self.settings.synchronous:
            await self._wait_for_model(portal)
            result = portal.result
        if result is not None and result.has_rows:
            await self.worker(portal.open_rows)

    async def _wait_for_model(self, portal: Portal) -> None:
        """``SET sqlml.synchronous = on``: CREATE MODEL ends when its model is READY (its row
        then says so, with its metric) or FAILED (the training error), sending the progress
        as NOTICEs meanwhile (at each change of state, and every PROGRESS_SECONDS while it
        trains). A CancelRequest ends the wait with SQLSTATE 57014; the model trains on."""
        name = portal.result.native.column(0)[0].as_py()  # schema.name, as SHOW MODEL shows
        quoted = ".".join('"' + part.replace('"', '""') + '"' for part in name.split(".", 1))
        for notice in portal.result.notices:  # now, not after the wait
            self.send_notice(notice)
        portal.result.notices.clear()
        self.waiting, self.stop_waiting = True, False
        try:
            last, said = None, 0.0
            while True:
                status = await self.worker(self.conn.model_status, quoted)
                state, now = status["state"], time.monotonic()
                if state in ("READY", "FAILED"):
                    break
                if state != last or now - said >= PROGRESS_SECONDS:
                    self.send_notice(f"{name}: {progress_text(state, status)}")
                    await self.flush()
                    last, said = state, now
                if self.stop_waiting:
                    raise DatabaseError(
                        f"canceling statement due to user request: stopped waiting for model "
                        f"{name}, which goes on training (SHOW MODEL {name} follows it)",
                        sqlstate="57014",
                    )
                await asyncio.sleep(POLL_SECONDS)
        finally:
            self.waiting = False
        manifest = await self.worker(self.conn.wait_model, quoted)  # FAILED: raises its error
        portal.result = create_model.created(manifest)
        self.send_notice(f"{name}: READY")

    async def _cursor_statement(self, portal: Portal, cursor) -> None:
        if isinstance(cursor, cursors.Declare):
            if cursor.name in self.portals:
                raise DatabaseError(f'cursor "{cursor.name}" already exists', sqlstate="42P03")
            statement = Prepared(
                cursor.query, [], split_script(cursor.query, self.conn.dialect)[0].tokens
            )
            declared = Portal(statement, portal.params, [1 if cursor.binary else 0])
            await self.start(declared)
            self.portals[cursor.name] = declared
            portal.result = StatementResult("DECLARE CURSOR")
        elif isinstance(cursor, cursors.Deallocate):
            if cursor.name is None:
                self.statements = {"": self.statements[""]} if "" in self.statements else {}
                portal.result = StatementResult("DEALLOCATE ALL")
            else:
                self._statement(cursor.name)  # 26000 when there is none
                del self.statements[cursor.name]
                portal.result = StatementResult("DEALLOCATE")
        elif isinstance(cursor, cursors.Fetch):
            self._portal_named_cursor(cursor.name)
            portal.fetch = cursor
            portal.result = None
        else:
            names = list(self.portals) if cursor.name is None else [cursor.name]
            if cursor.name is not None:
                self._portal_named_cursor(cursor.name)
            for name in names:
                if name:  # the unnamed portal is not a cursor
                    await self.worker(Portal.close, self.portals.pop(name))
            portal.result = StatementResult("CLOSE CURSOR")

    def _portal_named_cursor(self, name: str) -> Portal:
        if not name or name not in self.portals:
            raise DatabaseError(f'cursor "{name}" does not exist', sqlstate="34000")
        return self.portals[name]

    def _check_transaction(self, tokens) -> None:
        first = tokens[0].text.upper() if tokens else ""
        if self.status == "E" and first not in ("ROLLBACK", "ABORT", "COMMIT", "END"):
            raise DatabaseError(
                "current transaction is aborted, commands ignored until end of transaction block",
                sqlstate="25P02",
                hint="ROLLBACK ends the failed transaction.",
            )

    def _run(self, portal: Portal) -> None:
        self._park_open_portals(keep=portal)
        text = self.rewrite(portal.statement.text)
        if self._installed != self.settings.version and "sqlml_setting" in text:
            self._emulate_catalog()  # current_setting answers what was SET since
        if self.status == "E":  # COMMIT of a failed transaction rolls it back, as PostgreSQL does
            text = "ROLLBACK"
        portal.run = self.conn.run(text, portal.params)
        try:
            portal.result = next(portal.run)
        except StopIteration:
            portal.result = None
        if portal.result is not None and portal.result.command.endswith(" ROLE"):
            self._emulate_catalog()  # pg_roles lists the users

    async def execute(self, portal: Portal, max_rows: int, simple: bool = False) -> None:
        statement = portal.statement
        copy_statement = copy.parse(statement.tokens, statement.text, statement.start)
        if copy_statement is not None:
            await copy.run(self, copy_statement)
            return
        if not portal.statement.tokens and not portal.started:
            self.send(P.EMPTY_QUERY)
            return
        await self.start(portal)
        if portal.fetch is not None:
            await self._fetch(portal, simple)
            return
        result = portal.result
        if result is None:
            self.send(P.EMPTY_QUERY)
            return
        if not result.has_rows:
            self._complete(portal, result.tag)
            return
        if simple:
            self._describe_portal(portal)
        finished = await self.send_rows(portal, max_rows)
        if finished:
            self._complete(portal, row_tag(result, portal.sent))
        else:
            self.send(P.PORTAL_SUSPENDED)

    async def _fetch(self, portal: Portal, simple: bool) -> None:
        cursor = self._portal_named_cursor(portal.fetch.name)
        if simple:
            cursor.formats = portal.formats
            self._describe_portal(cursor)
        before = cursor.sent
        if cursor.result is not None and cursor.result.has_rows:
            await self.send_rows(cursor, portal.fetch.count)
        self.send(P.command_complete(f"FETCH {cursor.sent - before}"))

    def _complete(self, portal: Portal, tag: str) -> None:
        result = portal.result
        for notice in result.notices:
            self.send_notice(notice)
        if result.command == "CREATE MODEL" and not self.settings.synchronous:
            self.send_notice(
                "CREATE MODEL has queued the training job; it trains in the background. "
                "SHOW MODEL name shows its state and progress; the prediction function exists "
                "once the model is READY."
            )
        self._track_transaction(result.command)
        self.send(P.command_complete(tag))
        portal.done = True

    def _track_transaction(self, command: str) -> None:
        if command in ("BEGIN", "START TRANSACTION"):
            self.status = "T"
        elif command in ("COMMIT", "ROLLBACK", "ABORT", "END"):
            self.status = "I"

    async def send_rows(self, portal: Portal, max_rows: int) -> bool:
        """Send up to ``max_rows`` rows (0: all); True when the result is exhausted. Sending all,
        the worker encodes the next slice while this one goes out."""
        sent_now = 0
        ahead: asyncio.Future | None = None
        try:
            while max_rows == 0 or sent_now < max_rows:
                if not portal.pending:
                    portal.pending = await (ahead or self.worker(portal.encode_next))
                    ahead = None
                    if portal.pending is None:
                        return True
                take = (
                    len(portal.pending)
                    if max_rows == 0
                    else min(len(portal.pending), max_rows - sent_now)
                )
                self.send(portal.pending.take(take))
                sent_now += take
                portal.sent += take
                if max_rows == 0:
                    ahead = asyncio.ensure_future(self.worker(portal.encode_next))
                await self.flush()
        finally:
            if ahead is not None:  # sending failed: the encoded rows are not wanted
                ahead.add_done_callback(_ignore_outcome)
        return not portal.pending and portal.exhausted

    def _park_open_portals(self, keep: Portal | None = None) -> None:
        """Read into memory the rest of every suspended portal's rows: DuckDB reads one result
        per connection at a time, and another statement is about to run."""
        for portal in self.portals.values():
            if portal is not keep:
                portal.park()
