"""Auto-reply settings and rules per store, and a log of every automatic answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.kit.db import Base, BigIntId


class AutoReplySettings(Base):
    __tablename__ = "autoreply_settings"

    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id", ondelete="CASCADE"),
                                          primary_key=True, autoincrement=False)
    welcome_enabled: Mapped[bool] = mapped_column(default=True)
    welcome_text: Mapped[str] = mapped_column(Text, default="")
    faq_enabled: Mapped[bool] = mapped_column(default=True)
    keywords_enabled: Mapped[bool] = mapped_column(default=True)
    off_hours_enabled: Mapped[bool] = mapped_column(default=True)
    off_hours_text: Mapped[str] = mapped_column(Text, default="")
    after_sales_pointer_enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]


class AutoReplyRule(Base):
    """A FAQ entry (question, answer, example phrasings) or a keyword rule (keywords, answer);
    either may be limited to some products."""

    __tablename__ = "autoreply_rule"
    __table_args__ = (Index("ix_autoreply_rule_store", "store_id", "kind"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # faq | keyword
    intent: Mapped[str | None] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(Text)
    examples: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    product_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AutoReplyLog(Base):
    """Every automatic answer sent, with why: the data center reads the week's questions here."""

    __tablename__ = "autoreply_log"
    __table_args__ = (Index("ix_autoreply_log_store_created", "store_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(BigInteger)
    question_message_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # welcome | faq | keyword | off_hours | after_sales
    rule_id: Mapped[int | None] = mapped_column(BigInteger)
    intent: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)
    question_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
