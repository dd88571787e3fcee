"""The deadline framework: due times in the database, worked off by an idempotent sweeper.

A domain schedules a deadline (``schedule(session, "order.auto_complete", "order:42", due)``)
in the same transaction as the change that starts the clock, and registers a handler for the
kind in its ``deadlines.py``. The sweeper selects due ids with a cutoff, then handles each one in
its own transaction: lock the row (``SKIP LOCKED`` on PostgreSQL; SQLite's write lock serialises
writers), re-check that it is still pending and due, call the handler — which re-checks its own
domain condition — and mark it done. Run twice, or in several processes at once, an item is
handled exactly once. A handler that fails is retried with back-off and never blocks the rest.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.kit import clock
from kefu.kit.db import Database
from kefu.kit.models import Deadline, DeadlineRun

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Deadline, datetime], Awaitable[str]]
_handlers: dict[str, Handler] = {}

MAX_ATTEMPTS = 10

DEADLINES_HANDLED = Counter("kefu_deadlines_handled_total", "Deadlines handled", ["kind", "outcome"])
DEADLINES_FAILED = Counter("kefu_deadlines_failed_total", "Deadline handler failures", ["kind"])


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the handler for ``kind``. It returns a short outcome such as ``"approved"``
    or ``"skipped:already_handled"`` and must re-check its condition: the world may have moved
    on since the deadline was scheduled."""

    def register(func: Handler) -> Handler:
        _handlers[kind] = func
        return func

    return register


def registered_kinds() -> list[str]:
    return sorted(_handlers)


async def schedule(session: AsyncSession, kind: str, subject_key: str, due_at: datetime) -> None:
    """Set (or move) the ``kind`` deadline of ``subject_key`` to ``due_at``."""
    existing = (await session.execute(
        select(Deadline).where(Deadline.kind == kind, Deadline.subject_key == subject_key)
    )).scalar_one_or_none()
    if existing is None:
        session.add(Deadline(kind=kind, subject_key=subject_key, due_at=due_at, status="pending",
                             attempts=0, created_at=clock.now()))
    else:
        existing.due_at = due_at
        existing.status = "pending"
        existing.attempts = 0
        existing.last_error = None
        existing.done_at = None
        existing.outcome = None
    await session.flush()


async def cancel(session: AsyncSession, kind: str, subject_key: str) -> None:
    await session.execute(
        update(Deadline)
        .where(Deadline.kind == kind, Deadline.subject_key == subject_key,
               Deadline.status == "pending")
        .values(status="cancelled", done_at=clock.now())
    )


async def pending_for(session: AsyncSession, subject_key: str) -> list[Deadline]:
    result = await session.execute(
        select(Deadline).where(Deadline.subject_key == subject_key, Deadline.status == "pending")
        .order_by(Deadline.due_at)
    )
    return list(result.scalars())


@dataclass
class SweepReport:
    claimed: int = 0
    handled: int = 0
    skipped: int = 0
    failed: int = 0


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def sweep_once(db: Database, *, due_before: datetime, batch_size: int = 200,
                     worker: str | None = None) -> SweepReport:
    """Handle the deadlines due before ``due_before`` (at most ``batch_size`` of them)."""
    worker = worker or default_worker_name()
    report = SweepReport()
    async with db.unit_of_work() as session:
        ids = list((await session.execute(
            select(Deadline.id)
            .where(Deadline.status == "pending", Deadline.due_at <= due_before)
            .order_by(Deadline.due_at, Deadline.id)
            .limit(batch_size)
        )).scalars())
    report.claimed = len(ids)
    # Workers that read the same batch would queue on the same rows; shuffling spreads them.
    random.shuffle(ids)
    for deadline_id in ids:
        outcome = await _handle_one(db, deadline_id, due_before, worker)
        if outcome == "handled":
            report.handled += 1
        elif outcome == "failed":
            report.failed += 1
        else:
            report.skipped += 1
    return report


async def _handle_one(db: Database, deadline_id: int, due_before: datetime, worker: str) -> str:
    kind = "?"
    try:
        async with db.unit_of_work() as session:
            deadline = (await session.execute(
                select(Deadline)
                .where(Deadline.id == deadline_id, Deadline.status == "pending",
                       Deadline.due_at <= due_before)
                .with_for_update(skip_locked=True)
            )).scalar_one_or_none()
            if deadline is None:
                return "skipped"  # another worker has it, or it was handled or moved
            kind = deadline.kind
            func = _handlers.get(deadline.kind)
            if func is None:
                raise LookupError(f"no handler registered for deadline kind {deadline.kind!r}")
            now = clock.now()
            outcome = await func(session, deadline, now)
            deadline.status = "done"
            deadline.done_at = now
            deadline.outcome = outcome[:64]
            session.add(DeadlineRun(deadline_id=deadline.id, kind=deadline.kind,
                                    subject_key=deadline.subject_key, worker=worker[:128],
                                    handled_at=now, outcome=outcome[:64]))
        DEADLINES_HANDLED.labels(kind, outcome.split(":")[0]).inc()
        return "handled"
    except Exception as error:
        log.exception("deadline handler failed", extra={"deadline_id": deadline_id})
        DEADLINES_FAILED.labels(kind).inc()
        await _record_failure(db, deadline_id, error)
        return "failed"


async def _record_failure(db: Database, deadline_id: int, error: Exception) -> None:
    async with db.unit_of_work() as session:
        deadline = (await session.execute(
            select(Deadline).where(Deadline.id == deadline_id, Deadline.status == "pending")
            .with_for_update()
        )).scalar_one_or_none()
        if deadline is None:
            return
        deadline.attempts += 1
        deadline.last_error = f"{type(error).__name__}: {error}"[:2000]
        if deadline.attempts >= MAX_ATTEMPTS:
            deadline.status = "failed"
        else:
            deadline.due_at = clock.now() + timedelta(seconds=min(2 ** deadline.attempts, 300))


ClockSync = Callable[[], Awaitable[None]]


class Sweeper:
    """Runs sweeps until stopped: inside ``kefu serve`` or as a ``kefu worker`` process."""

    def __init__(self, db: Database, *, interval: float, batch_size: int,
                 before_sweep: ClockSync | None = None, worker: str | None = None) -> None:
        self.db = db
        self.interval = interval
        self.batch_size = batch_size
        self.before_sweep = before_sweep
        self.worker = worker or default_worker_name()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run_once(self) -> SweepReport:
        if self.before_sweep is not None:
            await self.before_sweep()
        return await sweep_once(self.db, due_before=clock.now(), batch_size=self.batch_size,
                                worker=self.worker)

    async def run_once_quietly(self) -> None:
        try:
            await self.run_once()
        except Exception:
            log.exception("sweep failed")

    async def run_forever(self, *, until_idle: bool = False) -> None:
        while not self._stopping.is_set():
            try:
                report = await self.run_once()
            except Exception:
                log.exception("sweep failed")
                report = SweepReport()
            if until_idle and report.claimed == 0:
                return
            if report.claimed >= self.batch_size:
                continue  # more are due: keep going without pausing
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
            except TimeoutError:
                pass
