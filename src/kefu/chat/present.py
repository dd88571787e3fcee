"""Turning chat rows into the JSON shapes of the protocol, for one audience at a time.

Names (users, stores) are loaded in batches and remembered for the transaction, so building
a list, or several events in one request, costs a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from sqlalchemy import literal, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts import service as accounts
from kefu.chat import repository
from kefu.chat.models import (
    KIND_AUTO_REPLY,
    KIND_ORDER_CARD,
    KIND_PRODUCT_CARD,
    SIDE_BUYER,
    SIDE_SYSTEM,
    Conversation,
    Message,
)
from kefu.chat.schemas import ConversationOut, MessageOut, OrderCardOut, ProductCardOut
from kefu.kit.cache import TTLCache
from kefu.marketplace import service as marketplace
from kefu.settings import get_settings

AUTO_REPLY_LABEL = "自动回复"
SYSTEM_SENDER = "系统"

Side = Literal["buyer", "store"]


@dataclass
class Names:
    users: dict[int, str] = field(default_factory=dict)
    stores: dict[int, str] = field(default_factory=dict)


_NAMES_KEY = "chat_names"


def known_names(session: AsyncSession) -> Names:
    names: Names = session.info.setdefault(_NAMES_KEY, Names())
    return names


def remember_user(session: AsyncSession, user_id: int, name: str) -> None:
    known_names(session).users[user_id] = name


# Display names of users and stores, kept per process: no feature renames either today, and
# should one come, a name a few minutes old in a chat header is harmless.
NAMES: TTLCache[str] = TTLCache("chat.names", ttl_seconds=300, max_entries=50_000)


def _from_cache(kind: str, wanted: set[int], known: dict[int, str]) -> list[int]:
    """Fill ``known`` from the process cache; the ids still missing."""
    missing = []
    for found_id in sorted(wanted - known.keys()):
        name = NAMES.get((kind, found_id))
        if name is None:
            missing.append(found_id)
        else:
            known[found_id] = name
    return missing


async def load_names(session: AsyncSession, user_ids: Iterable[int | None],
                     store_ids: Iterable[int]) -> Names:
    names = known_names(session)
    missing_users = _from_cache("u", {u for u in user_ids if u is not None}, names.users)
    missing_stores = _from_cache("s", set(store_ids), names.stores)
    # Users' and stores' names in one round trip.
    parts = []
    if missing_users:
        parts.append(accounts.display_names_query(missing_users).add_columns(literal(0)))
    if missing_stores:
        parts.append(marketplace.store_names_query(missing_stores).add_columns(literal(1)))
    if parts:
        query = parts[0] if len(parts) == 1 else union_all(*parts)
        for found_id, name, is_store in (await session.execute(query)).all():
            (names.stores if is_store else names.users)[found_id] = name
            NAMES.put(("s" if is_store else "u", found_id), name)
    return names


def media_url(path: str | None) -> str | None:
    return f"/media/{path}" if path else None


def message_out(message: Message, names: Names, store_id: int, viewer_id: int | None
                ) -> MessageOut:
    """``viewer_id``: who will read it — a warning is shown to its sender only."""
    if message.kind == KIND_AUTO_REPLY:
        sender_name = names.stores.get(store_id, "")
    elif message.sender_side == SIDE_SYSTEM or message.sender_id is None:
        sender_name = SYSTEM_SENDER
    else:
        sender_name = names.users.get(message.sender_id, "")
    data = message.data or {}
    product = data.get("product") if message.kind == KIND_PRODUCT_CARD else None
    order = data.get("order") if message.kind == KIND_ORDER_CARD else None
    is_auto = message.kind == KIND_AUTO_REPLY
    return MessageOut(
        id=message.id, conversation_id=message.conversation_id, seq=message.seq,
        client_msg_id=message.client_msg_id, sender_id=message.sender_id,
        sender_side=message.sender_side,
        sender_name=sender_name, kind=message.kind, text=message.text,
        image_url=media_url(message.image_path), thumbnail_url=media_url(message.thumbnail_path),
        product=ProductCardOut(**product) if product else None,
        order=OrderCardOut(**order) if order else None,
        auto_reply_kind=message.auto_reply_kind, is_auto_reply=is_auto,
        label=AUTO_REPLY_LABEL if is_auto else None,
        warning=message.warning if viewer_id is not None and viewer_id == message.sender_id
        else None,
        created_at=message.created_at,
    )


def conversation_out(conversation: Conversation, names: Names, last_message: Message | None,
                     side: Side, viewer_id: int | None) -> ConversationOut:
    c = conversation
    nudge_at = None
    if c.open_wait_id is not None and not c.wait_nudged and c.wait_started_at is not None:
        nudge_at = c.wait_started_at + timedelta(minutes=get_settings().nudge_after_minutes)
    return ConversationOut(
        id=c.id, store_id=c.store_id, store_name=names.stores.get(c.store_id, ""),
        buyer_id=c.buyer_id, buyer_name=names.users.get(c.buyer_id, ""),
        status=c.status,
        assigned_agent_id=c.assigned_agent_id,
        assigned_agent_name=names.users.get(c.assigned_agent_id)
        if c.assigned_agent_id is not None else None,
        queued=c.status == "open" and c.assigned_agent_id is None,
        last_seq=c.last_seq, buyer_read_seq=c.buyer_read_seq, store_read_seq=c.store_read_seq,
        unread_count=c.buyer_unread if side == SIDE_BUYER else c.store_unread,
        waiting_since=c.wait_clock_started_at, wait_started_at=c.wait_started_at,
        reply_due_at=c.wait_due_at, nudge_available_at=nudge_at,
        last_message=message_out(last_message, names, c.store_id, viewer_id)
        if last_message is not None else None,
        product_id=c.product_id, order_id=c.order_id,
    )


@dataclass
class Batch:
    """What building views of some conversations needs, loaded once."""

    names: Names
    last: dict[int, Message]


async def load_batch(session: AsyncSession, conversations: Sequence[Conversation],
                     last: dict[int, Message] | None = None) -> Batch:
    ids = [c.id for c in conversations]
    found = {cid: m for cid, m in (last or {}).items() if cid in set(ids)}
    missing = [cid for cid in ids if cid not in found]
    if missing:
        found.update(await repository.last_messages(session, missing))
    user_ids: set[int | None] = set()
    for c in conversations:
        user_ids.update((c.buyer_id, c.assigned_agent_id))
    user_ids.update(m.sender_id for m in found.values())
    names = await load_names(session, user_ids, {c.store_id for c in conversations})
    return Batch(names, found)


def view(batch: Batch, conversation: Conversation, side: Side, viewer_id: int | None
         ) -> ConversationOut:
    # A buyer reads their own conversations: their warnings show.
    viewer = conversation.buyer_id if side == "buyer" else viewer_id
    return conversation_out(conversation, batch.names, batch.last.get(conversation.id), side,
                            viewer)


async def conversations_out(session: AsyncSession, conversations: Sequence[Conversation],
                            side: Side, viewer_id: int | None,
                            last: dict[int, Message] | None = None) -> list[ConversationOut]:
    """A batch of conversations for one audience in a constant number of queries."""
    if not conversations:
        return []
    batch = await load_batch(session, conversations, last)
    return [view(batch, c, side, viewer_id) for c in conversations]


def side_of(is_buyer: bool) -> Side:
    return "buyer" if is_buyer else "store"
