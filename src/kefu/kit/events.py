"""Realtime events between server processes.

A broker fans events out to subscribers by channel (``user:42``, ``store:7``). Without Redis it
is in-process; with ``KEFU_REDIS_URL`` set it goes over Redis pub/sub, so a buyer connected to
one server process hears an agent connected to another. Events are published only after the
transaction that caused them commits (see :func:`kefu.kit.db.after_commit`); a client that
missed some reconnects and catches up from the database, so the broker may drop events
without losing data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, cast

import orjson

log = logging.getLogger(__name__)

Event = dict[str, Any]
_QUEUE_LIMIT = 1000


def dumps(event: Event) -> str:
    """An event as JSON text, for a socket or Redis. orjson: the standard library's encoder
    takes about 24 µs for a message event with its conversation, orjson 3. Keys that are not strings become strings and unknown
    values their ``str()``, as ``json.dumps(default=str)`` did."""
    return orjson.dumps(event, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


class Subscription:
    def __init__(self, broker: Broker, channels: tuple[str, ...]) -> None:
        self.broker = broker
        self.channels = channels
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=_QUEUE_LIMIT)
        self.overflowed = False

    def deliver(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A stuck client must not hold memory forever; it resyncs from the database.
            self.overflowed = True

    async def get(self) -> Event:
        return await self.queue.get()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()

    async def close(self) -> None:
        await self.broker.unsubscribe(self)


class Broker:
    """In-process broker."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, channel: str, event: Event) -> None:
        self._deliver_local(channel, event)

    async def publish_many(self, events: list[tuple[str, Event]]) -> None:
        """Several events, in order (one round trip to Redis)."""
        for channel, event in events:
            await self.publish(channel, event)

    def _deliver_local(self, channel: str, event: Event) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.deliver(event)

    async def subscribe(self, *channels: str) -> Subscription:
        subscription = Subscription(self, channels)
        for channel in channels:
            first = not self._subscribers[channel]
            self._subscribers[channel].add(subscription)
            if first:
                await self._on_first_subscriber(channel)
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        for channel in subscription.channels:
            subscribers = self._subscribers.get(channel)
            if subscribers is None:
                continue
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[channel]
                await self._on_last_unsubscribed(channel)

    async def _on_first_subscriber(self, channel: str) -> None:
        return None

    async def _on_last_unsubscribed(self, channel: str) -> None:
        return None

    def local_subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())


class RedisBroker(Broker):
    """Events over Redis pub/sub; each process subscribes to the channels its clients need."""

    _prefix = "kefu:"
    _control = "kefu:control"

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis.asyncio as redis_asyncio

        self._redis = redis_asyncio.from_url(url)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._pubsub.subscribe(self._control)
        self._reader = asyncio.create_task(self._read_forever(), name="redis-broker-reader")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        with contextlib.suppress(Exception):
            # (Any: redis-py typed aclose only in later releases; either passes the checker)
            await cast(Any, self._pubsub).aclose()
        with contextlib.suppress(Exception):
            await self._redis.aclose()

    async def publish(self, channel: str, event: Event) -> None:
        await self._redis.publish(self._prefix + channel, dumps(event))

    async def publish_many(self, events: list[tuple[str, Event]]) -> None:
        if len(events) == 1:
            await self.publish(*events[0])
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, event in events:
                pipe.publish(self._prefix + channel, dumps(event))
            await pipe.execute()

    async def _on_first_subscriber(self, channel: str) -> None:
        await self._pubsub.subscribe(self._prefix + channel)

    async def _on_last_unsubscribed(self, channel: str) -> None:
        with contextlib.suppress(Exception):
            await self._pubsub.unsubscribe(self._prefix + channel)

    async def _read_forever(self) -> None:
        while True:
            try:
                # Blocks until a message comes (no per-call timeout machinery: this loop
                # carries every event the process hears).
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("redis broker read failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if message is None or message.get("type") != "message":
                continue
            raw_channel = message["channel"]
            channel = raw_channel.decode() if isinstance(raw_channel, bytes) else raw_channel
            if not channel.startswith(self._prefix) or channel == self._control:
                continue
            try:
                event = orjson.loads(message["data"])
            except (TypeError, ValueError):
                continue
            self._deliver_local(channel[len(self._prefix):], event)


def create_broker(redis_url: str | None) -> Broker:
    return RedisBroker(redis_url) if redis_url else Broker()


_broker: Broker = Broker()


def get_broker() -> Broker:
    return _broker


def set_broker(broker: Broker) -> None:
    global _broker
    _broker = broker


class _Publication:
    """An after-commit effect that publishes one event. :func:`kefu.kit.db.run_after_commit`
    sends a transaction's consecutive publications together (one round trip to Redis)."""

    __slots__ = ("kefu_event",)

    def __init__(self, channel: str, event: Event) -> None:
        self.kefu_event = (channel, event)

    async def __call__(self) -> None:
        await get_broker().publish(*self.kefu_event)


def publish_after_commit(session: Any, channel: str, event: Event) -> None:
    """Queue ``event`` for ``channel``; it is sent only if the transaction commits."""
    from kefu.kit.db import after_commit

    after_commit(session, _Publication(channel, event))
