"""Store working hours: a weekly schedule with per-date overrides, in the business time zone.

The pure part (:class:`Schedule`) answers "open at t?", "next opening after t", and "how much
working time lies between a and b" — the business clock that waits are measured on. The
session helpers load a store's schedule (once per transaction) for the other domains.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.chat import repository
from kefu.kit.cache import TTLCache
from kefu.settings import get_settings

MINUTES_PER_DAY = 1440
# How far ahead to look for an opening before deciding there is none.
SEARCH_DAYS = 400


@dataclass(frozen=True)
class DayHours:
    """Open from ``opens`` to ``closes`` minutes after local midnight, or closed all day."""

    closed: bool
    opens: int = 0
    closes: int = 0

    @classmethod
    def open_between(cls, opens: int, closes: int) -> DayHours:
        return cls(False, opens, closes)


CLOSED = DayHours(True)


def parse_hhmm(value: str) -> int:
    """'09:30' → 570; '24:00' is midnight at the end of the day. ValueError when malformed."""
    hours_text, sep, minutes_text = value.strip().partition(":")
    if not sep or not hours_text.isdigit() or not minutes_text.isdigit() \
            or len(minutes_text) != 2 or len(hours_text) > 2:
        raise ValueError(value)
    hours, minutes = int(hours_text), int(minutes_text)
    total = hours * 60 + minutes
    if minutes >= 60 or total > MINUTES_PER_DAY:
        raise ValueError(value)
    return total


def format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def default_day_hours() -> DayHours:
    settings = get_settings()
    return DayHours.open_between(parse_hhmm(settings.store_open_time),
                                 parse_hhmm(settings.store_close_time))


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    weekly: tuple[DayHours, ...]  # Monday first
    holidays: Mapping[date, DayHours] = field(default_factory=dict)
    # Each day's interval, worked out once: a schedule lives in the process cache and every
    # message asks it whether the store is open (time zone arithmetic, about 6 µs a day).
    _intervals: dict[date, tuple[datetime, datetime] | None] = field(
        default_factory=dict, compare=False, repr=False)

    def hours_on(self, day: date) -> DayHours:
        return self.holidays.get(day, self.weekly[day.weekday()])

    def interval_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The open interval of a local day, as aware UTC datetimes."""
        try:
            return self._intervals[day]
        except KeyError:
            pass
        hours = self.hours_on(day)
        interval = None
        if not hours.closed:
            midnight = datetime.combine(day, time(0), tzinfo=self.tz)
            # Wall-clock minutes: adding to a local datetime and converting handles DST days.
            interval = ((midnight + timedelta(minutes=hours.opens)).astimezone(UTC),
                        (midnight + timedelta(minutes=hours.closes)).astimezone(UTC))
        self._intervals[day] = interval
        return interval

    def local_day(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def is_open(self, at: datetime) -> bool:
        day = self.local_day(at)
        # An interval never crosses midnight, so only today's can contain ``at``.
        interval = self.interval_on(day)
        return interval is not None and interval[0] <= at < interval[1]

    def next_opening(self, at: datetime) -> datetime | None:
        """``at`` itself when open, else the start of the next open interval (None if the
        store is closed for the next SEARCH_DAYS days)."""
        day = self.local_day(at)
        for offset in range(SEARCH_DAYS):
            interval = self.interval_on(day + timedelta(days=offset))
            if interval is None or interval[1] <= at:
                continue
            return max(interval[0], at)
        return None

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Working-time seconds between ``start`` and ``end`` (0 when end ≤ start)."""
        if end <= start:
            return 0.0
        total = 0.0
        day = self.local_day(start)
        last = self.local_day(end)
        while day <= last:
            interval = self.interval_on(day)
            if interval is not None:
                lo, hi = max(interval[0], start), min(interval[1], end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def add_business_seconds(self, start: datetime, seconds: int) -> datetime | None:
        """The last moment by which no more than ``seconds`` of working time have passed
        since ``start``: a reply then is still in time. A budget that runs out exactly at
        closing lasts until the next opening, as no working time passes meanwhile (a wait
        opened five minutes before closing and answered a minute after it took five working
        minutes: on time, so its due time must not come before the reply)."""
        remaining = float(seconds)
        day = self.local_day(start)
        for offset in range(SEARCH_DAYS):
            interval = self.interval_on(day + timedelta(days=offset))
            if interval is None or interval[1] <= start:
                continue
            lo = max(interval[0], start)
            available = (interval[1] - lo).total_seconds()
            if remaining < available:
                return lo + timedelta(seconds=remaining)
            remaining -= available
        return None


def build_schedule(weekly_rows: Mapping[int, DayHours], holiday_rows: Mapping[date, DayHours],
                   tz_name: str | None = None) -> Schedule:
    default = default_day_hours()
    weekly = tuple(weekly_rows.get(weekday, default) for weekday in range(7))
    return Schedule(ZoneInfo(tz_name or get_settings().timezone), weekly, dict(holiday_rows))


_CACHE_KEY = "chat_schedules"
# Hours change rarely and are read on every wait: kept per process, dropped everywhere when
# an owner changes them (see kefu.kit.cache).
SCHEDULES: TTLCache[Schedule] = TTLCache("chat.schedules", ttl_seconds=60)


async def load_schedule(session: AsyncSession, store_id: int) -> Schedule:
    """The store's schedule, from the process cache, else read (once per transaction)."""
    cache: dict[int, Schedule] = session.info.setdefault(_CACHE_KEY, {})
    cached = cache.get(store_id) or SCHEDULES.lookup(session, store_id)
    if cached is not None:
        cache[store_id] = cached
        return cached
    mark = SCHEDULES.read_mark()
    rows = await repository.schedule_rows(session, store_id)
    schedule = build_schedule(
        {weekday: (CLOSED if closed else DayHours.open_between(opens, closes))
         for weekday, _day, closed, opens, closes in rows if weekday is not None},
        {day: (CLOSED if closed else DayHours.open_between(opens, closes))
         for _weekday, day, closed, opens, closes in rows if day is not None},
    )
    cache[store_id] = schedule
    SCHEDULES.keep(session, store_id, schedule, mark)
    return schedule


def forget_schedule(session: AsyncSession, store_id: int) -> None:
    """The store's hours change in this transaction."""
    session.info.get(_CACHE_KEY, {}).pop(store_id, None)
    SCHEDULES.changed(session, store_id)


async def is_store_open(session: AsyncSession, store_id: int, at: datetime) -> bool:
    """Is the store's customer service open at ``at``? (For the auto-reply domain.)"""
    return (await load_schedule(session, store_id)).is_open(at)


async def next_opening(session: AsyncSession, store_id: int, at: datetime) -> datetime | None:
    """``at`` when open, else when the store next opens (None: closed for over a year)."""
    return (await load_schedule(session, store_id)).next_opening(at)
