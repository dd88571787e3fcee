"""Database access: the declarative base, the engine, and the unit of work.

One request, one job or one sweep item is one transaction, committed at the boundary by
:func:`Database.unit_of_work`, never inside a service. Effects that users see are queued on the
session with :func:`after_commit` and run only once the commit has succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar, cast

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only, greenlet_spawn

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT primary keys on PostgreSQL, but INTEGER on SQLite so they stay rowid aliases.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite keeps no zone, so store naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


AfterCommit = Callable[[], Awaitable[None]]


_Mapped = TypeVar("_Mapped", bound="Base")


def record_of(cls: type[_Mapped], values: dict[str, Any]) -> _Mapped:
    """An instance of a mapped class holding ``values`` as plain state, as a query loads
    one: nothing pending, no history. Built without the constructor, which fires an
    attribute event for every column (some 30 µs for a conversation's row, on the send
    path of every chat message)."""
    instance = sa_inspect(cls).class_manager.new_instance()
    instance.__dict__.update(values)
    return cast(_Mapped, instance)


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` after this session's transaction commits; drop it on rollback."""
    session.info.setdefault("after_commit", []).append(callback)


async def run_after_commit(session: AsyncSession) -> None:
    callbacks: list[AfterCommit] = session.info.pop("after_commit", [])
    events: list[tuple[str, dict[str, Any]]] = []
    for callback in callbacks:
        event = getattr(callback, "kefu_event", None)
        if event is not None:  # published together with its neighbours, in order
            events.append(event)
            continue
        await _publish(events)
        events = []
        try:
            await callback()
        except Exception:  # an effect failing must not turn a committed request into an error
            log.exception("after-commit callback failed")
    await _publish(events)


async def _publish(events: list[tuple[str, dict[str, Any]]]) -> None:
    if not events:
        return
    from kefu.kit.events import get_broker

    try:
        await get_broker().publish_many(events)
    except Exception:
        log.exception("publishing events after commit failed")


def transaction_scoped(session: AsyncSession, key: str, *, begin: bool = False,
                       pop: bool = False) -> dict[Any, Any]:
    """A dict in ``session.info`` that belongs to the session's current transaction: once
    that transaction has ended (a session may go on after a commit or a rollback), the next
    call finds a fresh one. ``begin``: start the transaction if none has begun (nothing is
    sent to the database until a statement needs it); ``pop``: take the dict out."""
    sync_session = session.sync_session
    transaction = sync_session.get_transaction()
    if transaction is None and begin:
        transaction = sync_session.begin()
    found = session.info.pop(key, None) if pop else session.info.get(key)
    if found is None or found[0] is not transaction:
        found = (transaction, {})
        if not pop and transaction is not None:
            session.info[key] = found
    scoped: dict[Any, Any] = found[1]
    return scoped


def discard_after_commit(session: AsyncSession) -> None:
    session.info.pop("after_commit", None)


_HOLDS_WRITE_LOCK = "kefu_sqlite_write_lock"
_BEGIN_PENDING = "kefu_sqlite_begin_pending"
_THREAD_WAITING = "kefu_sqlite_thread_waiting"
SQLITE_BUSY_SECONDS = 30
_BUSY_TIMEOUT = f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}"


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it over.
    # BEGIN IMMEDIATE takes the write lock up front, so two writers wait (busy_timeout)
    # instead of failing when a read transaction later wants to write.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(_BUSY_TIMEOUT)
        cursor.close()

    # SQLite has one writer. Writers of this process queue for it here, in order, instead of
    # each polling the file lock with SQLite's busy handler, whose growing sleeps (up to
    # 100 ms a try) made the slowest messages wait seconds under load. The busy timeout
    # still covers other processes. Held from BEGIN until the connection goes back to the
    # pool (after its COMMIT or ROLLBACK).
    locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        record = conn.connection._connection_record
        if record is not None and not record.info.get(_HOLDS_WRITE_LOCK):
            loop = asyncio.get_running_loop()
            lock = locks.get(loop)
            if lock is None:
                lock = locks[loop] = asyncio.Lock()
            try:
                await_only(asyncio.wait_for(lock.acquire(), SQLITE_BUSY_SECONDS))
            except TimeoutError as error:  # as SQLite's own busy timeout would end
                raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError(
                    "database is locked")) from error
            record.info[_HOLDS_WRITE_LOCK] = lock
        if record is not None and conn.dialect.driver == "aiosqlite":
            # Sent just before the transaction's first statement, from the event loop's
            # thread (see _begin_before_sqlalchemy_statement and _run_on_sqlite): a trip to
            # aiosqlite's thread of its own cost several times what BEGIN does.
            record.info[_BEGIN_PENDING] = True
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _begin_before_sqlalchemy_statement(conn: Any, _cursor: Any, _statement: Any,
                                           _parameters: Any, _context: Any,
                                           _executemany: Any) -> None:
        record = conn.connection._connection_record
        if record is not None and record.info.pop(_BEGIN_PENDING, False):
            driver = conn.connection.driver_connection
            # Errors as SQLAlchemy's own (it does not wrap what an event raises).
            try:
                await_only(_begin(driver, record.info))
            except Exception as error:
                raise _as_dbapi_error(conn.dialect, conn.connection.dbapi_connection,
                                      "BEGIN IMMEDIATE", (), error) from error

    def _begin_not_needed(conn: Any) -> None:  # the transaction ends before any statement
        if conn.invalidated:
            return  # its connection is gone (and _release dropped the flag with it)
        record = conn.connection._connection_record
        if record is not None:
            record.info.pop(_BEGIN_PENDING, None)

    event.listen(engine.sync_engine, "commit", _begin_not_needed)
    event.listen(engine.sync_engine, "rollback", _begin_not_needed)

    # The pool's usual reset is a ROLLBACK whenever a connection comes back: on aiosqlite a
    # trip to its thread after every transaction, though after a COMMIT nothing is left to
    # roll back. (create_engine turns the pool's own reset off for SQLite.)
    @event.listens_for(engine.sync_engine.pool, "reset")
    def _roll_back_if_needed(dbapi_connection: Any, _record: Any, state: Any) -> None:
        if not state.asyncio_safe:
            return  # collected without being closed: no awaiting here; it is thrown away
        inner = getattr(dbapi_connection, "_connection", dbapi_connection)
        if getattr(inner, "in_transaction", True):
            dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _not_while_its_thread_waits(_dbapi: Any, record: Any, _proxy: Any) -> None:
        if record.info.get(_THREAD_WAITING):
            # The pool throws it away and hands out another (see _begin_on_thread).
            raise DisconnectionError("the connection's thread is still waiting to BEGIN")

    def _release(record: Any) -> None:
        if record is not None:
            record.info.pop(_BEGIN_PENDING, None)
        lock = record.info.pop(_HOLDS_WRITE_LOCK, None) if record is not None else None
        if lock is not None:
            lock.release()

    pool = engine.sync_engine.pool
    event.listen(pool, "checkin", lambda _dbapi, record: _release(record))
    event.listen(pool, "invalidate", lambda _dbapi, record, _exc: _release(record))
    event.listen(pool, "soft_invalidate", lambda _dbapi, record, _exc: _release(record))
    event.listen(pool, "close", lambda _dbapi, record: _release(record))
    # A connection never given back (its session collected unclosed) leaves through detach.
    event.listen(pool, "detach", lambda _dbapi, record: _release(record))


# SQLite has one writer, and every transaction of this process queues for it at BEGIN (see
# _configure_sqlite), so more connections would only wait there. A task waits for a pooled
# connection instead of opening one: opening an aiosqlite connection (a thread and its
# pragmas) costs more than the transaction it would serve.
SQLITE_POOL_SIZE = 5


def create_engine(url: str, *, echo: bool = False, pool_size: int = 20,
                  max_overflow: int = 0, pool_timeout: float = 30.0) -> AsyncEngine:
    """The process's engine. On PostgreSQL ``pool_size`` connections are kept once opened,
    and up to ``max_overflow`` more are opened for a burst and closed when handed back;
    beyond that a task waits for a pooled connection (up to ``pool_timeout`` seconds),
    which no task does while holding one. Size the pool for a busy moment: a connection
    opened for a burst costs far more than the transaction it serves (a server process, its
    start-up, every statement prepared anew), and bursts come when the server is already
    behind (after a pause for garbage collection, say). With 10 and 10 more for bursts, a chat server at 500
    messages/s opened and closed about two connections a second."""
    if url.startswith("sqlite"):
        # The connection is made on aiosqlite's thread but some statements run on the
        # event loop's (see _run_on_sqlite), never two at once: the session awaits each.
        engine = create_async_engine(url, echo=echo, pool_size=SQLITE_POOL_SIZE,
                                     max_overflow=0, pool_timeout=pool_timeout,
                                     pool_reset_on_return=None,
                                     connect_args={"check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow,
                                 pool_timeout=pool_timeout)
    _look_after_pooled_connections(engine)
    return engine


def left_in_a_transaction(dbapi_connection: Any) -> bool:
    """Whether an asyncpg connection handed back to the pool is still inside a transaction,
    or believes it is, after the pool's rollback.

    How one came to be so (found by the chat benchmark's closed loops on PostgreSQL, in 4
    runs of 52): a chat socket closed in the middle of a message cancels its task, and when
    that landed in a plain statement's BEGIN (``_run_on_driver``) after the server had run
    it and before the answer was back, asyncpg had already taken the transaction for the
    connection's own (and kept it, marked failed), SQLAlchemy's adapter, which takes a
    transaction on only once BEGIN has succeeded, had nothing to roll back, and the plain
    path, unlike SQLAlchemy's own, did not throw the connection away. Pooled so, the
    connection began every later transaction as a savepoint of that one and each commit
    only released its savepoint: messages acknowledged but never committed, their
    conversations' rows locked until the connection closed. The plain path now throws a
    cancelled connection away as SQLAlchemy does; this check stays as the pool's guard,
    whatever the way in."""
    driver = getattr(dbapi_connection, "_connection", None)
    if driver is None or not hasattr(driver, "is_in_transaction"):
        return False  # not asyncpg
    return getattr(driver, "_top_xact", None) is not None or bool(driver.is_in_transaction())


def _transaction_state(dbapi_connection: Any) -> str:
    """What the driver, the server and SQLAlchemy's adapter each hold (for the warning)."""
    driver = dbapi_connection._connection
    return (f"asyncpg's transaction {getattr(driver, '_top_xact', None)!r}, server in a "
            f"transaction: {driver.is_in_transaction()}, SQLAlchemy's: "
            f"{getattr(dbapi_connection, '_transaction', None)!r}")


# A pooled connection idle for longer than this is pinged before use (a database restart or a
# dropped link is found before a request fails on it). Connections in steady use are not:
# a ping on every checkout would be a round trip per transaction, a third of a chat message.
PING_IDLE_SECONDS = 10.0


def _look_after_pooled_connections(engine: AsyncEngine) -> None:
    """Ping a connection that sat idle before handing it out, and close one handed back
    inside a transaction (see left_in_a_transaction)."""
    pool_events = engine.sync_engine.pool

    @event.listens_for(pool_events, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        if record is None:
            return
        if dbapi_connection is not None and left_in_a_transaction(dbapi_connection):
            # Aborted at once (no I/O to wait for, which a second cancellation could cut
            # short with the record never back in the pool): the server rolls the
            # transaction back and lets go of its locks. The record is replaced when next
            # checked out.
            log.warning("closing a pooled connection left inside a transaction: %s",
                        _transaction_state(dbapi_connection))
            dbapi_connection._connection.terminate()
            record.invalidate(DisconnectionError("connection left inside a transaction"),
                              soft=True)
            return
        record.info["kefu_idle_since"] = time.monotonic()

    @event.listens_for(pool_events, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if left_in_a_transaction(dbapi_connection):  # never handed out (see above)
            log.warning("replacing a pooled connection left inside a transaction: %s",
                        _transaction_state(dbapi_connection))
            raise DisconnectionError("connection left inside a transaction")
        idle_since = record.info.get("kefu_idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("stale pooled connection") from error
        if not alive:
            raise DisconnectionError("stale pooled connection")


def is_database_busy(error: BaseException) -> bool:
    """The database could not take the work in time: no pooled connection came free
    (SQLAlchemy's pool timeout) or SQLite's write lock did not (its busy timeout, or this
    process's queue for it). Nothing was written; the same request may be tried again."""
    if isinstance(error, PoolTimeoutError):
        return True
    original = getattr(error, "orig", None)
    return isinstance(error, OperationalError) and \
        isinstance(original, sqlite3.OperationalError) and "database is locked" in str(original)


class Database:
    """The engine and session factory of one process."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 20,
                 max_overflow: int = 0, pool_timeout: float = 30.0) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo, pool_size=pool_size,
                                    max_overflow=max_overflow, pool_timeout=pool_timeout)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One transaction: commit on success, roll back on error, then run effects."""
        session = self.sessionmaker()
        try:
            async with commit_or_rollback(session):
                yield session
        finally:
            # The transaction's bookkeeping in session.info refers back to the session
            # (some of it is keyed by the transaction): dropped here, the session and all
            # it held are freed at once by reference counting. Left to the cyclic garbage
            # collector, some sixty objects a message made its full collections stall
            # the process for tens of milliseconds.
            session.info.clear()
            await _close(session)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _close(session: AsyncSession) -> None:
    """Close a session as ``async with`` would. Once its transaction has ended (committed or
    rolled back: the usual case) closing only forgets its objects, with no I/O, and is done
    here at once; ``AsyncSession.close`` would spend a task (it shields itself from
    cancellation) and a greenlet on it, some 50 µs a transaction."""
    sync_session = session.sync_session
    if sync_session.in_transaction():
        # A connection to hand back, maybe a rollback to send: as ``async with`` does it,
        # carried to the end even if this task is cancelled meanwhile.
        await session.__aexit__(None, None, None)
    else:
        sync_session.close()


@asynccontextmanager
async def commit_or_rollback(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    try:
        yield session
        await session.commit()
    except BaseException:
        # A service may ask to keep what it wrote although it ends in an error (a failed login
        # attempt is recorded, then refused).
        if session.info.pop("commit_on_error", False):
            # What was kept is real: its effects (a violation's notification) go out too.
            await session.commit()
            await run_after_commit(session)
            raise
        discard_after_commit(session)
        await session.rollback()
        raise
    await run_after_commit(session)


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class PlainStatement:
    """A prebuilt table statement run straight on the driver connection of the session's
    transaction.

    SQLAlchemy's execution layer costs about as much as the database round trip itself; for
    the few statements every chat message runs, that is most of the send path. The
    statement is compiled once per dialect (the same SQL SQLAlchemy would send, with the
    types' bind and result conversions applied). Where the driver is not asyncpg or
    aiosqlite, it runs through SQLAlchemy as usual. Errors come back as SQLAlchemy's
    DBAPIError family, as they would from ``session.execute``.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def _compile(self, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
            results = [column[3].dialect_impl(dialect).result_processor(dialect, None)
                       for column in getattr(compiled, "_result_columns", ())]
            found = _Compiled(str(compiled), tuple(compiled.positiontup or ()),
                              dict(compiled._bind_processors), results)
            self._compiled[(dialect.name, keys)] = found
        return found

    async def execute(self, session: AsyncSession, params: dict[str, Any]
                      ) -> list[tuple[Any, ...]]:
        if session.info.get(_DEFERRED_KEY):
            await _write_deferred(session.sync_session)  # in order: the queued writes first
        found = await _driver_of(session)
        if isinstance(found, AsyncConnection):  # another driver: through SQLAlchemy
            result = await found.execute(self.statement, params)
            return [tuple(row) for row in result.all()] if result.returns_rows else []
        compiled = self._compile(found[1], tuple(params))
        rows = await _run_on_driver(found, compiled.sql, compiled.args(params))
        if rows and any(compiled.result_processors):
            processors_out = compiled.result_processors
            rows = [tuple(p(v) if p is not None else v for p, v in zip(processors_out, row,
                                                                     strict=True))
                    for row in rows]
        return rows

    async def execute_later(self, session: AsyncSession, params: dict[str, Any],
                            then: Callable[[Any], None] | None = None) -> None:
        """Run a write with the transaction's next round trip of its own instead of now:
        the writes waiting when :func:`write_deferred` runs (or any other statement, a flush
        or the commit comes) go together, on PostgreSQL as one statement (a chain of WITH
        clauses), on SQLite one after another at once. ``then`` receives the first
        column of the first row it returns (a new id); it must return at most one row of one
        column. Inside a savepoint, before the transaction's first plain statement, and with
        other drivers, the write runs at once. When one of them fails, the transaction must be
        rolled back (on SQLite the ones before it are written)."""
        sync_session = session.sync_session
        cached = session.info.get(_DRIVER_KEY)
        if sync_session.get_nested_transaction() is not None \
                or cached is None or cached[0][0] is not sync_session.get_transaction() \
                or cached[1][1].driver not in ("asyncpg", "aiosqlite"):
            rows = await self.execute(session, params)
            if then is not None:
                then(rows[0][0] if rows else None)
            return
        session.info.setdefault(_DEFERRED_KEY, []).append((self, params, then))


_DRIVER_KEY = "kefu_plain_driver"


async def _driver_of(session: AsyncSession) -> AsyncConnection | tuple[Any, ...]:
    """(connection, dialect, DBAPI adapter, driver connection, the pooled connection's info)
    of the session's transaction,
    remembered for the rest of that transaction: asking the session for its connection and
    that for its driver costs two greenlet switches (some 40 µs), as much again as a short
    statement's round trip. Another driver than asyncpg or aiosqlite: the connection only."""
    # Keyed by the savepoint too: SQLAlchemy sends SAVEPOINT when a nested transaction is
    # first asked for its connection, so a new savepoint must take the long way once.
    sync_session = session.sync_session
    transaction = (sync_session.get_transaction(), sync_session.get_nested_transaction())
    cached = session.info.get(_DRIVER_KEY)
    if cached is not None and transaction[0] is not None and cached[0][0] is transaction[0] \
            and cached[0][1] is transaction[1]:
        found: tuple[Any, ...] = cached[1]
        return found
    bind = sync_session.get_bind()
    if bind.dialect.driver not in ("asyncpg", "aiosqlite"):
        return await session.connection()
    # The connection and its driver's in one greenlet (AsyncSession would take one each).
    connection, raw = await greenlet_spawn(_connection_and_raw, sync_session)
    found = (connection, connection.dialect, raw.dbapi_connection, raw.driver_connection,
             raw.info)
    # The transaction the connection belongs to (begun just now if there was none).
    session.info[_DRIVER_KEY] = ((sync_session.get_transaction(),
                                  sync_session.get_nested_transaction()), found)
    return found


def _connection_and_raw(sync_session: Session) -> tuple[Connection, PoolProxiedConnection]:
    connection = sync_session.connection()
    return connection, connection.connection


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positions: tuple[str, ...]
    bind_processors: dict[str, Any]
    result_processors: list[Any]

    def first_value(self, value: Any) -> Any:
        """The first column's value as the statement's type gives it back (a new id)."""
        processor = self.result_processors[0] if self.result_processors else None
        return processor(value) if processor is not None and value is not None else value

    def args(self, params: dict[str, Any]) -> tuple[Any, ...]:
        processors = self.bind_processors
        return tuple(processors[name](params[name]) if name in processors else params[name]
                     for name in self.positions)


async def _run_on_driver(found: tuple[Any, ...], sql: str, args: tuple[Any, ...]
                         ) -> list[tuple[Any, ...]]:
    if found[1].driver == "aiosqlite":
        return (await _run_on_sqlite(found, [(sql, args)]))[0]
    _connection, _dialect, adapted, driver, _info = found
    try:
        async with adapted._execute_mutex:
            if adapted._transaction is None:  # the adapter begins lazily; so do we
                await adapted._start_transaction()
            return [tuple(record) for record in await driver.fetch(sql, *args)]
    except asyncio.CancelledError:
        # SQLAlchemy throws away a connection whose statement was cancelled, its state being
        # unknown; this path beside it must too. Cancelled after the server ran BEGIN and
        # before the answer came back, asyncpg holds a transaction that SQLAlchemy's adapter
        # never took on, and nothing would roll it back (see left_in_a_transaction).
        with contextlib.suppress(Exception):
            await greenlet_spawn(_connection.invalidate)
        raise
    except Exception as error:
        await _raise_as_dbapi_error(found, sql, args, error)


async def _run_on_sqlite(found: tuple[Any, ...], statements: list[tuple[str, tuple[Any, ...]]]
                         ) -> list[list[tuple[Any, ...]]]:
    """The statements' rows, run here on the event loop's thread, with the transaction's
    BEGIN IMMEDIATE first if it has not been sent yet (see _configure_sqlite).

    A trip to aiosqlite's thread and back costs several times what these statements do:
    short writes and keyed reads inside a transaction, in WAL mode, touch only pages in
    memory (nothing reaches the disk before the COMMIT, which still goes to the thread, as
    do the checkpoints that follow it). The BEGIN is tried without waiting; when another
    process holds the write lock it is sent to the thread, which waits there."""
    _connection, _dialect, _adapted, driver, info = found
    sqlite: sqlite3.Connection = driver._conn
    current = ("BEGIN IMMEDIATE", ())

    def run_all() -> list[list[tuple[Any, ...]]]:
        nonlocal current
        results = []
        for current in statements:
            cursor = sqlite.execute(*current)
            results.append([tuple(row) for row in cursor.fetchall()])
            cursor.close()
        return results

    try:
        if info.pop(_BEGIN_PENDING, False):
            await _begin(driver, info)
        if info.get(_THREAD_WAITING):
            # A BEGIN whose task was cancelled still waits on the thread (and this session
            # went on after catching that): wait behind it there, not here.
            found_rows: list[list[tuple[Any, ...]]] = await driver._execute(run_all)
            return found_rows
        return run_all()
    except Exception as error:
        await _raise_as_dbapi_error(found, *current, error)


async def _begin(driver: Any, info: dict[Any, Any]) -> None:
    """The transaction's BEGIN IMMEDIATE: here when the write lock is free, else on
    aiosqlite's thread, which waits there for another process to let go of it."""
    if not _begin_without_waiting(driver._conn):
        await _begin_on_thread(driver, info)


def _begin_without_waiting(sqlite: sqlite3.Connection) -> bool:
    """BEGIN IMMEDIATE unless another process holds the write lock (then False: nothing
    has begun). The connection's busy timeout is off meanwhile: its waiting would stop
    the event loop."""
    sqlite.execute("PRAGMA busy_timeout=0")
    try:
        sqlite.execute("BEGIN IMMEDIATE")
        return True
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # any of the BUSY family
            raise
        return False
    finally:
        sqlite.execute(_BUSY_TIMEOUT)


async def _begin_on_thread(driver: Any, info: dict[Any, Any]) -> None:
    """BEGIN IMMEDIATE on aiosqlite's thread, which waits there for another process's write
    lock. Should this task be cancelled meanwhile, the thread goes on waiting; the rollback
    that follows queues behind it, but should the connection reach the pool before the thread
    is done, the pool must not hand it out again: a statement run on it from the event loop's
    thread would wait for the thread's, and stop the loop."""
    info[_THREAD_WAITING] = True
    await driver.execute_fetchall("BEGIN IMMEDIATE")
    del info[_THREAD_WAITING]


async def _raise_as_dbapi_error(found: tuple[Any, ...], sql: str, args: tuple[Any, ...],
                                error: Exception) -> NoReturn:
    connection, dialect, adapted, _driver, _info = found
    failure = _as_dbapi_error(dialect, adapted, sql, args, error)
    if failure.connection_invalidated:
        # As SQLAlchemy does for its own statements: a dead connection must not go back into
        # the pool for the next request to fail on.
        await greenlet_spawn(connection.invalidate, error)  # it may close the connection
    raise failure from error


# --- deferred writes ------------------------------------------------------------------------

_DEFERRED_KEY = "kefu_deferred_writes"
_Deferred = tuple["PlainStatement", dict[str, Any], Callable[[Any], None] | None]
_CHAINS: dict[tuple[Any, ...], tuple[str, list[_Compiled]]] = {}


async def write_deferred(session: AsyncSession) -> None:
    """Send the writes :meth:`PlainStatement.execute_later` queued, all together."""
    if session.info.get(_DEFERRED_KEY):
        await _write_deferred(session.sync_session)


def _write_deferred_now(sync_session: Session) -> None:
    """The same from SQLAlchemy's own (synchronous, greenlet-run) code paths."""
    if sync_session.info.get(_DEFERRED_KEY):
        await_only(_write_deferred(sync_session))


async def _write_deferred(sync_session: Session) -> None:
    pending: list[_Deferred] = sync_session.info.pop(_DEFERRED_KEY, [])
    if not pending:
        return
    # The transaction's own connection, as PlainStatement found it when it first ran: the
    # writes belong before any savepoint begun since (SQLAlchemy sends SAVEPOINT only when
    # a statement first needs the savepoint's connection, after this).
    cached = sync_session.info.get(_DRIVER_KEY)
    if cached is None or cached[0][0] is not sync_session.get_transaction():
        raise RuntimeError("deferred writes without their transaction's connection")
    found: tuple[Any, ...] = cached[1]
    dialect = found[1]
    if dialect.driver == "aiosqlite":
        await _write_deferred_on_sqlite(found, pending)
        return
    key = (dialect.name, *((statement, tuple(params), then is not None)
                           for statement, params, then in pending))
    chain = _CHAINS.get(key)
    if chain is None:
        chain = _CHAINS[key] = _chain(dialect, pending)
    sql, parts = chain
    args: list[Any] = []
    for (_statement, params, _then), compiled in zip(pending, parts, strict=True):
        args.extend(compiled.args(params))
    rows = await _run_on_driver(found, sql, tuple(args))
    values = iter(rows[0] if rows else ())
    for (_statement, _params, then), compiled in zip(pending, parts, strict=True):
        if then is not None:
            then(compiled.first_value(next(values)))


async def _write_deferred_on_sqlite(found: tuple[Any, ...], pending: list[_Deferred]) -> None:
    dialect = found[1]
    compiled = [statement._compile(dialect, tuple(params)) for statement, params, _ in pending]
    results = await _run_on_sqlite(found, [(c.sql, c.args(params)) for c, (_, params, _) in
                                           zip(compiled, pending, strict=True)])
    for (_statement, _params, then), part, rows in zip(pending, compiled, results, strict=True):
        if then is not None:
            then(part.first_value(rows[0][0] if rows else None))


def _chain(dialect: Dialect, pending: list[_Deferred]) -> tuple[str, list[_Compiled]]:
    """``WITH w0 AS (…), w1 AS (…) SELECT (SELECT * FROM w0), …``: PostgreSQL runs every
    data-modifying WITH clause exactly once, whether the final SELECT reads it or not."""
    clauses, returned, parts, offset = [], [], [], 0
    for n, (statement, params, then) in enumerate(pending):
        compiled = statement._compile(dialect, tuple(params))
        sql = _renumbered(compiled.sql, offset)
        clauses.append(f"w{n} AS ({sql})")
        if then is not None:
            returned.append(f"(SELECT * FROM w{n})")
        parts.append(compiled)
        offset += len(compiled.positions)
    return f"WITH {', '.join(clauses)} SELECT {', '.join(returned) or '1'}", parts


_PLACEHOLDER = re.compile(r"\$(\d+)")


def _renumbered(sql: str, offset: int) -> str:
    """asyncpg's placeholders ($1, $2 …) moved up by ``offset``."""
    return _PLACEHOLDER.sub(lambda match: f"${int(match.group(1)) + offset}", sql)


@event.listens_for(Session, "before_flush")
def _deferred_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    _write_deferred_now(session)  # the ORM's rows may refer to the deferred ones


@event.listens_for(Session, "do_orm_execute")
def _deferred_before_statement(state: Any) -> None:
    _write_deferred_now(state.session)  # a read must see the transaction's own writes


@event.listens_for(Session, "before_commit")
def _deferred_before_commit(session: Session) -> None:
    _write_deferred_now(session)


@event.listens_for(Session, "after_transaction_end")
def _deferred_dropped_with_their_transaction(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the transaction's end: rolled back, or written already
        session.info.pop(_DEFERRED_KEY, None)


def _as_dbapi_error(dialect: Dialect, adapted: Any, sql: str, args: tuple[Any, ...],
                    error: Exception) -> DBAPIError:
    translated: Exception = error
    if dialect.driver == "asyncpg":
        try:
            adapted._handle_exception(error)  # raises the DBAPI error asyncpg's adapter would
        except Exception as dbapi_error:
            translated = dbapi_error
    dbapi = dialect.loaded_dbapi
    gone = isinstance(translated, dbapi.Error) and dialect.is_disconnect(translated, adapted,
                                                                         None)
    failure = DBAPIError.instance(sql, args, translated, dbapi.Error, dialect=dialect,
                                  connection_invalidated=gone)
    assert isinstance(failure, DBAPIError)
    return failure
