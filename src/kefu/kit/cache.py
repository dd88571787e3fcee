"""Small per-process caches of rarely changing data read on the chat's hot path (a store's
hours, auto-reply settings, display names).

Each cache has a name, a time to live and a size bound. Whoever changes the data behind an
entry calls :func:`invalidate_after_commit`: once the transaction commits, the entry is dropped
in this process at once and, through the broker (Redis when configured), in every other
process. The time to live bounds how stale an entry can get should such a message be lost.
Ages are measured on the monotonic clock, never on the business clock (a test clock that jumps
a day must not keep or expire entries).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.kit.db import after_commit, transaction_scoped

log = logging.getLogger(__name__)

INVALIDATION_CHANNEL = "kefu:cache-invalidate"

V = TypeVar("V")
_CHANGED_KEY = "kefu_cache_changed"

_caches: dict[str, TTLCache[Any]] = {}


class TTLCache(Generic[V]):
    def __init__(self, name: str, *, ttl_seconds: float, max_entries: int = 10_000) -> None:
        if name in _caches:
            raise ValueError(f"cache {name!r} exists")
        self.name = name
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self.hits = 0
        self.misses = 0
        # Counts drops: changes are rare, so one counter for all keys is enough to tell a
        # read that overlapped a change (see read_mark).
        self._drops = 0
        _caches[name] = self

    def get(self, key: Hashable) -> V | None:
        found = self._entries.get(key)
        if found is None or time.monotonic() - found[0] > self.ttl:
            self.misses += 1
            return None
        self.hits += 1
        return found[1]

    def put(self, key: Hashable, value: V) -> None:
        self._entries[key] = (time.monotonic(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def lookup(self, session: AsyncSession, key: Hashable) -> V | None:
        """The entry, unless this session's transaction changes what it holds."""
        if key in _changed_in(session).get(self.name, ()):
            return None
        return self.get(key)

    def read_mark(self) -> int:
        """Take before reading a value to :meth:`keep`: a drop while the read runs (a change
        committed meanwhile) makes the read too old to share."""
        return self._drops

    def keep(self, session: AsyncSession, key: Hashable, value: V, mark: int) -> None:
        """Share a value read in ``session`` since ``mark`` — not when the transaction changed
        it (nothing uncommitted is shared), nor when an entry was dropped meanwhile."""
        if mark == self._drops and key not in _changed_in(session).get(self.name, ()):
            self.put(key, value)

    def changed(self, session: AsyncSession, key: Hashable) -> None:
        """The data behind ``key`` changes in this transaction: stop sharing it here, drop it
        everywhere once committed."""
        changed = transaction_scoped(session, _CHANGED_KEY, begin=True)
        changed.setdefault(self.name, set()).add(key)
        invalidate_after_commit(session, self, key)

    def drop(self, key: Hashable) -> None:
        self._drops += 1
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


def _changed_in(session: AsyncSession) -> dict[str, set[Hashable]]:
    """Keys changed in the session's current transaction, by cache."""
    return transaction_scoped(session, _CHANGED_KEY)


def invalidate_after_commit(session: AsyncSession, cache: TTLCache[Any], key: Hashable) -> None:
    """Drop ``key`` from ``cache`` here and in every process once the transaction commits."""
    from kefu.kit.events import get_broker

    async def drop_everywhere() -> None:
        cache.drop(key)
        await get_broker().publish(INVALIDATION_CHANNEL, {"cache": cache.name, "key": key})

    after_commit(session, drop_everywhere)


def apply_invalidation(event: dict[str, Any]) -> None:
    """An invalidation heard from another process (or echoed back to this one)."""
    cache = _caches.get(str(event.get("cache")))
    if cache is None:
        return
    key = event.get("key")
    # JSON turns tuples into lists: keys are ints, strings or tuples of them.
    cache.drop(tuple(key) if isinstance(key, list) else key)


async def listen_for_invalidations() -> None:
    """Run for the life of the process (the web app's lifespan starts it)."""
    from kefu.kit.events import get_broker

    subscription = await get_broker().subscribe(INVALIDATION_CHANNEL)
    try:
        while True:
            event = await subscription.get()
            try:
                apply_invalidation(event)
            except Exception:  # a malformed message must not stop the listener
                log.exception("bad cache invalidation %r", event)
    finally:
        await subscription.close()


def clear_all() -> None:
    """Forget everything (tests start each case with empty caches)."""
    for cache in _caches.values():
        cache.clear()
