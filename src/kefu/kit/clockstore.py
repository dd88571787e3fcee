"""Keeping the demo/test clock in the database so every process shares it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.kit import clock
from kefu.kit.errors import Forbidden, InvalidInput, _
from kefu.kit.models import TestClockState


def _test_clock() -> clock.TestClock:
    current = clock.get_clock()
    if not isinstance(current, clock.TestClock):
        raise Forbidden(_("测试时钟只在演示或测试模式下可用"), code="test_clock_disabled")
    return current


async def load(session: AsyncSession) -> None:
    """Bring this process's test clock in line with the shared one (no-op in production)."""
    current = clock.get_clock()
    if not isinstance(current, clock.TestClock):
        return
    state = await session.get(TestClockState, 1)
    if state is not None:
        current.load(timedelta(seconds=state.offset_seconds), state.frozen_at)


async def _save(session: AsyncSession, test_clock: clock.TestClock) -> None:
    state = await session.get(TestClockState, 1, with_for_update=True)
    if state is None:
        state = TestClockState(id=1, offset_seconds=0.0, updated_at=clock.utc_now_real())
        session.add(state)
    state.offset_seconds = test_clock.offset.total_seconds()
    state.frozen_at = test_clock.frozen_at
    state.updated_at = clock.utc_now_real()
    await session.flush()


async def advance(session: AsyncSession, delta: timedelta) -> datetime:
    test_clock = _test_clock()
    if delta <= timedelta(0):
        raise InvalidInput(_("时间只能向前拨"), code="clock_backwards")
    if delta > timedelta(days=3650):
        raise InvalidInput(_("一次最多拨动十年"), code="clock_too_far")
    await load(session)
    test_clock.advance(delta)
    await _save(session, test_clock)
    return test_clock.now()


async def freeze(session: AsyncSession, moment: datetime) -> datetime:
    test_clock = _test_clock()
    await load(session)
    if moment < test_clock.now():
        raise InvalidInput(_("时间只能向前拨"), code="clock_backwards")
    test_clock.set(moment)
    await _save(session, test_clock)
    return test_clock.now()


async def resume(session: AsyncSession) -> datetime:
    """Let a frozen clock run again from where it stands."""
    test_clock = _test_clock()
    await load(session)
    if test_clock.frozen_at is not None:
        test_clock.offset = test_clock.frozen_at - clock.utc_now_real()
        test_clock.frozen_at = None
    await _save(session, test_clock)
    return test_clock.now()


async def state(session: AsyncSession) -> TestClockState | None:
    return (await session.execute(select(TestClockState).where(TestClockState.id == 1))
            ).scalar_one_or_none()


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """'90s', '30m', '24h', '7d', '1w', '1h30m' or plain seconds."""
    import re

    text = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return timedelta(seconds=float(text))
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhdw])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise InvalidInput(_("无法识别的时长「{text}」，例如 30m、24h、7d"), code="bad_duration",
                           text=text)
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))
