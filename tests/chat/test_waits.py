"""Waits: opened by a buyer, ended only by a human, measured on the business clock; response
rates counted from them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from factories import make_buyer, principal
from kefu.chat import repository, service, waits
from kefu.chat.hours import DayHours, Schedule, build_schedule
from kefu.chat.models import Conversation, Wait
from kefu.chat.schemas import DayHoursIO, HolidayIO
from kefu.kit import clock as clock_module

from .helpers import make_shop, open_chat, say

SHANGHAI_OFFSET = timedelta(hours=8)


def shanghai(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - SHANGHAI_OFFSET


async def _waits(session: AsyncSession, conversation_id: int) -> list[Wait]:
    await session.flush()
    rows = await session.execute(select(Wait).where(Wait.conversation_id == conversation_id)
                                 .order_by(Wait.id).execution_options(populate_existing=True))
    return list(rows.scalars())


async def test_a_wait_opens_with_a_buyer_message_and_only_a_human_ends_it(
        session: AsyncSession, clock: clock_module.TestClock) -> None:
    shop = await make_shop(session)
    agent = shop.agents[0]
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    start = clock.now()
    await say(session, buyer, chat.id, "在吗")
    clock.advance(timedelta(minutes=1))
    await say(session, buyer, chat.id, "想问下尺码")
    await service.post_auto_reply(session, chat.id, "亲，稍等，客服马上来", "welcome")
    [wait] = await _waits(session, chat.id)
    assert wait.ended_at is None and wait.started_at == start == wait.clock_started_at
    assert wait.due_at == start + timedelta(minutes=5) and wait.started_seq == 1
    assert wait.agent_id == agent.id
    view = await service.get_conversation(session, principal(agent), chat.id)
    assert view.waiting_since == start and view.reply_due_at == wait.due_at
    clock.advance(timedelta(minutes=3))
    await say(session, agent, chat.id, "M码适合100斤左右")
    [wait] = await _waits(session, chat.id)
    assert wait.outcome == "answered" and wait.answered_by == agent.id
    assert wait.response_seconds == 240 and wait.on_time is True
    assert wait.first_human_reply_at == start + timedelta(minutes=4)
    view = await service.get_conversation(session, principal(agent), chat.id)
    assert view.waiting_since is None and view.wait_started_at is None
    # The store speaking again opens nothing; the buyer's next message opens the next wait.
    await say(session, agent, chat.id, "还有其他问题吗")
    assert len(await _waits(session, chat.id)) == 1
    clock.advance(timedelta(minutes=10))
    await say(session, buyer, chat.id, "好的，那L码呢")
    clock.advance(timedelta(minutes=6))
    await say(session, agent, chat.id, "L码也有")
    _first, second = await _waits(session, chat.id)
    assert second.started_seq == 6 and second.response_seconds == 360
    assert second.on_time is False


async def test_a_wait_outside_working_hours_starts_its_clock_at_the_next_opening(
        session: AsyncSession, clock: clock_module.TestClock) -> None:
    shop = await make_shop(session)
    agent = shop.agents[0]
    buyers = [await make_buyer(session) for _ in range(3)]
    chats = [await open_chat(session, b, shop.store) for b in buyers]
    clock.set(shanghai(2026, 6, 1, 23, 0))  # Monday night
    for b, c in zip(buyers, chats, strict=True):
        await say(session, b, c.id, "还在营业吗")
    opening = shanghai(2026, 6, 2, 9, 0)
    wait = (await _waits(session, chats[0].id))[0]
    assert wait.started_at == shanghai(2026, 6, 1, 23, 0)
    assert wait.clock_started_at == opening and wait.business_day == date(2026, 6, 2)
    assert wait.due_at == opening + timedelta(minutes=5)
    assert not await service.is_store_open(session, shop.store.id, clock.now())
    assert await service.next_opening(session, shop.store.id, clock.now()) == opening
    clock.set(shanghai(2026, 6, 2, 8, 30))  # an early reply, before opening: zero seconds
    await say(session, agent, chats[0].id, "早上好")
    clock.set(shanghai(2026, 6, 2, 9, 4))
    await say(session, agent, chats[1].id, "在的")
    clock.set(shanghai(2026, 6, 2, 9, 6))
    await say(session, agent, chats[2].id, "久等了")
    results = [(await _waits(session, c.id))[0] for c in chats]
    assert [(w.response_seconds, w.on_time) for w in results] == [
        (0, True), (240, True), (360, False)]


async def test_closing_time_pauses_the_clock(session: AsyncSession,
                                             clock: clock_module.TestClock) -> None:
    shop = await make_shop(session)
    agent = shop.agents[0]
    buyers = [await make_buyer(session) for _ in range(2)]
    chats = [await open_chat(session, b, shop.store) for b in buyers]
    clock.set(shanghai(2026, 6, 1, 21, 58))
    for b, c in zip(buyers, chats, strict=True):
        await say(session, b, c.id, "快关门了吗")
    wait = (await _waits(session, chats[0].id))[0]
    assert wait.clock_started_at == shanghai(2026, 6, 1, 21, 58)
    assert wait.due_at == shanghai(2026, 6, 2, 9, 3)  # 2 minutes tonight, 3 tomorrow
    clock.set(shanghai(2026, 6, 2, 9, 2))
    await say(session, agent, chats[0].id, "早")
    clock.set(shanghai(2026, 6, 2, 9, 4))
    await say(session, agent, chats[1].id, "早")
    results = [(await _waits(session, c.id))[0] for c in chats]
    assert [(w.response_seconds, w.on_time) for w in results] == [(240, True), (360, False)]


async def test_holidays_and_special_hours_move_the_clock(
        session: AsyncSession, clock: clock_module.TestClock) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    weekly = [DayHoursIO(weekday=i) for i in range(7)]
    await service.set_store_hours(session, principal(shop.owner), weekly, [
        HolidayIO(date=date(2026, 6, 2), closed=True, note="店休"),
        HolidayIO(date=date(2026, 6, 3), closed=False, opens="13:00", closes="18:00")])
    clock.set(shanghai(2026, 6, 1, 23, 0))
    await say(session, buyer, chat.id, "明天营业吗")
    wait = (await _waits(session, chat.id))[0]
    assert wait.clock_started_at == shanghai(2026, 6, 3, 13, 0)
    assert wait.business_day == date(2026, 6, 3)


async def test_resolving_while_the_buyer_waits_counts_as_not_answered(
        session: AsyncSession, clock: clock_module.TestClock) -> None:
    shop = await make_shop(session)
    agent = shop.agents[0]
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    await say(session, buyer, chat.id, "谢谢")
    clock.advance(timedelta(minutes=1))
    resolved = await service.resolve(session, principal(agent), chat.id)
    assert resolved.status == "resolved" and resolved.waiting_since is None
    [wait] = await _waits(session, chat.id)
    assert wait.outcome == "unanswered" and wait.on_time is False
    assert wait.answered_by is None and wait.agent_id == agent.id
    again = await service.resolve(session, principal(agent), chat.id)  # twice: no change
    assert again.last_seq == resolved.last_seq


async def test_the_nudge_is_recorded_on_the_wait(session: AsyncSession,
                                                 clock: clock_module.TestClock) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    await say(session, buyer, chat.id, "什么时候发货")
    clock.advance(timedelta(minutes=31))
    await service.nudge(session, principal(buyer), chat.id, client_msg_id="n")
    [wait] = await _waits(session, chat.id)
    assert wait.nudged_at == clock.now() and wait.ended_at is None


async def test_response_rate_per_store_agent_and_day(session: AsyncSession,
                                                     clock: clock_module.TestClock) -> None:
    shop = await make_shop(session, agents=2, capacity=1)
    first, second = shop.agents
    day = date(2026, 6, 1)
    buyers = [await make_buyer(session) for _ in range(5)]
    chats = [await open_chat(session, b, shop.store) for b in buyers]
    assert [c.assigned_agent_id for c in chats[:2]] == [first.id, second.id]
    for b, c in zip(buyers, chats, strict=True):
        await say(session, b, c.id, "你好")
    clock.advance(timedelta(minutes=2))
    await say(session, first, chats[0].id, "在")      # on time (first)
    await say(session, second, chats[1].id, "在")     # on time (second)
    clock.advance(timedelta(minutes=5))
    await say(session, first, chats[2].id, "久等")    # late, takes it from the queue (first)
    # chats[3] is still open and overdue: late, counted for the queue (no agent);
    # a new wait now is pending.
    late_buyer = await make_buyer(session)
    late_chat = await open_chat(session, late_buyer, shop.store)
    await say(session, late_buyer, late_chat.id, "在吗")
    await say(session, second, chats[4].id, "您好")  # late (second)
    now = clock.now()
    rate = await waits.response_rate(session, shop.store.id, day, now=now)
    assert (rate.waits, rate.on_time, rate.late, rate.pending) == (5, 2, 3, 1)
    assert rate.rate == 0.4
    mine = await waits.response_rate(session, shop.store.id, day, now=now, agent_id=first.id)
    assert (mine.waits, mine.on_time) == (2, 1)
    theirs = await waits.response_rate(session, shop.store.id, day, now=now,
                                       agent_id=second.id)
    assert (theirs.waits, theirs.on_time) == (2, 1)
    empty = await waits.response_rate(session, shop.store.id, date(2026, 5, 31), now=now)
    assert empty.waits == 0 and empty.rate is None
    many = await waits.response_rates(session, [shop.store.id, 999_999], day,
                                      day + timedelta(days=6), now=now)
    assert many[shop.store.id].waits == 5 and many[999_999].waits == 0
    # The agents see their own, the owner anyone's.
    own = await service.response_rate_report(session, principal(first), first_day=day)
    assert own.agent_id == first.id and own.waits == 2
    store = await service.response_rate_report(session, principal(shop.owner), first_day=day)
    assert store.waits == 5


def test_business_clock_arithmetic() -> None:
    schedule = build_schedule({6: DayHours(True)}, {date(2026, 6, 3): DayHours(False, 600, 660)})
    monday_21_00 = shanghai(2026, 6, 1, 21, 0)
    assert schedule.is_open(monday_21_00) and not schedule.is_open(shanghai(2026, 6, 1, 22, 0))
    # 1 h on Monday, 13 h on Tuesday, 30 min of Wednesday's 10:00–11:00.
    assert schedule.business_seconds(monday_21_00, shanghai(2026, 6, 3, 10, 30)) == \
        (60 + 13 * 60 + 30) * 60
    assert schedule.add_business_seconds(monday_21_00, (60 + 13 * 60 + 30) * 60) == \
        shanghai(2026, 6, 3, 10, 30)
    # A budget that runs out exactly at closing lasts until the next opening: no working
    # time passes before it (hypothesis found a reply at 22:01 on time, due at 22:00).
    monday_21_55 = shanghai(2026, 6, 1, 21, 55)
    assert schedule.add_business_seconds(monday_21_55, 5 * 60) == shanghai(2026, 6, 2, 9, 0)
    assert schedule.business_seconds(monday_21_55, shanghai(2026, 6, 1, 22, 1)) == 5 * 60
    assert schedule.add_business_seconds(monday_21_55, 4 * 60) == shanghai(2026, 6, 1, 21, 59)
    assert schedule.next_opening(shanghai(2026, 6, 3, 11, 0)) == shanghai(2026, 6, 4, 9, 0)
    saturday_night = shanghai(2026, 6, 6, 23, 0)
    assert schedule.next_opening(saturday_night) == shanghai(2026, 6, 8, 9, 0)  # Sunday closed
    assert isinstance(schedule, Schedule)


async def test_exactly_five_working_minutes_is_on_time(session: AsyncSession,
                                                       clock: clock_module.TestClock) -> None:
    shop = await make_shop(session)
    agent = shop.agents[0]
    buyers = [await make_buyer(session) for _ in range(2)]
    chats = [await open_chat(session, b, shop.store) for b in buyers]
    for b, c in zip(buyers, chats, strict=True):
        await say(session, b, c.id, "在吗")
    clock.advance(timedelta(minutes=5))
    await say(session, agent, chats[0].id, "在")
    clock.advance(timedelta(seconds=1))
    await say(session, agent, chats[1].id, "在")
    results = [(await _waits(session, c.id))[0] for c in chats]
    assert [(w.response_seconds, w.on_time) for w in results] == [(300, True), (301, False)]


async def test_a_wait_goes_with_its_message_under_a_reserved_id(
        session: AsyncSession, monkeypatch: pytest.MonkeyPatch) -> None:
    # The locking statement reserves the wait's id (PostgreSQL: from its sequence; SQLite:
    # the next under its write lock), so the wait's row is written with the message (one
    # round trip), never on its own.
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)

    async def not_on_its_own(*_args: object) -> int:
        raise AssertionError("the wait was inserted on its own")

    monkeypatch.setattr(repository, "insert_wait", not_on_its_own)
    await say(session, buyer, chat.id, "在吗")
    await say(session, shop.agents[0], chat.id, "在的")
    await say(session, buyer, chat.id, "这件还有吗")  # a second wait
    opened = await _waits(session, chat.id)
    conversation = await session.get(Conversation, chat.id)
    assert conversation is not None
    assert [w.started_seq for w in opened] == [1, 3]
    assert opened[-1].id == conversation.open_wait_id and opened[-1].ended_at is None
    assert opened[0].answered_by == shop.agents[0].id
