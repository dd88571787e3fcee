"""Issues' journeys in a real browser: the labelled FAQ answer and the after-sales pointer;
a merchant's contact refused with its reason, seen by the platform, fined and demoted."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import pytest

from browser.conftest import (
    PASSWORD,
    LiveServer,
    api_token,
    login,
    new_page,
    screenshot,
    seed_world,
    unique,
)
from browser.journeys import _buyer_opens_product_chat, _open_workbench, _send, _set_online

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZE_ANSWER = "亲，身高155-160选S，160-165选M，165-170选L，报身高体重帮您推荐~"
DRESS = "法式碎花连衣裙 夏季收腰显瘦"


def _shop(live_server: LiveServer, name: str) -> dict[str, Any]:
    tag = unique("j")
    created = seed_world(live_server, {
        "store": {"slug": f"shop-{tag}", "name": name, "owner": f"owner_{tag}",
                  "owner_name": f"{name}店主"},
        "agents": [{"username": f"agent_{tag}", "name": "客服小王"}],
        "buyers": [{"username": f"buyer_{tag}", "name": "李女士"}],
        "products": [{"title": DRESS, "price_fen": 12_900, "detail": "M码腰围68cm",
                      "skus": [["M", "碎花", 10], ["L", "碎花", 10]]}],
        "orders": [{"buyer": f"buyer_{tag}", "product": 0}],
    })
    return {**created, "owner": f"owner_{tag}", "agent": f"agent_{tag}",
            "buyer": f"buyer_{tag}", "product_id": created["products"][0]["id"]}


def test_size_question_gets_the_labelled_faq_answer_and_a_complaint_the_pointer(
        browser: Any, live_server: LiveServer) -> None:
    shop = _shop(live_server, "小美女装")
    owner_headers = api_token(live_server, shop["owner"])
    rule = httpx.post(f"{live_server}/api/autoreply/rules", headers=owner_headers, timeout=10,
                      json={"kind": "faq", "question": "尺码怎么选？", "answer": SIZE_ANSWER,
                            "examples": ["我身高160体重110穿什么码", "选多大的码合适"]})
    assert rule.status_code == 201, rule.text
    _set_online(live_server, shop["agent"])

    buyer = _buyer_opens_product_chat(browser, live_server, shop["buyer"], shop["product_id"])
    _send(buyer, "我身高一米六，一百一十斤，穿什么码")
    answer = buyer.locator(".msg.theirs.auto", has_text="165-170选L")
    answer.wait_for()
    assert answer.locator("[data-testid=auto-reply-label]").inner_text() == "自动回复"

    _send(buyer, "收到的裙子破了个洞，我要退款")
    pointer = buyer.locator(".msg.theirs.auto", has_text="申请售后")
    pointer.wait_for()
    assert buyer.locator(".msg.theirs.auto", has_text="165-170选L").count() == 1
    screenshot(buyer, "buyer-autoreply")

    # The automatic answers did not end the buyer's wait: it is still open for a person.
    agent_headers = api_token(live_server, shop["agent"])
    conversations = httpx.get(f"{live_server}/api/conversations", headers=agent_headers,
                              timeout=10).json()
    assert len(conversations) == 1 and conversations[0]["waiting_since"] is not None
    buyer.context.close()


def _platform_agent(live_server: LiveServer) -> str:
    username = unique("pagent")
    result = subprocess.run(
        [sys.executable, "-m", "kefu.cli", "user", "create", username, "--role",
         "platform_agent", "--password", PASSWORD, "--display-name", "平台客服小赵"],
        env=live_server.env, cwd=live_server.folder, capture_output=True, text=True,
        timeout=60)
    assert result.returncode == 0, result.stderr
    return username


def _refused(page: Any, text: str) -> Any:
    with page.expect_response(lambda r: r.url.endswith("/messages")
                              and r.request.method == "POST") as response:
        _send(page, text)
    assert response.value.status == 422
    failed = page.locator(".msg.mine.failed", has_text=text.split("：")[-1][:6])
    failed.wait_for()
    return failed


def test_merchant_contact_refused_seen_by_platform_then_fined_and_demoted(
        browser: Any, live_server: LiveServer) -> None:
    rival = _shop(live_server, "守规矩女装")  # listed first: its dress is the older one
    shop = _shop(live_server, "想导流女装")
    staff = _platform_agent(live_server)

    searcher = new_page(browser, live_server, mobile=True)
    login(searcher, shop["buyer"])
    searcher.goto("/search?q=碎花连衣裙")
    tiles = searcher.locator("[data-testid=search-results] a.tile")
    assert tiles.first.get_attribute("data-store-id") == str(shop["store_id"])

    buyer = _buyer_opens_product_chat(browser, live_server, shop["buyer"], shop["product_id"])
    _send(buyer, "在吗？这条裙子还有L码吗")
    buyer.locator(".msg.mine", has_text="这条裙子还有L码吗").locator(".msg-status.unread").wait_for()

    agent = _open_workbench(browser, live_server, shop["agent"])
    agent.select_option("[data-testid=agent-status]", "online")
    agent.locator("[data-testid=inbox-item]", has_text="李女士").click()
    agent.wait_for_selector(".chat-scroll:not([hidden]) >> text=这条裙子还有L码吗")

    first = _refused(agent, "加V：abc_8899")
    reason = first.locator("[data-testid=send-failed]").inner_text()
    assert reason.startswith("未发送") and "微信" in reason
    screenshot(agent, "diversion-refused")
    buyer.wait_for_timeout(500)
    assert buyer.locator(".msg", has_text="abc_8899").count() == 0

    platform = new_page(browser, live_server)
    login(platform, staff)
    platform.goto("/console/violations")
    row = platform.locator("[data-testid=violations] tr", has_text="abc_8899")
    row.wait_for()
    assert "警告" in row.inner_text()

    _refused(agent, "打我电话 13812345678")
    owner = new_page(browser, live_server)
    login(owner, shop["owner"])
    owner.goto("/store/deposit")
    assert owner.locator("[data-testid=deposit-balance]").inner_text() == "¥4800.00"
    platform.goto("/console/violations")
    fined = platform.locator("[data-testid=violations] tr", has_text="13812345678")
    assert "罚款" in fined.inner_text()

    searcher.goto("/search?q=碎花连衣裙")
    assert tiles.first.get_attribute("data-store-id") == str(rival["store_id"])
    assert tiles.last.get_attribute("data-store-id") == str(shop["store_id"])
    for page in (searcher, buyer, agent, platform, owner):
        page.context.close()
