"""Every demo login lands on its role's home page, in a real browser (Debian's chromium)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from browser.support import CHROMIUM, CHROMIUM_ARGS, free_port, require_chromium
from conftest import TEST_DATABASE_URL, is_postgres

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _demo_database_url(folder: Path) -> str:
    if is_postgres():
        import asyncio

        from conftest import _recreate_postgres_database

        base, _sep, name = TEST_DATABASE_URL.rpartition("/")
        url = f"{base}/{name}_demo"
        asyncio.run(_recreate_postgres_database(url))
        return url
    return f"sqlite+aiosqlite:///{folder / 'demo.db'}"


@pytest.fixture(scope="module")
def demo_server() -> Iterator[str]:
    require_chromium()
    folder = Path(tempfile.mkdtemp(prefix="kefu-demo-"))
    port = free_port()
    database_url = _demo_database_url(folder)
    env = {**os.environ, "KEFU_DATABASE_URL": database_url,
           "KEFU_DEMO_DATABASE_URL": database_url, "KEFU_MODE": "demo",
           "KEFU_SECRET_KEY": "browser-test-secret", "KEFU_UPLOAD_DIR": str(folder / "up"),
           "KEFU_LOG_LEVEL": "WARNING"}
    seeded = subprocess.run([sys.executable, "-m", "kefu.cli", "demo", "--no-serve"], env=env,
                            cwd=folder, capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    server = subprocess.Popen([sys.executable, "-m", "kefu.cli", "serve", "--no-migrate",
                               "--port", str(port)], env=env, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("demo server did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)


def _logins() -> list[tuple[str, str, str]]:
    from kefu.demo import catalogue

    logins = [("buyer", catalogue.BUYERS[0]["username"], "search-results")]
    store = catalogue.STORES[0]
    logins.append(("merchant_owner", store["owner"]["username"], "workbench-title"))
    logins.append(("merchant_agent", store["agents"][0]["username"], "workbench-title"))
    for staff in catalogue.PLATFORM_STAFF:
        logins.append((staff["role"], staff["username"], "console-title"))
    return logins


def test_each_demo_login_lands_on_its_home(demo_server: str) -> None:
    from playwright.sync_api import sync_playwright

    from kefu.demo import catalogue

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for role, username, marker in _logins():
                context = browser.new_context(locale="zh-CN")
                page = context.new_page()
                page.goto(f"{demo_server}/login")
                page.fill("#username", username)
                page.fill("#password", catalogue.DEMO_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_selector(f"[data-testid={marker}]", timeout=15_000)
                assert page.locator("[data-testid=whoami]").count() == 1, (role, username)
                if role == "merchant_owner" and os.environ.get("KEFU_UPDATE_SCREENSHOT"):
                    page.set_viewport_size({"width": 1280, "height": 800})
                    page.screenshot(path=str(Path(__file__).resolve().parents[2] / "docs"
                                             / "screenshot.png"))
                context.close()
        finally:
            browser.close()
