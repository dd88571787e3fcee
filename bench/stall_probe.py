"""A probe run beside the chat benchmark's server, to tell its stalls from the machine's.

Every ``--every`` seconds from ``--since`` until ``--until`` (Unix times), it commits one
small row to the database (PostgreSQL: a table of its own in the benchmark's database, so
the commit waits for the same write-ahead log; SQLite: a file of its own in the same
directory, with a full sync, so it waits for the same disk) and notes how late its own
timer woke it (the machine's CPU). It prints one JSON object: both latencies' p50/p99/max
and the wall-clock times of the slow ones, which the benchmark sets beside its own slowest
moments.

    .venv/bin/python bench/stall_probe.py --url postgresql+asyncpg://… --since 1790000000 \
        --until 1790000010
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

SLOW = 0.05  # a commit or a wake-up later than this is listed with its time


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def probe_postgresql(url: str, since: float, until: float, every: float) -> dict[str, Any]:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute("CREATE TABLE IF NOT EXISTS bench_probe "
                                 "(id BIGSERIAL PRIMARY KEY, at DOUBLE PRECISION)")

        async def commit() -> None:
            await connection.execute("INSERT INTO bench_probe (at) VALUES ($1)", time.time())

        return await probe(commit, since, until, every)
    finally:
        await connection.close()


async def probe_sqlite(url: str, since: float, until: float, every: float) -> dict[str, Any]:
    path = Path(url.split("///", 1)[1]).with_name("probe.db")
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")  # every commit waits for the disk
    connection.execute("CREATE TABLE IF NOT EXISTS bench_probe (id INTEGER PRIMARY KEY, at REAL)")

    def insert() -> None:
        connection.execute("INSERT INTO bench_probe (at) VALUES (?)", (time.time(),))

    async def commit() -> None:
        await asyncio.to_thread(insert)

    try:
        return await probe(commit, since, until, every)
    finally:
        connection.close()


async def probe(commit: Any, since: float, until: float, every: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, since - time.time()))
    commits: list[float] = []
    wakes: list[float] = []
    slow: list[dict[str, Any]] = []
    due = loop.time() + every
    while time.time() < until:
        await asyncio.sleep(max(0.0, due - loop.time()))
        late = loop.time() - due
        wakes.append(late)
        if late > SLOW:
            slow.append({"at": time.time() - late, "what": "wake-up", "ms": late * 1000})
        started, at = loop.time(), time.time()
        await commit()
        took = loop.time() - started
        commits.append(took)
        if took > SLOW:
            slow.append({"at": at, "what": "commit", "ms": took * 1000})
        due = max(due + every, loop.time())  # a late probe does not hurry to catch up

    def summary(values: list[float]) -> dict[str, float]:
        return {"p50_ms": percentile(values, 0.5) * 1000,
                "p99_ms": percentile(values, 0.99) * 1000,
                "max_ms": max(values, default=float("nan")) * 1000}

    return {"commits": len(commits), "commit": summary(commits), "wake_up": summary(wakes),
            "slow": slow}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--since", type=float, default=0.0, help="a Unix time (0: now)")
    parser.add_argument("--until", type=float, required=True, help="a Unix time")
    parser.add_argument("--every", type=float, default=0.02)
    args = parser.parse_args()
    run = probe_sqlite if args.url.startswith("sqlite") else probe_postgresql
    print(json.dumps(asyncio.run(run(args.url, args.since, args.until, args.every))))


if __name__ == "__main__":
    main()
