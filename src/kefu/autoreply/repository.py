"""Queries of the auto-reply domain that the chat's send path runs."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.autoreply.models import AutoReplyLog
from kefu.kit.db import PlainStatement

# Prebuilt: an automatic answer is written inside the buyer's message's transaction, where
# the ORM's unit of work for one row cost more than the INSERT itself.
_INSERT_LOG = PlainStatement(insert(cast(Table, AutoReplyLog.__table__)))


async def insert_reply_log(session: AsyncSession, values: dict[str, Any]) -> None:
    """One row of ``autoreply_log`` (every column but the id given), with the transaction's
    next write where the kit can defer it (``kit.db.PlainStatement.execute_later``)."""
    await _INSERT_LOG.execute_later(session, values)
