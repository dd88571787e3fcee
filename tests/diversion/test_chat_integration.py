"""Diversion on the chat's send path: refused for merchants, warned for buyers, penalised."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import commit
from factories import (
    bearer,
    make_agent,
    make_buyer,
    make_store,
    make_store_chat,
    make_user,
    principal,
)
from kefu.accounts.roles import Role
from kefu.chat import service as chat


async def _world(session: AsyncSession):  # type: ignore[no-untyped-def]
    store, owner = await make_store(session, deposit_fen=200_000)
    agent = await make_agent(session, store)
    await chat.set_agent_status(session, principal(agent), "online", 5)
    buyer = await make_buyer(session)
    conversation = await chat.open_conversation(session, principal(buyer), store.id)
    staff = await make_user(session, Role.PLATFORM_AGENT)
    headers = {"buyer": await bearer(session, buyer), "agent": await bearer(session, agent),
               "owner": await bearer(session, owner), "staff": await bearer(session, staff)}
    ids = {"store": store.id, "conversation": conversation.id}
    await commit(session)
    return ids, headers


async def _send(client: httpx.AsyncClient, cid: int, headers: dict[str, str], text: str,
                client_msg_id: str) -> httpx.Response:
    return await client.post(f"/api/conversations/{cid}/messages", headers=headers,
                             json={"client_msg_id": client_msg_id, "kind": "text", "text": text})


async def test_merchant_contact_is_refused_recorded_and_second_time_fined(
        client: httpx.AsyncClient, session: AsyncSession) -> None:
    ids, headers = await _world(session)
    cid = ids["conversation"]
    refused = await _send(client, cid, headers["agent"], "加V：abc_8899", "m1")
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "diversion_blocked" and "微信" in error["message"]
    texts = [m["text"] for m in (await client.get(f"/api/conversations/{cid}/messages",
                                                  headers=headers["buyer"])).json()["messages"]]
    assert "加V：abc_8899" not in texts
    listed = (await client.get("/api/violations", headers=headers["staff"])).json()
    assert len(listed) == 1 and listed[0]["penalty"] == "warning"
    # A retry of the same refused message is the same attempt.
    await _send(client, cid, headers["agent"], "加V：abc_8899", "m1")
    assert len((await client.get("/api/violations", headers=headers["staff"])).json()) == 1
    fined = await _send(client, cid, headers["agent"], "打我电话 139 1234 5678", "m2")
    assert fined.status_code == 422
    deposit = (await client.get(f"/api/stores/{ids['store']}/deposit",
                                headers=headers["owner"])).json()
    assert deposit["balance_fen"] == 180_000
    products = await client.get(f"/api/stores/{ids['store']}/products")
    assert products.status_code == 200


async def test_contact_split_over_messages_is_caught(client: httpx.AsyncClient,
                                                     session: AsyncSession) -> None:
    ids, headers = await _world(session)
    cid = ids["conversation"]
    assert (await _send(client, cid, headers["agent"], "亲，有事可以打", "s1")).status_code == 201
    assert (await _send(client, cid, headers["agent"], "一三八", "s2")).status_code in (201, 422)
    last = await _send(client, cid, headers["agent"], "1234 5678", "s3")
    assert last.status_code == 422


async def test_buyer_contact_is_delivered_with_a_warning_only_the_buyer_sees(
        client: httpx.AsyncClient, session: AsyncSession) -> None:
    ids, headers = await _world(session)
    cid = ids["conversation"]
    sent = await _send(client, cid, headers["buyer"], "你加我微信吧 buyer_abc123", "b1")
    assert sent.status_code == 201 and sent.json()["warning"]
    agent_view = (await client.get(f"/api/conversations/{cid}/messages",
                                   headers=headers["agent"])).json()["messages"]
    mine = [m for m in agent_view if m["client_msg_id"] == "b1"]
    assert mine and mine[0]["warning"] is None
    listed = (await client.get("/api/violations?side=buyer", headers=headers["staff"])).json()
    assert len(listed) == 1 and listed[0]["penalty"] == "none"


async def test_a_refusal_still_pushes_the_violation_notice_after_commit(
        client: httpx.AsyncClient, session: AsyncSession) -> None:
    from kefu.kit.events import get_broker

    world = await make_store_chat(session)
    cid, owner_id = world.conversation_id, world.owner.id
    headers = await bearer(session, world.agent)
    await commit(session)
    subscription = await get_broker().subscribe(f"user:{owner_id}")
    try:
        refused = await _send(client, cid, headers, "加V：abc_8899", "n1")
        assert refused.status_code == 422 and refused.json()["error"]["details"]["matched"]
        events = []
        while not subscription.queue.empty():
            events.append(subscription.queue.get_nowait())
        assert any(e.get("type") == "notification" for e in events)
    finally:
        await subscription.close()
