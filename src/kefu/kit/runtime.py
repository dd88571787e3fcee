"""Process set-up for a long-running server."""

from __future__ import annotations

import gc

# A full collection comes after this many collections of the middle generation (Python's
# default: 10), and only once the objects promoted to the oldest generation since the last
# one number a quarter of those it kept. Under load a chat server promotes the objects of
# the requests in flight at each young collection, so the count decides: with the default,
# a full collection came every 45–60 s at 300 messages/s on a two-core test machine, each
# holding every socket of the process for 58–118 ms (more than a message's whole p99
# budget) and freeing almost nothing. At 100 none came in seven minutes of that load, with
# the same memory curve: up to ten times less often. The price: cyclic garbage that
# reaches the oldest generation (tracebacks, cancelled tasks, a closed socket's objects)
# waits up to ten times longer, and the full collection that frees it walks it too; most of
# what is promoted dies by reference counting instead. (docs/operations.md has the figures.)
FULL_COLLECTION_AFTER = 100


def configure_garbage_collector() -> int:
    """Keep what start-up built (modules, tables, compiled statements) out of the garbage
    collector's way, and space its full collections out (see FULL_COLLECTION_AFTER).

    A full collection walks every tracked object that is not frozen, and a chat server
    holds a few hundred thousand of them after start-up, which made each full collection
    stall every socket of the process for over 100 ms. Garbage is collected first so that
    none is frozen. Returns how many objects were frozen."""
    global _configured
    frozen = _collect_and_freeze()
    young, middle, _oldest = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_AFTER)
    _configured = True
    return frozen


_configured = False


def _collect_and_freeze() -> int:
    """Collect first, so that no garbage is frozen (what is frozen already is not walked
    again: a second call costs only what was built since)."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def freeze_what_start_up_added() -> int:
    """In a process set up by configure_garbage_collector, freeze what start-up has built
    since (the routes FastAPI builds when the server starts: some 13,000 objects). Elsewhere
    (tests) nothing. Returns how many objects are frozen."""
    return _collect_and_freeze() if _configured else 0
