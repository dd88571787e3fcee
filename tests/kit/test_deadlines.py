"""The deadline framework: due items handled once, re-checked, retried; several workers."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from conftest import DEFAULT_NOW, TEST_DATABASE_URL, is_postgres
from kefu.kit import clock as clock_module
from kefu.kit import deadlines
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
    count = 10_000 if is_postgres() else 400
    async with committed_db.engine.begin() as connection:
        await connection.execute(insert(Deadline), [
            {"kind": "ops.probe", "subject_key": f"probe:{i}", "due_at": DEFAULT_NOW,
             "status": "pending", "attempts": 0, "created_at": DEFAULT_NOW}
            for i in range(count)
        ])
    env = {**os.environ, "KEFU_DATABASE_URL": TEST_DATABASE_URL, "KEFU_MODE": "test",
           "KEFU_SWEEP_BATCH_SIZE": "500", "KEFU_LOG_LEVEL": "WARNING"}
    workers = [
        subprocess.Popen([sys.executable, "-m", "kefu.cli", "worker", "--until-idle",
                          "--name", f"w{n}"], env=env)
        for n in (1, 2)
    ]
    for worker in workers:
        assert worker.wait(timeout=600) == 0
    async with committed_db.unit_of_work() as s:
        runs = (await s.execute(select(func.count()).select_from(DeadlineRun)
                                .where(DeadlineRun.kind == "ops.probe"))).scalar_one()
        distinct = (await s.execute(select(func.count(func.distinct(DeadlineRun.deadline_id)))
                                    .where(DeadlineRun.kind == "ops.probe"))).scalar_one()
        pending = (await s.execute(select(func.count()).select_from(Deadline)
                                   .where(Deadline.status != "done"))).scalar_one()
        by_worker = dict((await s.execute(
            select(DeadlineRun.worker, func.count()).group_by(DeadlineRun.worker))).all())
    assert runs == distinct == count
    assert pending == 0
    assert set(by_worker) == {"w1", "w2"}, by_worker
