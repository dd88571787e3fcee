"""Tables of the shared kit: the test clock, deadlines and their runs, the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.kit.db import Base, BigIntId


class TestClockState(Base):
    """One row: the demo/test clock's offset or frozen time, shared by every process."""

    __tablename__ = "test_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset_seconds: Mapped[float] = mapped_column(default=0.0)
    frozen_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class Deadline(Base):
    """A timed rule: at ``due_at`` the handler registered for ``kind`` acts on ``subject_key``."""

    __tablename__ = "deadline"
    __table_args__ = (
        UniqueConstraint("kind", "subject_key"),
        Index("ix_deadline_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    subject_key: Mapped[str] = mapped_column(String(128))
    due_at: Mapped[datetime]
    # pending → done | cancelled | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(64))


class DeadlineRun(Base):
    """One handling of a deadline, written in the same transaction as the handler's effect."""

    __tablename__ = "deadline_run"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    deadline_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(64))
    subject_key: Mapped[str] = mapped_column(String(128))
    worker: Mapped[str] = mapped_column(String(128))
    handled_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """Append-only trail of every state change: who did what to which thing, and when."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_role: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
