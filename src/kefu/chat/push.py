"""Realtime events of the chat, queued during the transaction and published after commit.

Channels (``kefu.kit.events``):

- ``user:{id}`` — a buyer's own conversations; an agent's assigned conversations;
- ``store:{id}:queue`` — conversations waiting in the store queue (every agent of the store);
- ``store:{id}:owners`` — every conversation of the store (the owners).

A message event is built at once (it never changes); conversation events are collected while
the service works and built once at the end (:func:`emit`), so a request that touches a
conversation several times sends one up-to-date event per audience.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.chat import present
from kefu.chat.models import SIDE_STORE, STATUS_OPEN, Conversation, Message
from kefu.kit.events import publish_after_commit


def user_channel(user_id: int) -> str:
    return f"user:{user_id}"


def queue_channel(store_id: int) -> str:
    return f"store:{store_id}:queue"


def owners_channel(store_id: int) -> str:
    return f"store:{store_id}:owners"


def store_channels(conversation: Conversation) -> list[str]:
    """Where the store side of a conversation listens right now."""
    channels = [owners_channel(conversation.store_id)]
    if conversation.assigned_agent_id is not None:
        channels.append(user_channel(conversation.assigned_agent_id))
    elif conversation.status == STATUS_OPEN:
        channels.append(queue_channel(conversation.store_id))
    return channels


def _publish(session: AsyncSession, channels: Iterable[str], event: dict[str, Any]) -> None:
    for channel in dict.fromkeys(channels):
        publish_after_commit(session, channel, event)


def message(session: AsyncSession, conversation: Conversation, message: Message,
            names: present.Names) -> None:
    """Queue the events of a new message: the buyer's copy, and the store side's."""
    store_id = conversation.store_id
    buyer_view = present.message_out(message, names, store_id, conversation.buyer_id)
    _publish(session, [user_channel(conversation.buyer_id)],
             {"type": "message", "message": buyer_view.model_dump(mode="json")})
    plain = present.message_out(message, names, store_id, None).model_dump(mode="json")
    channels = store_channels(conversation)
    if message.warning and message.sender_side == SIDE_STORE and message.sender_id is not None:
        # The warning is for the agent who sent it only.
        own = present.message_out(message, names, store_id, message.sender_id)
        sender_channel = user_channel(message.sender_id)
        _publish(session, [sender_channel],
                 {"type": "message", "message": own.model_dump(mode="json")})
        channels = [c for c in channels if c != sender_channel]
    _publish(session, channels, {"type": "message", "message": plain})


def read(session: AsyncSession, conversation: Conversation, side: str, seq: int) -> None:
    event = {"type": "read", "conversation_id": conversation.id, "side": side, "seq": seq}
    _publish(session, [user_channel(conversation.buyer_id), *store_channels(conversation)],
             event)


_DIRTY_KEY = "chat_dirty_conversations"


def touch(session: AsyncSession, conversation: Conversation, *also: str) -> None:
    """Mark a conversation as changed; ``also``: channels that must hear about it although
    they no longer would (the agent it was taken from, the queue it left)."""
    dirty: dict[int, tuple[Conversation, set[str]]] = session.info.setdefault(_DIRTY_KEY, {})
    entry = dirty.setdefault(conversation.id, (conversation, set()))
    entry[1].update(also)


async def emit(session: AsyncSession, last: dict[int, Message] | None = None) -> None:
    """Build and queue the conversation events of everything touched so far."""
    dirty: dict[int, tuple[Conversation, set[str]]] = session.info.pop(_DIRTY_KEY, {})
    if not dirty:
        return
    conversations = [c for c, _also in dirty.values()]
    batch = await present.load_batch(session, conversations, last)
    for conversation, also in dirty.values():
        for_buyer = present.view(batch, conversation, "buyer", None)
        for_store = present.view(batch, conversation, "store", None)
        _publish(session, [user_channel(conversation.buyer_id)],
                 {"type": "conversation", "conversation": for_buyer.model_dump(mode="json")})
        _publish(session, [*store_channels(conversation), *sorted(also)],
                 {"type": "conversation", "conversation": for_store.model_dump(mode="json")})


def discard(session: AsyncSession) -> None:
    session.info.pop(_DIRTY_KEY, None)
