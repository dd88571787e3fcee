"""Violation shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ViolationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    store_id: int
    conversation_id: int | None
    sender_id: int
    sender_side: str
    channel: str
    rule: str
    matched: str
    reason: str
    message_text: str
    window_texts: list[str] | None
    used_window: bool
    delivered: bool
    created_at: datetime
    penalty: str
    fine_fen: int
    demoted_until: datetime | None
    status: str
    appeal_text: str | None
    decision_note: str | None
    details: dict[str, Any] | None


class AppealIn(BaseModel):
    text: str = Field(min_length=5, max_length=1000)


class DecisionIn(BaseModel):
    note: str = Field(min_length=1, max_length=500)


class CheckIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    recent: list[str] = Field(default_factory=list, max_length=10)
