"""The FastAPI application: pages, JSON API, WebSocket, and the in-server sweeper."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import Message

from kefu import domains
from kefu.kit import cache, clock, clockstore, runtime
from kefu.kit.db import Database
from kefu.kit.deadlines import Sweeper
from kefu.kit.events import create_broker, set_broker
from kefu.kit.logs import configure_logging, get_logger
from kefu.kit.loopwatch import LoopWatch
from kefu.ops import api as ops_api
from kefu.settings import Settings, get_settings
from kefu.web import errors
from kefu.web.middleware import RequestContextMiddleware
from kefu.web.templating import environment

STATIC_DIR = Path(__file__).resolve().parent / "static"
log = get_logger("kefu.app")


def install_clock(settings: Settings) -> None:
    if settings.test_clock_enabled and not isinstance(clock.get_clock(), clock.TestClock):
        clock.set_clock(clock.TestClock())


def make_sweeper(db: Database, settings: Settings) -> Sweeper:
    async def sync_clock() -> None:
        if settings.test_clock_enabled:
            async with db.unit_of_work() as session:
                await clockstore.load(session)

    return Sweeper(db, interval=settings.sweep_interval_seconds,
                   batch_size=settings.sweep_batch_size, before_sweep=sync_clock)


async def warm_up_routing(app: FastAPI) -> None:
    """Have FastAPI build every route's state now, before the first client's request.

    FastAPI builds an included router's routes (their body models, their dependencies) when
    the first request reaches them: about 90 ms for all of ours on a two-core machine, in
    which every socket of the process would wait. A request for a path that no route has
    reaches them all. It goes to the router alone, so it counts in no metric or log."""
    scope: dict[str, Any] = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": "/-/warm-up", "raw_path": b"/-/warm-up",
             "root_path": "", "query_string": b"", "headers": [], "client": None,
             "server": None}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: Message) -> None:
        pass

    await app.router(scope, receive, send)


def create_app(settings: Settings | None = None, db: Database | None = None,
               *, run_sweeper: bool | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_clock(settings)
    domains.load()
    environment.globals["timezone"] = settings.timezone
    own_db = db is None
    database = db or Database(settings.database_url, pool_size=settings.database_pool_size,
                              max_overflow=settings.database_max_overflow,
                              pool_timeout=settings.database_pool_timeout_seconds)
    sweeper_wanted = settings.run_sweeper_in_server if run_sweeper is None else run_sweeper

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        broker = create_broker(settings.redis_url)
        await broker.start()
        set_broker(broker)
        app.state.broker = broker
        cache_listener = asyncio.create_task(cache.listen_for_invalidations(),
                                             name="cache-invalidations")
        await warm_up_routing(app)
        # What the warm-up built joins what start-up built, out of the collector's rounds
        # (in a serving process: runtime.configure_garbage_collector).
        runtime.freeze_what_start_up_added()
        sweeper_task = None
        if sweeper_wanted:
            sweeper_task = asyncio.create_task(app.state.sweeper.run_forever(), name="sweeper")
        loop_watch = None
        if settings.event_loop_warn_seconds > 0:
            loop_watch = LoopWatch(warn_after=settings.event_loop_warn_seconds)
            loop_watch.start()
        log.info("started", mode=settings.mode, database=database.engine.dialect.name,
                 redis=bool(settings.redis_url), sweeper=sweeper_wanted)
        try:
            yield
        finally:
            # Graceful shutdown: finish the sweep item in hand, close connections.
            app.state.sweeper.stop()
            if sweeper_task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(sweeper_task, timeout=10)
            cache_listener.cancel()
            await asyncio.gather(cache_listener, return_exceptions=True)
            await broker.stop()
            if loop_watch is not None:
                await loop_watch.stop()
            if own_db:
                await database.dispose()
            log.info("stopped")

    app = FastAPI(title="kefu 客服", version="0.1.0", lifespan=lifespan,
                  docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None)
    app.state.settings = settings
    app.state.db = database
    app.state.sweeper = make_sweeper(database, settings)
    # Room for an image at the cap plus the multipart envelope around it.
    app.add_middleware(RequestContextMiddleware,
                       max_body_bytes=max(settings.upload_max_bytes,
                                          settings.image_max_bytes) + 1024 * 1024)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(ops_api.router)
    if settings.test_clock_enabled:
        app.include_router(ops_api.test_clock_router)
    for router in domains.routers():
        app.include_router(router)
    return app


def app_factory() -> FastAPI:
    """Entry point for ``uvicorn --factory kefu.web.app:app_factory``."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    app = create_app(settings)
    domains.warm_up()
    log.info("warmed up", frozen_objects=runtime.configure_garbage_collector())
    return app
