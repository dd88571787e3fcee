"""The deadline framework: due items handled once, re-checked, retried; several workers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from conftest import DEFAULT_NOW, TEST_DATABASE_URL, is_postgres
from kefu.kit import clock as clock_module
from kefu.kit import deadlines, models
from kefu.kit.db import Database
from kefu.kit.models import Deadline, DeadlineRun

calls: list[str] = []


@deadlines.handler("test.record")
async def _record(session, deadline, now):  # type: ignore[no-untyped-def]
    calls.append(deadline.subject_key)
    return "recorded"


@deadlines.handler("test.flaky")
async def _flaky(session, deadline, now):  # type: ignore[no-untyped-def]
    raise RuntimeError("downstream unavailable")


pytestmark = pytest.mark.committing


async def test_due_items_are_handled_once_and_sweeping_again_changes_nothing(
        committed_db: Database, clock: clock_module.TestClock) -> None:
    calls.clear()
    async with committed_db.unit_of_work() as s:
        await deadlines.schedule(s, "test.record", "thing:1", DEFAULT_NOW + timedelta(hours=1))
        await deadlines.schedule(s, "test.record", "thing:2", DEFAULT_NOW + timedelta(hours=3))
    report = await deadlines.sweep_once(committed_db, due_before=clock.now())
    assert report.claimed == 0 and calls == []
    clock.advance(timedelta(hours=2))
    first = await deadlines.sweep_once(committed_db, due_before=clock.now())
    second = await deadlines.sweep_once(committed_db, due_before=clock.now())
    assert (first.handled, second.claimed) == (1, 0)
    assert calls == ["thing:1"]
    async with committed_db.unit_of_work() as s:
        runs = (await s.execute(select(DeadlineRun))).scalars().all()
        assert [(r.subject_key, r.outcome) for r in runs] == [("thing:1", "recorded")]


async def test_rescheduling_moves_the_deadline_and_cancel_stops_it(
        committed_db: Database, clock: clock_module.TestClock) -> None:
    calls.clear()
    async with committed_db.unit_of_work() as s:
        await deadlines.schedule(s, "test.record", "thing:3", DEFAULT_NOW + timedelta(minutes=5))
        await deadlines.schedule(s, "test.record", "thing:3", DEFAULT_NOW + timedelta(hours=5))
        await deadlines.schedule(s, "test.record", "thing:4", DEFAULT_NOW + timedelta(minutes=5))
        await deadlines.cancel(s, "test.record", "thing:4")
    clock.advance(timedelta(hours=1))
    await deadlines.sweep_once(committed_db, due_before=clock.now())
    assert calls == []
    clock.advance(timedelta(hours=5))
    await deadlines.sweep_once(committed_db, due_before=clock.now())
    assert calls == ["thing:3"]


async def test_a_failing_handler_is_retried_with_backoff_and_does_not_block_others(
        committed_db: Database, clock: clock_module.TestClock) -> None:
    calls.clear()
    async with committed_db.unit_of_work() as s:
        await deadlines.schedule(s, "test.flaky", "thing:5", DEFAULT_NOW)
        await deadlines.schedule(s, "test.record", "thing:6", DEFAULT_NOW)
    report = await deadlines.sweep_once(committed_db, due_before=clock.now())
    assert (report.handled, report.failed) == (1, 1)
    assert calls == ["thing:6"]
    async with committed_db.unit_of_work() as s:
        flaky = (await s.execute(select(Deadline).where(Deadline.kind == "test.flaky"))
                 ).scalar_one()
        assert flaky.status == "pending" and flaky.attempts == 1
        assert flaky.due_at > clock.now()
        assert "downstream unavailable" in (flaky.last_error or "")
    for _ in range(deadlines.MAX_ATTEMPTS + 1):
        clock.advance(timedelta(minutes=10))
        await deadlines.sweep_once(committed_db, due_before=clock.now())
    async with committed_db.unit_of_work() as s:
        flaky = (await s.execute(select(Deadline).where(Deadline.kind == "test.flaky"))
                 ).scalar_one()
        assert flaky.status == "failed" and flaky.attempts == deadlines.MAX_ATTEMPTS


async def test_an_unknown_kind_fails_loudly_instead_of_being_marked_done(
        committed_db: Database, clock: clock_module.TestClock) -> None:
    async with committed_db.unit_of_work() as s:
        await deadlines.schedule(s, "test.nobody_handles_this", "x:1", DEFAULT_NOW)
    report = await deadlines.sweep_once(committed_db, due_before=clock.now())
    assert report.failed == 1


@pytest.mark.slow
async def test_two_worker_processes_handle_each_due_item_exactly_once(
        committed_db: Database) -> None:
    # The items fall due only once both workers are up and sweeping (the shared test clock is
    # moved past them then), so neither can finish them all before the other has started.
    count = 10_000 if is_postgres() else 1_000
    due_at = clock_module.utc_now_real() + timedelta(days=1)
    async with committed_db.engine.begin() as connection:
        await connection.execute(insert(Deadline), [
            {"kind": "ops.probe", "subject_key": f"probe:{i}", "due_at": due_at,
             "status": "pending", "attempts": 0, "created_at": due_at}
            for i in range(count)
        ])
    env = {**os.environ, "KEFU_DATABASE_URL": TEST_DATABASE_URL, "KEFU_MODE": "test",
           "KEFU_SWEEP_BATCH_SIZE": "500", "KEFU_SWEEP_INTERVAL_SECONDS": "0.05",
           "KEFU_LOG_LEVEL": "INFO", "KEFU_LOG_JSON": "false"}
    workers = [_start_worker(f"w{n}", env) for n in (1, 2)]
    try:
        for _process, started in workers:
            assert started.wait(timeout=120), "a worker did not start"
        await asyncio.sleep(0.3)  # a few empty sweeps each
        async with committed_db.engine.begin() as connection:
            await connection.execute(insert(models.TestClockState).values(
                id=1, offset_seconds=timedelta(days=2).total_seconds(), frozen_at=None,
                updated_at=clock_module.utc_now_real()))
        pending = count
        for _ in range(1200):
            async with committed_db.unit_of_work() as s:
                pending = (await s.execute(select(func.count()).select_from(Deadline)
                                           .where(Deadline.status != "done"))).scalar_one()
            if pending == 0:
                break
            await asyncio.sleep(0.5)
    finally:
        for process, _started in workers:
            process.send_signal(signal.SIGTERM)
        exit_codes = [process.wait(timeout=60) for process, _started in workers]
    assert exit_codes == [0, 0]
    async with committed_db.unit_of_work() as s:
        runs = (await s.execute(select(func.count()).select_from(DeadlineRun)
                                .where(DeadlineRun.kind == "ops.probe"))).scalar_one()
        distinct = (await s.execute(select(func.count(func.distinct(DeadlineRun.deadline_id)))
                                    .where(DeadlineRun.kind == "ops.probe"))).scalar_one()
        by_worker = dict((await s.execute(
            select(DeadlineRun.worker, func.count()).group_by(DeadlineRun.worker))).all())
    assert pending == 0
    assert runs == distinct == count
    assert set(by_worker) == {"w1", "w2"}, by_worker


def _start_worker(name: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], threading.Event]:
    """A ``kefu worker`` process and an event set once it has logged that it started (its log
    is drained on a thread so a full pipe never blocks it)."""
    process = subprocess.Popen([sys.executable, "-m", "kefu.cli", "worker", "--name", name],
                               env=env, stderr=subprocess.PIPE, text=True)
    started = threading.Event()

    def drain() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if "deadline worker started" in line:
                started.set()
            elif "Traceback" in line or "ERROR" in line:
                sys.stderr.write(f"[{name}] {line}")

    threading.Thread(target=drain, daemon=True).start()
    return process, started
