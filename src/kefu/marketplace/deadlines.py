"""Timed order rules: unpaid orders cancel, shipped parcels arrive, delivered orders complete."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.kit import deadlines
from kefu.kit.models import Deadline
from kefu.marketplace import service


def _order_id(deadline: Deadline) -> int:
    return int(deadline.subject_key.split(":", 1)[1])


@deadlines.handler("order.cancel_unpaid")
async def cancel_unpaid_orders(session: AsyncSession, deadline: Deadline, now: datetime) -> str:
    return await service.cancel_unpaid_order(session, _order_id(deadline), now)


@deadlines.handler("order.deliver")
async def deliver_shipped_orders(session: AsyncSession, deadline: Deadline, now: datetime) -> str:
    return await service.deliver_order(session, _order_id(deadline), now)


@deadlines.handler("order.auto_complete")
async def auto_complete_delivered_orders(session: AsyncSession, deadline: Deadline,
                                         now: datetime) -> str:
    return await service.auto_complete_order(session, _order_id(deadline), now)
