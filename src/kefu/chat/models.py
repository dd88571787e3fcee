"""Chat tables: conversations, their gapless message log, waits (facts for response metrics),
agent presence, quick replies, and store working hours.

Relationships are plain foreign keys, no ORM relationships: the chat reads through its
repository, and other domains' tables are referred to by name only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.kit.db import Base, BigIntId

SIDE_BUYER = "buyer"
SIDE_STORE = "store"
SIDE_SYSTEM = "system"

KIND_TEXT = "text"
KIND_IMAGE = "image"
KIND_PRODUCT_CARD = "product_card"
KIND_ORDER_CARD = "order_card"
KIND_SYSTEM = "system"
KIND_AUTO_REPLY = "auto_reply"
KIND_NUDGE = "nudge"
MESSAGE_KINDS = (KIND_TEXT, KIND_IMAGE, KIND_PRODUCT_CARD, KIND_ORDER_CARD, KIND_SYSTEM,
                 KIND_AUTO_REPLY, KIND_NUDGE)
AUTO_REPLY_KINDS = ("welcome", "faq", "keyword", "off_hours", "after_sales")

STATUS_OPEN = "open"
STATUS_RESOLVED = "resolved"

AGENT_ONLINE = "online"
AGENT_AWAY = "away"
AGENT_OFFLINE = "offline"
AGENT_STATUSES = (AGENT_ONLINE, AGENT_AWAY, AGENT_OFFLINE)


class ChatDesk(Base):
    """One row per store that uses chat: the lock that serialises assignment decisions.

    Lock order everywhere: a conversation row first, then the desk. Whoever holds the desk
    never waits for a conversation lock (it uses SKIP LOCKED), so the two cannot deadlock.
    """

    __tablename__ = "chat_desk"

    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id", ondelete="CASCADE"),
                                          primary_key=True, autoincrement=False)
    created_at: Mapped[datetime]


class Conversation(Base):
    """The one conversation between a buyer and a store."""

    __tablename__ = "chat_conversation"
    __table_args__ = (
        UniqueConstraint("store_id", "buyer_id"),
        CheckConstraint("status IN ('open', 'resolved')", name="status_known"),
        CheckConstraint("last_seq >= 0", name="last_seq_not_negative"),
        CheckConstraint("buyer_unread >= 0 AND store_unread >= 0", name="unread_not_negative"),
        Index("ix_chat_conversation_store_status_waiting", "store_id", "status",
              "wait_clock_started_at"),
        Index("ix_chat_conversation_agent_status", "assigned_agent_id", "status"),
        Index("ix_chat_conversation_buyer_last", "buyer_id", "last_message_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id"))
    buyer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(16), default=STATUS_OPEN)
    assigned_agent_id: Mapped[int | None] = mapped_column(BigInteger,
                                                          ForeignKey("user_account.id"))
    # Set while the conversation waits in the store queue for a free agent.
    queued_since: Mapped[datetime | None]
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    buyer_read_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    store_read_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The other side's messages after each side's read mark, kept as messages are stored and
    # marks move, so showing a conversation never counts its messages.
    buyer_unread: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    store_unread: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The product and the order the buyer last asked about (cards).
    product_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("product.id"))
    order_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("shop_order.id"))
    # The open wait, copied here so the inbox orders and shows it without a join. No foreign
    # key: chat_wait points at the conversation, and a cycle of keys helps nobody.
    open_wait_id: Mapped[int | None] = mapped_column(BigInteger)
    wait_started_at: Mapped[datetime | None]
    wait_clock_started_at: Mapped[datetime | None]
    wait_due_at: Mapped[datetime | None]
    wait_nudged: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who last answered as a human, for "the agent who served this buyer in the last 24 h".
    last_human_agent_id: Mapped[int | None] = mapped_column(BigInteger)
    last_human_reply_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class Message(Base):
    """One entry of a conversation's log, numbered without gaps by ``seq``."""

    __tablename__ = "chat_message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        # A resend with the same client id returns the first message (NULLs never collide:
        # automatic and system messages carry none).
        UniqueConstraint("conversation_id", "sender_id", "client_msg_id"),
        CheckConstraint("seq > 0", name="seq_positive"),
        CheckConstraint("sender_side IN ('buyer', 'store', 'system')", name="side_known"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chat_conversation.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    sender_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("user_account.id"))
    sender_side: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    image_path: Mapped[str | None] = mapped_column(String(255))
    thumbnail_path: Mapped[str | None] = mapped_column(String(255))
    product_id: Mapped[int | None] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    auto_reply_kind: Mapped[str | None] = mapped_column(String(16))
    # Card snapshots (a card shows the product or order as it was when shared), image size,
    # and whatever an automatic answer wants to keep (the FAQ entry it came from …).
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Shown only to the sender (a buyer told their message contains contact details).
    warning: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Wait(Base):
    """A buyer waiting for a human: from the buyer message that opened it to the first human
    store reply. The facts behind response rates; written as it happens, never recomputed."""

    __tablename__ = "chat_wait"
    __table_args__ = (
        Index("ix_chat_wait_store_day", "store_id", "business_day"),
        Index("ix_chat_wait_agent_day", "agent_id", "business_day"),
        Index("ix_chat_wait_conversation", "conversation_id"),
        # At most one open wait per conversation, enforced by the database.
        Index("uq_chat_wait_open_per_conversation", "conversation_id", unique=True,
              postgresql_where=text("ended_at IS NULL"), sqlite_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chat_conversation.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id"))
    buyer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id"))
    started_seq: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime]
    # Outside working hours the clock starts at the next opening.
    clock_started_at: Mapped[datetime]
    # The business day (store time zone) of clock_started_at: the day the wait counts for.
    business_day: Mapped[date] = mapped_column(Date)
    # When an answer stops being on time (on_time_minutes of working time after the clock).
    due_at: Mapped[datetime]
    # The agent responsible: the assignee while open, the one who answered once answered.
    agent_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("user_account.id"))
    nudged_at: Mapped[datetime | None]
    first_human_reply_at: Mapped[datetime | None]
    answered_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("user_account.id"))
    # Working-time seconds from clock_started_at to the answer.
    response_seconds: Mapped[int | None] = mapped_column(Integer)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    ended_at: Mapped[datetime | None]
    # answered | unanswered (closed by resolving the conversation without a human reply)
    outcome: Mapped[str | None] = mapped_column(String(16))


class AgentPresence(Base):
    """An agent's (or owner's) chat status and how many open conversations they take."""

    __tablename__ = "chat_agent_status"
    __table_args__ = (
        CheckConstraint("status IN ('online', 'away', 'offline')", name="status_known"),
        CheckConstraint("capacity >= 1 AND capacity <= 100", name="capacity_range"),
        Index("ix_chat_agent_status_store_status", "store_id", "status"),
    )

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id",
                                                                ondelete="CASCADE"),
                                         primary_key=True, autoincrement=False)
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id"))
    status: Mapped[str] = mapped_column(String(8), default=AGENT_OFFLINE)
    capacity: Mapped[int] = mapped_column(Integer, default=5)
    updated_at: Mapped[datetime]
    # Ties between equally loaded agents go to whoever waited longest for a conversation.
    last_assigned_at: Mapped[datetime | None]


class QuickReply(Base):
    """A canned answer: store-wide (owner_id NULL, kept by the owner) or an agent's own."""

    __tablename__ = "chat_quick_reply"
    __table_args__ = (Index("ix_chat_quick_reply_store_owner", "store_id", "owner_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id"))
    owner_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("user_account.id",
                                                                        ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id"))
    created_at: Mapped[datetime]


class StoreHours(Base):
    """A store's regular hours for one weekday (0 = Monday). Minutes from local midnight;
    1440 closes at midnight. Missing weekdays use the default hours from the settings."""

    __tablename__ = "chat_store_hours"
    __table_args__ = (
        UniqueConstraint("store_id", "weekday"),
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        CheckConstraint("closed OR (opens_minute >= 0 AND opens_minute < closes_minute "
                        "AND closes_minute <= 1440)", name="hours_valid"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    opens_minute: Mapped[int] = mapped_column(SmallInteger, default=0)
    closes_minute: Mapped[int] = mapped_column(SmallInteger, default=0)


class StoreHoliday(Base):
    """A date with other hours than usual: closed, or special hours."""

    __tablename__ = "chat_store_holiday"
    __table_args__ = (
        UniqueConstraint("store_id", "day"),
        CheckConstraint("closed OR (opens_minute >= 0 AND opens_minute < closes_minute "
                        "AND closes_minute <= 1440)", name="hours_valid"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id"))
    day: Mapped[date] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean, default=True)
    opens_minute: Mapped[int] = mapped_column(SmallInteger, default=0)
    closes_minute: Mapped[int] = mapped_column(SmallInteger, default=0)
    note: Mapped[str] = mapped_column(String(64), default="")
