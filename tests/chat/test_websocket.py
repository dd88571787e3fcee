"""The WebSocket against real servers (uvicorn subprocesses) on their own database: live
delivery both ways, ping, resume after a reconnect, and two processes joined by Redis."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import websockets

from conftest import (
    TEST_DATABASE_URL,
    _recreate_postgres_database,
    is_postgres,
    redis_available,
)
from factories import make_agent, make_buyer, make_store, principal
from kefu.accounts import service as accounts
from kefu.chat import service
from kefu.kit import clock as clock_module
from kefu.kit import migrate
from kefu.kit.db import Database

pytestmark = [pytest.mark.committing, pytest.mark.slow]

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[2]
Frame = dict[str, Any]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def ws_database_url() -> str:
    """A database of its own: the servers commit for real."""
    if is_postgres():
        base, _sep, name = TEST_DATABASE_URL.rpartition("/")
        url = f"{base}/{name}_ws"
        asyncio.run(_recreate_postgres_database(url))
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='kefu-ws-')) / 'ws.db'}"
    migrate.upgrade(url)
    return url


class Server:
    def __init__(self, database_url: str, redis_url: str | None,
                 **settings: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkdtemp(prefix="kefu-ws-log-")) / "server.log"
        env = {**os.environ, "KEFU_DATABASE_URL": database_url, "KEFU_MODE": "test",
               "KEFU_SECRET_KEY": "ws-test-secret", "KEFU_RUN_SWEEPER_IN_SERVER": "false",
               "KEFU_LOG_JSON": "false", "KEFU_LOG_LEVEL": "WARNING",
               "KEFU_UPLOAD_DIR": str(self.log.parent / "uploads")}
        env.pop("KEFU_REDIS_URL", None)
        env.update({f"KEFU_{name.upper()}": value for name, value in settings.items()})
        if redis_url:
            env["KEFU_REDIS_URL"] = redis_url
        kefu = Path(sys.executable).parent / "kefu"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(kefu), "serve", "--no-migrate", "--host", "127.0.0.1", "--port",
                 str(self.port)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log.read_text()[-3000:]}")

    def ws(self, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws?token={token}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class World:
    store_id: int
    agent_id: int
    buyer_ids: list[int]
    agent_token: str
    buyer_tokens: list[str]
    buyer_cookie: str


@pytest_asyncio.fixture(scope="module")
async def world(ws_database_url: str) -> AsyncIterator[World]:
    db = Database(ws_database_url)
    # The servers run on the real clock; so must what we seed (tokens expire).
    previous = clock_module.get_clock()
    clock_module.set_clock(clock_module.Clock())
    try:
        async with db.unit_of_work() as session:
            store, _owner = await make_store(session)
            agent = await make_agent(session, store)
            buyers = [await make_buyer(session) for _ in range(6)]
            await service.set_agent_status(session, principal(agent), "online", 50)
            agent_token = (await accounts.open_session(session, agent, "bearer")).token
            tokens = [(await accounts.open_session(session, b, "bearer")).token for b in buyers]
            cookie = (await accounts.open_session(session, buyers[3], "cookie")).token
            found = World(store.id, agent.id, [b.id for b in buyers], agent_token, tokens,
                          cookie)
    finally:
        clock_module.set_clock(previous)
        await db.dispose()
    yield found


@pytest.fixture(scope="module")
def server(ws_database_url: str, world: World) -> Iterator[Server]:
    running = Server(ws_database_url, None)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def redis_pair(ws_database_url: str, world: World) -> Iterator[tuple[Server, Server]]:
    if not redis_available():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    first = Server(ws_database_url, REDIS_URL)
    try:
        second = Server(ws_database_url, REDIS_URL)
    except Exception:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


async def recv_until(socket_: Any, wanted: Callable[[Frame], bool]) -> Frame:
    """The first frame that matches (others are skipped), within 10 seconds."""
    async with asyncio.timeout(10):
        while True:
            frame: Frame = json.loads(await socket_.recv())
            if wanted(frame):
                return frame


def is_message(text: str) -> Callable[[Frame], bool]:
    return lambda f: f.get("type") == "message" and f["message"]["text"] == text


async def _open(base: str, token: str, store_id: int) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        opened = await http.post("/api/conversations", json={"store_id": store_id},
                                 headers={"Authorization": f"Bearer {token}"})
        assert opened.status_code == 200, opened.text
        return int(opened.json()["id"])


async def _post(base: str, token: str, conversation_id: int, text: str, key: str) -> Frame:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        sent = await http.post(f"/api/conversations/{conversation_id}/messages",
                               json={"client_msg_id": key, "text": text},
                               headers={"Authorization": f"Bearer {token}"})
        assert sent.status_code == 201, sent.text
        result: Frame = sent.json()
        return result


async def test_live_messages_both_ways(server: Server, world: World) -> None:
    buyer_token = world.buyer_tokens[0]
    conversation_id = await _open(server.base, buyer_token, world.store_id)
    async with websockets.connect(server.ws(buyer_token)) as buyer, \
            websockets.connect(server.ws(world.agent_token)) as agent, \
            websockets.connect(server.ws(world.agent_token)) as agent_tab:
        await recv_until(agent_tab, lambda f: f["type"] == "hello")
        hello = await recv_until(buyer, lambda f: f["type"] == "hello")
        assert hello["user_id"] == world.buyer_ids[0]
        await recv_until(agent, lambda f: f["type"] == "hello")
        await buyer.send(json.dumps({"type": "ping"}))
        assert (await recv_until(buyer, lambda f: f["type"] == "pong"))["type"] == "pong"
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"{server.base}/metrics")).text
        assert "kefu_websockets_open 3.0" in metrics
        posted = await _post(server.base, buyer_token, conversation_id, "在吗？", "ws-b1")
        got = await recv_until(agent, is_message("在吗？"))
        assert got["message"]["seq"] == posted["seq"]
        # The agent answers over the socket: acknowledged once committed.
        await agent.send(json.dumps({"type": "send", "conversation_id": conversation_id,
                                     "client_msg_id": "ws-a1", "text": "在的，亲"}))
        frames: list[Frame] = []  # everything the sending socket gets until the ack
        async with asyncio.timeout(10):
            while (ack := json.loads(await agent.recv()))["type"] != "ack":
                frames.append(ack)
        assert ack["client_msg_id"] == "ws-a1" and ack["created"] is True
        heard = await recv_until(buyer, is_message("在的，亲"))
        # (The real server runs the auto-reply domain too: a welcome may come in between.)
        assert heard["message"]["seq"] == ack["message"]["seq"] > posted["seq"]
        # The conversation's new state rides on the message event (no wait left open).
        assert heard["conversation"]["id"] == conversation_id
        assert heard["conversation"]["waiting_since"] is None
        # The agent's other tab hears its own answer; the sending socket had it in the ack.
        assert (await recv_until(agent_tab, is_message("在的，亲")))["message"]["seq"] == \
            ack["message"]["seq"]
        await agent.send(json.dumps({"type": "ping"}))
        async with asyncio.timeout(10):
            while (frame := json.loads(await agent.recv()))["type"] != "pong":
                frames.append(frame)
        assert not [f for f in frames if f["type"] == "message"
                    and f["message"]["seq"] == ack["message"]["seq"]]
        # … but the conversation's new state it carried, alone.
        assert any(f["type"] == "conversation" and f["conversation"]["id"] == conversation_id
                   and f["conversation"]["waiting_since"] is None for f in frames)
        # A resend over the socket returns the original.
        await agent.send(json.dumps({"type": "send", "conversation_id": conversation_id,
                                     "client_msg_id": "ws-a1", "text": "在的，亲"}))
        again = await recv_until(agent, lambda f: f["type"] == "ack")
        assert again["created"] is False and again["message"]["id"] == ack["message"]["id"]
        await agent.send(json.dumps({"type": "send", "conversation_id": conversation_id,
                                     "client_msg_id": "ws-a2", "text": " "}))
        error = await recv_until(agent, lambda f: f["type"] == "error")
        assert error["error"]["code"] == "empty_message" and error["client_msg_id"] == "ws-a2"


@pytest.mark.skipif(not is_postgres(), reason="a row lock held from outside the server")
async def test_a_send_that_finds_no_free_connection_is_answered_busy_and_may_be_resent(
        ws_database_url: str, world: World) -> None:
    """A server with one pooled connection: while one send holds it (waiting for a row lock
    taken here), another socket's send gets no connection in time. It is answered `busy`,
    the socket stays open, and the same frame sent again is stored once."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    small = Server(ws_database_url, None, database_pool_size="1",
                   database_pool_timeout_seconds="0.5")
    locker = create_async_engine(ws_database_url)
    try:
        first_token, second_token = world.buyer_tokens[4], world.buyer_tokens[5]
        first = await _open(small.base, first_token, world.store_id)
        second = await _open(small.base, second_token, world.store_id)
        async with websockets.connect(small.ws(first_token)) as first_socket, \
                websockets.connect(small.ws(second_token)) as second_socket:
            await recv_until(first_socket, lambda f: f["type"] == "hello")
            await recv_until(second_socket, lambda f: f["type"] == "hello")
            frame = {"type": "send", "conversation_id": second, "client_msg_id": "busy-2",
                     "text": "有货吗"}
            async with locker.connect() as connection:
                transaction = await connection.begin()
                await connection.execute(text("SELECT id FROM chat_conversation WHERE id = :id "
                                              "FOR UPDATE"), {"id": first})
                await first_socket.send(json.dumps({
                    "type": "send", "conversation_id": first, "client_msg_id": "busy-1",
                    "text": "在吗"}))
                await asyncio.sleep(0.5)  # the first send holds the connection, waiting
                await second_socket.send(json.dumps(frame))
                busy = await recv_until(second_socket, lambda f: f["type"] in ("error", "ack"))
                assert busy["type"] == "error" and busy["client_msg_id"] == "busy-2"
                assert busy["error"]["code"] == "busy"
                assert busy["error"]["message"] == "系统繁忙，请稍后再试"
                await transaction.rollback()
            first_ack = await recv_until(first_socket, lambda f: f["type"] == "ack")
            assert first_ack["client_msg_id"] == "busy-1" and first_ack["created"] is True
            await second_socket.send(json.dumps(frame))  # the same frame again
            second_ack = await recv_until(second_socket, lambda f: f["type"] == "ack")
            assert second_ack["created"] is True and second_ack["message"]["text"] == "有货吗"
        async with locker.connect() as connection:
            stored = await connection.scalar(text(
                "SELECT count(*) FROM chat_message WHERE conversation_id = :id "
                "AND client_msg_id = 'busy-2'"), {"id": second})
        assert stored == 1
    finally:
        await locker.dispose()
        small.stop()


async def test_a_bad_token_is_closed(server: Server) -> None:
    async with websockets.connect(server.ws("not-a-token")) as rejected:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(rejected.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_cookies_only_from_our_own_pages_and_logins_are_rechecked(
        server: Server, world: World, ws_database_url: str) -> None:
    url = f"ws://127.0.0.1:{server.port}/ws"
    cookie = {"Cookie": f"kefu_session={world.buyer_cookie}"}
    async with websockets.connect(url, additional_headers={
            **cookie, "Origin": f"http://127.0.0.1:{server.port}"}) as own_page:
        assert (await recv_until(own_page, lambda f: f["type"] == "hello"))["user_id"] == \
            world.buyer_ids[3]
        await own_page.send(b"\x00binary")
        assert (await recv_until(own_page, lambda f: f["type"] == "error"))["error"][
            "code"] == "bad_frame"
    async with websockets.connect(url, additional_headers={
            **cookie, "Origin": "https://evil.example"}) as cross_site:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(cross_site.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    # Logged out while connected: the next operation is refused and the socket closed.
    conversation_id = await _open(server.base, world.buyer_tokens[3], world.store_id)
    async with websockets.connect(server.ws(world.buyer_tokens[3])) as ws:
        await recv_until(ws, lambda f: f["type"] == "hello")
        db = Database(ws_database_url)
        try:
            async with db.unit_of_work() as session:
                await accounts.log_out(session, world.buyer_tokens[3])
        finally:
            await db.dispose()
        await ws.send(json.dumps({"type": "send", "conversation_id": conversation_id,
                                  "client_msg_id": "gone", "text": "还在吗"}))
        refused = await recv_until(ws, lambda f: f["type"] == "error")
        assert refused["error"]["code"] == "bad_token"
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)


async def test_resume_sends_exactly_the_missed_messages(server: Server, world: World) -> None:
    buyer_token = world.buyer_tokens[1]
    conversation_id = await _open(server.base, buyer_token, world.store_id)
    first = await _post(server.base, buyer_token, conversation_id, "第一条", "r-1")
    async with websockets.connect(server.ws(buyer_token)) as buyer:
        await recv_until(buyer, lambda f: f["type"] == "hello")
    # Offline while the store answers three times.
    for n in range(3):
        await _post(server.base, world.agent_token, conversation_id, f"回复{n}", f"r-a{n}")
    async with websockets.connect(server.ws(buyer_token)) as buyer:
        await recv_until(buyer, lambda f: f["type"] == "hello")
        await buyer.send(json.dumps({"type": "resume",
                                     "conversations": {str(conversation_id): first["seq"],
                                                       "999999": 0}}))
        frames: list[Frame] = []
        while True:
            frame = json.loads(await asyncio.wait_for(buyer.recv(), 10))
            if frame["type"] == "resumed":
                break
            if frame["type"] == "message":
                frames.append(frame)
        # Exactly what was missed: everything after the mark, as the database has it (the
        # real server's auto-reply domain may have answered the first message too).
        async with httpx.AsyncClient(base_url=server.base) as http:
            stored = (await http.get(
                f"/api/conversations/{conversation_id}/messages?after_seq={first['seq']}",
                headers={"Authorization": f"Bearer {buyer_token}"})).json()["messages"]
        assert [(f["message"]["id"], f["message"]["seq"]) for f in frames] == [
            (m["id"], m["seq"]) for m in stored]
        assert [m["seq"] for m in stored] == list(range(first["seq"] + 1,
                                                        first["seq"] + 1 + len(stored)))
        assert [f["message"]["text"] for f in frames if f["message"]["client_msg_id"]] == [
            "回复0", "回复1", "回复2"]
        assert frame["truncated"] == []
        # And it goes on live after the catch-up.
        await _post(server.base, world.agent_token, conversation_id, "还在吗", "r-a9")
        await recv_until(buyer, is_message("还在吗"))


async def test_two_processes_joined_by_redis(redis_pair: tuple[Server, Server],
                                             world: World) -> None:
    one, other = redis_pair
    buyer_token = world.buyer_tokens[2]
    conversation_id = await _open(one.base, buyer_token, world.store_id)
    async with websockets.connect(one.ws(buyer_token)) as buyer, \
            websockets.connect(other.ws(world.agent_token)) as agent:
        await recv_until(buyer, lambda f: f["type"] == "hello")
        await recv_until(agent, lambda f: f["type"] == "hello")
        # Subscriptions reach Redis asynchronously; a ping round trip on each socket shows
        # the connection is fully set up before we publish.
        for ws in (buyer, agent):
            await ws.send(json.dumps({"type": "ping"}))
            await recv_until(ws, lambda f: f["type"] == "pong")
        await asyncio.sleep(0.2)
        await _post(one.base, buyer_token, conversation_id, "跨进程你好", "x-b1")
        await recv_until(agent, is_message("跨进程你好"))
        await agent.send(json.dumps({"type": "send", "conversation_id": conversation_id,
                                     "client_msg_id": "x-a1", "text": "另一个进程收到"}))
        await recv_until(agent, lambda f: f["type"] == "ack")
        heard = await recv_until(buyer, is_message("另一个进程收到"))
        last_seq = heard["message"]["seq"]
    # Missed messages while away, caught up on the other process.
    await _post(one.base, world.agent_token, conversation_id, "你离线时的消息", "x-a2")
    async with websockets.connect(other.ws(buyer_token)) as buyer:
        await recv_until(buyer, lambda f: f["type"] == "hello")
        await buyer.send(json.dumps({"type": "resume",
                                     "conversations": {str(conversation_id): last_seq}}))
        caught = await recv_until(buyer, lambda f: f["type"] == "message")
        assert caught["message"]["text"] == "你离线时的消息"
        assert caught["message"]["seq"] == last_seq + 1
        await recv_until(buyer, lambda f: f["type"] == "resumed")


def test_a_busy_socket_remembers_only_its_recent_message_events() -> None:
    # Each remembered event costs memory for as long as the socket is open: a server with
    # thousands of busy sockets must not keep thousands of entries for each.
    from kefu.chat import realtime

    socket_ = realtime.SocketSession(None, None, None, None, None, "token", "bearer")  # type: ignore[arg-type]
    for seq in range(1, 10_001):
        assert socket_._mark_seen((7, seq))
    assert len(socket_.seen) == realtime._SEEN_LIMIT <= 256
    assert not socket_._mark_seen((7, 10_000))  # the broker's copy of a recent one: skipped
    assert socket_._mark_seen((7, 1))  # long gone: sent again, and the client dedupes it
