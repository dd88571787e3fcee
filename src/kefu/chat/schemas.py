"""Chat request and response shapes — the JSON of ``docs/chat-protocol.md``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

MessageKindIn = Literal["text", "product_card", "order_card"]


class ConversationIn(BaseModel):
    store_id: int
    product_id: int | None = None
    order_id: int | None = None


class MessageIn(BaseModel):
    client_msg_id: str = Field(min_length=1, max_length=64)
    kind: MessageKindIn = "text"
    text: str | None = Field(default=None, max_length=4000)
    product_id: int | None = None
    order_id: int | None = None


class ReadIn(BaseModel):
    seq: int = Field(ge=0)


class NudgeIn(BaseModel):
    client_msg_id: str = Field(min_length=1, max_length=64)


class TransferIn(BaseModel):
    agent_id: int | None = Field(description="The agent to hand over to; null sends the "
                                 "conversation back to the store queue (owners only).")


class AgentStatusIn(BaseModel):
    status: Literal["online", "away", "offline"]
    capacity: int | None = Field(default=None, ge=1, le=100)


class QuickReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=500)
    scope: Literal["store", "personal"] = "personal"


class ProductCardOut(BaseModel):
    id: int
    title: str
    price_fen: int
    image_url: str
    url: str


class OrderCardOut(BaseModel):
    id: int
    order_no: str
    status: str
    status_label: str
    amount_fen: int
    item_title: str
    item_count: int
    image_url: str
    url: str
    created_at: datetime | None = None


class MessageOut(BaseModel):
    id: int
    conversation_id: int
    seq: int
    client_msg_id: str | None
    sender_id: int | None
    sender_side: Literal["buyer", "store", "system"]
    sender_name: str
    kind: str
    text: str | None
    image_url: str | None
    thumbnail_url: str | None
    product: ProductCardOut | None
    order: OrderCardOut | None
    auto_reply_kind: str | None
    is_auto_reply: bool
    label: str | None
    warning: str | None
    created_at: datetime


class ConversationOut(BaseModel):
    id: int
    store_id: int
    store_name: str
    buyer_id: int
    buyer_name: str
    status: Literal["open", "resolved"]
    assigned_agent_id: int | None
    assigned_agent_name: str | None
    queued: bool
    last_seq: int
    buyer_read_seq: int
    store_read_seq: int
    unread_count: int
    waiting_since: datetime | None = Field(
        description="When the open wait's business clock started (null: no wait open)")
    wait_started_at: datetime | None = Field(
        description="When the buyer message that opened the wait arrived")
    reply_due_at: datetime | None = Field(
        description="Until when a human reply counts as on time")
    nudge_available_at: datetime | None
    last_message: MessageOut | None
    product_id: int | None
    order_id: int | None


class MessagePageOut(BaseModel):
    messages: list[MessageOut]
    has_more: bool


class ReadOut(BaseModel):
    read_seq: int


class VerifyOut(BaseModel):
    valid: bool
    conversation_id: int | None
    message_count: int | None
    reason: str | None = None


class QuickReplyOut(BaseModel):
    id: int
    text: str
    scope: Literal["store", "personal"]
    created_at: datetime


class AgentStatusOut(BaseModel):
    user_id: int
    name: str
    role: str
    store_id: int
    status: Literal["online", "away", "offline"]
    capacity: int
    load: int


class SummaryOut(BaseModel):
    open: int
    waiting_for_reply: int
    overdue: int
    queued: int
    unread: int


class ContextOut(BaseModel):
    conversation_id: int
    buyer_id: int
    buyer_name: str
    product: ProductCardOut | None
    orders: list[OrderCardOut]


class DayHoursIO(BaseModel):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    closed: bool = False
    opens: str = Field(default="09:00", pattern=r"^\d{1,2}:\d{2}$")
    closes: str = Field(default="22:00", pattern=r"^\d{1,2}:\d{2}$")


class HolidayIO(BaseModel):
    date: date
    closed: bool = True
    opens: str = Field(default="09:00", pattern=r"^\d{1,2}:\d{2}$")
    closes: str = Field(default="22:00", pattern=r"^\d{1,2}:\d{2}$")
    note: str = Field(default="", max_length=64)


class StoreHoursIn(BaseModel):
    weekly: list[DayHoursIO] = Field(min_length=7, max_length=7)
    holidays: list[HolidayIO] = Field(default_factory=list, max_length=366)


class StoreHoursOut(BaseModel):
    store_id: int
    timezone: str
    weekly: list[DayHoursIO]
    holidays: list[HolidayIO]
    open_now: bool
    next_opening: datetime | None


class ResponseRateOut(BaseModel):
    store_id: int
    agent_id: int | None
    first_day: date
    last_day: date
    waits: int
    on_time: int
    pending: int
    rate: float | None
    target: float


TranscriptDocument = dict[str, Any]
