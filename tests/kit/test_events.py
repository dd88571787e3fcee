"""The broker: in process and over Redis; a transaction's events go out together, in order;
cache invalidations reach other processes."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import redis_available
from kefu.kit import cache as cache_module
from kefu.kit.db import after_commit, run_after_commit
from kefu.kit.events import Broker, RedisBroker, get_broker, publish_after_commit, set_broker

REDIS_URL = "redis://127.0.0.1:6379/0"


needs_redis = pytest.mark.skipif(not redis_available(), reason="Redis is not running")


class _FakeSession:
    """What the after-commit machinery reads of a session."""

    def __init__(self) -> None:
        self.info: dict[str, Any] = {}


async def test_a_transactions_events_and_effects_run_in_order_once_committed() -> None:
    broker, seen = Broker(), []
    subscription = await broker.subscribe("a", "b")
    previous = get_broker()
    set_broker(broker)
    try:
        session = _FakeSession()

        async def effect() -> None:
            # Everything published before this effect has gone out already.
            seen.append(("effect", subscription.queue.qsize()))

        publish_after_commit(session, "a", {"n": 1})
        publish_after_commit(session, "b", {"n": 2})
        after_commit(session, effect)  # type: ignore[arg-type]
        publish_after_commit(session, "a", {"n": 3})
        assert subscription.queue.qsize() == 0  # nothing before the commit
        await run_after_commit(session)  # type: ignore[arg-type]
    finally:
        set_broker(previous)
    assert seen == [("effect", 2)]
    assert [(await subscription.get())["n"] for _ in range(3)] == [1, 2, 3]


@needs_redis
async def test_redis_delivers_a_batch_in_order_to_another_process() -> None:
    channel = f"test:{uuid.uuid4().hex}"
    sender, receiver = RedisBroker(REDIS_URL), RedisBroker(REDIS_URL)
    await sender.start()
    await receiver.start()
    try:
        subscription = await receiver.subscribe(channel)
        await asyncio.sleep(0.2)  # the subscription reaches Redis
        await sender.publish_many([(channel, {"n": n}) for n in range(50)])
        await sender.publish(channel, {"n": 50})
        got = [(await asyncio.wait_for(subscription.get(), 5))["n"] for _ in range(51)]
        assert got == list(range(51))
    finally:
        await sender.stop()
        await receiver.stop()


async def test_a_changed_cache_entry_is_dropped_at_commit_and_announced() -> None:
    shared: cache_module.TTLCache[str] = cache_module.TTLCache(
        f"test.{uuid.uuid4().hex}", ttl_seconds=600)
    broker = Broker()
    announced = await broker.subscribe(cache_module.INVALIDATION_CHANNEL)
    previous = get_broker()
    set_broker(broker)
    try:
        shared.put(("store", 7), "old")
        changing = AsyncSession()  # no database needed: nothing is executed
        shared.changed(changing, ("store", 7))
        assert shared.lookup(changing, ("store", 7)) is None  # not while its transaction runs
        shared.keep(changing, ("store", 7), "uncommitted", shared.read_mark())
        assert shared.get(("store", 7)) == "old"  # others still read the committed value
        await changing.commit()
        await run_after_commit(changing)
    finally:
        set_broker(previous)
    assert shared.get(("store", 7)) is None
    assert (await announced.get()) == {"cache": shared.name, "key": ("store", 7)}
    # The session goes on in a new transaction: the old one's changes no longer hold it back.
    shared.put(("store", 7), "new")
    assert shared.lookup(changing, ("store", 7)) == "new"
    await changing.close()
    # A read that overlapped the change is too old to share.
    other = AsyncSession()
    mark = shared.read_mark()
    shared.drop(("store", 7))  # committed elsewhere while the read ran
    shared.keep(other, ("store", 7), "read before the change", mark)
    assert shared.get(("store", 7)) is None
    shared.keep(other, ("store", 7), "fresh", shared.read_mark())
    assert shared.get(("store", 7)) == "fresh"


@needs_redis
async def test_an_invalidation_from_another_process_drops_the_entry_here() -> None:
    shared: cache_module.TTLCache[str] = cache_module.TTLCache(
        f"test.{uuid.uuid4().hex}", ttl_seconds=600)
    here, there = RedisBroker(REDIS_URL), RedisBroker(REDIS_URL)
    await here.start()
    await there.start()
    previous = get_broker()
    set_broker(here)
    listener = asyncio.create_task(cache_module.listen_for_invalidations())
    try:
        await asyncio.sleep(0.2)  # the subscription reaches Redis
        shared.put(("store", 7), "old")
        shared.put(("store", 8), "kept")
        # JSON turns the tuple key into a list on the way.
        await there.publish(cache_module.INVALIDATION_CHANNEL,
                            {"cache": shared.name, "key": ("store", 7)})
        for _ in range(100):
            if shared.get(("store", 7)) is None:
                break
            await asyncio.sleep(0.02)
        assert shared.get(("store", 7)) is None and shared.get(("store", 8)) == "kept"
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        set_broker(previous)
        await here.stop()
        await there.stop()


def test_cache_entries_expire_and_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: now[0])
    small: cache_module.TTLCache[int] = cache_module.TTLCache(
        f"test.{uuid.uuid4().hex}", ttl_seconds=10, max_entries=2)
    small.put("a", 1)
    small.put("b", 2)
    small.put("c", 3)
    assert small.get("a") is None and small.get("b") == 2  # the oldest went
    now[0] += 11
    assert small.get("c") is None  # expired
    cache_module.apply_invalidation({"cache": small.name, "key": ["x", 1]})  # no error
