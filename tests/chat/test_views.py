"""Chat pages over HTTP: entry forms, the buyer's chat and list, the workbench frame, scope."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import commit
from factories import make_agent, make_buyer, make_order, make_product, make_store, make_user
from kefu.accounts import service as accounts
from kefu.accounts.models import User
from kefu.accounts.roles import Role

Client = httpx.AsyncClient
SignIn = Callable[[User], Awaitable[tuple[Client, str]]]


@pytest.fixture
async def sign_in(app: Any, session: AsyncSession) -> AsyncIterator[SignIn]:
    """A client with its own cookies, signed in as ``user``; returns it and its CSRF token."""
    clients: list[Client] = []

    async def make(user: User) -> tuple[Client, str]:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                   base_url="http://testserver")
        clients.append(client)
        issued = await accounts.open_session(session, user, "cookie")
        client.cookies.set("kefu_session", issued.token)
        page = await client.get("/notifications")
        assert page.status_code == 200, page.text
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
        assert match is not None
        return client, match.group(1)

    yield make
    for client in clients:
        await client.aclose()


def _json_script(html: str, element_id: str) -> Any:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>',
                      html, re.S)
    assert match is not None, f"no #{element_id} in the page"
    return json.loads(match.group(1))


@pytest.fixture
async def world(session: AsyncSession) -> dict[str, Any]:
    store, owner = await make_store(session, name="小美女装")
    agent = await make_agent(session, store)
    buyer = await make_buyer(session, display_name="李女士")
    other_buyer = await make_buyer(session)
    product = await make_product(session, owner, title="法式碎花连衣裙")
    order = await make_order(session, buyer, product)
    await commit(session)  # a request that fails rolls back to here, not further
    # Plain values: a failed request expires the ORM objects of the session.
    return {"store": store, "owner": owner, "agent": agent, "buyer": buyer,
            "other_buyer": other_buyer, "store_id": store.id, "product_id": product.id,
            "order_id": order.id, "order_no": order.order_no}


async def _open_from_product(client: Client, csrf: str, world: dict[str, Any]) -> int:
    response = await client.post("/chat/open", data={
        "csrf_token": csrf, "store_id": str(world["store_id"]),
        "product_id": str(world["product_id"])})
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/chat/(\d+)", response.headers["location"])
    assert match is not None, response.headers["location"]
    return int(match.group(1))


async def test_product_page_offers_chat_to_buyers_and_guests(
        client: Client, sign_in: SignIn, world: dict[str, Any]) -> None:
    path = f"/products/{world['product_id']}"
    guest = await client.get(path)
    assert 'data-testid="chat-entry"' in guest.text
    assert f"/login?next={path}" in guest.text
    buyer, _csrf = await sign_in(world["buyer"])
    page = (await buyer.get(path)).text
    assert 'action="/chat/open"' in page and "客服" in page
    assert f'name="product_id" value="{world["product_id"]}"' in page
    owner, _csrf = await sign_in(world["owner"])
    assert 'action="/chat/open"' not in (await owner.get(path)).text


async def test_product_entry_opens_chat_with_a_product_card(
        sign_in: SignIn, world: dict[str, Any]) -> None:
    buyer, csrf = await sign_in(world["buyer"])
    conversation_id = await _open_from_product(buyer, csrf, world)
    page = await buyer.get(f"/chat/{conversation_id}")
    assert page.status_code == 200
    assert 'data-chat-page="conversation"' in page.text
    assert "小美女装" in page.text
    assert f"/api/conversations/{conversation_id}/transcript?format=json" in page.text
    assert f"/api/conversations/{conversation_id}/transcript?format=html" in page.text
    boot = _json_script(page.text, "chat-boot")
    assert boot["conversation_id"] == conversation_id
    assert boot["side"] == "buyer"
    assert boot["me"]["id"] == world["buyer"].id
    assert boot["reply_target_seconds"] == 300
    i18n = _json_script(page.text, "chat-i18n")
    assert i18n["auto_reply"] == "自动回复"
    assert i18n["not_sent"] == "未发送"
    messages = (await buyer.get(f"/api/conversations/{conversation_id}/messages")).json()
    cards = [m for m in messages["messages"] if m["kind"] == "product_card"]
    assert cards and cards[0]["product"]["title"] == "法式碎花连衣裙"
    # Opening again from the same product reuses the conversation and adds no second card.
    assert await _open_from_product(buyer, csrf, world) == conversation_id
    again = (await buyer.get(f"/api/conversations/{conversation_id}/messages")).json()
    assert len([m for m in again["messages"] if m["kind"] == "product_card"]) == 1


async def test_order_page_contact_merchant_adds_an_order_card(
        sign_in: SignIn, world: dict[str, Any]) -> None:
    buyer, csrf = await sign_in(world["buyer"])
    order_page = (await buyer.get(f"/orders/{world['order_id']}")).text
    assert 'data-testid="contact-merchant"' in order_page and "联系商家" in order_page
    response = await buyer.post("/chat/open", data={
        "csrf_token": csrf, "store_id": str(world["store_id"]),
        "order_id": str(world["order_id"])})
    assert response.status_code == 303
    conversation_id = int(response.headers["location"].rsplit("/", 1)[1])
    messages = (await buyer.get(f"/api/conversations/{conversation_id}/messages")).json()
    assert [m["order"]["id"] for m in messages["messages"] if m["kind"] == "order_card"] == [
        world["order_id"]]
    # The merchant's order page has no buyer-only entry.
    owner, _csrf = await sign_in(world["owner"])
    assert 'data-testid="contact-merchant"' not in (
        await owner.get(f"/orders/{world['order_id']}")).text


async def test_store_page_offers_chat(sign_in: SignIn, world: dict[str, Any]) -> None:
    buyer, csrf = await sign_in(world["buyer"])
    page = (await buyer.get(f"/stores/{world['store_id']}")).text
    assert 'data-testid="store-chat-entry"' in page
    response = await buyer.post("/chat/open", data={"csrf_token": csrf,
                                                    "store_id": str(world["store_id"])})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/chat/")


async def test_entry_form_needs_csrf_and_a_buyer(sign_in: SignIn, world: dict[str, Any]
                                                 ) -> None:
    buyer, _csrf = await sign_in(world["buyer"])
    owner, csrf = await sign_in(world["owner"])
    refused = await buyer.post("/chat/open", data={"store_id": str(world["store_id"])})
    assert refused.status_code == 403
    response = await owner.post("/chat/open", data={
        "csrf_token": csrf, "store_id": str(world["store_id"]),
        "product_id": str(world["product_id"])})
    # A merchant cannot open a buyer conversation: back to the product with the reason.
    assert response.status_code == 303
    assert response.headers["location"] == f"/products/{world['product_id']}"
    flashed = await owner.get(response.headers["location"])
    assert "只有买家可以发起咨询" in flashed.text


async def test_product_of_another_store_is_refused_with_a_message(
        session: AsyncSession, sign_in: SignIn, world: dict[str, Any]) -> None:
    _store, other_owner = await make_store(session)
    foreign_id = (await make_product(session, other_owner, title="别家的商品")).id
    await commit(session)
    buyer, csrf = await sign_in(world["buyer"])
    response = await buyer.post("/chat/open", data={
        "csrf_token": csrf, "store_id": str(world["store_id"]), "product_id": str(foreign_id)})
    assert response.status_code == 303
    assert response.headers["location"] == f"/products/{foreign_id}"
    assert "只能发送本店的商品" in (await buyer.get(response.headers["location"])).text


async def test_my_messages_lists_the_buyers_conversations(
        sign_in: SignIn, world: dict[str, Any]) -> None:
    buyer, csrf = await sign_in(world["buyer"])
    empty = await buyer.get("/chat")
    assert empty.status_code == 200 and "还没有消息" in empty.text
    assert 'href="/chat"' in empty.text  # 我的消息 in the buyer's navigation
    conversation_id = await _open_from_product(buyer, csrf, world)
    page = (await buyer.get("/chat")).text
    assert f'href="/chat/{conversation_id}"' in page
    assert "小美女装" in page
    assert "[商品] 法式碎花连衣裙" in page
    other, _csrf = await sign_in(world["other_buyer"])
    assert f'href="/chat/{conversation_id}"' not in (await other.get("/chat")).text


async def test_another_buyer_cannot_see_the_conversation(
        sign_in: SignIn, world: dict[str, Any]) -> None:
    buyer, csrf = await sign_in(world["buyer"])
    conversation_id = await _open_from_product(buyer, csrf, world)
    other, _csrf = await sign_in(world["other_buyer"])
    assert (await other.get(f"/chat/{conversation_id}")).status_code == 404
    assert (await other.get("/chat/999999")).status_code == 404


async def test_store_staff_are_sent_to_the_workbench(
        session: AsyncSession, sign_in: SignIn, world: dict[str, Any]) -> None:
    buyer, csrf = await sign_in(world["buyer"])
    conversation_id = await _open_from_product(buyer, csrf, world)
    agent, _csrf = await sign_in(world["agent"])
    response = await agent.get(f"/chat/{conversation_id}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/workbench?c={conversation_id}"
    assert (await agent.get("/chat")).headers["location"] == "/workbench"
    # Another store's owner does not learn that the conversation exists.
    _store, other_owner = await make_store(session)
    stranger, _csrf = await sign_in(other_owner)
    assert (await stranger.get(f"/chat/{conversation_id}")).status_code == 404


@pytest.mark.parametrize("role", ["agent", "owner"])
async def test_workbench_renders_the_chat_frame(role: str, sign_in: SignIn,
                                                world: dict[str, Any]) -> None:
    client, _csrf = await sign_in(world[role])
    page = await client.get("/workbench")
    assert page.status_code == 200
    html = page.text
    assert 'data-chat-page="workbench"' in html
    for marker in ("inbox", "pending-count", "queue-count", "agent-status", "capacity",
                   "transfer-agent", "resolve-button", "quick-replies", "search-input",
                   "composer-input", "enable-alerts"):
        assert f'data-testid="{marker}"' in html, marker
    assert '<script src="/static/chat.js"' in html
    boot = _json_script(html, "chat-boot")
    assert boot["store_id"] == world["store_id"]
    assert boot["me"]["id"] == world[role].id
    assert boot["is_owner"] is (role == "owner")
    assert boot["reply_warn_seconds"] == 180
    assert _json_script(html, "chat-i18n")["wait_late"] == "已超时 {time}"
    # Only the owner may keep store-wide quick replies.
    assert ('<option value="store">' in html) is (role == "owner")


async def test_workbench_context_shows_the_buyers_orders_and_product(
        sign_in: SignIn, world: dict[str, Any]) -> None:
    buyer, csrf = await sign_in(world["buyer"])
    conversation_id = await _open_from_product(buyer, csrf, world)
    agent, _csrf = await sign_in(world["agent"])
    fragment = await agent.get(f"/workbench/conversations/{conversation_id}/context")
    assert fragment.status_code == 200
    assert "法式碎花连衣裙" in fragment.text
    assert world["order_no"] in fragment.text
    assert "<html" not in fragment.text  # a fragment, not a page
    assert (await buyer.get(f"/workbench/conversations/{conversation_id}/context")
            ).status_code == 403


async def test_platform_staff_read_only(session: AsyncSession, sign_in: SignIn,
                                        world: dict[str, Any]) -> None:
    buyer, csrf = await sign_in(world["buyer"])
    conversation_id = await _open_from_product(buyer, csrf, world)
    staff = await make_user(session, Role.PLATFORM_AGENT)
    client, _csrf = await sign_in(staff)
    page = await client.get(f"/chat/{conversation_id}")
    assert page.status_code == 200
    assert _json_script(page.text, "chat-boot")["side"] == "platform"
    assert 'data-testid="composer-input"' not in page.text


async def test_pages_in_english(sign_in: SignIn, world: dict[str, Any]) -> None:
    buyer, csrf = await sign_in(world["buyer"])
    conversation_id = await _open_from_product(buyer, csrf, world)
    buyer.cookies.set("kefu_lang", "en")
    page = (await buyer.get(f"/chat/{conversation_id}")).text
    assert _json_script(page, "chat-i18n")["auto_reply"] == "Auto-reply"
    assert "Send" in page
