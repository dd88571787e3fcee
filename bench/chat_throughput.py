"""Chat throughput benchmark (not a test): the real server, many WebSocket clients.

For each database (SQLite, PostgreSQL) it:

1. measures the raw rate at which that database commits one message-sized insert per
   transaction (one connection, sequential) — the ceiling any chat server on it can reach;
2. starts ``kefu serve`` (one uvicorn process, or ``--workers N`` with Redis carrying the
   events between them) on a fresh, migrated database with stores, agents (online) and
   buyers, each buyer with an open conversation;
3. runs for a fixed time, either closed loops (the default): a buyer sends over the socket
   (``send``), its agent receives the message event and answers over its socket, the buyer
   receives the answer and sends the next; or, with ``--rate R``, an open loop: buyers send
   on a schedule (R/2 messages/s in all, whatever the answers do; evenly spaced, or with
   ``--arrivals poisson`` a Poisson stream) and agents answer
   each message, so about R messages/s are delivered. Every delivery is timed from the
   sender's send to the recipient's receive; it prints delivered messages/second (also as a
   share of the raw commit rate), p50/p99/max latency, the server's CPU and RSS (summed over
   all its processes) and the client's own CPU and lag behind its schedule, and the
   server's event loop stalls logged in the measured time (``kefu.kit.loopwatch``; set
   ``KEFU_EVENT_LOOP_WARN_SECONDS`` lower than its 0.1 to list shorter ones);
4. optionally opens many idle sockets and reports the server's memory per socket.

Before the runs it measures how fast the machine is right now (``machine.py``: a fixed Python
loop, a bare asyncpg round trip) and prints it with the figures, so that runs from different
days can be compared.

Loopback only, bounded in time. Usage::

    .venv/bin/python bench/chat_throughput.py                       # both databases
    .venv/bin/python bench/chat_throughput.py --databases sqlite --seconds 5
    .venv/bin/python bench/chat_throughput.py --idle 2000
    .venv/bin/python bench/chat_throughput.py --databases postgresql --runs 3 --idle 0
    .venv/bin/python bench/chat_throughput.py --databases postgresql --rate 500 --idle 0
    .venv/bin/python bench/chat_throughput.py --databases postgresql --rate 500 --idle 0 \
        --arrivals poisson
    .venv/bin/python bench/chat_throughput.py --databases postgresql --workers 2 --idle 0

``BENCH_PROFILE=out.prof`` runs the (single-process) server under cProfile.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402
import uvloop  # noqa: E402
import websockets  # noqa: E402
from machine import PG_ADMIN, asyncpg_round_trip_us, python_loop_ms  # noqa: E402  # (this folder)
from stall_probe import percentile  # noqa: E402

PG_BENCH = "postgresql+asyncpg://postgres@127.0.0.1/kefu_bench"
REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "bench-secret-key"
# seconds: a buyer message with no answer by then counts as unanswered (late or never: the
# benchmark cannot tell; the server's stored count beside it can)
UNANSWERED_AFTER = 15.0
LATE = 0.005  # seconds: an open-loop send this far behind its schedule counts as late


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- processes and sockets (Linux /proc) ----------------------------------------------------


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name: [0] state, [1] ppid, [11] utime, [12] stime."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def rss_mb(pid: int) -> float:
    """Resident memory of a process; 0 if it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process; 0 if it is gone."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(root: int) -> list[int]:
    """A process and all its descendants, found by walking /proc for parent ids."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def fd_links(pid: int) -> dict[int, str]:
    """fd → what it points to, for each open file of a process."""
    links = {}
    with contextlib.suppress(OSError):
        for name in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                links[int(name)] = os.readlink(f"/proc/{pid}/fd/{name}")
    return links


def tcp_server_sockets(port: int) -> dict[int, int]:
    """Loopback TCP sockets on the server's ``port`` (listening or established): the peer's
    port → the socket's inode. The listening socket has peer port 0."""
    found = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] in ("01", "0A"):
            found[int(fields[2].rsplit(":", 1)[1], 16)] = int(fields[9])
    return found


def watches(pid: int, inode: int) -> bool:
    """Whether an epoll instance of the process watches the socket ``inode``: a uvicorn
    worker adds the listening socket once its startup is complete and it accepts."""
    links = fd_links(pid)
    fds = {str(fd) for fd, link in links.items() if link == f"socket:[{inode}]"}
    for fd, link in links.items():
        if link == "anon_inode:[eventpoll]":
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/fdinfo/{fd}").read_text().splitlines():
                    if line.startswith("tfd:") and line.split()[1] in fds:
                        return True
    return False


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
    it (its pool, and on SQLite its BEGIN IMMEDIATE and write-lock queue)."""
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


async def seed(url: str, stores: int, buyers_per_store: int, store_hours: str) -> Seeded:
    """``store_hours``: "open" (every day 00:00–24:00) or "closed" (yesterday, today and
    tomorrow are closed days): which one decides whether each wait brings an off-hours
    notice, so the figures must not depend on the time of day the benchmark runs at."""
    from kefu import domains
    from kefu.accounts import service as accounts
    from kefu.accounts.roles import Role
    from kefu.chat import service as chat
    from kefu.kit.db import Database
    from kefu.kit.security import hash_password

    domains.load()  # the auto-replies and the diversion screen, as in the server
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
                store, owner = await marketplace.open_store(
                    session, slug=f"bench-{s}", name=f"压测店铺{s}",
                    owner_username=f"bench_owner{s}", owner_display_name=f"店主{s}",
                    owner_password="bench-password-1")
                await chat.set_store_hours(session, accounts.principal_of(owner),
                                           *hours_of(store_hours))
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
                    # A first question and answer: the welcome a conversation's first
                    # message brings (an automatic answer each, with its savepoint) is
                    # sent here, not in a burst at the server's start, where on a slow
                    # machine its queue outlasted the warm-up and the first run measured it.
                    await chat.send_message(session, accounts.principal_of(buyer), opened.id,
                                            client_msg_id=f"seed{s}.{b}", text="你好")
                    await chat.send_message(session, accounts.principal_of(agent), opened.id,
                                            client_msg_id=f"seed{s}.{b}",
                                            text="您好，请问有什么可以帮您？")
    finally:
        await db.dispose()
    return Seeded(agent_tokens, buyers)


def hours_of(store_hours: str) -> tuple[list[Any], list[Any]]:
    """The weekly hours and holidays of the ``--hours`` scenario."""
    from kefu.chat.schemas import DayHoursIO, HolidayIO
    from kefu.settings import get_settings

    weekly = [DayHoursIO(weekday=d, opens="00:00", closes="24:00") for d in range(7)]
    if store_hours == "open":
        return weekly, []
    today = datetime.now(ZoneInfo(get_settings().timezone)).date()
    return weekly, [HolidayIO(date=today + timedelta(days=d), closed=True, note="bench")
                    for d in (-1, 0, 1)]


# --- the server -----------------------------------------------------------------------------


class Server:
    """``kefu serve`` with ``workers`` processes; with several, Redis carries the events."""

    def __init__(self, url: str, workers: int = 1, redis_url: str = REDIS_URL) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        env = {**os.environ, "KEFU_DATABASE_URL": url, "KEFU_MODE": "prod",
               "KEFU_SECRET_KEY": SECRET, "KEFU_RUN_SWEEPER_IN_SERVER": "false",
               "KEFU_LOG_LEVEL": "WARNING",
               "KEFU_UPLOAD_DIR": tempfile.mkdtemp(prefix="kefu-bench-up-")}
        env.pop("KEFU_REDIS_URL", None)
        if workers > 1:
            env["KEFU_REDIS_URL"] = redis_url
        command = [str(Path(sys.executable).parent / "kefu"), "serve", "--no-migrate",
                   "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        if os.environ.get("BENCH_PROFILE"):  # a profile of the server, written on exit
            command = [sys.executable, "-m", "cProfile", "-o", os.environ["BENCH_PROFILE"],
                       "-m", "kefu.cli", *command[1:]]
        # Its warnings (JSON lines): the event loop's stalls are read back for each run.
        self.log_path = Path(tempfile.mkdtemp(prefix="kefu-bench-log-")) / "server.log"
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log_file)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            if self._ready():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start ({workers} worker(s))")

    def _ready(self) -> bool:
        """Health answers and, with several workers, every one of them accepts connections
        (else the first one up would get all the clients)."""
        try:
            if httpx.get(f"{self.base}/healthz", timeout=1).status_code != 200:
                return False
        except httpx.HTTPError:
            return False
        if self.workers == 1:
            return True
        listener = tcp_server_sockets(self.port).get(0)
        workers = self.worker_pids()
        return listener is not None and len(workers) == self.workers and \
            all(watches(pid, listener) for pid in workers)

    def ws(self, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws?token={token}"

    def pids(self) -> list[int]:
        """The uvicorn process and all its children."""
        return process_tree(self.process.pid)

    def worker_pids(self) -> list[int]:
        """The processes that serve: uvicorn's spawned workers, or uvicorn itself."""
        if self.workers == 1:
            return [self.process.pid]
        found = []
        for pid in self.pids()[1:]:
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
        return sorted(found)

    @property
    def rss_mb(self) -> float:
        return sum(rss_mb(pid) for pid in self.pids())

    def cpu(self) -> dict[int, float]:
        """CPU seconds so far of each server process (subtract two of these)."""
        return {pid: cpu_seconds(pid) for pid in self.pids()}

    def owners(self, client_ports: list[int]) -> list[int | None]:
        """The worker process holding the server side of each client connection."""
        inodes = tcp_server_sockets(self.port)
        holder = {}
        for pid in self.worker_pids():
            for link in fd_links(pid).values():
                if link.startswith("socket:["):
                    holder[int(link[8:-1])] = pid
        return [holder.get(inodes.get(port, -1)) for port in client_ports]

    def per_worker(self, client_ports: list[int]) -> list[int]:
        """How many of these client connections each worker holds."""
        owners = self.owners(client_ports)
        return [owners.count(pid) for pid in self.worker_pids()]

    def loop_stalls(self, since: float, until: float) -> list[dict[str, Any]]:
        """The server's ``event loop blocked`` warnings logged between two Unix times: how
        long the loop was held, the garbage collections meanwhile and the innermost frame
        of the project's code that held it (see kefu.kit.loopwatch)."""
        stalls = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if '"event loop blocked"' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # the line the server is still writing
            at = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp()
            if since <= at <= until:
                frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', entry["stack"] or "")
                ours = [f"{Path(f).name}:{n} {fn}" for f, n, fn in frames if "/kefu/" in f]
                stalls.append({"at": at, "held_ms": entry["held_ms"],
                               "loop_cpu_ms": entry["loop_cpu_ms"],
                               "gc": entry["garbage_collections"],
                               "where": ours[-1] if ours else (
                                   f"{Path(frames[-1][0]).name}:{frames[-1][1]} {frames[-1][2]}"
                                   if frames else "no stack taken")})
        return stalls

    def stop(self) -> None:
        tree = self.pids()
        self.process.send_signal(signal.SIGINT)  # graceful: uvicorn finishes and exits
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in reversed(tree):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.wait()


async def stored_messages(engine: Any) -> int:
    """Messages stored so far (all kinds, auto-replies included), counted in the database:
    with several workers each has metrics of its own."""
    from sqlalchemy import text

    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM chat_message"))).scalar_one())


# --- the loops ------------------------------------------------------------------------------
# Times are time.monotonic(), the clock of asyncio's event loop (loop.time()).


@dataclass
class Tally:
    sent_at: dict[str, float] = field(default_factory=dict)  # client_msg_id → sent
    deliveries: list[tuple[float, float]] = field(default_factory=list)  # (sent, received)
    replies: dict[str, asyncio.Event] = field(default_factory=dict)  # closed: reply awaited
    awaiting: dict[str, float] = field(default_factory=dict)  # open: reply key → buyer's send
    lags: list[float] = field(default_factory=list)  # open: how late each send left
    ports: dict[tuple[str, int], int] = field(default_factory=dict)  # client → its local port
    go: asyncio.Event = field(default_factory=asyncio.Event)
    window: tuple[float, float] = (math.inf, math.inf)  # the measured time
    send_from: float = 0.0  # open loop: the schedule's start (warm-up included)
    errors: dict[str, int] = field(default_factory=dict)  # error frames by code
    first_errors: dict[str, dict[str, Any]] = field(default_factory=dict)  # one of each
    unanswered: int = 0
    counting: bool = True  # closed loops: count unanswered messages
    run: int = 1  # in the client message ids: a later run's sends are not resends

    def received(self, key: str | None, at: float) -> None:
        sent = self.sent_at.pop(key, None) if key else None
        if sent is not None:
            self.deliveries.append((sent, at))

    def error(self, frame: dict[str, Any]) -> None:
        """A refused message (e.g. by the diversion screen): counted as an error, and the
        buyer's message it asks or answers is not waited for or counted as unanswered."""
        code = str((frame.get("error") or {}).get("code"))
        self.errors[code] = self.errors.get(code, 0) + 1
        self.first_errors.setdefault(code, frame)
        key = frame.get("client_msg_id")
        if isinstance(key, str):
            reply = key if key.startswith("r") else f"r{key}"
            self.awaiting.pop(reply, None)
            event = self.replies.pop(reply, None)
            if event is not None:
                event.set()

    def in_window(self, at: float) -> bool:
        return self.window[0] <= at < self.window[1]


async def agent_socket(url: str, index: int, tally: Tally, stop: asyncio.Event,
                       connected: asyncio.Barrier) -> None:
    async with websockets.connect(url, max_queue=None) as ws:
        ready = json.loads(await ws.recv())
        assert ready["type"] == "hello", ready
        tally.ports["agent", index] = ws.local_address[1]
        await connected.wait()
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
                    tally.error(frame)
                if frame["type"] != "message" or frame["message"]["sender_side"] != "buyer":
                    continue
                key = frame["message"]["client_msg_id"]
                tally.received(key, time.monotonic())
                reply_key = f"r{key}"
                tally.sent_at[reply_key] = time.monotonic()
                await ws.send(json.dumps({
                    "type": "send", "conversation_id": frame["message"]["conversation_id"],
                    "client_msg_id": reply_key, "text": f"收到 {key}，马上为您处理"}))
        finally:
            stop_wait.cancel()


def buyer_frame(conversation_id: int, key: str) -> str:
    return json.dumps({"type": "send", "conversation_id": conversation_id,
                       "client_msg_id": key, "text": f"你好，请问这件有现货吗？{key}"})


async def closed_loop(ws: Any, conversation_id: int, index: int, tally: Tally,
                      stop: asyncio.Event) -> None:
    """Send, wait for the agent's answer (at most 15 s), send the next."""
    n = 0
    while not stop.is_set():
        n += 1
        key = f"b{tally.run}.{index}-{n}"
        reply = tally.replies[f"r{key}"] = asyncio.Event()
        tally.sent_at[key] = time.monotonic()
        await ws.send(buyer_frame(conversation_id, key))
        replied = asyncio.ensure_future(reply.wait())
        stopping = asyncio.ensure_future(stop.wait())
        finished, _ = await asyncio.wait({replied, stopping}, timeout=UNANSWERED_AFTER,
                                         return_when=asyncio.FIRST_COMPLETED)
        replied.cancel()
        stopping.cancel()
        if not finished and tally.counting:
            tally.unanswered += 1  # no answer within 15 s


async def open_loop(ws: Any, conversation_id: int, index: int, tally: Tally,
                    period: float, buyers: int, arrivals: str) -> None:
    """Send, answered or not, until the window ends: ``even``: every ``period`` seconds, the
    buyers' phases spread evenly over the period (together a constant rate); ``poisson``: at
    random, ``period`` seconds apart on average (together a Poisson stream, with its bursts).
    Due times are absolute, so a late send does not push back the next."""
    loop = asyncio.get_running_loop()
    if arrivals == "poisson":
        def gap() -> float:
            return random.expovariate(1 / period)
        due = tally.send_from + gap()
    else:
        def gap() -> float:
            return period
        due = tally.send_from + period * (index + 0.5) / buyers
    n = 0
    while due < tally.window[1]:
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = loop.time()
        if tally.in_window(due):
            tally.lags.append(sent - due)
        n += 1
        key = f"b{tally.run}.{index}-{n}"
        tally.sent_at[key] = tally.awaiting[f"r{key}"] = sent
        await ws.send(buyer_frame(conversation_id, key))
        due += gap()


async def buyer_socket(url: str, conversation_id: int, index: int, tally: Tally,
                       stop: asyncio.Event, connected: asyncio.Barrier, period: float,
                       buyers: int, arrivals: str) -> None:
    """Closed loop (``period`` 0) or open loop (one message every ``period`` seconds)."""
    async with websockets.connect(url, max_queue=None) as ws:
        ready = json.loads(await ws.recv())
        assert ready["type"] == "hello", ready
        tally.ports["buyer", index] = ws.local_address[1]

        async def listen() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "error":
                    tally.error(frame)
                if frame["type"] != "message" or frame["message"]["sender_side"] != "store":
                    continue
                received = time.monotonic()
                key = frame["message"]["client_msg_id"]
                tally.received(key, received)
                event = tally.replies.pop(key, None)
                if event is not None:
                    event.set()
                sent = tally.awaiting.pop(key, None)
                if sent is not None and received - sent > UNANSWERED_AFTER and tally.in_window(sent):
                    tally.unanswered += 1  # answered, but too late

        listener = asyncio.create_task(listen())
        await connected.wait()
        await tally.go.wait()
        try:
            if period:
                await open_loop(ws, conversation_id, index, tally, period, buyers, arrivals)
                await stop.wait()  # keep listening for the answers
            else:
                await closed_loop(ws, conversation_id, index, tally, stop)
        finally:
            listener.cancel()
            with contextlib.suppress(BaseException):
                await listener


def placement(server: Server, seeded: Seeded, tally: Tally) -> dict[str, Any]:
    """Where the clients' connections landed, with several workers."""
    agents = server.owners([tally.ports["agent", i] for i in range(len(seeded.agent_tokens))])
    buyers = server.owners([tally.ports["buyer", i] for i in range(len(seeded.buyers))])
    apart = sum(1 for owner, (_token, _conversation, store) in zip(buyers, seeded.buyers,
                                                                   strict=True)
                if owner != agents[store])
    return {"sockets_per_worker": [[*agents, *buyers].count(pid)
                                   for pid in server.worker_pids()],
            "buyers_apart_from_agent_percent": 100 * apart / len(buyers) if buyers else 0.0,
            "sockets_unplaced": [*agents, *buyers].count(None)}


async def throughput(server: Server, seeded: Seeded, url: str, seconds: float,
                     rate: float, warm_up: float, arrivals: str, run: int = 1
                     ) -> dict[str, Any]:
    from sqlalchemy.ext.asyncio import create_async_engine

    loop = asyncio.get_running_loop()
    tally, stop = Tally(run=run), asyncio.Event()
    # SQLAlchemy's own engine, not the kit's: on SQLite the kit begins every transaction with
    # BEGIN IMMEDIATE, and the count at the window's start took the write lock from the
    # server (whose writers then waited in SQLite's busy handler: a queue at +0.0 s).
    engine = create_async_engine(url)
    rss_idle = server.rss_mb
    agents_connected = asyncio.Barrier(len(seeded.agent_tokens) + 1)
    agents = [asyncio.create_task(agent_socket(server.ws(t), i, tally, stop, agents_connected))
              for i, t in enumerate(seeded.agent_tokens)]
    async with asyncio.timeout(60):
        await agents_connected.wait()
    # Open loop: R/2 buyer messages per second in all, each buyer at its own period.
    period = 2 * len(seeded.buyers) / rate if rate else 0.0
    connected = asyncio.Barrier(len(seeded.buyers) + 1)
    buyers = [asyncio.create_task(buyer_socket(server.ws(token), conversation_id, i, tally,
                                               stop, connected, period, len(seeded.buyers),
                                               arrivals))
              for i, (token, conversation_id, _store) in enumerate(seeded.buyers)]
    async with asyncio.timeout(60):
        await connected.wait()
    rss_connected = server.rss_mb
    spread = placement(server, seeded, tally) if server.workers > 1 else {}
    tally.send_from = loop.time()
    tally.window = (tally.send_from + warm_up, tally.send_from + warm_up + seconds)
    # Started now, so that its own start-up is over when the window opens; it counts from then.
    probe = await start_probe(url, since=time.time() + warm_up,
                              until=time.time() + warm_up + seconds)
    tally.go.set()
    await asyncio.sleep(tally.window[0] - loop.time())
    stored_before = await stored_messages(engine)
    cpu_before, client_before, cpu_started = server.cpu(), time.process_time(), loop.time()
    machine_before = machine_times()
    await asyncio.sleep(tally.window[1] - loop.time())
    cpu_after, client_cpu = server.cpu(), time.process_time() - client_before
    machine = {name: 100 * (after - machine_before[name]) / max(1, sum(machine_times().values())
                                                                 - sum(machine_before.values()))
               for name, after in machine_times().items() if name in ("steal", "iowait")}
    cpu_elapsed = loop.time() - cpu_started
    server_cpu = sum(used - cpu_before.get(pid, 0.0) for pid, used in cpu_after.items())
    stored = await stored_messages(engine) - stored_before
    rss_busy = server.rss_mb
    tally.counting = False
    if period:  # wait for the answers still due, at most 15 s
        deadline = loop.time() + UNANSWERED_AFTER
        for _poll in range(int(UNANSWERED_AFTER * 10)):
            if loop.time() >= deadline or not any(map(tally.in_window, tally.awaiting.values())):
                break
            await asyncio.sleep(0.1)
        tally.unanswered += sum(map(tally.in_window, tally.awaiting.values()))
    stop.set()
    probed = await finish_probe(probe)
    window_opened = tally.window[0] - (loop.time() - time.time())  # as a Unix time
    stalls = server.loop_stalls(window_opened, window_opened + seconds)
    await asyncio.wait([*buyers, *agents], timeout=20)
    for task in [*buyers, *agents]:
        task.cancel()
    await engine.dispose()

    delivered = sum(1 for _sent, received in tally.deliveries if tally.in_window(received))
    # Closed loops: what arrived in the window; open loop: all that was sent in it.
    latencies = [received - sent for sent, received in tally.deliveries
                 if tally.in_window(sent if period else received)]
    lags = tally.lags
    return {
        "slowest_moments": slowest_moments(tally, period > 0, loop.time() - time.time()),
        "probe": probed, "loop_stalls": stalls, "machine_steal_percent": machine["steal"],
        "machine_iowait_percent": machine["iowait"],
        "workers": server.workers,
        "offered_per_second": rate or None,  # None: closed loops
        "arrivals": arrivals if rate else None,
        "clients": len(seeded.buyers) + len(seeded.agent_tokens),
        "messages_per_second": delivered / seconds,
        # Everything the server stored meanwhile, with the auto-reply domain's answers.
        "stored_per_second": stored / seconds,
        "delivered": delivered,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies, default=math.nan) * 1000,
        "mean_ms": (statistics.fmean(latencies) * 1000) if latencies else math.nan,
        "errors": sum(tally.errors.values()), "error_codes": tally.errors,
        "first_errors": list(tally.first_errors.values()), "unanswered": tally.unanswered,
        "server_cpu_percent": 100 * server_cpu / cpu_elapsed,
        "server_cpu_ms_per_message": 1000 * server_cpu / delivered if delivered else None,
        "client_cpu_percent": 100 * client_cpu / cpu_elapsed,
        "client_lag_p50_ms": percentile(lags, 0.50) * 1000 if period else None,
        "client_lag_p99_ms": percentile(lags, 0.99) * 1000 if period else None,
        "client_lag_max_ms": max(lags, default=math.nan) * 1000 if period else None,
        "client_late_sends": sum(lag > LATE for lag in lags) if period else None,
        "client_sends": len(lags) if period else None,
        "load_average": os.getloadavg()[0],
        "rss_idle_mb": rss_idle, "rss_connected_mb": rss_connected, "rss_busy_mb": rss_busy,
        **spread,
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
    if server.workers > 1:
        gauge = f"one worker's {gauge}"
    per_worker = server.per_worker([ws.local_address[1] for ws in sockets]) \
        if server.workers > 1 else [count]
    probe = time.perf_counter()
    await sockets[-1].send(json.dumps({"type": "ping"}))
    while json.loads(await sockets[-1].recv())["type"] != "pong":
        pass
    pong_ms = (time.perf_counter() - probe) * 1000
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {"sockets": count, "opened_in_s": opened_in, "rss_before_mb": before,
            "rss_after_mb": after, "kb_per_socket": (after - before) * 1024 / count,
            "gauge": gauge, "sockets_per_worker": per_worker, "ping_ms_under_load": pong_ms}


# --- main -----------------------------------------------------------------------------------


async def bench_one(kind: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """``args.runs`` measurements on one server, each beside a raw commit rate measured just
    before it (both vary from run to run on a shared machine)."""
    from kefu.kit import migrate

    url = await fresh_database(kind)
    await asyncio.to_thread(migrate.upgrade, url)  # Alembic runs its own event loop
    seeded = await seed(url, args.stores, args.buyers_per_store, args.hours)
    server = Server(url, args.workers, args.redis_url)
    results: list[dict[str, Any]] = []
    try:
        for run in range(1, args.runs + 1):
            raw = await raw_commit_rate(url, args.raw_seconds, as_configured=False)
            raw_kit = await raw_commit_rate(url, args.raw_seconds, as_configured=True) \
                if kind == "sqlite" else raw
            result: dict[str, Any] = {"database": kind, "run": run, "hours": args.hours,
                                      "raw_commits_per_second": raw,
                                      "raw_commits_per_second_kit_engine": raw_kit}
            result.update(await throughput(server, seeded, url, args.seconds, args.rate,
                                           args.warm_up, args.arrivals, run))
            result["percent_of_raw_commits"] = 100 * result["messages_per_second"] / raw
            results.append(result)
        if args.idle:
            results[-1]["idle"] = await idle(server, [t for t, _c, _s in seeded.buyers],
                                             args.idle)
        return results
    finally:
        server.stop()


def median_run(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The median run (the lower middle one): by share of the raw commit rate in closed
    loops, by p99 latency (the higher middle one) in an open loop."""
    if results[0]["offered_per_second"]:
        ordered = sorted(results, key=lambda r: r["p99_ms"])
        return ordered[len(ordered) // 2]
    ordered = sorted(results, key=lambda r: r["percent_of_raw_commits"])
    return ordered[(len(ordered) - 1) // 2]


def goals(r: dict[str, Any]) -> list[str]:
    """The issue's goals, as far as this run can judge them."""
    share, offered = r["percent_of_raw_commits"], r["offered_per_second"]
    kept_up = bool(offered) and r["messages_per_second"] >= 0.95 * offered and not r["unanswered"]
    if share >= 50:
        verdict = "met"
    elif kept_up and offered < r["raw_commits_per_second"] / 2:
        verdict = "offered too little to judge"  # the server kept up with all it was given
    else:
        verdict = "not met"
    lines = [f"end-to-end {r['messages_per_second']:.0f} msg/s = {share:.0f} % of the raw "
             f"commit rate (goal ≥ 50 %): {verdict}"]
    if offered:
        verdict = "judge with --rate 500" if offered < 500 else \
            "met" if kept_up and r["p99_ms"] <= 50 else "not met"
        lines.append(f"p99 {r['p99_ms']:.1f} ms with {r['messages_per_second']:.0f} of "
                     f"{offered:.0f} msg/s offered, {r['arrivals']} arrivals "
                     f"(goal ≤ 50 ms at 500 msg/s): {verdict}")
    if "idle" in r:
        i = r["idle"]
        verdict = "judge with --idle 2000" if i["sockets"] < 2000 else \
            "met" if i["rss_after_mb"] < 1024 else "not met"
        lines.append(f"{i['sockets']} idle sockets, server RSS {i['rss_after_mb']:.0f} MB "
                     f"(goal 2,000 under 1 GB): {verdict}")
    return lines


def machine_times() -> dict[str, int]:
    """The machine's CPU time so far by kind (/proc/stat, in clock ticks): ``steal`` is
    time the hypervisor gave to others, ``iowait`` idle time with a disk write pending."""
    names = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
    with open("/proc/stat") as stat:
        return dict(zip(names, map(int, stat.readline().split()[1:9]), strict=True))


async def start_probe(url: str, since: float, until: float) -> asyncio.subprocess.Process:
    """bench/stall_probe.py beside the server, counting from ``since`` to ``until``: its
    commits and its timer's wake-ups show whether the database or the machine stalled while
    the server did."""
    return await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).with_name("stall_probe.py")), "--url", url,
        "--since", str(since), "--until", str(until), stdout=asyncio.subprocess.PIPE)


async def finish_probe(probe: asyncio.subprocess.Process) -> dict[str, Any] | None:
    try:
        async with asyncio.timeout(30):
            out, _ = await probe.communicate()
    except TimeoutError:
        probe.kill()
        return None
    found: dict[str, Any] = json.loads(out) if probe.returncode == 0 and out else None
    return found


def slowest_moments(tally: Tally, open_loop: bool, clock_offset: float,
                    slot: float = 0.1, count: int = 3) -> list[dict[str, Any]]:
    """Where the tail came from: the ``slot``-long stretches of the window whose deliveries
    (by send time) had the highest latency, each with its wall-clock time (to match a
    server's log), its offset into the window, how many were delivered and how many took
    longer than 50 ms. A queue that builds up shows as neighbouring slots; a single
    stall of the server as one."""
    slots: dict[int, list[float]] = {}
    for sent, received in tally.deliveries:
        if tally.in_window(sent if open_loop else received):
            slots.setdefault(int((sent - tally.window[0]) / slot), []).append(received - sent)
    worst = sorted(slots.items(), key=lambda item: max(item[1]), reverse=True)[:count]
    return [{"at": datetime.fromtimestamp(tally.window[0] + index * slot - clock_offset, UTC)
             .strftime("%H:%M:%S.%f")[:-3],
             "offset_s": round(index * slot, 1), "max_ms": round(max(found) * 1000, 1),
             "delivered": len(found), "over_50_ms": sum(v > 0.05 for v in found)}
            for index, found in worst]


def report(results: list[dict[str, Any]], machine: dict[str, float | None]) -> None:
    print()
    round_trip = machine["asyncpg_round_trip_us"]
    print(f"machine, before the runs (see machine.py): a fixed Python loop took "
          f"{machine['python_loop_ms']:.0f} ms of CPU"
          + (f", a bare asyncpg round trip {round_trip:.0f} µs" if round_trip else ""))
    print(f"{'database':<11}{'workers':>8}{'clients':>8}{'offered':>8}{'msg/s':>8}"
          f"{'% raw':>7}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}"
          f"{'raw commits/s (pooled/kit)':>28}{'RSS idle/conn/busy MB':>24}"
          f"{'errors/unanswered':>19}")
    for r in results:
        rss = f"{r['rss_idle_mb']:.0f}/{r['rss_connected_mb']:.0f}/{r['rss_busy_mb']:.0f}"
        raw = f"{r['raw_commits_per_second']:.0f}/{r['raw_commits_per_second_kit_engine']:.0f}"
        offered = f"{r['offered_per_second']:.0f}" if r["offered_per_second"] else "closed"
        print(f"{r['database']:<11}{r['workers']:>8}{r['clients']:>8}{offered:>8}"
              f"{r['messages_per_second']:>8.0f}{r['percent_of_raw_commits']:>6.0f}%"
              f"{r['p50_ms']:>8.1f}{r['p99_ms']:>8.1f}{r['max_ms']:>8.0f}{raw:>28}"
              f"{rss:>24}{str(r['errors']) + '/' + str(r['unanswered']):>19}")
    for r in results:
        print(f"{r['database']}: {r['stored_per_second']:.0f} messages/s stored in all "
              f"(with automatic answers); "
              f"server CPU {r['server_cpu_percent']:.0f}% of one core "
              f"({r['workers']} worker(s)), "
              f"{r['server_cpu_ms_per_message'] or 0:.1f} ms CPU per delivered message; "
              f"client CPU {r['client_cpu_percent']:.0f}%; "
              f"machine load average {r['load_average']:.1f} on {os.cpu_count()} CPUs")
        if r["offered_per_second"]:
            print(f"{r['database']}: client lag behind its send schedule p50/p99/max "
                  f"{r['client_lag_p50_ms']:.1f}/{r['client_lag_p99_ms']:.1f}/"
                  f"{r['client_lag_max_ms']:.1f} ms; "
                  f"{r['client_late_sends']} of {r['client_sends']} sends more than "
                  f"{LATE * 1000:.0f} ms late")
        if r["offered_per_second"] and r["p99_ms"] > 50:
            print(f"{r['database']}: slowest moments (sent then; UTC): " + "; ".join(
                f"{m['at']} (+{m['offset_s']} s) max {m['max_ms']:.0f} ms, "
                f"{m['over_50_ms']} of {m['delivered']} over 50 ms"
                for m in r["slowest_moments"]))
        if r.get("loop_stalls"):
            stalls = r["loop_stalls"]
            print(f"{r['database']}: the server's event loop was held past its warning "
                  f"threshold "
                  f"{len(stalls)} time(s) in the window: " + "; ".join(
                      f"{datetime.fromtimestamp(m['at'], UTC).strftime('%H:%M:%S.%f')[:-3]} "
                      f"{m['held_ms']} ms ({m['loop_cpu_ms']} ms of its CPU) in {m['where']}"
                      + "".join(f", GC gen{g['generation']} {g['ms']:.0f} ms" for g in m["gc"])
                      for m in stalls[:5]))
        probed = r.get("probe")
        if probed:
            commit, wake = probed["commit"], probed["wake_up"]
            slow = [f"{m['what']} {m['ms']:.0f} ms at "
                    f"{datetime.fromtimestamp(m['at'], UTC).strftime('%H:%M:%S.%f')[:-3]}"
                    for m in sorted(probed["slow"], key=lambda m: -m["ms"])[:5]]
            print(f"{r['database']}: beside the server, a probe's commits p50/p99/max "
                  f"{commit['p50_ms']:.1f}/{commit['p99_ms']:.1f}/{commit['max_ms']:.0f} ms, "
                  f"its timer late p99/max {wake['p99_ms']:.1f}/{wake['max_ms']:.0f} ms; "
                  f"machine steal {r['machine_steal_percent']:.1f} %, iowait "
                  f"{r['machine_iowait_percent']:.1f} %"
                  + (f"; slow: {', '.join(slow)}" if slow else ""))
        if "sockets_per_worker" in r:
            print(f"{r['database']}: sockets per worker "
                  f"{'/'.join(map(str, r['sockets_per_worker']))}; "
                  f"{r['buyers_apart_from_agent_percent']:.0f}% of buyers on another process "
                  f"than their store's agent")
    for r in results:
        if "idle" in r:
            i = r["idle"]
            print(f"{r['database']}: {i['sockets']} idle sockets opened in "
                  f"{i['opened_in_s']:.1f} s; server RSS {i['rss_before_mb']:.0f} → "
                  f"{i['rss_after_mb']:.0f} MB ({i['kb_per_socket']:.1f} KB per socket; "
                  f"per worker {'/'.join(map(str, i['sockets_per_worker']))}); "
                  f"{i['gauge']}; ping with all open {i['ping_ms_under_load']:.1f} ms")
    for kind in dict.fromkeys(r["database"] for r in results):
        runs = [r for r in results if r["database"] == kind]
        chosen = median_run(runs)
        if len(runs) > 1:
            shares = sorted(r["percent_of_raw_commits"] for r in runs)
            rates = sorted(r["messages_per_second"] for r in runs)
            print(f"{kind}: {len(runs)} runs: {rates[0]:.0f}–{rates[-1]:.0f} msg/s, "
                  f"{shares[0]:.0f}–{shares[-1]:.0f} % of the raw commit rate; the goals "
                  f"below are judged on the median run ({chosen['run']})")
        idle_run = next((r for r in runs if "idle" in r), None)
        if idle_run is not None and "idle" not in chosen:
            chosen = {**chosen, "idle": idle_run["idle"]}
        for line in goals(chosen):
            print(f"{kind}: {line}")
    print()
    print(json.dumps(results, indent=1, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per run")
    parser.add_argument("--warm-up", type=float, default=5.0,
                        help="seconds of load before the measured time (a fresh server is "
                             "slow for two or three: it opens its pooled connections and "
                             "fills its caches; each conversation's first exchange, with "
                             "its welcome, is part of the seed)")
    parser.add_argument("--raw-seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=1,
                        help="measurements per database on the same server, each beside its "
                             "own raw commit rate; the goals are judged on the median")
    parser.add_argument("--stores", type=int, default=20, help="one agent each")
    parser.add_argument("--buyers-per-store", type=int, default=10)
    parser.add_argument("--idle", type=int, default=2000, help="idle sockets (0: skip)")
    parser.add_argument("--hours", choices=["open", "closed"], default="open",
                        help="stores open around the clock (agents answer, auto-replies "
                             "only where a keyword matches) or closed for the day (each "
                             "buyer's wait also brings an off-hours notice)")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes; more than one use Redis (--redis-url)")
    parser.add_argument("--redis-url", default=REDIS_URL, help="for --workers above 1")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="open loop: messages/s delivered in all (half buyers', half "
                             "agents' answers) on a fixed schedule; 0: closed loops")
    parser.add_argument("--arrivals", choices=["even", "poisson"], default="even",
                        help="open loop: buyers' sends evenly spaced (a constant rate) or "
                             "a Poisson stream (random, with bursts)")
    args = parser.parse_args()
    if args.workers < 1 or args.rate < 0 or args.runs < 1:
        parser.error("--workers and --runs must be at least 1 and --rate at least 0")
    if args.workers > 1:
        if os.environ.get("BENCH_PROFILE"):
            parser.error("BENCH_PROFILE profiles one process: use --workers 1")
        import redis

        try:
            redis.Redis.from_url(args.redis_url, socket_timeout=2).ping()
        except redis.RedisError as error:
            parser.error(f"--workers {args.workers} needs Redis at {args.redis_url}: {error}")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, args.idle * 2 + 1000))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # the server inherits it
    os.environ.setdefault("KEFU_SECRET_KEY", SECRET)
    machine: dict[str, float | None] = {
        "python_loop_ms": python_loop_ms(),
        # (on uvloop, as the server; only where PostgreSQL is measured, so runs there)
        "asyncpg_round_trip_us": uvloop.run(asyncpg_round_trip_us())
        if "postgresql" in args.databases else None}
    results = []
    for kind in args.databases:
        results.extend(asyncio.run(bench_one(kind, args)))
    for result in results:
        result["machine"] = machine
    report(results, machine)


if __name__ == "__main__":
    main()
