"""Writing the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.kit import clock
from kefu.kit.models import AuditEvent


async def record(
    session: AsyncSession,
    *,
    subject_type: str,
    subject_id: int,
    action: str,
    actor_id: int | None,
    actor_role: str,
    from_state: str | None = None,
    to_state: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        subject_type=subject_type, subject_id=subject_id, action=action, actor_id=actor_id,
        actor_role=actor_role, from_state=from_state, to_state=to_state, data=data,
        created_at=clock.now(),
    )
    session.add(event)
    return event


async def trail(session: AsyncSession, subject_type: str, subject_id: int) -> list[AuditEvent]:
    result = await session.execute(
        select(AuditEvent)
        .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.id)
    )
    return list(result.scalars())
