"""The ``kefu`` command: serve, worker, db, demo, user, clock, and the text-feature tools."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from kefu.settings import Settings

app = typer.Typer(help="kefu 客服 — open-source customer service for online marketplaces.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
clock_app = typer.Typer(help="The demo/test clock (demo and test mode only).",
                        no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(clock_app, name="clock")

console = Console(stderr=True)


def _mount_optional(module: str, attribute: str, name: str, help_text: str) -> None:
    try:
        imported = __import__(module, fromlist=[attribute])
    except ModuleNotFoundError as error:
        if error.name and error.name.startswith("kefu"):
            return
        raise
    app.add_typer(getattr(imported, attribute), name=name, help=help_text)


_mount_optional("kefu.diversion.cli", "diversion_app", "diversion",
                "Diversion (导流) detection tools.")
_mount_optional("kefu.autoreply.cli", "faq_app", "faq", "FAQ auto-answer tools.")


def _settings() -> Settings:
    from kefu.settings import get_settings

    return get_settings()


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from kefu.kit import migrate

    settings = _settings()
    migrate.upgrade(settings.database_url, revision)
    console.print(f"[green]database at {revision}[/green]")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION (``base`` for an empty database)."""
    from kefu.kit import migrate

    migrate.downgrade(_settings().database_url, revision)


@db_app.command("current")
def db_current() -> None:
    from kefu.kit import migrate

    migrate.current(_settings().database_url)


@db_app.command("check")
def db_check() -> None:
    """Fail if the models have changes no migration covers."""
    from kefu.kit import migrate

    migrate.check(_settings().database_url)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    workers: Annotated[int, typer.Option(help="Server processes (needs KEFU_REDIS_URL "
                                         "for realtime events across them).")] = 1,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate",
                                                help="Upgrade the database first.")] = True,
) -> None:
    """Run the web server (and, unless turned off, the deadline sweeper)."""
    import uvicorn

    from kefu.kit import migrate

    settings = _settings()
    if migrate_first:
        migrate.upgrade(settings.database_url)
    if workers > 1 and not settings.redis_url:
        console.print("[yellow]several processes without KEFU_REDIS_URL: realtime events "
                      "will not cross between them[/yellow]")
    uvicorn.run("kefu.web.app:app_factory", factory=True, host=host or settings.host,
                port=port or settings.port, workers=workers, log_config=None,
                timeout_graceful_shutdown=10, ws_ping_interval=20, ws_ping_timeout=20,
                # Chat frames are a few hundred bytes: compressing each costs both ends more
                # CPU than it saves on the wire.
                ws_per_message_deflate=False)


@app.command()
def worker(
    until_idle: Annotated[bool, typer.Option(help="Exit when nothing is due.")] = False,
    name: Annotated[str | None, typer.Option(help="Worker name in the run log.")] = None,
) -> None:
    """Work off due deadlines. Run as many as you like, on as many machines as you like."""
    from kefu import domains
    from kefu.kit.db import Database
    from kefu.kit.logs import configure_logging
    from kefu.web.app import install_clock, make_sweeper

    settings = _settings()
    configure_logging(settings.log_level, settings.log_json)
    install_clock(settings)
    domains.load()

    async def run() -> None:
        from kefu.kit import cache
        from kefu.kit.events import create_broker, set_broker

        # What the deadlines do reaches the server processes' sockets (through Redis when
        # configured), and their cache invalidations reach this one.
        broker = create_broker(settings.redis_url)
        await broker.start()
        set_broker(broker)
        listener = asyncio.create_task(cache.listen_for_invalidations())
        db = Database(settings.database_url, pool_size=2,  # the sweeper works one at a time
                      pool_timeout=settings.database_pool_timeout_seconds)
        sweeper = make_sweeper(db, settings)
        if name:
            sweeper.worker = name
        logging.getLogger("kefu.worker").info(
            "deadline worker started", extra={"worker": sweeper.worker,
                                              "batch_size": sweeper.batch_size,
                                              "interval_seconds": sweeper.interval})
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, sweeper.stop)
        try:
            await sweeper.run_forever(until_idle=until_idle)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
            await db.dispose()
            await broker.stop()

    asyncio.run(run())


@app.command()
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    reset: Annotated[bool, typer.Option(help="Start from an empty demo database.")] = False,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve",
                                              help="Serve after seeding.")] = True,
) -> None:
    """Create a realistic demo marketplace, print its logins, and serve it.

    It never touches the configured production database: the demo has its own
    (``KEFU_DEMO_DATABASE_URL``, default ``./kefu-demo.db``) and runs in demo mode only."""
    if os.environ.get("KEFU_MODE", "demo") != "demo":
        console.print("[red]kefu demo runs only in demo mode (unset KEFU_MODE or set it to "
                      "demo)[/red]")
        raise typer.Exit(2)
    os.environ["KEFU_MODE"] = "demo"
    os.environ["KEFU_DATABASE_URL"] = os.environ.get(
        "KEFU_DEMO_DATABASE_URL", "sqlite+aiosqlite:///./kefu-demo.db")
    os.environ.setdefault("KEFU_LOG_JSON", "false")
    from kefu.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    if reset and settings.is_sqlite:
        path = settings.database_url.split(":///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    from kefu.demo.seed import print_logins, seed_demo
    from kefu.kit import migrate

    migrate.upgrade(settings.database_url)
    summary = asyncio.run(seed_demo(settings, console))
    print_logins(summary, console, f"http://{host}:{port}")
    if serve_after:
        serve(host=host, port=port, workers=1, migrate_first=False)


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[str, typer.Option(help="buyer | merchant_owner | merchant_agent | "
                                      "platform_agent | platform_supervisor | platform_admin")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)],
    display_name: Annotated[str | None, typer.Option()] = None,
    store: Annotated[str | None, typer.Option(help="Store slug, for merchant roles.")] = None,
) -> None:
    """Create a user account."""
    from kefu.accounts import service as accounts
    from kefu.accounts.roles import Role
    from kefu.kit.db import Database
    from kefu.kit.errors import DomainError
    from kefu.kit.i18n import gettext
    from kefu.marketplace import repository as marketplace_repository

    settings = _settings()

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            async with db.unit_of_work() as session:
                store_id = None
                if store:
                    found = await marketplace_repository.store_by_slug(session, store)
                    if found is None:
                        raise typer.BadParameter(f"no store {store!r}")
                    store_id = found.id
                user = await accounts.create_user(session, username=username,
                                                  display_name=display_name or username,
                                                  password=password, role=Role(role),
                                                  store_id=store_id)
                console.print(f"[green]created {user.username} ({user.role})[/green]")
        except DomainError as error:
            console.print(f"[red]{gettext(error.message, **error.params)}[/red]")
            raise typer.Exit(2) from error
        finally:
            await db.dispose()

    try:
        Role(role)
    except ValueError as error:
        raise typer.BadParameter(f"unknown role {role!r}") from error
    asyncio.run(run())


def _clock_command(action: str, argument: str | None = None) -> None:
    from datetime import datetime

    from kefu.kit import clockstore
    from kefu.kit.db import Database
    from kefu.kit.errors import DomainError
    from kefu.kit.i18n import gettext
    from kefu.web.app import install_clock

    settings = _settings()
    if not settings.test_clock_enabled:
        console.print("[red]the test clock exists only with KEFU_MODE=demo or test[/red]")
        raise typer.Exit(2)
    install_clock(settings)

    async def run() -> None:
        from kefu.kit import clock

        db = Database(settings.database_url)
        try:
            async with db.unit_of_work() as session:
                await clockstore.load(session)
                if action == "advance":
                    assert argument is not None
                    await clockstore.advance(session, clockstore.parse_duration(argument))
                elif action == "freeze":
                    moment = datetime.fromisoformat(argument) if argument else clock.now()
                    await clockstore.freeze(session, moment)
                elif action == "resume":
                    await clockstore.resume(session)
            current = clock.get_clock()
            assert isinstance(current, clock.TestClock)
            table = Table("now (UTC)", "frozen", "offset")
            table.add_row(current.now().isoformat(timespec="seconds"),
                          "yes" if current.frozen_at else "no", str(current.offset))
            Console().print(table)
        except DomainError as error:
            console.print(f"[red]{gettext(error.message, **error.params)}[/red]")
            raise typer.Exit(2) from error
        finally:
            await db.dispose()

    asyncio.run(run())


@clock_app.command("show")
def clock_show() -> None:
    """Print the test clock."""
    _clock_command("show")


@clock_app.command("advance")
def clock_advance(duration: str) -> None:
    """Move the test clock forward: 30m, 24h, 7d … The sweeper then fires what is due."""
    _clock_command("advance", duration)


@clock_app.command("freeze")
def clock_freeze(at: Annotated[str | None, typer.Argument(help="ISO time with zone; "
                                                         "default now")] = None) -> None:
    _clock_command("freeze", at)


@clock_app.command("resume")
def clock_resume() -> None:
    _clock_command("resume")


def main() -> None:
    app(prog_name="kefu")


if __name__ == "__main__":
    main()
    sys.exit(0)
