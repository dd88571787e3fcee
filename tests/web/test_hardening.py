"""Bad input gets a clear 4xx and changes nothing; secrets stay out of logs; the demo never
writes into a production database."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import commit
from factories import bearer, make_agent, make_buyer, make_store, make_store_chat, principal
from kefu.chat import hooks
from kefu.chat import service as chat
from kefu.kit.logs import configure_logging


async def test_non_ascii_csrf_token_is_refused_not_a_crash(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    r = await client.post("/login", data={"username": "x", "password": "y", "csrf_token": "中"})
    assert r.status_code == 403
    r = await client.post("/api/addresses", json={}, headers={"X-CSRF-Token": "é".encode("latin-1")})
    assert r.status_code in (401, 403)


async def test_ids_too_large_for_the_database_are_bad_input(client: httpx.AsyncClient,
                                                            session: AsyncSession) -> None:
    buyer = await make_buyer(session)
    headers = await bearer(session, buyer)
    await commit(session)
    for path in ("/api/orders/99999999999999999999", "/products/99999999999999999999",
                 "/api/conversations/99999999999999999999"):
        r = await client.get(path, headers=headers)
        assert r.status_code in (404, 422), (path, r.status_code)


async def test_product_form_limits(client: httpx.AsyncClient, session: AsyncSession) -> None:
    store, owner = await make_store(session)
    store_id = store.id
    headers = await bearer(session, owner)
    await commit(session)
    sizes = ",".join(f"S{i}" for i in range(30))
    colours = ",".join(f"C{i}" for i in range(30))
    r = await client.post("/store/products", headers=headers, follow_redirects=False,
                          data={"title": "很多规格", "price_yuan": "inf", "stock": "5",
                                "sizes": sizes, "colours": colours})
    assert r.status_code == 303 and r.headers["location"] == "/store/products"
    listed = await client.get(f"/api/stores/{store_id}/products", headers=headers)
    assert listed.status_code == 200 and listed.json() == []
    big = await client.post("/store/products", headers=headers, follow_redirects=False,
                            data={"title": "x", "price_yuan": "1", "stock": "99999999999999"})
    assert big.status_code == 422


async def test_oversized_bodies_are_refused_before_reading(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/transcripts/verify", content=b"[" * 200,
                          headers={"content-length": str(64 * 1024 * 1024)})
    assert r.status_code == 413


async def test_deeply_nested_transcript_is_bad_input(client: httpx.AsyncClient,
                                                     session: AsyncSession) -> None:
    buyer = await make_buyer(session)
    headers = await bearer(session, buyer)
    await commit(session)
    r = await client.post("/api/transcripts/verify", content=b"[" * 200_000,
                          headers={**headers, "content-type": "application/json"})
    assert r.status_code == 422


async def test_disabled_agent_goes_offline_and_gets_no_new_chats(session: AsyncSession) -> None:
    from kefu.accounts import service as accounts

    store, owner = await make_store(session)
    agent = await make_agent(session, store)
    await chat.set_agent_status(session, principal(agent), "online", 5)
    await accounts.set_agent_active(session, principal(owner), agent.id, False)
    buyer = await make_buyer(session)
    conversation = await chat.open_conversation(session, principal(buyer), store.id)
    await chat.send_message(session, principal(buyer), conversation.id, client_msg_id="d1",
                            text="在吗")
    facts = await chat.conversation_facts(session, conversation.id)
    assert facts.assigned_agent_id is None  # queued, not given to the disabled agent


async def test_a_failing_screen_refuses_store_messages_but_not_buyers(
        client: httpx.AsyncClient, session: AsyncSession) -> None:
    world = await make_store_chat(session)
    cid = world.conversation_id
    agent_headers = await bearer(session, world.agent)
    buyer_headers = await bearer(session, world.buyer)
    await commit(session)

    async def broken(session: AsyncSession, ctx: hooks.ScreenContext) -> None:
        raise RuntimeError("detector crashed")

    hooks.register_screen("test-broken", broken)
    try:
        store_side = await client.post(f"/api/conversations/{cid}/messages",
                                       headers=agent_headers,
                                       json={"client_msg_id": "f1", "kind": "text",
                                             "text": "您好"})
        assert store_side.status_code == 503
        buyer_side = await client.post(f"/api/conversations/{cid}/messages",
                                       headers=buyer_headers,
                                       json={"client_msg_id": "f2", "kind": "text",
                                             "text": "你好"})
        assert buyer_side.status_code == 201
    finally:
        hooks.unregister_screen("test-broken")


def test_tokens_and_invitation_links_are_redacted_in_logs(capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    configure_logging("INFO", json_lines=True)
    logging.getLogger("uvicorn.error").info('"WebSocket %s" [accepted]', "/ws?token=SECRET1")
    logging.getLogger("kefu.http").info("GET /invite/SECRET2")
    err = capsys.readouterr().err
    assert "SECRET1" not in err and "SECRET2" not in err and "token=***" in err
    for line in err.strip().splitlines():
        json.loads(line)


def test_demo_refuses_to_run_outside_demo_mode() -> None:
    env = {**os.environ, "KEFU_MODE": "prod"}
    result = subprocess.run([sys.executable, "-m", "kefu.cli", "demo", "--no-serve"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
