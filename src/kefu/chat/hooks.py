"""Extension points for other domains. The chat knows nothing of diversion or auto-replies:
they import this module and register here.

**Screens** run before a human message is stored, inside the sending transaction, with the
conversation row locked (they are quick: pure checks, writing only on a hit). A screen returns ``None`` (no opinion) or a :class:`Screening`:

- ``deliver`` — nothing to say;
- ``warn`` — the message is delivered; ``reason`` is shown to the sender only;
- ``block`` — nothing is stored in the conversation and the sender gets a 422
  ``diversion_blocked`` with ``reason`` and ``details``. What the screen itself wrote (a
  violation with its evidence) is committed all the same.

A screen may come with ``applies``: a quick pure check (no database) that says whether it
has anything to do with a message at all. Most messages are clean; skipping the screen then
saves its savepoint, which costs more than the check itself.

Screens run in registration order; the first ``block`` stops the rest. A screen that raises
is logged and counted, and the message goes on (chat stays up when a detector has a bug).

**After-message reactions** run in the same transaction right after a buyer's human message
(text, image, card, nudge) is stored — the auto-reply domain answers there with
:func:`kefu.chat.service.post_auto_reply`. A reaction that raises is logged and skipped
inside a savepoint, so the buyer's message is never lost to it. Like a screen, a reaction
may come with ``applies``: a quick check without database round trips (this process's
caches may be read) that is False only when the reaction would certainly do nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

ScreenAction = Literal["deliver", "block", "warn"]
Side = Literal["buyer", "store"]


@dataclass(frozen=True)
class ScreenContext:
    conversation_id: int
    store_id: int
    buyer_id: int
    sender_id: int
    sender_side: Side
    kind: str  # text | image | product_card | order_card
    text: str | None
    image: bytes | None  # the uploaded bytes, for image messages
    # Reads the same sender's text messages in this conversation, oldest first (the last few
    # within a few minutes): contact details are often split over several messages. A query,
    # so a screen calls it only when the message at hand could continue such a split.
    load_recent_texts: Callable[[], Awaitable[tuple[str, ...]]] = field(
        default=lambda: _no_texts())
    # The client's idempotency key: a resend of a blocked message is the same attempt.
    client_msg_id: str | None = None
    # Where the (re-encoded) image is stored, to keep as evidence.
    image_path: str | None = None

    async def recent_texts(self) -> tuple[str, ...]:
        return await self.load_recent_texts()


async def _no_texts() -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class Screening:
    action: ScreenAction
    code: str = ""
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MessagePosted:
    conversation_id: int
    store_id: int
    buyer_id: int
    message_id: int
    seq: int
    sender_id: int
    kind: str
    text: str | None
    created_at: datetime
    # True when this is the buyer's first message in the conversation ever.
    first_in_conversation: bool
    # The wait this message belongs to, and whether this message opened it.
    wait_id: int | None
    wait_started: bool
    # Whether the store's customer service is open right now.
    store_open: bool
    # The product and the order the buyer last asked about in this conversation (cards).
    product_id: int | None = None
    order_id: int | None = None


ScreenFn = Callable[[AsyncSession, ScreenContext], Awaitable[Screening | None]]
ScreenApplies = Callable[[ScreenContext], bool]
AfterMessageFn = Callable[[AsyncSession, MessagePosted], Awaitable[None]]
ReactionApplies = Callable[[AsyncSession, MessagePosted], bool]

_screens: dict[str, tuple[ScreenFn, ScreenApplies | None]] = {}
_after_message: dict[str, tuple[AfterMessageFn, ReactionApplies | None]] = {}


def register_screen(name: str, fn: ScreenFn, *, applies: ScreenApplies | None = None) -> None:
    """Register (or replace, by name) a message screen; ``applies``: see the module doc
    (None: the screen sees every message)."""
    _screens[name] = (fn, applies)


def unregister_screen(name: str) -> None:
    _screens.pop(name, None)


def register_after_message(name: str, fn: AfterMessageFn, *,
                           applies: ReactionApplies | None = None) -> None:
    """Register (or replace, by name) a reaction to a buyer's message; ``applies``: see the
    module doc (None: the reaction runs after every buyer message)."""
    _after_message[name] = (fn, applies)


def unregister_after_message(name: str) -> None:
    _after_message.pop(name, None)


def screens() -> list[tuple[str, ScreenFn, ScreenApplies | None]]:
    return [(name, fn, applies) for name, (fn, applies) in _screens.items()]


def after_message_reactions() -> list[tuple[str, AfterMessageFn, ReactionApplies | None]]:
    return [(name, fn, applies) for name, (fn, applies) in _after_message.items()]
