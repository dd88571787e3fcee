"""The one clock. Services take ``now`` from here; nothing else calls ``datetime.now()``.

In production the clock is the system clock. In demo and test mode it is a *test clock*: the
real time shifted by an offset (or frozen), kept in the database so every process — the server,
its workers, the CLI — sees the same time after ``kefu clock advance``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utc_now_real() -> datetime:
    """The machine's real time. Only the clock itself and the clock's storage may use this."""
    return datetime.now(UTC)


class Clock:
    """System clock."""

    is_test_clock = False

    def now(self) -> datetime:
        return utc_now_real()


class TestClock(Clock):
    """A clock that can be frozen and moved forward (never backward past what was seen)."""

    is_test_clock = True

    def __init__(self, offset: timedelta = timedelta(0), frozen_at: datetime | None = None):
        self.offset = offset
        self.frozen_at = frozen_at

    def now(self) -> datetime:
        if self.frozen_at is not None:
            return self.frozen_at
        return utc_now_real() + self.offset

    def set(self, moment: datetime) -> None:
        """Freeze the clock at ``moment`` (tests)."""
        if moment.tzinfo is None:
            raise ValueError("the clock only takes aware datetimes")
        self.frozen_at = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        if self.frozen_at is not None:
            self.frozen_at = self.frozen_at + delta
        else:
            self.offset = self.offset + delta

    def load(self, offset: timedelta, frozen_at: datetime | None) -> None:
        self.offset = offset
        self.frozen_at = frozen_at


_clock: Clock = Clock()


def get_clock() -> Clock:
    return _clock


def set_clock(clock: Clock) -> None:
    global _clock
    _clock = clock


def now() -> datetime:
    """Current time, aware, UTC."""
    return _clock.now()
