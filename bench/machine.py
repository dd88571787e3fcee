"""How fast this machine is right now (for the benchmarks' reports).

Shared two-core machines drift: the same code has cost a chat message 1.3 ms of CPU one
hour and 2.5 ms another. These two figures, printed beside a benchmark's own, tell a slow
machine from slow code: a fixed pure-Python loop, and what one bare asyncpg round trip
costs the process that makes it (PostgreSQL on 127.0.0.1).
"""

from __future__ import annotations

import time

PG_ADMIN = "postgresql://postgres@127.0.0.1/postgres"


def python_loop_ms() -> float:
    """CPU of a fixed pure-Python workload (best of three, ms)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        total = 0
        for i in range(1_000_000):
            total += i * i % 7
        best = min(best, time.process_time() - started)
    return best * 1000


async def asyncpg_round_trip_us() -> float:
    """CPU of this process for one ``SELECT 1`` on an open connection (µs)."""
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN)
    try:
        for _ in range(300):
            await connection.fetch("SELECT 1")
        count, started = 3000, time.process_time()
        for _ in range(count):
            await connection.fetch("SELECT 1")
        return (time.process_time() - started) * 1e6 / count
    finally:
        await connection.close()
