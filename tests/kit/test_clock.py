"""The injectable clock and the demo/test clock over the API and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import DEFAULT_NOW, TEST_DATABASE_URL, commit
from factories import bearer, make_buyer
from kefu.kit import clock as clock_module
from kefu.kit import clockstore
from kefu.kit.db import Database
from kefu.kit.errors import InvalidInput


def test_test_clock_moves_only_forward() -> None:
    c = clock_module.TestClock(frozen_at=DEFAULT_NOW)
    c.advance(timedelta(hours=1))
    assert c.now() == DEFAULT_NOW + timedelta(hours=1)
    with pytest.raises(ValueError):
        c.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError):
        c.set(datetime(2026, 1, 1))  # naive


def test_durations() -> None:
    assert clockstore.parse_duration("90") == timedelta(seconds=90)
    assert clockstore.parse_duration("1h30m") == timedelta(minutes=90)
    assert clockstore.parse_duration("7d") == timedelta(days=7)
    with pytest.raises(InvalidInput):
        clockstore.parse_duration("soon")


async def test_clock_api_reads_and_advances(client: httpx.AsyncClient,
                                            session: AsyncSession) -> None:
    buyer = await make_buyer(session)
    headers = await bearer(session, buyer)
    await commit(session)
    read = await client.get("/api/test-clock", headers=headers)
    assert read.status_code == 200 and read.json()["frozen"] is True
    before = datetime.fromisoformat(read.json()["now"])
    moved = await client.post("/api/test-clock/advance", json={"duration": "24h"},
                              headers=headers)
    assert datetime.fromisoformat(moved.json()["now"]) - before == timedelta(hours=24)
    bad = await client.post("/api/test-clock/advance", json={"duration": "-5m"},
                            headers=headers)
    assert bad.status_code == 422
    anonymous = await client.get("/api/test-clock")
    assert anonymous.status_code == 401


async def test_clock_api_is_absent_in_production(session: AsyncSession, db: Database) -> None:
    from kefu.settings import Settings
    from kefu.web.app import create_app

    prod = Settings(mode="prod", database_url=TEST_DATABASE_URL, secret_key="x")
    app = create_app(prod, db=db, run_sweeper=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.get("/api/test-clock")).status_code == 404
        assert (await c.post("/api/test-clock/advance", json={"duration": "1h"})
                ).status_code == 404


@pytest.mark.committing
async def test_cli_clock_is_shared_through_the_database(committed_db: Database) -> None:
    env = {**os.environ, "KEFU_DATABASE_URL": TEST_DATABASE_URL, "KEFU_MODE": "test"}
    result = subprocess.run([sys.executable, "-m", "kefu.cli", "clock", "advance", "48h"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # Another process (this one) sees the moved clock once it loads the shared state.
    shared = clock_module.TestClock()
    previous = clock_module.get_clock()
    clock_module.set_clock(shared)
    try:
        async with committed_db.unit_of_work() as s:
            await clockstore.load(s)
        assert shared.now() - datetime.now(UTC) > timedelta(hours=47)
    finally:
        clock_module.set_clock(previous)
    prod = subprocess.run([sys.executable, "-m", "kefu.cli", "clock", "show"],
                          env={**env, "KEFU_MODE": "prod"}, capture_output=True, text=True,
                          timeout=60)
    assert prod.returncode == 2
