"""The serving entry point builds its lazy tables, freezes start-up objects (what the
server's start builds too) and spaces out the garbage collector's full collections."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def test_app_factory_warms_up_freezes_startup_objects_and_spaces_out_full_collections(tmp_path: Path) -> None:
    script = (
        "import gc, sys\n"
        "from kefu.web.app import app_factory\n"
        "from kefu.diversion.detector import default_detector\n"
        "from kefu.autoreply.synonyms import default_tagger\n"
        "assert gc.get_threshold()[2] == 10\n"  # Python's default, until the app starts
        "app_factory()\n"
        "from kefu.kit.runtime import FULL_COLLECTION_AFTER\n"
        "assert gc.get_threshold()[2] == FULL_COLLECTION_AFTER > 10\n"
        "assert default_detector.cache_info().currsize == 1\n"
        "assert default_tagger.cache_info().currsize == 1\n"
        "assert 'pypinyin' not in sys.modules\n"
        "frozen_at_start = gc.get_freeze_count()\n"
        "import asyncio\n"
        "from kefu.web.app import create_app\n"
        "from kefu.settings import get_settings\n"
        "served = create_app(get_settings().model_copy(update={'event_loop_warn_seconds': 0}),"
        " run_sweeper=False)\n"
        "async def start_and_stop():\n"
        "    async with served.router.lifespan_context(served):\n"
        "        pass\n"
        "asyncio.run(start_and_stop())\n"
        "assert gc.get_freeze_count() > frozen_at_start + 5_000, gc.get_freeze_count()\n"
        "print(frozen_at_start)\n"
    )
    env = {**os.environ, "KEFU_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.db'}",
           "KEFU_SECRET_KEY": "factory-test-secret-key-0123456789", "KEFU_MODE": "prod"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, check=False)
    assert done.returncode == 0, done.stderr
    # Tens of thousands of objects (modules, tables) leave the collector's rounds.
    assert int(done.stdout.strip()) > 20_000


async def test_the_routes_are_built_before_the_first_request_not_by_it(
        db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """FastAPI builds a router's routes lazily, when the first request reaches them (about
    90 ms for all of ours, in which every socket waits); the server's start does it."""
    import httpx
    from fastapi import routing

    from kefu.web.app import create_app

    built = getattr(routing, "_EffectiveRouteContext", None)
    if built is None:
        pytest.skip("this FastAPI builds its routes when they are declared")
    builds: list[str] = []
    original = built.from_api_route.__func__

    def counted(cls: Any, *args: Any, **kwargs: Any) -> Any:
        builds.append(kwargs["original_route"].path)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(built, "from_api_route", classmethod(counted))
    app = create_app(settings, db=db, run_sweeper=False)
    async with app.router.lifespan_context(app):
        assert "/api/conversations" in builds
        started_with = len(builds)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://kefu.test") as client:
            assert (await client.get("/no/such/page")).status_code == 404  # walks them all
            assert (await client.get("/api/conversations")).status_code == 401
        assert len(builds) == started_with
