"""The engine as configured: stale pooled connections are replaced; SQLite writers of one
process queue in order instead of backing off."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.exc import DBAPIError, IntegrityError

from conftest import TEST_DATABASE_URL, is_postgres
from kefu.kit import db as db_module
from kefu.kit.db import Database, PlainStatement, UTCDateTime


@pytest.mark.skipif(not is_postgres(), reason="a server-side disconnect needs PostgreSQL")
async def test_a_pooled_connection_killed_while_idle_is_replaced(
        monkeypatch: pytest.MonkeyPatch) -> None:
    database = Database(TEST_DATABASE_URL)
    try:
        async with database.unit_of_work() as session:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
        killer = Database(TEST_DATABASE_URL)  # another process, as it were
        try:
            async with killer.unit_of_work() as session:
                await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        finally:
            await killer.dispose()
        monkeypatch.setattr(db_module, "PING_IDLE_SECONDS", 0.0)  # it has been idle "long"
        async with database.unit_of_work() as session:
            assert await session.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await database.dispose()


@pytest.mark.skipif(is_postgres(), reason="SQLite's single writer")
async def test_sqlite_writers_of_one_process_take_turns_without_backing_off(
        committed_db: Database) -> None:
    async with committed_db.unit_of_work() as session:
        await session.execute(text("CREATE TABLE IF NOT EXISTS turn_test (n INTEGER)"))
    held = asyncio.Event()

    async def slow_writer() -> None:
        async with committed_db.unit_of_work() as session:
            await session.execute(text("INSERT INTO turn_test VALUES (1)"))
            held.set()
            await asyncio.sleep(0.3)

    async def quick_writer(n: int) -> float:
        await held.wait()
        started = time.perf_counter()
        async with committed_db.unit_of_work() as session:
            await session.execute(text("INSERT INTO turn_test VALUES (:n)"), {"n": n})
        return time.perf_counter() - started

    try:
        results = await asyncio.gather(slow_writer(), *(quick_writer(n) for n in range(2, 6)))
        waits = results[1:]
        # Each waited for the slow one (~0.3 s), then its turn came at once: no 100 ms naps.
        assert all(w is not None and w < 0.3 + 0.15 for w in waits), waits
        async with committed_db.unit_of_work() as session:
            assert await session.scalar(text("SELECT count(*) FROM turn_test")) == 5
    finally:
        async with committed_db.unit_of_work() as session:
            await session.execute(text("DROP TABLE turn_test"))


async def test_a_burst_the_pool_can_hold_opens_no_connection_once_the_pool_is_full() -> None:
    """Connections opened for a burst are closed when handed back, and every burst opens
    them anew (on PostgreSQL a server process and every statement prepared again; on SQLite
    a thread): a burst no larger than the pool must be served by the pool. On SQLite the
    pool never grows past its five: every transaction queues for the one writer anyway."""
    database = Database(TEST_DATABASE_URL)
    pool = database.engine.sync_engine.pool
    opened: list[object] = []
    sqlalchemy_event.listen(pool, "connect", lambda dbapi, _record: opened.append(dbapi))
    # PostgreSQL: the whole pool at once; SQLite: eight times its size, all waiting.
    burst = 20 if is_postgres() else 8 * db_module.SQLITE_POOL_SIZE
    inside = 0
    most_inside = 0

    async def transaction() -> None:
        nonlocal inside, most_inside
        async with database.unit_of_work() as session:
            await session.execute(text("SELECT 1"))  # holds a connection from here
            inside += 1
            most_inside = max(most_inside, inside)
            await asyncio.sleep(0.02)  # all of the burst's transactions overlap
            inside -= 1

    try:
        await asyncio.gather(*(transaction() for _ in range(burst)))
        first = len(opened)
        await asyncio.gather(*(transaction() for _ in range(burst)))
        assert len(opened) == first, "the second burst opened connections of its own"
        if is_postgres():
            assert first == burst and most_inside == burst  # all ran at once
        else:
            assert first <= db_module.SQLITE_POOL_SIZE
    finally:
        await database.dispose()


async def test_a_request_that_finds_no_free_connection_gets_503_busy(
        committed_db: Database, settings: Any) -> None:
    """Every pooled connection held for longer than the pool's timeout: the request is told
    to try again (503, Retry-After, in the caller's language), not given a 500."""
    import httpx

    from kefu.web.app import create_app

    size = 1 if is_postgres() else db_module.SQLITE_POOL_SIZE
    database = Database(TEST_DATABASE_URL, pool_size=size, pool_timeout=0.2)
    app = create_app(settings, db=database, run_sweeper=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with contextlib.AsyncExitStack() as held:
            for _ in range(size):  # connections out of the pool, no transaction begun
                await held.enter_async_context(database.engine.connect())
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                answer = await client.get("/api/conversations",
                                          headers={"Authorization": "Bearer some-token"})
                english = await client.get("/api/conversations",
                                           headers={"Authorization": "Bearer some-token",
                                                    "Accept-Language": "en"})
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "1"
        assert answer.json()["error"] == {"code": "busy", "message": "系统繁忙，请稍后再试"}
        assert english.json()["error"]["message"] == \
            "The system is busy. Please try again in a moment."
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            again = await client.get("/api/conversations",
                                     headers={"Authorization": "Bearer some-token"})
        assert again.status_code == 401  # connections back: the token is looked up, unknown
    finally:
        await database.dispose()


@pytest.mark.skipif(is_postgres(), reason="SQLite's write lock")
async def test_a_writer_that_waited_too_long_for_sqlites_lock_counts_as_busy(
        committed_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "SQLITE_BUSY_SECONDS", 0.2)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with committed_db.unit_of_work() as session:
            await session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the lock is held
            holding.set()
            await release.wait()

    task = asyncio.create_task(holder())
    try:
        await holding.wait()
        with pytest.raises(DBAPIError) as raised:
            async with committed_db.unit_of_work() as session:
                await session.execute(text("SELECT 1"))
        assert db_module.is_database_busy(raised.value)
    finally:
        release.set()
        await task
    with pytest.raises(IntegrityError) as other:
        async with committed_db.unit_of_work() as session:
            await session.execute(text("CREATE TABLE IF NOT EXISTS busy_test (n INTEGER UNIQUE)"))
            await session.execute(text("INSERT INTO busy_test VALUES (1), (1)"))
    assert not db_module.is_database_busy(other.value)  # any other error is not "busy"


_plain_metadata = MetaData()
_plain_table = Table("plain_statement_test", _plain_metadata,
                     Column("id", Integer, primary_key=True),
                     Column("name", String(20), unique=True),
                     Column("at", UTCDateTime()),
                     Column("data", JSON))
_PLAIN_INSERT = PlainStatement(insert(_plain_table).returning(_plain_table.c.id))


@pytest_asyncio.fixture
async def plain_db(committed_db: Database) -> AsyncIterator[Database]:
    """The committed database with the plain statements' test table."""
    async with committed_db.engine.begin() as connection:
        await connection.run_sync(_plain_metadata.create_all)
    yield committed_db
    async with committed_db.engine.begin() as connection:
        await connection.run_sync(_plain_metadata.drop_all)


async def test_plain_statements_run_in_the_transaction_and_fail_like_sqlalchemy(
        plain_db: Database) -> None:
    at = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    # First statement of the transaction (nothing begun on the driver yet), then another.
    with pytest.raises(RuntimeError):
        async with plain_db.unit_of_work() as session:
            await _PLAIN_INSERT.execute(session, {"name": "a", "at": at, "data": {"k": 1}})
            await _PLAIN_INSERT.execute(session, {"name": "b", "at": at, "data": None})
            raise RuntimeError("roll back")
    async with plain_db.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(_plain_table)) == 0
        first = await _PLAIN_INSERT.execute(session, {"name": "a", "at": at,
                                                      "data": {"k": 1}})
        assert isinstance(first[0][0], int)
    with pytest.raises(IntegrityError):  # SQLAlchemy's error, as session.execute raises
        async with plain_db.unit_of_work() as session:
            await session.execute(select(1))
            await _PLAIN_INSERT.execute(session, {"name": "a", "at": at, "data": None})
    async with plain_db.unit_of_work() as session:
        row = (await session.execute(select(_plain_table))).one()
        # A select, as the first statement of its transaction.
        by_name = PlainStatement(select(_plain_table.c.at, _plain_table.c.data)
                                 .where(_plain_table.c.name == bindparam("name")))
        plain = await by_name.execute(session, {"name": "a"})
    # The types' conversions applied on the way in and out: an aware UTC time, JSON.
    assert row.name == "a" and row.at == at and row.data == {"k": 1}
    assert plain == [(at, {"k": 1})] and plain[0][0].tzinfo is not None


async def test_plain_statements_follow_savepoints_and_later_transactions_of_a_session(
        plain_db: Database) -> None:
    # The driver connection is remembered per transaction and savepoint: a statement in a
    # savepoint must go inside it (SQLAlchemy sends SAVEPOINT lazily), and one after a
    # commit must run in the session's next transaction.
    at = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    names = select(_plain_table.c.name).order_by(_plain_table.c.name)
    async with plain_db.sessionmaker() as session:
        await _PLAIN_INSERT.execute(session, {"name": "kept", "at": at, "data": None})
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                await _PLAIN_INSERT.execute(session, {"name": "undone", "at": at,
                                                      "data": None})
                raise RuntimeError("roll back to the savepoint")
        async with session.begin_nested():
            await _PLAIN_INSERT.execute(session, {"name": "saved", "at": at, "data": None})
        await _PLAIN_INSERT.execute(session, {"name": "after", "at": at, "data": None})
        await session.commit()
        await _PLAIN_INSERT.execute(session, {"name": "next", "at": at, "data": None})
        await session.rollback()
        await _PLAIN_INSERT.execute(session, {"name": "last", "at": at, "data": None})
        await session.commit()
    async with plain_db.unit_of_work() as session:
        assert list(await session.scalars(names)) == ["after", "kept", "last", "saved"]


_PLAIN_RENAME = PlainStatement(update(_plain_table).where(_plain_table.c.name == bindparam("old"))
                               .values(name=bindparam("new")))


async def test_writes_run_later_go_together_in_order_and_never_outlive_their_transaction(
        plain_db: Database) -> None:
    at = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    names = select(_plain_table.c.name).order_by(_plain_table.c.name)
    queued = db_module._DEFERRED_KEY
    async with plain_db.unit_of_work() as session:
        ids: list[int] = []
        await _PLAIN_INSERT.execute(session, {"name": "first", "at": at, "data": None})
        await _PLAIN_INSERT.execute_later(session, {"name": "a", "at": at, "data": None},
                                          ids.append)
        await _PLAIN_RENAME.execute_later(session, {"old": "first", "new": "b"})
        assert len(session.info.get(queued, [])) == 2 and ids == []
        await db_module.write_deferred(session)  # one round trip for both
        assert queued not in session.info and len(ids) == 1 and ids[0] > 0
        # Any other statement, flush or commit writes what waits first, in order.
        await _PLAIN_INSERT.execute_later(session, {"name": "c", "at": at, "data": None})
        assert list(await session.scalars(names)) == ["a", "b", "c"]
        await _PLAIN_RENAME.execute_later(session, {"old": "c", "new": "d"})
        assert (await _PLAIN_INSERT.execute(
            session, {"name": "e", "at": at, "data": None}))[0][0] > ids[0]
        await _PLAIN_INSERT.execute_later(session, {"name": "f", "at": at, "data": None})
        # A savepoint: what waited is written before it; inside, writes run at once and
        # go with it.
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                await _PLAIN_INSERT.execute_later(session, {"name": "undone", "at": at,
                                                            "data": None})
                assert queued not in session.info
                raise RuntimeError("roll back to the savepoint")
        await _PLAIN_INSERT.execute_later(session, {"name": "g", "at": at, "data": None})
    # The commit wrote the last one.
    async with plain_db.unit_of_work() as session:
        assert list(await session.scalars(names)) == ["a", "b", "d", "e", "f", "g"]
    # Rolled back: what waited is dropped, and the session's next transaction is clean.
    async with plain_db.sessionmaker() as session:
        await _PLAIN_INSERT.execute(session, {"name": "h", "at": at, "data": None})
        await _PLAIN_INSERT.execute_later(session, {"name": "i", "at": at, "data": None})
        await session.rollback()
        assert queued not in session.info
        await _PLAIN_INSERT.execute(session, {"name": "j", "at": at, "data": None})
        await session.commit()
    async with plain_db.unit_of_work() as session:
        assert list(await session.scalars(names)) == ["a", "b", "d", "e", "f", "g", "j"]


@pytest.mark.skipif(not is_postgres(), reason="a server-side disconnect needs PostgreSQL")
async def test_a_plain_statement_on_a_dead_connection_throws_the_connection_away(
        plain_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "PING_IDLE_SECONDS", 1000.0)  # no ping saves it
    database = Database(TEST_DATABASE_URL)
    try:
        async with database.unit_of_work() as session:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
        async with plain_db.unit_of_work() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as failed:
            async with database.unit_of_work() as session:
                await _PLAIN_INSERT.execute(session, {"name": "x", "at": None, "data": None})
        assert failed.value.connection_invalidated
        async with database.unit_of_work() as session:  # a fresh connection, not the dead one
            assert await session.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await database.dispose()


async def test_a_finished_unit_of_work_is_freed_without_the_cycle_collector(
        plain_db: Database) -> None:
    # Its bookkeeping refers back to the session: were it kept, every request would leave a
    # cycle for the garbage collector, whose full collections stall the whole process.
    gc.collect()
    gc.disable()
    try:
        async with plain_db.unit_of_work() as session:
            await _PLAIN_INSERT.execute(session, {"name": "a", "at": None, "data": None})
            assert session.info  # the driver connection is remembered for the transaction
            freed = weakref.ref(session.sync_session)
        del session
        assert freed() is None
    finally:
        gc.enable()


async def test_every_way_out_of_a_unit_of_work_hands_its_connection_back(
        plain_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # A unit of work whose transaction ended (committed, or rolled back on an error or a
    # cancel) is closed without AsyncSession.close, which would spend a task and a greenlet
    # on it; one still inside its transaction (cancelled again while rolling back) must
    # still roll back through it and give the connection back, or the pool runs dry.
    from sqlalchemy.ext.asyncio import AsyncSession

    pool = plain_db.engine.sync_engine.pool
    closes: list[AsyncSession] = []
    close = AsyncSession.close

    async def counted_close(session: AsyncSession) -> None:
        closes.append(session)
        await close(session)

    monkeypatch.setattr(AsyncSession, "close", counted_close)
    holding = asyncio.Event()

    async def cancelled_inside() -> None:
        async with plain_db.unit_of_work() as session:
            await _PLAIN_INSERT.execute(session, {"name": "undone", "at": None, "data": None})
            holding.set()
            await asyncio.sleep(60)

    async def cancel_while_holding(then: Any = None) -> None:
        holding.clear()
        task = asyncio.create_task(cancelled_inside())
        try:
            async with asyncio.timeout(10):
                await holding.wait()
                assert pool.checkedout() == 1
                task.cancel()
                if then is not None:
                    await then()
                    task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
        finally:
            task.cancel()  # a failed assertion must not leave it holding the connection

    for turn in range(3):
        async with plain_db.unit_of_work() as session:
            await _PLAIN_INSERT.execute(session, {"name": f"kept{turn}", "at": None,
                                                  "data": None})
        with contextlib.suppress(RuntimeError):
            async with plain_db.unit_of_work() as session:
                await _PLAIN_INSERT.execute(session, {"name": "failed", "at": None,
                                                      "data": None})
                raise RuntimeError("the request fails")
        await cancel_while_holding()
        assert pool.checkedout() == 0
    assert closes == []  # every one of them ended its transaction first

    rollback = AsyncSession.rollback
    rolling_back = asyncio.Event()

    async def slow_rollback(session: AsyncSession) -> None:
        rolling_back.set()
        await asyncio.sleep(60)
        await rollback(session)

    async def wait_for_the_rollback() -> None:
        await rolling_back.wait()

    monkeypatch.setattr(AsyncSession, "rollback", slow_rollback)
    await cancel_while_holding(wait_for_the_rollback)
    monkeypatch.setattr(AsyncSession, "rollback", rollback)
    assert len(closes) == 1  # closed as before, inside its transaction
    assert pool.checkedout() == 0
    async with plain_db.unit_of_work() as session:
        names = list(await session.scalars(select(_plain_table.c.name)))
    assert sorted(names) == ["kept0", "kept1", "kept2"]


class _Trips:
    """The calls the test makes aiosqlite's thread run (each is one trip there and back)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import aiosqlite

        self.names: list[str] = []
        original = aiosqlite.Connection._execute

        async def counted(connection: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.names.append(getattr(fn, "__name__", "?"))
            return await original(connection, fn, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)


def _locked_out(database: Database) -> bool:
    """Whether another process's writer would have to wait for this one now."""
    other = sqlite3.connect(str(database.engine.url.database), timeout=0,
                            isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return True
    finally:
        other.close()


@pytest.mark.skipif(is_postgres(), reason="aiosqlite's thread")
async def test_on_sqlite_plain_statements_take_the_write_lock_without_a_trip_to_the_thread(
        plain_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    at = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    trips = _Trips(monkeypatch)
    async with plain_db.unit_of_work() as session:
        await _PLAIN_INSERT.execute(session, {"name": "a", "at": at, "data": None})
        assert _locked_out(plain_db)  # BEGIN IMMEDIATE went with the INSERT
        await _PLAIN_INSERT.execute_later(session, {"name": "b", "at": at, "data": None})
        await _PLAIN_RENAME.execute_later(session, {"old": "a", "new": "c"})
        await db_module.write_deferred(session)
    # Only the COMMIT goes to aiosqlite's thread; no ROLLBACK when the connection goes back.
    assert trips.names == ["commit"]
    assert not _locked_out(plain_db)
    # The transaction's first statement through SQLAlchemy takes the lock as well.
    trips.names.clear()
    async with plain_db.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(_plain_table)) == 2
        assert _locked_out(plain_db)
    assert trips.names[-1] == "commit" and "rollback" not in trips.names
    # Nothing run at all: nothing was begun, nothing is held.
    async with plain_db.unit_of_work():
        assert not _locked_out(plain_db)


@contextmanager
def _another_process(database: Database) -> Iterator[sqlite3.Connection]:
    """A connection of its own to the database file, as another process would have."""
    other = sqlite3.connect(str(database.engine.url.database), isolation_level=None,
                            check_same_thread=False)
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


async def _waiting_without_stopping_the_loop(writers: list[asyncio.Task[None]]) -> None:
    started = time.perf_counter()
    await asyncio.sleep(0.3)
    # The loop went on (the sleep took its time, no more), and the writers wait.
    assert time.perf_counter() - started < 0.3 + 0.15
    assert not any(writer.done() for writer in writers)


async def _insert_plain(database: Database, name: str) -> None:
    async with database.unit_of_work() as session:
        await _PLAIN_INSERT.execute(session, {"name": name, "at": None, "data": None})


@pytest.mark.skipif(is_postgres(), reason="SQLite's file lock")
async def test_on_sqlite_a_writer_waits_for_another_process_without_stopping_the_loop(
        plain_db: Database) -> None:
    async def through_sqlalchemy() -> None:
        async with plain_db.unit_of_work() as session:
            await session.execute(insert(_plain_table).values(name="orm"))

    with _another_process(plain_db) as other:
        for write in (lambda: _insert_plain(plain_db, "plain"), through_sqlalchemy):
            other.execute("BEGIN IMMEDIATE")  # another process is writing
            writer = asyncio.create_task(write())
            await _waiting_without_stopping_the_loop([writer])
            other.execute("ROLLBACK")
            await asyncio.wait_for(writer, 5)
    async with plain_db.unit_of_work() as session:
        assert sorted(await session.scalars(select(_plain_table.c.name))) == ["orm", "plain"]


@pytest.mark.skipif(is_postgres(), reason="the pool's reset on SQLite")
async def test_on_sqlite_a_connection_given_back_inside_a_transaction_is_rolled_back(
        plain_db: Database) -> None:
    async with plain_db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        await raw.driver_connection.execute("BEGIN IMMEDIATE")
        await raw.driver_connection.execute(
            "INSERT INTO plain_statement_test (name) VALUES ('left behind')")
        assert _locked_out(plain_db)
    assert not _locked_out(plain_db)
    async with plain_db.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(_plain_table)) == 0


@pytest.mark.skipif(is_postgres(), reason="SQLite's file lock")
async def test_on_sqlite_a_writer_cancelled_while_waiting_leaves_no_connection_that_blocks(
        plain_db: Database) -> None:
    with _another_process(plain_db) as other:
        other.execute("BEGIN IMMEDIATE")  # another process is writing
        cancelled = asyncio.create_task(_insert_plain(plain_db, "cancelled"))
        await asyncio.sleep(0.2)
        cancelled.cancel()  # its connection's thread still waits in BEGIN IMMEDIATE
        # More writers than the pool keeps idle, so that one would get that connection if it
        # were handed out: none blocks the loop while they all wait.
        later = [asyncio.create_task(_insert_plain(plain_db, f"later {n}")) for n in range(8)]
        await _waiting_without_stopping_the_loop(later)
        other.execute("ROLLBACK")
        await asyncio.wait_for(asyncio.gather(*later), 20)
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(cancelled, 20)
    async with plain_db.unit_of_work() as session:
        assert sorted(await session.scalars(select(_plain_table.c.name))) == [
            f"later {n}" for n in range(8)]


@pytest.mark.skipif(is_postgres(), reason="aiosqlite's thread")
async def test_on_sqlite_a_connection_whose_thread_still_waits_is_never_handed_out(
        plain_db: Database) -> None:
    async with plain_db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        busy = raw.driver_connection
        raw.info[db_module._THREAD_WAITING] = True  # as a cancelled _begin_on_thread leaves it
    handed_out = []
    for _ in range(8):
        async with plain_db.engine.connect() as connection:
            handed_out.append((await connection.get_raw_connection()).driver_connection)
    assert busy not in handed_out


@pytest.mark.skipif(is_postgres(), reason="SQLite's file lock")
async def test_on_sqlite_a_session_going_on_after_a_cancelled_wait_does_not_stop_the_loop(
        plain_db: Database) -> None:
    with _another_process(plain_db) as other:
        other.execute("BEGIN IMMEDIATE")  # another process is writing
        async with plain_db.sessionmaker() as session:
            first = asyncio.create_task(_PLAIN_INSERT.execute(
                session, {"name": "first", "at": None, "data": None}))
            await asyncio.sleep(0.2)
            first.cancel()  # BEGIN IMMEDIATE still waits on the connection's thread
            with pytest.raises(asyncio.CancelledError):
                await first
            again = asyncio.create_task(_PLAIN_INSERT.execute(
                session, {"name": "again", "at": None, "data": None}))
            await _waiting_without_stopping_the_loop([again])
            other.execute("ROLLBACK")
            await asyncio.wait_for(again, 10)
            await session.commit()
    async with plain_db.unit_of_work() as session:
        assert list(await session.scalars(select(_plain_table.c.name))) == ["again"]


@pytest.mark.skipif(is_postgres(), reason="aiosqlite's thread")
async def test_on_sqlite_a_task_cancelled_inside_a_statement_ends_cancelled(
        plain_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import aiosqlite.cursor

    execute = aiosqlite.cursor.Cursor.execute

    async def slow_execute(cursor: Any, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.3)
        return await execute(cursor, *args, **kwargs)

    async def write_then_read() -> None:
        async with plain_db.unit_of_work() as session:
            await _PLAIN_INSERT.execute(session, {"name": "undone", "at": None, "data": None})
            monkeypatch.setattr(aiosqlite.cursor.Cursor, "execute", slow_execute)
            await session.execute(select(_plain_table))

    task = asyncio.create_task(write_then_read())
    await asyncio.sleep(0.1)
    task.cancel()
    # Cancelled, as it was: the rollback that follows must not fail on the connection
    # SQLAlchemy threw away.
    with pytest.raises(asyncio.CancelledError):
        await task
    monkeypatch.setattr(aiosqlite.cursor.Cursor, "execute", execute)
    async with plain_db.unit_of_work() as session:
        assert list(await session.scalars(select(_plain_table.c.name))) == []


async def only_kept_and_nothing_left_open(plain_db: Database) -> None:
    """What was kept is committed for everyone to see (what was lost is not), and no
    connection holds a transaction open."""
    async with plain_db.unit_of_work() as session:
        names = (await session.scalars(select(_plain_table.c.name))).all()
        open_transactions = await session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"))
    assert names == ["kept"]
    assert open_transactions == 0


async def leave_a_transaction_sqlalchemy_never_knew(database: Database, *,
                                                   server_ends_it: bool = False) -> int:
    """Hand a connection back to the pool with a transaction asyncpg began behind
    SQLAlchemy's back (ended on the server only, if asked); its server pid."""
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.transaction().start()
        if server_ends_it:  # asyncpg still takes it for its own
            await driver.execute("ROLLBACK")
        return int(driver.get_server_pid())


async def kept_on_a_fresh_connection(database: Database, plain_db: Database,
                                     old_pid: int) -> None:
    at = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    async with asyncio.timeout(10):
        async with database.unit_of_work() as session:
            await _PLAIN_INSERT.execute(session, {"name": "kept", "at": at, "data": None})
            assert await session.scalar(text("SELECT pg_backend_pid()")) != old_pid
        await only_kept_and_nothing_left_open(plain_db)


@pytest.mark.skipif(not is_postgres(), reason="asyncpg's transactions")
@pytest.mark.parametrize("server_side", ["inside a transaction", "outside any"])
async def test_a_connection_handed_back_with_a_transaction_sqlalchemy_never_knew_is_closed(
        plain_db: Database, server_side: str, caplog: pytest.LogCaptureFixture) -> None:
    """The state a cancelled BEGIN leaves (see the test below), and the one where the
    server has left the transaction but asyncpg still takes it for its own: either way the
    pool closes the connection rather than hand it out again, and says what it found."""
    database = Database(TEST_DATABASE_URL, pool_size=1)  # the next unit of work gets the same
    try:
        pid = await leave_a_transaction_sqlalchemy_never_knew(
            database, server_ends_it=server_side == "outside any")
        await kept_on_a_fresh_connection(database, plain_db, pid)
        [warning] = [r.getMessage() for r in caplog.records if "left inside" in r.getMessage()]
        assert "closing a pooled connection left inside a transaction: asyncpg's " \
               "transaction <asyncpg.Transaction state:started" in warning
        assert f"server in a transaction: {server_side == 'inside a transaction'}" in warning
    finally:
        await database.dispose()


@pytest.mark.skipif(not is_postgres(), reason="asyncpg's transactions")
async def test_a_pooled_connection_in_a_transaction_is_replaced_before_it_is_handed_out(
        plain_db: Database, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Should one reach the pool without the check on the way in catching it."""
    database = Database(TEST_DATABASE_URL, pool_size=1)
    try:
        with monkeypatch.context() as patched:  # past the check on the way in
            patched.setattr(db_module, "left_in_a_transaction", lambda _connection: False)
            pid = await leave_a_transaction_sqlalchemy_never_knew(database)
        await kept_on_a_fresh_connection(database, plain_db, pid)
        assert any("replacing a pooled connection left inside a transaction" in r.getMessage()
                   for r in caplog.records)
    finally:
        await database.dispose()


def test_a_connection_in_a_transaction_is_never_handed_out() -> None:
    """What the pool's check looks at."""
    class Driver:
        def __init__(self, top: object, inside: bool) -> None:
            self._top_xact, self.inside = top, inside

        def is_in_transaction(self) -> bool:
            return self.inside

    class Adapted:
        def __init__(self, driver: Driver) -> None:
            self._connection = driver

    assert not db_module.left_in_a_transaction(Adapted(Driver(None, False)))
    assert db_module.left_in_a_transaction(Adapted(Driver(object(), False)))
    assert db_module.left_in_a_transaction(Adapted(Driver(None, True)))
    assert not db_module.left_in_a_transaction(object())  # another driver: not asyncpg's


class AnswerHoldingProxy:
    """A TCP proxy in front of PostgreSQL that can hold the server's answers back: a
    statement reaches the server and runs, and the client is still waiting for its answer."""

    def __init__(self) -> None:
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter,
                       held: bool) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    if held:
                        await self.flowing.wait()
                    target.write(data)
                    await target.drain()
            target.close()

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            server_reader, server_writer = await asyncio.open_connection(host, port)
            await asyncio.gather(pipe(reader, server_writer, False),
                                 pipe(server_reader, writer, True))

        self.server = await asyncio.start_server(serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.flowing.set()
        if self.server is not None:
            self.server.close()


@pytest.mark.skipif(not is_postgres(), reason="asyncpg's transactions")
@pytest.mark.parametrize("guarded_by", ["the plain path", "the pool"])
async def test_a_unit_of_work_cancelled_while_its_begin_is_answered_leaves_nothing_open(
        plain_db: Database, monkeypatch: pytest.MonkeyPatch, guarded_by: str) -> None:
    """What a chat socket closed in the middle of a message did: the task was cancelled
    after the server had run its BEGIN and before the answer came back. asyncpg had taken
    the transaction for the connection's own and marked it failed; SQLAlchemy's adapter had
    not taken it on; the server was inside it. Pooled so, the next transaction on the
    connection became a savepoint of it and committed nothing. The plain path throws the
    connection away, and the pool would close it anyway: each is tested alone."""
    if guarded_by == "the plain path":
        monkeypatch.setattr(db_module, "left_in_a_transaction", lambda _connection: False)
    else:
        real_spawn = db_module.greenlet_spawn

        async def not_thrown_away(function: Any, *args: Any) -> Any:
            if getattr(function, "__name__", "") == "invalidate":
                return None
            return await real_spawn(function, *args)

        monkeypatch.setattr(db_module, "greenlet_spawn", not_thrown_away)
    from sqlalchemy.engine import make_url

    url = make_url(TEST_DATABASE_URL)
    proxy = AnswerHoldingProxy()
    await proxy.start(url.host or "127.0.0.1", url.port or 5432)
    database = Database(url.set(host="127.0.0.1", port=proxy.port)
                        .render_as_string(hide_password=False), pool_size=1)
    at = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)

    async def write(name: str) -> None:
        async with database.unit_of_work() as session:
            await _PLAIN_INSERT.execute(session, {"name": name, "at": at, "data": None})

    async def server_state(pid: int) -> str | None:
        async with plain_db.unit_of_work() as session:
            return await session.scalar(text(
                "SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})

    try:
        async with asyncio.timeout(20):
            async with database.unit_of_work() as session:
                pid = await session.scalar(text("SELECT pg_backend_pid()"))
            proxy.flowing.clear()
            cancelled = asyncio.create_task(write("lost"))
            for _poll in range(2000):  # until the server has run the BEGIN
                if await server_state(pid) == "idle in transaction":
                    break
                await asyncio.sleep(0.01)
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled
            proxy.flowing.set()

            await write("kept")
            await only_kept_and_nothing_left_open(plain_db)
    finally:
        await proxy.close()
        await database.dispose()
