"""Deposit ledger queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.deposit.models import DepositEntry


async def insert_if_new(session: AsyncSession, values: dict[str, object]) -> int | None:
    """Insert an entry unless its key (or the entry it reverses) is taken; the new id or None."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DepositEntry).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement.returning(DepositEntry.id))
    return result.scalar_one_or_none()


async def by_key(session: AsyncSession, key: str) -> DepositEntry | None:
    return (await session.execute(
        select(DepositEntry).where(DepositEntry.idempotency_key == key)
    )).scalar_one_or_none()


async def reversal_of(session: AsyncSession, entry_id: int) -> DepositEntry | None:
    return (await session.execute(
        select(DepositEntry).where(DepositEntry.reverses_entry_id == entry_id)
    )).scalar_one_or_none()


async def balance(session: AsyncSession, store_id: int) -> int:
    return int((await session.execute(
        select(func.coalesce(func.sum(DepositEntry.amount_fen), 0))
        .where(DepositEntry.store_id == store_id)
    )).scalar_one())


async def balances(session: AsyncSession, store_ids: Sequence[int]) -> dict[int, int]:
    if not store_ids:
        return {}
    rows = await session.execute(
        select(DepositEntry.store_id, func.sum(DepositEntry.amount_fen))
        .where(DepositEntry.store_id.in_(set(store_ids)))
        .group_by(DepositEntry.store_id)
    )
    found = {int(store_id): int(total) for store_id, total in rows.all()}
    return {store_id: found.get(store_id, 0) for store_id in store_ids}


async def entries_for_store(session: AsyncSession, store_id: int, limit: int = 100
                            ) -> list[DepositEntry]:
    result = await session.execute(
        select(DepositEntry).where(DepositEntry.store_id == store_id)
        .order_by(DepositEntry.id.desc()).limit(limit)
    )
    return list(result.scalars())
