"""The chat's send path without sockets (not a test): CPU per message in one process.

``chat_throughput.py`` measures the whole server, where a slow machine, the clients and the
socket frames all move the figure. This one calls the service as the socket handler does
(``Database.unit_of_work`` around ``chat.service.send_message``, a buyer's question and its
agent's answer in turn, one after another, or ``--concurrency`` buyers at once) and prints, per message, the process's CPU and the
wall time, on a fresh, migrated database with the same seed as ``chat_throughput.py``.
Beside it, the machine's speed: the CPU of a bare asyncpg round trip (PostgreSQL) and of a
fixed pure-Python loop, so that figures from different days can be compared.

``--phases`` adds the CPU spent inside each step of the path (inclusive, per message; the
wrappers cost a little themselves). Usage::

    .venv/bin/python bench/send_path.py                      # both databases
    .venv/bin/python bench/send_path.py --databases postgresql --messages 4000 --runs 5
    .venv/bin/python bench/send_path.py --databases sqlite --phases
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import uvloop  # noqa: E402
from chat_throughput import SECRET, fresh_database, seed  # noqa: E402
from machine import asyncpg_round_trip_us, python_loop_ms  # noqa: E402

# (module, function name, is a coroutine function): the steps --phases times.
PHASES = (
    ("kefu.chat.service", "send_message", True),
    ("kefu.chat.repository", "lock_for_send", True),
    ("kefu.chat.repository", "_as_loaded", False),
    ("kefu.chat.service", "_screen", True),
    ("kefu.chat.service", "_store_human", True),
    ("kefu.chat.service", "_append_human", True),
    ("kefu.chat.service", "_write_conversation", True),
    ("kefu.chat.service", "_react", True),
    ("kefu.chat.waits", "start", True),
    ("kefu.chat.waits", "answer", True),
    ("kefu.chat.push", "message", False),
    ("kefu.chat.push", "emit", True),
    ("kefu.chat.present", "message_out", False),
    ("kefu.chat.present", "conversation_out", False),
    ("kefu.kit.db", "_driver_of", True),
    ("kefu.kit.db", "_run_on_driver", True),
    ("kefu.kit.db", "run_after_commit", True),
)


class PhaseTimes:
    """Inclusive CPU of wrapped functions (a function calling another counts both)."""

    def __init__(self) -> None:
        self.seconds: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[str] = collections.Counter()

    def wrap(self, owner: Any, name: str, is_async: bool, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)
        seconds, calls, cpu = self.seconds, self.calls, time.process_time

        if is_async:
            @functools.wraps(original)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                started = cpu()
                try:
                    return await original(*args, **kwargs)
                finally:
                    seconds[label] += cpu() - started
                    calls[label] += 1
            setattr(owner, name, timed_async)
        else:
            @functools.wraps(original)
            def timed(*args: Any, **kwargs: Any) -> Any:
                started = cpu()
                try:
                    return original(*args, **kwargs)
                finally:
                    seconds[label] += cpu() - started
                    calls[label] += 1
            setattr(owner, name, timed)

    def install(self) -> None:
        import importlib

        from sqlalchemy.ext.asyncio import AsyncSession

        for module_name, name, is_async in PHASES:
            module = importlib.import_module(module_name)
            self.wrap(module, name, is_async, f"{module_name.removeprefix('kefu.')}.{name}")
        for name in ("connection", "commit"):
            self.wrap(AsyncSession, name, True, f"AsyncSession.{name}")

    def clear(self) -> None:
        self.seconds.clear()
        self.calls.clear()


async def bench_one(kind: str, args: argparse.Namespace, phases: PhaseTimes | None
                    ) -> list[dict[str, Any]]:
    from kefu.accounts import service as accounts
    from kefu.chat import service as chat
    from kefu.kit import migrate
    from kefu.kit.db import Database

    url = await fresh_database(kind)
    await asyncio.to_thread(migrate.upgrade, url)
    seeded = await seed(url, args.stores, args.buyers_per_store, "open")
    db = Database(url)
    try:
        async with db.unit_of_work() as session:
            agents = [(await accounts.principal_for_token(session, token, "bearer"), token)
                      for token in seeded.agent_tokens]
            buyers = [(await accounts.principal_for_token(session, token, "bearer"), token,
                       conversation_id, store)
                      for token, conversation_id, store in seeded.buyers]

        async def ask_and_answer(n: int) -> None:
            buyer, token, conversation_id, store = buyers[n % len(buyers)]
            agent, agent_token = agents[store]
            async with db.unit_of_work() as session:
                await chat.send_message(session, buyer, conversation_id,
                                        client_msg_id=f"b{n}", text=f"你好，请问这件有现货吗？{n}",
                                        login=(token, "bearer"))
            async with db.unit_of_work() as session:
                await chat.send_message(session, agent, conversation_id,
                                        client_msg_id=f"a{n}", text=f"收到 b{n}，马上为您处理",
                                        login=(agent_token, "bearer"))

        async def in_turn(first: int, count: int) -> None:
            """Questions ``first``, ``first + concurrency``, …: the same conversations for
            the same task (the concurrency divides the buyers)."""
            for k in range(count):
                await ask_and_answer(first + k * args.concurrency)

        async def questions(start: int, count: int) -> None:
            per_task = count // args.concurrency
            await asyncio.gather(*(in_turn(start + t, per_task)
                                   for t in range(args.concurrency)))

        n = (args.warm_up // args.concurrency) * args.concurrency
        await questions(0, n)  # the pool, the caches
        results = []
        for run in range(1, args.runs + 1):
            if phases is not None:
                phases.clear()
            count = (args.messages // 2 // args.concurrency) * args.concurrency
            wall, cpu = time.perf_counter(), time.process_time()
            await questions(n, count)
            n += count
            messages = 2 * count
            result: dict[str, Any] = {
                "database": kind, "run": run, "messages": messages,
                "cpu_us_per_message": (time.process_time() - cpu) * 1e6 / messages,
                "wall_us_per_message": (time.perf_counter() - wall) * 1e6 / messages}
            if phases is not None:
                result["phases"] = {label: (seconds * 1e6 / messages,
                                            phases.calls[label] / messages)
                                    for label, seconds in phases.seconds.most_common()}
            results.append(result)
            print(f"{kind} run {run}: {messages} messages, CPU {result['cpu_us_per_message']:.0f} "
                  f"µs a message, wall {result['wall_us_per_message']:.0f} µs", flush=True)
        return results
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--messages", type=int, default=2000, help="per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warm-up", type=int, default=300, help="questions and answers")
    parser.add_argument("--stores", type=int, default=2, help="one agent each")
    parser.add_argument("--buyers-per-store", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=1,
                        help="buyers asking at once (each waits for its answer to be stored "
                             "before the next question); at most the number of buyers")
    parser.add_argument("--phases", action="store_true",
                        help="CPU inside each step of the path (slows it a little)")
    args = parser.parse_args()
    buyers = args.stores * args.buyers_per_store
    if args.messages < 2 * args.concurrency or args.runs < 1 or args.concurrency < 1 \
            or buyers % args.concurrency:
        # (each task keeps to its own conversations only when the concurrency divides the
        # buyers: two sends at once in one conversation would wait for each other's lock)
        parser.error("--messages must be at least twice --concurrency, --runs at least 1, "
                     "and --concurrency must divide the number of buyers")
    if args.phases and args.concurrency > 1:
        # The steps are timed around their awaits: other tasks' CPU would be counted in.
        parser.error("--phases times one buyer at a time: leave out --concurrency")
    os.environ.setdefault("KEFU_SECRET_KEY", SECRET)
    os.environ.setdefault("KEFU_MODE", "prod")
    os.environ.setdefault("KEFU_LOG_LEVEL", "WARNING")
    phases = PhaseTimes() if args.phases else None
    if phases is not None:
        phases.install()
    print(f"machine: a fixed Python loop takes {python_loop_ms():.0f} ms of CPU", flush=True)
    if "postgresql" in args.databases:
        print("machine: a bare asyncpg round trip costs this process "
              f"{uvloop.run(asyncpg_round_trip_us()):.0f} µs of CPU", flush=True)
    for kind in args.databases:
        results = uvloop.run(bench_one(kind, args, phases))
        cpu = statistics.median(r["cpu_us_per_message"] for r in results)
        wall = statistics.median(r["wall_us_per_message"] for r in results)
        print(f"{kind}: median of {len(results)} runs: CPU {cpu:.0f} µs a message "
              f"(one core: {1e6 / cpu:.0f} messages/s at most), wall {wall:.0f} µs")
        if phases is not None:
            last = results[-1]["phases"]
            print(f"{kind}: CPU inside each step, last run (inclusive, µs a message):")
            for label, (us, calls) in last.items():
                print(f"  {us:7.0f}  {calls:4.2f}×  {label}")


if __name__ == "__main__":
    main()
