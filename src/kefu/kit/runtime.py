"""Process set-up for a long-running server."""

from __future__ import annotations

import gc

# A full collection comes after this many collections of the middle generation (Python's
# default: 10), and still only once the objects that reached the oldest generation since
# the last one number a quarter of those it kept. Under load a chat server promotes the
# objects of the requests in flight at each young collection: with the default, a full
# collection came about once a minute at 300 messages/s on a two-core test machine, each
# holding every socket of the process for 40–100 ms (more than the whole p99 budget of a
# message). At 100, none came in two minutes of the same load, and memory did not grow
# measurably: most of what is promoted dies by reference counting, and cyclic garbage
# only waits longer.
FULL_COLLECTION_AFTER = 100


def configure_garbage_collector() -> int:
    """Keep what start-up built (modules, tables, compiled statements) out of the garbage
    collector's way, and space its full collections out (see FULL_COLLECTION_AFTER).

    A full collection walks every tracked object that is not frozen, and a chat server
    holds a few hundred thousand of them after start-up, which made each full collection
    stall every socket of the process for over 100 ms. Garbage is collected first so that
    none is frozen. Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    young, middle, _oldest = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_AFTER)
    return gc.get_freeze_count()
