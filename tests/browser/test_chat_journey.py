"""The chat in a real browser: a buyer asks from the product page, an agent answers from the
workbench, both live over the WebSocket, nobody reloads.

Screenshots of the workbench and the buyer's chat go to /tmp/kefu-shots/ (KEFU_SHOTS).
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from browser.conftest import (
    LiveServer,
    advance_clock,
    api_token,
    screenshot,
    seed_world,
    unique,
)
from browser.journeys import (
    _buyer_opens_product_chat,
    _open_workbench,
    _send,
    _set_online,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "XL码腰围多少？"
ANSWER_QUICK = "XL码腰围78cm，适合110-130斤"


@pytest.fixture(scope="module")
def shop(live_server: LiveServer) -> dict[str, Any]:
    tag = unique("m")
    spec = {
        "store": {"slug": f"xiaomei-{tag}", "name": "小美女装旗舰店", "owner": f"owner_{tag}",
                  "owner_name": "小美店主", "description": "法式女装"},
        "agents": [{"username": f"agent_a_{tag}", "name": "客服小王"},
                   {"username": f"agent_b_{tag}", "name": "客服小李"}],
        "buyers": [{"username": f"buyer_{tag}", "name": "李女士"},
                   {"username": f"buyer2_{tag}", "name": "张先生"},
                   {"username": f"buyer3_{tag}", "name": "王同学"}],
        "products": [{"title": "法式碎花连衣裙 夏季收腰显瘦", "price_fen": 12_900,
                      "detail": "M码腰围68cm，L码腰围72cm",
                      "skus": [["M", "碎花", 10], ["L", "碎花", 10], ["XL", "碎花", 5]]}],
        "orders": [{"buyer": f"buyer_{tag}", "product": 0}],
    }
    created = seed_world(live_server, spec)
    return {"tag": tag, "spec": spec, **created,
            "owner_username": f"owner_{tag}",
            "agent_a": f"agent_a_{tag}", "agent_b": f"agent_b_{tag}",
            "buyer": f"buyer_{tag}", "buyer2": f"buyer2_{tag}", "buyer3": f"buyer3_{tag}",
            "product_id": created["products"][0]["id"]}


def _png(colour: tuple[int, int, int] = (224, 46, 36)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_buyer_asks_agent_answers_live(browser: Any, live_server: LiveServer,
                                       shop: dict[str, Any]) -> None:
    agent = _open_workbench(browser, live_server, shop["agent_a"], capture_notifications=True)
    assert not agent.locator("[data-testid=enable-alerts]").is_visible()  # already granted
    agent.select_option("[data-testid=agent-status]", "online")
    agent.wait_for_function(
        "document.querySelector('[data-testid=agent-status]').dataset.status === 'online'")
    _set_online(live_server, shop["agent_b"])
    assert agent.locator("[data-testid=pending-count]").inner_text() == "待回复 0"

    # The buyer: product page → 客服 → the chat, with the product as a card.
    buyer = _buyer_opens_product_chat(browser, live_server, shop["buyer"], shop["product_id"])
    buyer.wait_for_selector("[data-testid=product-card] >> text=法式碎花连衣裙")
    _send(buyer, QUESTION)
    mine = buyer.locator(".msg.mine", has_text=QUESTION)
    mine.locator(".msg-status.unread").wait_for()
    assert mine.locator(".msg-status").inner_text() == "未读"
    assert buyer.locator("[data-testid=composer-input]").input_value() == ""

    # The agent: the conversation arrives without a reload, with its countdown and badge.
    item = agent.locator("[data-testid=inbox-item]", has_text="李女士")
    item.wait_for()
    chip = item.locator("[data-testid=wait-countdown]")
    chip.wait_for()
    assert re.fullmatch(r"剩 [0-5]:\d\d", chip.inner_text()), chip.inner_text()
    assert "ok" in (chip.get_attribute("class") or "")
    agent.wait_for_function(
        "document.querySelector('[data-testid=pending-count]').textContent === '待回复 1'")
    assert agent.title().startswith("(1) ")
    agent.wait_for_function(f"window.__notes.some(n => n.body === {json.dumps(QUESTION)})")
    assert agent.evaluate("window.__notes[window.__notes.length - 1].title") == "李女士 发来新消息"
    item.click()
    agent.wait_for_selector(f".chat-scroll:not([hidden]) .msg.theirs >> text={QUESTION}")
    agent.wait_for_selector("[data-testid=context-product] >> text=法式碎花连衣裙")
    agent.wait_for_selector("[data-testid=buyer-orders] li a")
    assert agent.locator("[data-testid=conv-buyer]").inner_text() == "李女士"
    assert agent.locator("[data-testid=conv-agent]").inner_text() == "接待：客服小王"

    # The buyer sees that the agent read the question.
    mine.locator(".msg-status.read").wait_for()
    assert mine.locator(".msg-status").inner_text() == "已读"

    # A quick reply: add one, insert it with one click, send it.
    agent.click(".quick-manage summary")
    agent.fill("[data-testid=quick-new-text]", ANSWER_QUICK)
    agent.click(".quick-form button[type=submit]")
    chip_button = agent.locator("[data-testid=quick-reply]", has_text=ANSWER_QUICK)
    chip_button.wait_for()
    agent.click(".quick-manage summary")
    chip_button.click()
    assert agent.locator("[data-testid=composer-input]").input_value() == ANSWER_QUICK
    agent.press("[data-testid=composer-input]", "Enter")
    agent.wait_for_selector(f".chat-scroll:not([hidden]) .msg.mine >> text={ANSWER_QUICK}")

    # The buyer sees the answer without reloading; the wait is over on the workbench.
    buyer.wait_for_selector(f".msg.theirs >> text={ANSWER_QUICK}")
    agent.wait_for_function(
        "document.querySelector('[data-testid=pending-count]').textContent === '待回复 0'")
    chip.wait_for(state="hidden")
    assert not agent.title().startswith("(")
    agent.locator(".chat-scroll:not([hidden]) .msg.mine .msg-status.read").first.wait_for()

    # An image from the buyer: a thumbnail that opens in full.
    buyer.set_input_files("[data-testid=image-input]",
                          files=[{"name": "waist.png", "mimeType": "image/png",
                                  "buffer": _png()}])
    thumb = buyer.locator(".msg.mine .msg-image img").last
    thumb.wait_for()
    buyer.wait_for_function(
        "[...document.querySelectorAll('.msg.mine .msg-image img')].every("
        "i => i.complete && i.naturalWidth > 0 && i.src.includes('/media/'))")
    agent.wait_for_selector(".chat-scroll:not([hidden]) .msg.theirs .msg-image img")

    screenshot(agent, "workbench")
    buyer.evaluate("document.querySelector('.chat-scroll').scrollTop = 1e6")
    screenshot(buyer, "buyer-chat")
    thumb.click()
    buyer.wait_for_selector(".chat-lightbox img")
    screenshot(buyer, "buyer-image-open")
    buyer.click(".chat-lightbox")
    buyer.wait_for_selector(".chat-lightbox", state="detached")

    # 我的消息: the buyer's conversations, with the last message.
    chat_url = buyer.url
    buyer.click("[data-testid=my-messages]")
    row = buyer.locator("[data-testid=chat-list] li", has_text="小美女装旗舰店")
    row.wait_for()
    # The last message: the picture, or an automatic answer to it.
    assert row.locator("[data-role=preview]").inner_text().strip()
    screenshot(buyer, "buyer-list")
    buyer.goto(chat_url)
    buyer.wait_for_selector(".chat-conn[data-state=online]")

    # Transfer to the other agent: the workbench and the buyer both see the note.
    agent.locator("[data-testid=transfer-agent]").focus()
    agent.wait_for_selector("[data-testid=transfer-agent] option:not([disabled]) >> text=客服小李",
                            state="attached")
    value = agent.locator("[data-testid=transfer-agent] option", has_text="客服小李"
                          ).get_attribute("value")
    agent.select_option("[data-testid=transfer-agent]", value)
    agent.click("[data-testid=transfer-button]")
    agent.wait_for_selector("[data-testid=conv-agent] >> text=接待：客服小李")
    agent.wait_for_selector(".chat-scroll:not([hidden]) .msg.system >> text=会话已转接给客服 客服小李")
    buyer.wait_for_selector(".msg.system >> text=会话已转接给客服 客服小李")

    # The owner sees the conversation, who serves it, and the whole history.
    owner = _open_workbench(browser, live_server, shop["owner_username"])
    owner_item = owner.locator("[data-testid=inbox-item]", has_text="李女士")
    owner_item.wait_for()
    assert "客服小李" in owner_item.inner_text()
    owner_item.click()
    owner.wait_for_selector(f".chat-scroll:not([hidden]) >> text={QUESTION}")
    screenshot(owner, "workbench-owner")
    for page in (agent, buyer, owner):
        page.context.close()


def test_nudge_appears_after_thirty_minutes(browser: Any, live_server: LiveServer,
                                            shop: dict[str, Any]) -> None:
    buyer = _buyer_opens_product_chat(browser, live_server, shop["buyer2"], shop["product_id"])
    _send(buyer, "请问今天能发货吗？")
    # (The product card the chat was opened with is the buyer's too, and unread as well.)
    buyer.locator(".msg.mine", has_text="请问今天能发货吗").locator(".msg-status.unread").wait_for()
    conversation_id = int(buyer.url.rsplit("/", 1)[1])

    # An automatic answer is labelled 自动回复 and does not end the wait.
    seed_world(live_server, {"auto_reply": {"conversation_id": conversation_id,
                                            "text": "亲，下午4点前付款当天发货哦~",
                                            "kind": "faq"}})
    buyer.reload()
    auto = buyer.locator(".msg.theirs.auto", has_text="下午4点前付款当天发货")
    auto.wait_for()
    assert auto.locator("[data-testid=auto-reply-label]").inner_text() == "自动回复"

    # A buyer's message with contact details is delivered, with a warning for the buyer.
    _send(buyer, "加我微信 lizhang2024 细聊")
    warning = buyer.locator(".msg.mine", has_text="lizhang2024"
                            ).locator("[data-testid=message-warning]")
    warning.wait_for()
    assert "站外" in warning.inner_text()
    assert buyer.locator(".msg.mine", has_text="lizhang2024").locator(".msg-status.unread"
                                                                      ).count() == 1
    hint = buyer.locator("[data-testid=nudge-hint]")
    hint.wait_for()
    assert re.fullmatch(r"商家暂未回复，\d+:\d\d 后可提醒商家", hint.inner_text()), hint.inner_text()
    assert not buyer.locator("[data-testid=nudge-button]").is_visible()
    first = hint.inner_text()
    buyer.wait_for_function(
        f"document.querySelector('[data-testid=nudge-hint]').textContent !== {json.dumps(first)}")

    advance_clock(live_server, "31m", api_token(live_server, shop["buyer2"]))
    buyer.evaluate("window.kefuChat.resyncClock()")
    button = buyer.locator("[data-testid=nudge-button]")
    button.wait_for()
    assert hint.inner_text() == "商家超过 30 分钟未回复，可以提醒一下"
    screenshot(buyer, "buyer-nudge")
    button.click()
    buyer.wait_for_selector(".msg.mine.nudge >> text=您好，请问在吗？")
    buyer.locator("[data-testid=nudge]").wait_for(state="hidden")
    buyer.context.close()


def test_refused_message_shown_inline_and_resend_keeps_its_id(
        browser: Any, live_server: LiveServer, shop: dict[str, Any]) -> None:
    buyer = _buyer_opens_product_chat(browser, live_server, shop["buyer3"], shop["product_id"])
    _send(buyer, "在吗？想问尺码")
    # This message (the product card before it may be unread too).
    buyer.locator(".msg.mine", has_text="在吗？想问尺码").locator(".msg-status.unread").wait_for()
    buyer.context.close()
    owner = _open_workbench(browser, live_server, shop["owner_username"])
    owner.locator("[data-testid=inbox-item]", has_text="王同学").click()
    owner.wait_for_selector(".chat-scroll:not([hidden]) >> text=在吗？想问尺码")

    # A merchant message with contact details is refused (422 diversion_blocked): it stays in
    # the conversation, red, 未发送, with the reason; the buyer never receives it.
    with owner.expect_response(lambda r: r.url.endswith("/messages")
                               and r.request.method == "POST") as refused:
        _send(owner, "加我微信 wx123456 发你尺码表")
    assert refused.value.status == 422
    error = refused.value.json()["error"]
    assert error["code"] == "diversion_blocked"
    failed = owner.locator(".msg.mine.failed", has_text="wx123456")
    failed.wait_for()
    status = failed.locator("[data-testid=send-failed]")
    assert status.inner_text().startswith("未发送")
    assert error["message"] in status.inner_text()
    colour = status.evaluate("node => getComputedStyle(node).color")
    assert colour == "rgb(212, 39, 27)", colour
    screenshot(owner, "workbench-refused")
    # 修改 puts the text back into the composer and drops the refused bubble.
    failed.locator("button", has_text="修改").click()
    assert "wx123456" in owner.locator("[data-testid=composer-input]").input_value()
    assert failed.count() == 0

    # A send that fails on the network is retried with the same client_msg_id.
    bodies: list[dict[str, Any]] = []

    def flaky(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        bodies.append(json.loads(route.request.post_data or "{}"))
        if len(bodies) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    owner.route("**/api/conversations/*/messages", flaky)
    _send(owner, "尺码表在商品详情页第三张图")
    owner.wait_for_selector(
        ".chat-scroll:not([hidden]) .msg.mine:not(.pending) >> text=尺码表在商品详情页第三张图",
        timeout=20_000)
    assert len(bodies) >= 2
    assert len({b["client_msg_id"] for b in bodies}) == 1
    assert owner.locator(".chat-scroll:not([hidden]) .msg.mine",
                         has_text="尺码表在商品详情页第三张图").count() == 1

    # The inbox: buyers still waiting first, the longest wait at the top.
    waits = owner.eval_on_selector_all(
        "[data-testid=inbox-item]", "items => items.map(i => i.dataset.waitingSince)")
    waiting = [int(w) for w in waits if w]
    assert waiting == sorted(waiting)
    assert all(waits[: len(waiting)])

    # Search the history: hits are highlighted; a click opens the conversation at the message.
    owner.fill("[data-testid=search-input]", "尺码")
    owner.press("[data-testid=search-input]", "Enter")
    hit = owner.locator("[data-testid=search-results] .search-hit", has_text="在吗？想问尺码")
    hit.wait_for()
    assert hit.locator("mark").first.inner_text() == "尺码"
    hit.click()
    owner.wait_for_selector(".chat-scroll:not([hidden]) .msg.flash-hit >> text=在吗？想问尺码")

    # Resolve: the conversation ends for both sides and moves to 已解决.
    owner.click("[data-testid=resolve-button]")
    owner.wait_for_selector(".chat-scroll:not([hidden]) .msg.system >> text=本次会话已结束")
    # The label follows the conversation's update, which may land a moment after the note.
    owner.locator("[data-role=conv-status]", has_text="已解决").wait_for(timeout=10_000)
    assert owner.locator("[data-role=conv-status]").inner_text() == "已解决"
    owner.click("[data-filter=resolved]")
    owner.locator("[data-testid=inbox-item]", has_text="王同学").wait_for()

    # On a phone the workbench shows the inbox, then one conversation with a way back.
    owner.set_viewport_size({"width": 390, "height": 844})
    screenshot(owner, "workbench-phone-conversation")
    owner.click("[data-role=back-to-inbox]")
    owner.locator("[data-testid=inbox-item]").first.wait_for()
    screenshot(owner, "workbench-phone-inbox")
    owner.context.close()
