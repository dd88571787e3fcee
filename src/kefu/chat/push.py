"""Realtime events of the chat, queued during the transaction and published after commit.

Channels (``kefu.kit.events``):

- ``user:{id}`` — a buyer's own conversations; an agent's assigned conversations;
- ``store:{id}:queue`` — conversations waiting in the store queue (every agent of the store);
- ``store:{id}:owners`` — every conversation of the store (the owners).

A message event is built at once (it never changes); conversation events are collected while
the service works and built once at the end (:func:`emit`), so a request that touches a
conversation several times sends one up-to-date event per audience. Where the last message
event of the transaction already goes to exactly that audience, the conversation rides on it
(``{"type": "message", "message": …, "conversation": …}``) instead of a frame of its own:
every message changes its conversation, and most frames would otherwise come in pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.chat import present
from kefu.chat.models import SIDE_STORE, STATUS_OPEN, Conversation, Message
from kefu.kit.db import transaction_scoped
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


_MESSAGE_EVENTS_KEY = "chat_message_events"


def _publish_message(session: AsyncSession, conversation_id: int, channels: list[str],
                     event: dict[str, Any]) -> None:
    """Publish a message event and remember where it went (see the module doc)."""
    _publish(session, channels, event)
    _sent_messages(session, keep=True).setdefault(conversation_id, []).append(
        (event, frozenset(channels)))


def _sent_messages(session: AsyncSession, *, keep: bool
                   ) -> dict[int, list[tuple[dict[str, Any], frozenset[str]]]]:
    """Message events of the session's current transaction, by conversation (a session that
    goes on after a rollback must not attach anything to events that never went out)."""
    return transaction_scoped(session, _MESSAGE_EVENTS_KEY, pop=not keep)


def _ride_along(sent: list[tuple[dict[str, Any], frozenset[str]]], channels: set[str]
                ) -> dict[str, Any] | None:
    """The message event that can carry a conversation update for ``channels``: the last one
    published to exactly those channels, with no later message event to any of them."""
    for event, went_to in reversed(sent):
        if went_to & channels:
            return event if went_to == channels else None
    return None


def message(session: AsyncSession, conversation: Conversation, message: Message,
            names: present.Names) -> None:
    """Queue the events of a new message: the buyer's copy, and the store side's."""
    store_id = conversation.store_id
    plain = present.message_out(message, names, store_id, None).model_dump(mode="json")
    # A warning is for its sender only: the buyer's copy differs when the buyer sent it.
    buyer_view = plain if not message.warning or message.sender_id != conversation.buyer_id \
        else present.message_out(message, names, store_id, conversation.buyer_id).model_dump(
            mode="json")
    _publish_message(session, conversation.id, [user_channel(conversation.buyer_id)],
                     {"type": "message", "message": buyer_view})
    channels = store_channels(conversation)
    if message.warning and message.sender_side == SIDE_STORE and message.sender_id is not None:
        own = present.message_out(message, names, store_id, message.sender_id)
        sender_channel = user_channel(message.sender_id)
        _publish_message(session, conversation.id, [sender_channel],
                         {"type": "message", "message": own.model_dump(mode="json")})
        channels = [c for c in channels if c != sender_channel]
    _publish_message(session, conversation.id, channels, {"type": "message", "message": plain})


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
    sent_messages = _sent_messages(session, keep=False)
    if not dirty:
        return
    conversations = [c for c, _also in dirty.values()]
    batch = await present.load_batch(session, conversations, last)
    for conversation, also in dirty.values():
        sent = sent_messages.get(conversation.id, [])
        for channels, view in (
                ([user_channel(conversation.buyer_id)],
                 present.view(batch, conversation, "buyer", None)),
                ([*store_channels(conversation), *sorted(also)],
                 present.view(batch, conversation, "store", None))):
            dumped = view.model_dump(mode="json")
            carrier = _ride_along(sent, set(channels))
            if carrier is not None:
                carrier["conversation"] = dumped  # published after commit: still in time
            else:
                _publish(session, channels, {"type": "conversation", "conversation": dumped})


def message_events_snapshot(session: AsyncSession
                            ) -> dict[int, list[tuple[dict[str, Any], frozenset[str]]]]:
    """The message events queued so far (a savepoint about to start)."""
    return {cid: list(sent) for cid, sent in _sent_messages(session, keep=True).items()}


def restore_message_events(session: AsyncSession,
                           snapshot: dict[int, list[tuple[dict[str, Any], frozenset[str]]]]
                           ) -> None:
    """The savepoint was rolled back, and its events dropped: a conversation update must
    not ride on one of them."""
    sent = _sent_messages(session, keep=True)
    sent.clear()
    sent.update(snapshot)
