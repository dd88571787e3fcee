"""Test fixtures: a real database (SQLite by default, PostgreSQL when KEFU_TEST_DATABASE_URL is
set), built once per run with Alembic, and a transaction per test that is rolled back."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

# Test modules import helpers from this file, which (with --import-mode=importlib) runs it a
# second time: keep the run's folder in the environment so both copies agree.
_TMP = Path(os.environ.setdefault("KEFU_TEST_TMP", tempfile.mkdtemp(prefix="kefu-tests-")))
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _test_database_url() -> str:
    url = os.environ.get("KEFU_TEST_DATABASE_URL")
    if not url:
        return f"sqlite+aiosqlite:///{_TMP / f'test-{_WORKER}.db'}"
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    if _WORKER != "main":
        base, _sep, name = url.rpartition("/")
        url = f"{base}/{name}_{_WORKER}"
    return url


TEST_DATABASE_URL = _test_database_url()
os.environ["KEFU_DATABASE_URL"] = TEST_DATABASE_URL
os.environ["KEFU_MODE"] = "test"
os.environ["KEFU_SECRET_KEY"] = "test-secret-key-not-for-production"
os.environ["KEFU_UPLOAD_DIR"] = str(_TMP / "uploads")
os.environ["KEFU_RUN_SWEEPER_IN_SERVER"] = "false"
os.environ["KEFU_LOG_JSON"] = "false"
os.environ.pop("KEFU_REDIS_URL", None)

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from kefu.kit import clock as clock_module  # noqa: E402
from kefu.kit.db import Database, run_after_commit  # noqa: E402
from kefu.settings import Settings, get_settings  # noqa: E402

get_settings.cache_clear()

from kefu import domains  # noqa: E402

domains.load()

# 2026-06-01 10:00 in Shanghai: a weekday, inside default working hours.
DEFAULT_NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def redis_available() -> bool:
    """Redis on 127.0.0.1:6379 (CI starts it; a laptop may not have it)."""
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def is_postgres() -> bool:
    return TEST_DATABASE_URL.startswith("postgresql")


async def _recreate_postgres_database(url: str) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    base, _sep, name = dsn.rpartition("/")
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def _build_schema(url: str) -> None:
    from kefu.kit import migrate

    if url.startswith("postgresql"):
        asyncio.run(_recreate_postgres_database(url))
    migrate.upgrade(url)


def pytest_configure(config: pytest.Config) -> None:
    _build_schema(TEST_DATABASE_URL)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest_asyncio.fixture(scope="session")
async def db() -> AsyncIterator[Database]:
    database = Database(TEST_DATABASE_URL)
    yield database
    await database.dispose()


@pytest.fixture(autouse=True)
def empty_caches() -> None:
    """Each test starts with empty process caches (ids are reused across rolled-back tests)."""
    from kefu.kit import cache

    cache.clear_all()


@pytest.fixture(autouse=True)
def clock() -> clock_module.TestClock:
    """Every test starts with a frozen clock at DEFAULT_NOW."""
    test_clock = clock_module.TestClock(frozen_at=DEFAULT_NOW)
    clock_module.set_clock(test_clock)
    return test_clock


@pytest_asyncio.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    """A session inside an outer transaction that is rolled back after the test; commits
    inside the test only release savepoints."""
    async with db.engine.connect() as connection:
        transaction = await connection.begin()
        test_session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint",
                                    expire_on_commit=False)
        try:
            yield test_session
        finally:
            await test_session.close()
            if transaction.is_active:
                await transaction.rollback()


async def commit(test_session: AsyncSession) -> None:
    """Commit as a request boundary would (savepoint), then run the after-commit effects."""
    await test_session.commit()
    await run_after_commit(test_session)


TABLES_IN_DELETE_ORDER: list[str] | None = None


@pytest_asyncio.fixture
async def committed_db(db: Database) -> AsyncIterator[Database]:
    """For tests that need real commits (several sessions, processes): empties every table
    afterwards."""
    yield db
    from kefu.models import Base

    async with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(text(f'DELETE FROM "{table.name}"'))


@pytest_asyncio.fixture
async def app(session: AsyncSession, db: Database, settings: Settings):  # type: ignore[no-untyped-def]
    from kefu.web.app import create_app

    application = create_app(settings, db=db, run_sweeper=False)

    @asynccontextmanager
    async def provide() -> AsyncIterator[AsyncSession]:
        yield session

    application.state.session_provider = provide
    return application


@pytest_asyncio.fixture
async def client(app):  # type: ignore[no-untyped-def]
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
