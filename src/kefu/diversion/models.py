"""Diversion (导流) violations: every contact detail caught, with its evidence and penalty."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.kit.db import Base, BigIntId


class Violation(Base):
    __tablename__ = "diversion_violation"
    __table_args__ = (
        Index("ix_diversion_violation_store_created", "store_id", "created_at"),
        Index("ix_diversion_violation_status", "status"),
        # A resend of the same refused message is the same attempt, not a second violation.
        UniqueConstraint("conversation_id", "sender_id", "client_msg_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id"))
    conversation_id: Mapped[int | None] = mapped_column(BigInteger)
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    sender_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id"))
    sender_side: Mapped[str] = mapped_column(String(8))  # store | buyer
    # What the detector saw and why: a person must be able to check the verdict.
    channel: Mapped[str] = mapped_column(String(24))
    rule: Mapped[str] = mapped_column(String(64))
    matched: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    message_text: Mapped[str] = mapped_column(Text, default="")
    window_texts: Mapped[list[str] | None] = mapped_column(JSON)
    image_path: Mapped[str | None] = mapped_column(String(255))
    used_window: Mapped[bool] = mapped_column(default=False)
    delivered: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    # none (buyer: warned only) | warning | fine
    penalty: Mapped[str] = mapped_column(String(16))
    fine_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fine_entry_id: Mapped[int | None] = mapped_column(BigInteger)
    demoted_until: Mapped[datetime | None]
    # active → appealed → reversed | upheld; active → reversed
    status: Mapped[str] = mapped_column(String(16), default="active")
    appeal_text: Mapped[str | None] = mapped_column(Text)
    appealed_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(500))
    reversal_entry_id: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
