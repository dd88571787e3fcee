"""A probe deadline: does nothing but prove the sweepers work (used by tests and operators
checking a scaled-out deployment; its runs are in ``deadline_run``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.kit import deadlines
from kefu.kit.models import Deadline


@deadlines.handler("ops.probe")
async def record_probe(session: AsyncSession, deadline: Deadline, now: datetime) -> str:
    return "probed"
