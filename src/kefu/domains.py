"""The domains that make up the app: their routers and their deadline handlers.

Adding a domain means adding it here (and its models to ``kefu.models``).
"""

from __future__ import annotations

import importlib

from fastapi import APIRouter

DOMAINS = ("accounts", "marketplace", "deposit", "notifications", "chat", "diversion",
           "autoreply")
DEADLINE_MODULES = ("kefu.ops.deadlines", "kefu.marketplace.deadlines")


# Modules that register themselves with other domains' hooks when imported (weight
# providers, chat screens and reactions).
HOOK_MODULES: tuple[str, ...] = (
    "kefu.diversion.service",  # search demotion weight
    "kefu.diversion.chat_screen",  # refuse / warn contact details on the send path
    "kefu.autoreply.chat_reaction",  # welcome, off-hours, FAQ, after-sales pointer
    "kefu.chat.account_hooks",  # a disabled agent goes offline
    "kefu.chat.ranking",  # store weight from the 7-day response rate
)

# Tables that are built on first use; a serving process builds them before its first request.
WARM_UPS: tuple[str, ...] = (
    "kefu.diversion.detector",
    "kefu.autoreply.synonyms",
)


def load_deadline_handlers() -> None:
    for module in DEADLINE_MODULES:
        importlib.import_module(module)


def load() -> None:
    """Import every domain's deadline handlers and hook registrations."""
    load_deadline_handlers()
    for module in HOOK_MODULES:
        importlib.import_module(module)


def warm_up() -> None:
    """Build what the modules in WARM_UPS build lazily (each has a ``warm_up()``)."""
    for module in WARM_UPS:
        importlib.import_module(module).warm_up()


def routers() -> list[APIRouter]:
    found: list[APIRouter] = []
    for domain in DOMAINS:
        for room in ("api", "views"):
            try:
                module = importlib.import_module(f"kefu.{domain}.{room}")
            except ModuleNotFoundError as error:
                if error.name != f"kefu.{domain}.{room}":
                    raise
                continue
            found.append(module.router)
    return found
