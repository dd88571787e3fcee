"""Waits: a buyer waiting for a human, measured on the store's business clock.

A wait opens with a buyer message when none is open and ends with the first *human* store
reply (auto-replies never end it). A wait that opens outside working hours starts its clock
at the next opening; the response time counts working time only. The rows are facts written
as things happen — the response rate is counted from them, never reconstructed from messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.chat import hours, repository
from kefu.chat.models import Conversation, Wait
from kefu.kit.db import PlainStatement, UTCDateTime, record_of
from kefu.settings import get_settings

OUTCOME_ANSWERED = "answered"
OUTCOME_UNANSWERED = "unanswered"


def on_time_seconds() -> int:
    return get_settings().reply_on_time_minutes * 60


async def open_wait(session: AsyncSession, conversation: Conversation) -> Wait | None:
    if conversation.open_wait_id is None:
        return None
    return await repository.wait_by_id(session, conversation.open_wait_id)


async def start(session: AsyncSession, conversation: Conversation, seq: int, now: datetime,
                reserved_id: int | None = None) -> Wait:
    """Open a wait for the buyer message ``seq`` (the caller checked none is open).
    ``reserved_id``: the id reserved for it (:class:`repository.LockedForSend`); the row then
    goes with the transaction's next write instead of at once."""
    schedule = await hours.load_schedule(session, conversation.store_id)
    clock_started_at = schedule.next_opening(now) or now
    due_at = schedule.add_business_seconds(clock_started_at, on_time_seconds()) \
        or clock_started_at + timedelta(seconds=on_time_seconds())
    values = {"conversation_id": conversation.id, "store_id": conversation.store_id,
              "buyer_id": conversation.buyer_id, "started_seq": seq, "started_at": now,
              "clock_started_at": clock_started_at,
              "business_day": schedule.local_day(clock_started_at), "due_at": due_at,
              "agent_id": conversation.assigned_agent_id, "nudged_at": None,
              "first_human_reply_at": None, "answered_by": None, "response_seconds": None,
              "on_time": None, "ended_at": None, "outcome": None}
    # A plain INSERT (the send path's hottest table after messages); the object returned is a
    # record of it, not in the session.
    if reserved_id is not None:
        await repository.insert_wait_later(session, {"id": reserved_id, **values})
        wait = record_of(Wait, {"id": reserved_id, **values})
    else:
        wait = record_of(Wait, {"id": await repository.insert_wait(session, values), **values})
    conversation.open_wait_id = wait.id
    conversation.wait_started_at = now
    conversation.wait_clock_started_at = clock_started_at
    conversation.wait_due_at = due_at
    conversation.wait_nudged = False
    return wait


def _clear(conversation: Conversation) -> None:
    conversation.open_wait_id = None
    conversation.wait_started_at = None
    conversation.wait_clock_started_at = None
    conversation.wait_due_at = None
    conversation.wait_nudged = False


async def _finish(session: AsyncSession, wait_id: int, **values: object) -> None:
    # One UPDATE, guarded by "still open": what to write is known from the conversation row
    # (its copy of the wait's clock start), so the wait itself need not be read first.
    await session.execute(update(Wait).where(Wait.id == wait_id, Wait.ended_at.is_(None))
                          .values(**values).execution_options(synchronize_session="evaluate"))


async def answer(session: AsyncSession, conversation: Conversation, agent_id: int,
                 now: datetime) -> None:
    """A human store reply: end the open wait, if any, and record how fast it came."""
    wait_id, clock_started_at = conversation.open_wait_id, conversation.wait_clock_started_at
    _clear(conversation)
    if wait_id is None or clock_started_at is None:
        return
    schedule = await hours.load_schedule(session, conversation.store_id)
    seconds = schedule.business_seconds(clock_started_at, now)
    await _ANSWER.execute_later(session, {
        "wait_id": wait_id, "answered_at": now, "agent": agent_id,
        "response_seconds": int(seconds), "on_time": seconds <= on_time_seconds(),
        "outcome": OUTCOME_ANSWERED})


_wait = cast(Table, Wait.__table__)
# Built once (every human reply runs it); a plain table UPDATE: no Wait object is loaded on
# the send path, so none needs synchronising.
_ANSWER = PlainStatement(
    update(_wait)
    .where(_wait.c.id == bindparam("wait_id"), _wait.c.ended_at.is_(None))
    .values(first_human_reply_at=bindparam("answered_at", type_=UTCDateTime()),
            ended_at=bindparam("answered_at", type_=UTCDateTime()),
            answered_by=bindparam("agent"), agent_id=bindparam("agent"),
            response_seconds=bindparam("response_seconds"),
            on_time=bindparam("on_time"), outcome=bindparam("outcome")))


async def close_unanswered(session: AsyncSession, conversation: Conversation, now: datetime
                           ) -> None:
    """The conversation was resolved while the buyer still waited: a wait not answered."""
    wait_id = conversation.open_wait_id
    _clear(conversation)
    if wait_id is None:
        return
    values: dict[str, object] = {"on_time": False, "ended_at": now,
                                 "outcome": OUTCOME_UNANSWERED}
    if conversation.assigned_agent_id is not None:
        values["agent_id"] = conversation.assigned_agent_id
    await _finish(session, wait_id, **values)


async def reassign(session: AsyncSession, conversation: Conversation) -> None:
    """The responsible agent of an open wait follows the conversation's assignee."""
    if conversation.open_wait_id is not None:
        await _finish(session, conversation.open_wait_id,
                      agent_id=conversation.assigned_agent_id)


async def mark_nudged(session: AsyncSession, conversation: Conversation, now: datetime) -> None:
    if conversation.open_wait_id is not None:
        await _finish(session, conversation.open_wait_id, nudged_at=now)
    conversation.wait_nudged = True


# --- response rate --------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseRate:
    """Waits answered on time / waits, over the business days ``first_day``–``last_day``.

    ``waits`` counts the decided ones: answered, closed unanswered, or still open past their
    due time (already late). Waits still open within their time are ``pending``, not counted.
    """

    store_id: int
    agent_id: int | None
    first_day: date
    last_day: date
    waits: int
    on_time: int
    pending: int

    @property
    def rate(self) -> float | None:
        return self.on_time / self.waits if self.waits else None

    @property
    def late(self) -> int:
        return self.waits - self.on_time


async def response_rates(session: AsyncSession, store_ids: Sequence[int], first_day: date,
                         last_day: date | None = None, *, now: datetime,
                         agent_id: int | None = None) -> dict[int, ResponseRate]:
    """Response rates of several stores in one query (search ranking, the data center)."""
    last_day = last_day or first_day
    counts = await repository.wait_counts(session, store_ids, first_day, last_day, now,
                                          agent_id=agent_id)
    out: dict[int, ResponseRate] = {}
    for store_id in store_ids:
        decided, on_time, pending = counts.get(store_id, (0, 0, 0))
        out[store_id] = ResponseRate(store_id, agent_id, first_day, last_day, decided, on_time,
                                     pending)
    return out


async def response_rate(session: AsyncSession, store_id: int, first_day: date,
                        last_day: date | None = None, *, now: datetime,
                        agent_id: int | None = None) -> ResponseRate:
    """A store's (or one of its agents') response rate for a day or a range of days."""
    return (await response_rates(session, [store_id], first_day, last_day, now=now,
                                 agent_id=agent_id))[store_id]
