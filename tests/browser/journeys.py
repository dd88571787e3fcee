"""Steps shared by the browser journeys: open the workbench, open a chat from a product page,
type a message, put an agent online."""

from __future__ import annotations

import re
from typing import Any

import httpx

from browser.conftest import api_token, login, new_page

# Records desktop notifications instead of showing them, and pretends the window is in the
# background (notifications are for when the agent is looking elsewhere).
CAPTURE_NOTIFICATIONS = """
window.__notes = [];
window.Notification = class {
  constructor(title, options) { window.__notes.push({ title, body: (options || {}).body }); }
  close() {}
  static get permission() { return "granted"; }
  static requestPermission() { return Promise.resolve("granted"); }
};
document.hasFocus = () => false;
"""


def _set_online(live_server: str, username: str) -> None:
    response = httpx.post(f"{live_server}/api/agents/me/status",
                          json={"status": "online", "capacity": 5},
                          headers=api_token(live_server, username), timeout=10)
    response.raise_for_status()


def _open_workbench(browser: Any, live_server: str, username: str, *,
                    capture_notifications: bool = False) -> Any:
    page = new_page(browser, live_server)
    if capture_notifications:
        page.add_init_script(CAPTURE_NOTIFICATIONS)
    login(page, username)
    page.goto("/workbench")
    page.wait_for_selector("[data-testid=chat-workbench]")
    page.wait_for_selector(".chat-conn[data-state=online]")
    return page


def _buyer_opens_product_chat(browser: Any, live_server: str, username: str,
                              product_id: int) -> Any:
    page = new_page(browser, live_server, mobile=True)
    login(page, username)
    page.goto(f"/products/{product_id}")
    page.click("[data-testid=chat-entry]")
    page.wait_for_url(re.compile(r"/chat/\d+$"))
    page.wait_for_selector(".chat-conn[data-state=online]")
    return page


def _send(page: Any, text: str) -> None:
    page.fill("[data-testid=composer-input]", text)
    page.press("[data-testid=composer-input]", "Enter")
