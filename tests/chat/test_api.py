"""The chat JSON API through HTTP: status codes, scope, errors, commit-before-acknowledge."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import commit
from factories import bearer, make_buyer, make_order, make_user
from kefu.accounts import service as accounts
from kefu.accounts.roles import Role
from kefu.chat import hooks
from kefu.chat.models import Message
from kefu.kit import clock as clock_module
from kefu.kit.models import AuditEvent
from kefu.kit.security import csrf_token_for
from kefu.settings import get_settings

from .helpers import make_shop


async def _messages(session: AsyncSession, conversation_id: int) -> int:
    return int(await session.scalar(select(func.count()).select_from(Message).where(
        Message.conversation_id == conversation_id)) or 0)


async def test_a_conversation_over_http(client: httpx.AsyncClient, session: AsyncSession
                                        ) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    as_buyer, as_agent = await bearer(session, buyer), await bearer(session, shop.agents[0])
    opened = await client.post("/api/conversations", headers=as_buyer,
                               json={"store_id": shop.store.id, "product_id": shop.product.id})
    assert opened.status_code == 200, opened.text
    chat = opened.json()
    assert chat["last_message"]["product"]["id"] == shop.product.id
    url = f"/api/conversations/{chat['id']}"
    sent = await client.post(f"{url}/messages", headers=as_buyer,
                             json={"client_msg_id": "a1", "text": "请问有现货吗"})
    assert sent.status_code == 201 and sent.json()["seq"] == 2
    resent = await client.post(f"{url}/messages", headers=as_buyer,
                               json={"client_msg_id": "a1", "text": "请问有现货吗"})
    assert resent.status_code == 200 and resent.json()["id"] == sent.json()["id"]
    inbox = (await client.get("/api/conversations", headers=as_agent)).json()
    assert inbox[0]["id"] == chat["id"] and inbox[0]["unread_count"] == 2
    assert inbox[0]["waiting_since"] is not None
    reply = await client.post(f"{url}/messages", headers=as_agent,
                              json={"client_msg_id": "s1", "text": "有现货，今天发"})
    assert reply.status_code == 201
    read = await client.post(f"{url}/read", headers=as_buyer, json={"seq": 3})
    assert read.json() == {"read_seq": 3}
    page = (await client.get(f"{url}/messages?after_seq=1", headers=as_buyer)).json()
    assert [m["seq"] for m in page["messages"]] == [2, 3] and page["has_more"] is False
    context = (await client.get(f"{url}/context", headers=as_agent)).json()
    assert context["product"]["id"] == shop.product.id
    resolved = await client.post(f"{url}/resolve", headers=as_agent)
    assert resolved.json()["status"] == "resolved"
    found = (await client.get("/api/chat/search?q=现货", headers=as_agent)).json()
    assert {m["seq"] for m in found} == {2, 3}


async def test_other_people_get_404(client: httpx.AsyncClient, session: AsyncSession) -> None:
    shop = await make_shop(session)
    other_shop = await make_shop(session)
    buyer = await make_buyer(session)
    opened = await client.post("/api/conversations", headers=await bearer(session, buyer),
                               json={"store_id": shop.store.id})
    url = f"/api/conversations/{opened.json()['id']}"
    outsiders = [await bearer(session, u) for u in (await make_buyer(session),
                                                     other_shop.agents[0])]
    await commit(session)  # an error response rolls back what the test has not committed
    for headers in outsiders:
        assert (await client.get(url, headers=headers)).status_code == 404
        assert (await client.get(f"{url}/messages", headers=headers)).status_code == 404
        sent = await client.post(f"{url}/messages", headers=headers,
                                 json={"client_msg_id": "x", "text": "hi"})
        assert sent.status_code == 404
        assert sent.json()["error"]["message"] == "会话不存在"
    assert (await client.get(url)).status_code == 401


async def test_a_blocked_message_answers_422_and_keeps_the_screens_record(
        client: httpx.AsyncClient, session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    opened = await client.post("/api/conversations", headers=await bearer(session, buyer),
                               json={"store_id": shop.store.id})
    conversation_id = opened.json()["id"]

    async def screen(s: AsyncSession, ctx: hooks.ScreenContext) -> hooks.Screening | None:
        if ctx.sender_side == "store" and "微信" in (ctx.text or ""):
            s.add(AuditEvent(subject_type="violation", subject_id=ctx.store_id,
                             action="recorded", actor_id=ctx.sender_id, actor_role="test",
                             created_at=clock_module.now()))
            return hooks.Screening("block", code="wechat", reason="消息未发送：包含站外联系方式",
                                   details={"channel": "wechat", "matched": "微信 abc"})
        return None

    hooks.register_screen("test", screen)
    response = await client.post(f"/api/conversations/{conversation_id}/messages",
                                 headers=await bearer(session, shop.agents[0]),
                                 json={"client_msg_id": "b1", "text": "加我微信 abc"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "diversion_blocked"
    assert error["message"] == "消息未发送：包含站外联系方式"
    assert error["details"] == {"channel": "wechat", "matched": "微信 abc",
                                "reason": "消息未发送：包含站外联系方式", "rule": "wechat"}
    assert await _messages(session, conversation_id) == 0
    kept = await session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.subject_type == "violation"))
    assert kept == 1


async def test_the_response_is_sent_only_after_the_commit(app: Any, session: AsyncSession
                                                          ) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    headers = await bearer(session, buyer)
    order_of_things: list[str] = []
    real_commit = session.commit

    async def commit() -> None:
        await real_commit()
        order_of_things.append("commit")

    session.commit = commit  # type: ignore[method-assign]

    async def watched(scope: Any, receive: Any, send: Any) -> None:
        async def noting(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                order_of_things.append("response")
            await send(message)

        await app(scope, receive, noting)

    transport = httpx.ASGITransport(app=watched)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        opened = await c.post("/api/conversations", headers=headers,
                              json={"store_id": shop.store.id})
        order_of_things.clear()
        sent = await c.post(f"/api/conversations/{opened.json()['id']}/messages",
                            headers=headers, json={"client_msg_id": "k", "text": "你好"})
    assert sent.status_code == 201
    assert order_of_things == ["commit", "response"]


async def test_images_nudges_and_bad_input(client: httpx.AsyncClient, session: AsyncSession
                                           ) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    headers = await bearer(session, buyer)
    other_order_id = (await make_order(session, await make_buyer(session), shop.product)).id
    await commit(session)
    opened = await client.post("/api/conversations", headers=headers,
                               json={"store_id": shop.store.id})
    url = f"/api/conversations/{opened.json()['id']}"
    buffer = io.BytesIO()
    Image.new("RGB", (50, 40), (10, 120, 200)).save(buffer, format="PNG")
    image = await client.post(f"{url}/images", headers=headers,
                              data={"client_msg_id": "img-1"},
                              files={"file": ("photo.png", buffer.getvalue(), "image/png")})
    assert image.status_code == 201, image.text
    assert image.json()["kind"] == "image" and image.json()["thumbnail_url"].startswith("/media/")
    fake = await client.post(f"{url}/images", headers=headers, data={"client_msg_id": "img-2"},
                             files={"file": ("x.png", b"not an image", "image/png")})
    assert fake.status_code == 422 and fake.json()["error"]["code"] == "not_an_image"
    early = await client.post(f"{url}/nudge", headers=headers, json={"client_msg_id": "n1"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "nudge_too_early"
    bad_kind = await client.post(f"{url}/messages", headers=headers,
                                 json={"client_msg_id": "k", "kind": "sticker", "text": "x"})
    assert bad_kind.status_code == 422
    empty = await client.post(f"{url}/messages", headers=headers,
                              json={"client_msg_id": "k2", "text": "  "})
    assert empty.status_code == 422 and empty.json()["error"]["message"] == "消息内容不能为空"
    english = await client.post(f"{url}/messages", json={"client_msg_id": "k3", "text": ""},
                                headers={**headers, "Accept-Language": "en"})
    assert english.status_code == 422 and english.json()["error"]["message"] == \
        "The message is empty"
    card = await client.post(f"{url}/messages", headers=headers,
                             json={"client_msg_id": "k4", "kind": "order_card",
                                   "order_id": other_order_id})
    assert card.status_code == 422 and card.json()["error"]["code"] == "order_not_allowed"
    assert (await client.get(f"{url}/messages?limit=1000", headers=headers)).status_code == 200


async def test_browser_writes_need_the_csrf_token(client: httpx.AsyncClient,
                                                  session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    issued = await accounts.open_session(session, buyer, "cookie")
    store_id = shop.store.id
    await commit(session)
    client.cookies.set("kefu_session", issued.token)
    client.cookies.set("kefu_csrf", "csrf-cookie-value")
    refused = await client.post("/api/conversations", json={"store_id": store_id})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    token = csrf_token_for(get_settings().resolved_secret_key(), "csrf-cookie-value")
    accepted = await client.post("/api/conversations", json={"store_id": store_id},
                                 headers={"X-CSRF-Token": token})
    assert accepted.status_code == 200
    assert (await client.get("/api/conversations")).status_code == 200


async def test_transfers_transcripts_and_the_workbench(client: httpx.AsyncClient,
                                                        session: AsyncSession) -> None:
    shop = await make_shop(session, agents=2)
    buyer = await make_buyer(session)
    as_buyer, as_owner = await bearer(session, buyer), await bearer(session, shop.owner)
    as_agent = await bearer(session, shop.agents[0])
    as_staff = await bearer(session, await make_user(session, Role.PLATFORM_AGENT))
    agent_ids = [a.id for a in shop.agents]
    opened = (await client.post("/api/conversations", headers=as_buyer,
                                json={"store_id": shop.store.id})).json()
    url = f"/api/conversations/{opened['id']}"
    await client.post(f"{url}/messages", headers=as_buyer,
                      json={"client_msg_id": "q", "text": "可以开发票吗"})
    holder = opened["assigned_agent_id"]
    target = next(a for a in agent_ids if a != holder)
    moved = await client.post(f"{url}/transfer", headers=as_owner, json={"agent_id": target})
    assert moved.status_code == 200 and moved.json()["assigned_agent_id"] == target
    agents = (await client.get("/api/agents", headers=as_owner)).json()
    assert {a["user_id"] for a in agents} >= set(agent_ids)
    status = await client.post("/api/agents/me/status", headers=as_owner,
                               json={"status": "online", "capacity": 3})
    assert status.json()["status"] == "online" and status.json()["capacity"] == 3
    exported = await client.get(f"{url}/transcript?format=json", headers=as_buyer)
    assert exported.status_code == 200 and "attachment" in exported.headers[
        "content-disposition"]
    verdict = await client.post("/api/transcripts/verify", headers=as_owner,
                                content=exported.content,
                                )
    assert verdict.json()["valid"] is True
    tampered = exported.content.replace("可以开发票吗".encode(), "不要发票".encode())
    assert (await client.post("/api/transcripts/verify", headers=as_owner,
                              content=tampered)).json()["valid"] is False
    page = await client.get(f"{url}/transcript?format=html", headers=as_buyer)
    assert page.headers["content-type"].startswith("text/html")
    checked = await client.post("/api/transcripts/verify", content=page.content,
                                headers={**as_owner, "Content-Type": "text/html"})
    assert checked.json()["valid"] is True
    junk = await client.post("/api/transcripts/verify", headers=as_owner, content=b"{nope")
    assert junk.status_code == 422
    created = await client.post("/api/quick-replies", headers=as_owner,
                                json={"text": "亲，支持开发票", "scope": "store"})
    assert created.status_code == 201
    listed = (await client.get("/api/quick-replies", headers=as_agent)).json()
    assert [r["text"] for r in listed] == ["亲，支持开发票"]
    deleted = await client.delete(f"/api/quick-replies/{created.json()['id']}",
                                  headers=as_owner)
    assert deleted.status_code == 204
    rate = await client.get("/api/chat/response-rate?first_day=2026-06-01", headers=as_owner)
    assert rate.status_code == 200 and rate.json()["target"] == 0.8
    assert (await client.get(f"{url}/transcript", headers=as_staff)).status_code == 200
    assert (await client.post(f"{url}/messages", headers=as_staff,
                              json={"client_msg_id": "p", "text": "平台"})).status_code == 403


async def test_working_hours_api(client: httpx.AsyncClient, session: AsyncSession) -> None:
    shop = await make_shop(session)
    as_owner = await bearer(session, shop.owner)
    weekly = [{"weekday": i, "opens": "10:00", "closes": "20:00"} for i in range(7)]
    changed = await client.put("/api/store/hours", headers=as_owner, json={
        "weekly": weekly, "holidays": [{"date": "2026-10-01", "closed": True, "note": "国庆"}]})
    assert changed.status_code == 200, changed.text
    public = (await client.get(f"/api/stores/{shop.store.id}/hours")).json()
    assert public["weekly"][0] == {"weekday": 0, "closed": False, "opens": "10:00",
                                   "closes": "20:00"}
    assert public["holidays"][0]["note"] == "国庆" and public["open_now"] is True
    mine = await client.get("/api/store/hours", headers=await bearer(session, shop.agents[0]))
    assert mine.status_code == 200
    refused = await client.put("/api/store/hours",
                               headers=await bearer(session, shop.agents[0]),
                               json={"weekly": weekly, "holidays": []})
    assert refused.status_code == 403
    bad = await client.put("/api/store/hours", headers=as_owner, json={
        "weekly": [{**w, "opens": "21:00"} for w in weekly], "holidays": []})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_hours"
    assert (await client.get("/api/stores/999999/hours")).status_code == 404
