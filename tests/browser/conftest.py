"""Shared fixtures for browser tests: a real server in a subprocess on its own fresh database,
Debian's chromium through Playwright, and small helpers (login, seeding, the test clock).

- ``live_server`` (session): the base URL (a ``str``) of ``kefu serve`` on a free port, with
  ``.env`` and ``.database_url`` for helpers that talk to its database.
- ``browser`` (module): a Playwright chromium ``Browser``; open one context per actor.
- ``login(page, username, password)``: signs in through the ``/login`` form.
- ``seed_world(live_server, spec)``: creates a store, staff, buyers, products, orders.
- ``advance_clock(live_server, "31m")``: moves the server's test clock forward.

The database is SQLite, or PostgreSQL (``<test database>_live``) when the suite runs on
PostgreSQL (``KEFU_TEST_DATABASE_URL``). Screenshots go to ``KEFU_SHOTS`` (default
``/tmp/kefu-shots``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from browser.support import CHROMIUM, CHROMIUM_ARGS, free_port, require_chromium

PASSWORD = "browser-pass-2026"
SHOTS = Path(os.environ.get("KEFU_SHOTS", "/tmp/kefu-shots"))
SEED_SCRIPT = Path(__file__).resolve().parent / "seed.py"
# Working hours start at 09:00 in Asia/Shanghai; the server's clock starts tomorrow at 10:00.
START_LOCAL = (10, 0)


def _test_database_url() -> str:
    return os.environ["KEFU_DATABASE_URL"]  # set by the top-level conftest


def _live_database_url(folder: Path) -> str:
    base_url = _test_database_url()
    if base_url.startswith("postgresql"):
        import asyncio

        import asyncpg

        base, _sep, name = base_url.rpartition("/")
        url = f"{base}/{name}_live"

        async def recreate() -> None:
            dsn = url.replace("postgresql+asyncpg://", "postgresql://")
            server, _s, database = dsn.rpartition("/")
            admin = await asyncpg.connect(f"{server}/postgres")
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                await admin.execute(f'CREATE DATABASE "{database}"')
            finally:
                await admin.close()

        asyncio.run(recreate())
        return url
    return f"sqlite+aiosqlite:///{folder / 'live.db'}"


class LiveServer(str):
    """The base URL, carrying what helpers need to reach the server's database."""

    env: dict[str, str]
    database_url: str
    folder: Path

    def __new__(cls, url: str, env: dict[str, str], folder: Path) -> LiveServer:
        server = super().__new__(cls, url)
        server.env = env
        server.database_url = env["KEFU_DATABASE_URL"]
        server.folder = folder
        return server


def _cli(env: dict[str, str], cwd: Path, *args: str, stdin: str | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kefu.cli", *args], env=env, cwd=cwd,
                          input=stdin, capture_output=True, text=True, timeout=timeout)


def _next_working_morning() -> datetime:
    tz = ZoneInfo("Asia/Shanghai")
    local = datetime.now(UTC).astimezone(tz) + timedelta(days=1)
    hour, minute = START_LOCAL
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    require_chromium()
    folder = Path(tempfile.mkdtemp(prefix="kefu-live-"))
    port = free_port()
    env = {**os.environ, "KEFU_DATABASE_URL": _live_database_url(folder), "KEFU_MODE": "test",
           "KEFU_SECRET_KEY": "browser-test-secret-key", "KEFU_UPLOAD_DIR": str(folder / "up"),
           "KEFU_LOG_LEVEL": "WARNING", "KEFU_LOG_JSON": "false",
           "KEFU_RUN_SWEEPER_IN_SERVER": "false"}
    env.pop("KEFU_REDIS_URL", None)
    migrated = _cli(env, folder, "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    # A weekday-independent, in-hours clock that runs: frozen at tomorrow 10:00, then resumed.
    for args in (("clock", "freeze", _next_working_morning().isoformat()), ("clock", "resume")):
        moved = _cli(env, folder, *args)
        assert moved.returncode == 0, moved.stderr[-3000:]
    log = (folder / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "kefu.cli", "serve", "--no-migrate",
                               "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if server.poll() is not None:
                break
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("the live server did not start")
        if server.poll() is not None:
            log.flush()
            pytest.fail("the live server exited:\n" + (folder / "server.log").read_text()[-3000:])
        yield LiveServer(base, env, folder)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if os.environ.get("KEFU_KEEP_LIVE"):
            print(f"live server files kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(live_server: LiveServer) -> Iterator[Any]:
    """Per module: Playwright's sync API keeps its event loop marked as running while it is
    started, which would break the async tests (and other modules' Playwright) after it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def login(page: Any, username: str, password: str = PASSWORD, *, base_url: str = "") -> None:
    """Sign in through the ``/login`` form and wait for the signed-in page. Pages from
    :func:`new_page` know the server; give ``base_url`` for other pages."""
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]", timeout=15_000)


def new_page(browser: Any, live_server: str, *, mobile: bool = False,
             permissions: list[str] | None = None) -> Any:
    """A page in a fresh context (its own cookies), based at the live server."""
    options: dict[str, Any] = {"base_url": live_server, "locale": "zh-CN",
                               "timezone_id": "Asia/Shanghai"}
    if mobile:
        options.update(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                       is_mobile=True, has_touch=True)
    else:
        options.update(viewport={"width": 1440, "height": 900})
    if permissions:
        options["permissions"] = permissions
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    return context.new_page()


_counter = iter(range(1, 1_000_000))


def unique(prefix: str) -> str:
    return f"{prefix}{os.getpid() % 1000}x{next(_counter)}"


def seed_world(live_server: LiveServer, spec: dict[str, Any]) -> dict[str, Any]:
    """Create what ``spec`` describes (see ``browser/seed.py``); returns the new ids."""
    payload = {"password": PASSWORD, **spec}
    result = subprocess.run([sys.executable, str(SEED_SCRIPT)], env=live_server.env,
                            cwd=live_server.folder, input=json.dumps(payload),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    created: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return created


def api_token(live_server: str, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = httpx.post(f"{live_server}/api/auth/token",
                          json={"username": username, "password": password}, timeout=10)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def advance_clock(live_server: str, duration: str, headers: dict[str, str]) -> datetime:
    response = httpx.post(f"{live_server}/api/test-clock/advance", json={"duration": duration},
                          headers=headers, timeout=10)
    response.raise_for_status()
    return datetime.fromisoformat(response.json()["now"])


def screenshot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
