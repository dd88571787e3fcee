"""Auto-replies in the live chat: labelled, right or silent, and never ending a wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import commit
from factories import bearer, make_agent, make_buyer, make_product, make_store, principal
from kefu.accounts.models import User
from kefu.autoreply import service as autoreply
from kefu.autoreply.chat_reaction import may_answer
from kefu.chat import hooks
from kefu.chat import service as chat
from kefu.kit import clock as clock_module

SIZE_ANSWER = "亲，身高155-160选S，160-165选M，报身高体重帮您推荐~"


async def _world(session: AsyncSession):  # type: ignore[no-untyped-def]
    store, owner = await make_store(session)
    product = await make_product(session, owner, title="法式碎花连衣裙")
    agent = await make_agent(session, store)
    await chat.set_agent_status(session, principal(agent), "online", 5)
    await autoreply.save_rule(session, principal(owner), rule_id=None, kind="faq",
                              question="尺码怎么选？", answer=SIZE_ANSWER,
                              examples=["我身高160体重110穿什么码", "选多大的码合适",
                                        "尺码偏大还是偏小"], keywords=[], product_ids=[])
    buyer = await make_buyer(session)
    ids = {"store": store.id, "product": product.id, "owner": owner.id}
    headers = {"buyer": await bearer(session, buyer), "agent": await bearer(session, agent)}
    await commit(session)
    return ids, headers


async def _messages(client: httpx.AsyncClient, cid: int, headers: dict[str, str]
                    ) -> list[dict]:  # type: ignore[type-arg]
    r = await client.get(f"/api/conversations/{cid}/messages", headers=headers)
    assert r.status_code == 200
    return list(r.json()["messages"])


async def _send(client: httpx.AsyncClient, cid: int, headers: dict[str, str], text: str,
                client_msg_id: str) -> httpx.Response:
    return await client.post(f"/api/conversations/{cid}/messages", headers=headers,
                             json={"client_msg_id": client_msg_id, "kind": "text", "text": text})


async def test_size_question_gets_the_labelled_faq_answer_and_the_wait_stays_open(
        client: httpx.AsyncClient, session: AsyncSession) -> None:
    ids, headers = await _world(session)
    opened = await client.post("/api/conversations", headers=headers["buyer"],
                               json={"store_id": ids["store"], "product_id": ids["product"]})
    cid = opened.json()["id"]
    sent = await _send(client, cid, headers["buyer"], "我一米六，一百一十斤穿什么码", "q1")
    assert sent.status_code == 201
    messages = await _messages(client, cid, headers["buyer"])
    autos = [m for m in messages if m["is_auto_reply"]]
    assert [m["auto_reply_kind"] for m in autos] == ["welcome", "faq"]
    assert all(m["label"] == "自动回复" and m["kind"] == "auto_reply" for m in autos)
    assert autos[-1]["text"] == SIZE_ANSWER
    conversation = (await client.get(f"/api/conversations/{cid}",
                                     headers=headers["agent"])).json()
    assert conversation["waiting_since"] is not None  # the bot did not end the wait
    # The human reply ends it; the response-rate facts count one wait, answered by a person.
    await _send(client, cid, headers["agent"], "亲，M码合适哦", "a1")
    conversation = (await client.get(f"/api/conversations/{cid}",
                                     headers=headers["agent"])).json()
    assert conversation["waiting_since"] is None


async def test_complaint_gets_the_after_sales_pointer_not_a_faq_answer(
        client: httpx.AsyncClient, session: AsyncSession) -> None:
    ids, headers = await _world(session)
    opened = await client.post("/api/conversations", headers=headers["buyer"],
                               json={"store_id": ids["store"]})
    cid = opened.json()["id"]
    await _send(client, cid, headers["buyer"], "收到的裙子有个破洞，尺码也不对，我要退款", "q2")
    autos = [m for m in await _messages(client, cid, headers["buyer"]) if m["is_auto_reply"]]
    assert "after_sales" in [m["auto_reply_kind"] for m in autos]
    assert "faq" not in [m["auto_reply_kind"] for m in autos]
    assert "申请售后" in autos[-1]["text"]


async def test_unsure_questions_are_left_to_a_person(
        client: httpx.AsyncClient, session: AsyncSession) -> None:
    ids, headers = await _world(session)
    opened = await client.post("/api/conversations", headers=headers["buyer"],
                               json={"store_id": ids["store"]})
    cid = opened.json()["id"]
    await _send(client, cid, headers["buyer"], "你们家老板是哪里人呀", "q3")
    kinds = [m["auto_reply_kind"] for m in await _messages(client, cid, headers["buyer"])
             if m["is_auto_reply"]]
    assert kinds == ["welcome"]


async def test_off_hours_notice_once_per_wait(client: httpx.AsyncClient, session: AsyncSession,
                                              clock: clock_module.TestClock) -> None:
    # 23:30 in Shanghai: after the default 22:00 closing.
    clock.set(datetime(2026, 6, 1, 15, 30, tzinfo=UTC))
    ids, headers = await _world(session)
    opened = await client.post("/api/conversations", headers=headers["buyer"],
                               json={"store_id": ids["store"]})
    cid = opened.json()["id"]
    await _send(client, cid, headers["buyer"], "在吗", "n1")
    clock.advance(timedelta(minutes=2))
    await _send(client, cid, headers["buyer"], "有人吗", "n2")
    kinds = [m["auto_reply_kind"] for m in await _messages(client, cid, headers["buyer"])
             if m["is_auto_reply"]]
    assert kinds == ["off_hours"]


async def test_a_chatty_buyer_is_welcomed_once_not_at_every_wait(
        client: httpx.AsyncClient, session: AsyncSession, clock: clock_module.TestClock) -> None:
    ids, headers = await _world(session)
    opened = await client.post("/api/conversations", headers=headers["buyer"],
                               json={"store_id": ids["store"]})
    cid = opened.json()["id"]

    async def welcomes() -> int:
        return sum(1 for m in await _messages(client, cid, headers["buyer"])
                   if m["auto_reply_kind"] == "welcome")

    await _send(client, cid, headers["buyer"], "你好", "w1")
    await _send(client, cid, headers["agent"], "您好，在的~", "w2")
    clock.advance(timedelta(hours=1))
    await _send(client, cid, headers["buyer"], "还有一个问题", "w3")  # a new wait
    assert await welcomes() == 1
    await _send(client, cid, headers["agent"], "您说~", "w4")
    clock.advance(timedelta(hours=23))  # the next morning, in working hours
    await _send(client, cid, headers["buyer"], "你好，又来了", "w5")
    assert await welcomes() == 2


def _posted(conversation_id: int, store_id: int, text: str, *,
            wait_started: bool = False) -> hooks.MessagePosted:
    return hooks.MessagePosted(
        conversation_id=conversation_id, store_id=store_id, buyer_id=0, message_id=0, seq=9,
        sender_id=0, kind="text", text=text, created_at=clock_module.now(),
        first_in_conversation=False, wait_id=None, wait_started=wait_started, store_open=True)


async def test_with_warm_caches_the_reaction_is_skipped_only_when_it_would_say_nothing(
        client: httpx.AsyncClient, session: AsyncSession) -> None:
    ids, headers = await _world(session)
    opened = await client.post("/api/conversations", headers=headers["buyer"],
                               json={"store_id": ids["store"]})
    cid, store_id = opened.json()["id"], ids["store"]
    # Cold: the reaction runs (and fills this process's caches on the way).
    assert may_answer(session, _posted(cid, store_id, "你们家老板是哪里人呀", wait_started=True))
    await _send(client, cid, headers["buyer"], "你们家老板是哪里人呀", "c1")
    # The first message created the store's settings: the next read shares them.
    await autoreply.settings_and_rules_version(session, store_id)
    # Warm: nothing to say to small talk, even at the start of a wait (welcomed already).
    assert not may_answer(session, _posted(cid, store_id, "你们家老板是哪里人呀",
                                           wait_started=True))
    # But a question with an answer, or an after-sales problem, is answered.
    assert may_answer(session, _posted(cid, store_id, "选多大的码合适"))
    assert may_answer(session, _posted(cid, store_id, "收到的裙子有个破洞，我要退款"))
    await _send(client, cid, headers["agent"], "在的亲", "c2")
    await _send(client, cid, headers["buyer"], "选多大的码合适", "c3")
    kinds = [m["auto_reply_kind"] for m in await _messages(client, cid, headers["buyer"])
             if m["is_auto_reply"]]
    assert kinds == ["welcome", "faq"]
    # A new rule drops the cached settings everywhere: the next message takes the long way,
    # and the new rule answers it.
    owner = principal(await session.get(User, ids["owner"]))
    await autoreply.save_rule(session, owner, rule_id=None, kind="faq",
                              question="老板是哪里人？", answer="我们是杭州的店哦",
                              examples=["你们家老板是哪里人呀", "店在哪里"], keywords=[],
                              product_ids=[])
    await commit(session)
    assert may_answer(session, _posted(cid, store_id, "你们家老板是哪里人呀"))
    await _send(client, cid, headers["buyer"], "你们家老板是哪里人呀", "c4")
    autos = [m for m in await _messages(client, cid, headers["buyer"]) if m["is_auto_reply"]]
    assert autos[-1]["text"] == "我们是杭州的店哦"
