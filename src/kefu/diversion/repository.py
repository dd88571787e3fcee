"""Violation queries, scoped: a store sees its own, the platform all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.roles import Principal
from kefu.diversion.models import Violation


def violations_visible_to(principal: Principal) -> Select[Violation]:
    query = select(Violation)
    if principal.is_platform:
        return query
    if principal.is_merchant:
        return query.where(Violation.store_id == principal.store_id,
                           Violation.sender_side == "store")
    return query.where(Violation.id < 0)


async def list_visible(session: AsyncSession, principal: Principal, *, store_id: int | None,
                       channel: str | None, status: str | None, side: str | None,
                       limit: int, offset: int) -> list[Violation]:
    query = violations_visible_to(principal)
    if store_id is not None:
        query = query.where(Violation.store_id == store_id)
    if channel:
        query = query.where(Violation.channel == channel)
    if status:
        query = query.where(Violation.status == status)
    if side:
        query = query.where(Violation.sender_side == side)
    result = await session.execute(query.order_by(Violation.id.desc()).limit(limit)
                                   .offset(offset))
    return list(result.scalars())


async def visible(session: AsyncSession, principal: Principal, violation_id: int
                  ) -> Violation | None:
    return (await session.execute(
        violations_visible_to(principal).where(Violation.id == violation_id)
    )).scalar_one_or_none()


async def lock(session: AsyncSession, violation_id: int) -> Violation | None:
    return (await session.execute(
        select(Violation).where(Violation.id == violation_id).with_for_update()
    )).scalar_one_or_none()


async def counted_store_violations(session: AsyncSession, store_id: int, since: datetime,
                                   excluding: int) -> int:
    """Merchant-side violations that still count (not reversed) since ``since``."""
    return int((await session.execute(
        select(func.count()).select_from(Violation)
        .where(Violation.store_id == store_id, Violation.sender_side == "store",
               Violation.created_at >= since, Violation.status != "reversed",
               Violation.id != excluding)
    )).scalar_one())


async def demotions(session: AsyncSession, store_ids: Sequence[int], now: datetime
                    ) -> dict[int, datetime]:
    if not store_ids:
        return {}
    rows = await session.execute(
        select(Violation.store_id, func.max(Violation.demoted_until))
        .where(Violation.store_id.in_(set(store_ids)), Violation.demoted_until > now,
               Violation.status != "reversed")
        .group_by(Violation.store_id)
    )
    return {int(store_id): until for store_id, until in rows.all() if until is not None}


async def by_attempt(session: AsyncSession, conversation_id: int, sender_id: int,
                     client_msg_id: str) -> Violation | None:
    return (await session.execute(
        select(Violation).where(Violation.conversation_id == conversation_id,
                                Violation.sender_id == sender_id,
                                Violation.client_msg_id == client_msg_id)
    )).scalar_one_or_none()
