"""Account queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import AuthSession, LoginAttempt, StoreInvitation, User


async def user_by_username(session: AsyncSession, username: str) -> User | None:
    return (await session.execute(
        select(User).where(func.lower(User.username) == username.lower())
    )).scalar_one_or_none()


async def user_by_id(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def users_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, User]:
    if not ids:
        return {}
    result = await session.execute(select(User).where(User.id.in_(set(ids))))
    return {u.id: u for u in result.scalars()}


async def live_session(session: AsyncSession, token_hash: str, kind: str,
                       now: datetime) -> tuple[AuthSession, User] | None:
    row = (await session.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == token_hash, AuthSession.kind == kind,
               AuthSession.revoked_at.is_(None), AuthSession.expires_at > now,
               User.is_active.is_(True))
    )).first()
    return None if row is None else (row[0], row[1])


async def auth_session_by_hash(session: AsyncSession, token_hash: str) -> AuthSession | None:
    return (await session.execute(
        select(AuthSession).where(AuthSession.token_hash == token_hash)
    )).scalar_one_or_none()


async def recent_failures(session: AsyncSession, username: str, address: str,
                          since: datetime) -> int:
    return int((await session.execute(
        select(func.count()).select_from(LoginAttempt)
        .where(func.lower(LoginAttempt.username) == username.lower(),
               LoginAttempt.address == address, LoginAttempt.attempted_at >= since)
    )).scalar_one())


async def store_members(session: AsyncSession, store_id: int) -> list[User]:
    result = await session.execute(
        select(User).where(User.store_id == store_id).order_by(User.role.desc(), User.id)
    )
    return list(result.scalars())


async def invitation_by_hash(session: AsyncSession, token_hash: str) -> StoreInvitation | None:
    return (await session.execute(
        select(StoreInvitation).where(StoreInvitation.token_hash == token_hash)
        .with_for_update()
    )).scalar_one_or_none()


async def open_invitations(session: AsyncSession, store_id: int,
                           now: datetime) -> list[StoreInvitation]:
    result = await session.execute(
        select(StoreInvitation)
        .where(StoreInvitation.store_id == store_id, StoreInvitation.accepted_at.is_(None),
               StoreInvitation.revoked_at.is_(None), StoreInvitation.expires_at > now)
        .order_by(StoreInvitation.id.desc())
    )
    return list(result.scalars())


async def platform_staff(session: AsyncSession, roles: Sequence[str]) -> list[User]:
    result = await session.execute(select(User).where(User.role.in_(roles)).order_by(User.id))
    return list(result.scalars())
