"""Chat throughput benchmark (not a test): the real server, many WebSocket clients.

For each database (SQLite, PostgreSQL) it:

1. measures the raw rate at which that database commits one message-sized insert per
   transaction (one connection, sequential) — the ceiling any chat server on it can reach;
2. starts ``kefu serve`` (one uvicorn process) on a fresh, migrated database with stores,
   agents (online) and buyers, each buyer with an open conversation;
3. runs closed loops for a fixed time: a buyer sends over the socket (``send``), its agent
   receives the message event and answers over its socket, the buyer receives the answer
   and sends the next. Every delivery is timed from the sender's send to the recipient's
   receive; it prints sustained messages/second and p50/p99 latency, with the server's RSS;
4. optionally opens many idle sockets and reports the server's memory per socket.

Loopback only, bounded in time. Usage::

    .venv/bin/python bench/chat_throughput.py                       # both databases
    .venv/bin/python bench/chat_throughput.py --databases sqlite --seconds 5
    .venv/bin/python bench/chat_throughput.py --idle 2000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402
import websockets  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1/postgres"
PG_BENCH = "postgresql+asyncpg://postgres@127.0.0.1/kefu_bench"
SECRET = "bench-secret-key"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def stored_messages(server: Server) -> float:
    """Messages stored so far by the server (all kinds, auto-replies included)."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{server.base}/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("kefu_chat_messages_total{"))


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- databases ------------------------------------------------------------------------------


async def fresh_database(kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='kefu-bench-')) / 'b.db'}"
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute('DROP DATABASE IF EXISTS "kefu_bench" WITH (FORCE)')
        await admin.execute('CREATE DATABASE "kefu_bench"')
    finally:
        await admin.close()
    return PG_BENCH


async def raw_commit_rate(url: str, seconds: float, *, as_configured: bool) -> float:
    """One message-sized row per transaction, committed one after another, on one pooled
    connection (the database's own ceiling) or through the kit's engine as the server uses
    it (on SQLite that opens a connection per transaction: the kit's engine has no pool)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import AsyncAdaptedQueuePool

    from kefu.kit.db import _configure_sqlite, create_engine

    if as_configured or not url.startswith("sqlite"):
        engine = create_engine(url)
    else:
        engine = create_async_engine(url, poolclass=AsyncAdaptedQueuePool, pool_size=1)
        _configure_sqlite(engine)  # the same pragmas: WAL, synchronous=NORMAL, BEGIN IMMEDIATE
    payload = "这是一条长度和普通聊天消息差不多的测试消息，用来测量数据库每秒能提交多少次插入。"
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, conversation_id BIGINT, "
                "seq BIGINT, text TEXT, created_at TIMESTAMP)"))
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            async with engine.begin() as conn:
                await conn.execute(text(
                    "INSERT INTO bench_raw (id, conversation_id, seq, text, created_at) "
                    "VALUES (:id, 1, :seq, :text, CURRENT_TIMESTAMP)"),
                    {"id": done + 1, "seq": done + 1, "text": payload})
            done += 1
        rate = done / (time.perf_counter() - started)
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE bench_raw"))
        return rate
    finally:
        await engine.dispose()


@dataclass
class Seeded:
    agent_tokens: list[str]
    # (buyer token, conversation id, index of the store's agent)
    buyers: list[tuple[str, int, int]]


async def seed(url: str, stores: int, buyers_per_store: int) -> Seeded:
    from kefu.accounts import service as accounts
    from kefu.accounts.roles import Role
    from kefu.chat import service as chat
    from kefu.kit.db import Database
    from kefu.kit.security import hash_password
    from kefu.marketplace import service as marketplace

    # Argon2 is slow on purpose; the benchmark's users all share one password.
    known = hash_password("bench-password-1")
    accounts.hash_password = lambda _password: known  # type: ignore[assignment]
    db = Database(url)
    agent_tokens: list[str] = []
    buyers: list[tuple[str, int, int]] = []
    try:
        async with db.unit_of_work() as session:
            for s in range(stores):
                store, _owner = await marketplace.open_store(
                    session, slug=f"bench-{s}", name=f"压测店铺{s}",
                    owner_username=f"bench_owner{s}", owner_display_name=f"店主{s}",
                    owner_password="bench-password-1")
                agent = await accounts.create_user(
                    session, username=f"bench_agent{s}", display_name=f"客服{s}",
                    password="bench-password-1", role=Role.MERCHANT_AGENT, store_id=store.id)
                await chat.set_agent_status(session, accounts.principal_of(agent), "online",
                                            100)
                agent_tokens.append((await accounts.open_session(session, agent, "bearer")
                                     ).token)
                for b in range(buyers_per_store):
                    buyer = await accounts.create_user(
                        session, username=f"bench_buyer{s}_{b}", display_name=f"买家{s}-{b}",
                        password="bench-password-1", role=Role.BUYER)
                    opened = await chat.open_conversation(
                        session, accounts.principal_of(buyer), store.id)
                    token = (await accounts.open_session(session, buyer, "bearer")).token
                    buyers.append((token, opened.id, s))
    finally:
        await db.dispose()
    return Seeded(agent_tokens, buyers)


# --- the server -----------------------------------------------------------------------------


class Server:
    def __init__(self, url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "KEFU_DATABASE_URL": url, "KEFU_MODE": "prod",
               "KEFU_SECRET_KEY": SECRET, "KEFU_RUN_SWEEPER_IN_SERVER": "false",
               "KEFU_LOG_LEVEL": "WARNING",
               "KEFU_UPLOAD_DIR": tempfile.mkdtemp(prefix="kefu-bench-up-")}
        env.pop("KEFU_REDIS_URL", None)
        command = [str(Path(sys.executable).parent / "kefu"), "serve", "--no-migrate",
                   "--host", "127.0.0.1", "--port", str(self.port)]
        if os.environ.get("BENCH_PROFILE"):  # a profile of the server, written on exit
            command = [sys.executable, "-m", "cProfile", "-o", os.environ["BENCH_PROFILE"],
                       "-m", "kefu.cli", *command[1:]]
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start")

    def ws(self, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws?token={token}"

    @property
    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)  # graceful: uvicorn finishes and exits
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


# --- the loops ------------------------------------------------------------------------------


@dataclass
class Tally:
    sent_at: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    replies: dict[str, asyncio.Event] = field(default_factory=dict)
    errors: int = 0
    lost: int = 0
    counting: bool = True


async def agent_socket(url: str, tally: Tally, stop: asyncio.Event) -> None:
    async with websockets.connect(url, max_queue=None) as ws:
        ready = json.loads(await ws.recv())
        assert ready["type"] == "hello", ready
        stop_wait = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                receive = asyncio.ensure_future(ws.recv())
                finished, _ = await asyncio.wait({receive, stop_wait},
                                                 return_when=asyncio.FIRST_COMPLETED)
                if receive not in finished:
                    receive.cancel()
                    break
                frame = json.loads(receive.result())
                if frame["type"] == "error":
                    tally.errors += 1
                if frame["type"] != "message" or frame["message"]["sender_side"] != "buyer":
                    continue
                received = time.perf_counter()
                key = frame["message"]["client_msg_id"]
                if key in tally.sent_at and tally.counting:
                    tally.latencies.append(received - tally.sent_at.pop(key))
                reply_key = f"r{key}"
                tally.sent_at[reply_key] = time.perf_counter()
                await ws.send(json.dumps({
                    "type": "send", "conversation_id": frame["message"]["conversation_id"],
                    "client_msg_id": reply_key, "text": f"收到 {key}，马上为您处理"}))
        finally:
            stop_wait.cancel()


async def buyer_socket(url: str, conversation_id: int, index: int, tally: Tally,
                       stop: asyncio.Event, connected: asyncio.Barrier) -> None:
    async with websockets.connect(url, max_queue=None) as ws:
        ready = json.loads(await ws.recv())
        assert ready["type"] == "hello", ready

        async def listen() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "error":
                    tally.errors += 1
                if frame["type"] != "message" or frame["message"]["sender_side"] != "store":
                    continue
                received = time.perf_counter()
                key = frame["message"]["client_msg_id"]
                if key in tally.sent_at and tally.counting:
                    tally.latencies.append(received - tally.sent_at.pop(key))
                event = tally.replies.pop(key, None)
                if event is not None:
                    event.set()

        listener = asyncio.create_task(listen())
        await connected.wait()
        n = 0
        try:
            while not stop.is_set():
                n += 1
                key = f"b{index}-{n}"
                reply = tally.replies[f"r{key}"] = asyncio.Event()
                tally.sent_at[key] = time.perf_counter()
                await ws.send(json.dumps({"type": "send", "conversation_id": conversation_id,
                                          "client_msg_id": key,
                                          "text": f"你好，请问这件有现货吗？{key}"}))
                replied = asyncio.ensure_future(reply.wait())
                stopping = asyncio.ensure_future(stop.wait())
                finished, _ = await asyncio.wait({replied, stopping}, timeout=15,
                                                 return_when=asyncio.FIRST_COMPLETED)
                replied.cancel()
                stopping.cancel()
                if not finished and tally.counting:
                    tally.lost += 1  # no answer within 15 s
        finally:
            listener.cancel()
            with contextlib.suppress(BaseException):
                await listener


async def throughput(server: Server, seeded: Seeded, seconds: float) -> dict[str, Any]:
    tally, stop = Tally(), asyncio.Event()
    rss_idle = server.rss_mb
    connected = asyncio.Barrier(len(seeded.buyers) + 1)
    agents = [asyncio.create_task(agent_socket(server.ws(t), tally, stop))
              for t in seeded.agent_tokens]
    await asyncio.sleep(0.5)
    buyers = [asyncio.create_task(buyer_socket(server.ws(token), conversation_id, i, tally,
                                               stop, connected))
              for i, (token, conversation_id, _store) in enumerate(seeded.buyers)]
    await connected.wait()
    rss_connected = server.rss_mb
    await asyncio.sleep(1.0)  # warm-up, not counted
    tally.latencies.clear()
    stored_before = await stored_messages(server)
    started, cpu_started = time.perf_counter(), cpu_seconds(server.process.pid)
    await asyncio.sleep(seconds)
    delivered = len(tally.latencies)
    elapsed = time.perf_counter() - started
    server_cpu = cpu_seconds(server.process.pid) - cpu_started
    stored = await stored_messages(server) - stored_before
    latencies = list(tally.latencies)
    rss_busy = server.rss_mb
    tally.counting = False
    stop.set()
    await asyncio.wait([*buyers, *agents], timeout=20)
    for task in [*buyers, *agents]:
        task.cancel()
    return {
        "clients": len(seeded.buyers) + len(seeded.agent_tokens),
        "messages_per_second": delivered / elapsed,
        # Everything the server stored meanwhile, with the auto-reply domain's answers.
        "stored_per_second": stored / elapsed,
        "delivered": delivered,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": (statistics.fmean(latencies) * 1000) if latencies else float("nan"),
        "errors": tally.errors, "lost": tally.lost,
        "server_cpu_percent": 100 * server_cpu / elapsed,
        "server_cpu_ms_per_message": 1000 * server_cpu / delivered if delivered else None,
        "load_average": os.getloadavg()[0],
        "rss_idle_mb": rss_idle, "rss_connected_mb": rss_connected, "rss_busy_mb": rss_busy,
    }


async def idle(server: Server, tokens: list[str], count: int) -> dict[str, Any]:
    before = server.rss_mb
    sockets: list[Any] = []
    started = time.perf_counter()
    for batch_start in range(0, count, 200):
        batch = [websockets.connect(server.ws(tokens[i % len(tokens)]), max_queue=4)
                 for i in range(batch_start, min(count, batch_start + 200))]
        sockets.extend(await asyncio.gather(*batch))
    for ws in sockets:
        await ws.recv()  # hello
    opened_in = time.perf_counter() - started
    await asyncio.sleep(1.0)
    after = server.rss_mb
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"{server.base}/metrics")).text
    gauge = next((line for line in metrics.splitlines()
                  if line.startswith("kefu_websockets_open ")), "")
    probe = time.perf_counter()
    await sockets[-1].send(json.dumps({"type": "ping"}))
    while json.loads(await sockets[-1].recv())["type"] != "pong":
        pass
    pong_ms = (time.perf_counter() - probe) * 1000
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {"sockets": count, "opened_in_s": opened_in, "rss_before_mb": before,
            "rss_after_mb": after, "kb_per_socket": (after - before) * 1024 / count,
            "gauge": gauge, "ping_ms_under_load": pong_ms}


# --- main -----------------------------------------------------------------------------------


async def bench_one(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    from kefu.kit import migrate

    url = await fresh_database(kind)
    await asyncio.to_thread(migrate.upgrade, url)  # Alembic runs its own event loop
    raw = await raw_commit_rate(url, args.raw_seconds, as_configured=False)
    raw_kit = await raw_commit_rate(url, args.raw_seconds, as_configured=True) \
        if kind == "sqlite" else raw
    seeded = await seed(url, args.stores, args.buyers_per_store)
    server = Server(url)
    try:
        result: dict[str, Any] = {"database": kind, "raw_commits_per_second": raw,
                                  "raw_commits_per_second_kit_engine": raw_kit}
        result.update(await throughput(server, seeded, args.seconds))
        if args.idle:
            result["idle"] = await idle(server, [t for t, _c, _s in seeded.buyers], args.idle)
        return result
    finally:
        server.stop()


def report(results: list[dict[str, Any]]) -> None:
    print()
    print(f"{'database':<11}{'clients':>8}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'raw commits/s (pooled/kit)':>28}{'RSS idle/conn/busy MB':>24}"
          f"{'errors/lost':>13}")
    for r in results:
        rss = f"{r['rss_idle_mb']:.0f}/{r['rss_connected_mb']:.0f}/{r['rss_busy_mb']:.0f}"
        raw = f"{r['raw_commits_per_second']:.0f}/{r['raw_commits_per_second_kit_engine']:.0f}"
        print(f"{r['database']:<11}{r['clients']:>8}{r['messages_per_second']:>9.0f}"
              f"{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{raw:>28}"
              f"{rss:>24}{str(r['errors']) + '/' + str(r['lost']):>13}")
    for r in results:
        print(f"{r['database']}: {r['stored_per_second']:.0f} messages/s stored in all "
              f"(with automatic answers); "
              f"server CPU {r['server_cpu_percent']:.0f}% of one core, "
              f"{r['server_cpu_ms_per_message'] or 0:.1f} ms CPU per delivered message; "
              f"machine load average {r['load_average']:.1f} on {os.cpu_count()} CPUs")
    for r in results:
        if "idle" in r:
            i = r["idle"]
            print(f"{r['database']}: {i['sockets']} idle sockets opened in "
                  f"{i['opened_in_s']:.1f} s; server RSS {i['rss_before_mb']:.0f} → "
                  f"{i['rss_after_mb']:.0f} MB ({i['kb_per_socket']:.1f} KB per socket); "
                  f"{i['gauge']}; ping with all open {i['ping_ms_under_load']:.1f} ms")
    print()
    print(json.dumps(results, indent=1, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per run")
    parser.add_argument("--raw-seconds", type=float, default=3.0)
    parser.add_argument("--stores", type=int, default=20, help="one agent each")
    parser.add_argument("--buyers-per-store", type=int, default=10)
    parser.add_argument("--idle", type=int, default=2000, help="idle sockets (0: skip)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, args.idle * 2 + 1000))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # the server inherits it
    os.environ.setdefault("KEFU_SECRET_KEY", SECRET)
    results = []
    for kind in args.databases:
        results.append(asyncio.run(bench_one(kind, args)))
    report(results)


if __name__ == "__main__":
    main()
