"""Notifying people: a row they can read later, and a realtime push after commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.roles import Principal
from kefu.kit import clock
from kefu.kit.events import publish_after_commit
from kefu.kit.i18n import gettext
from kefu.notifications.models import Notification


async def notify(session: AsyncSession, user_id: int, *, kind: str, title: str, body: str,
                 params: dict[str, Any] | None = None, link: str | None = None) -> Notification:
    note = Notification(user_id=user_id, kind=kind, title=title, body=body, params=params,
                        link=link, created_at=clock.now())
    session.add(note)
    await session.flush()
    publish_after_commit(session, f"user:{user_id}", {
        "type": "notification", "id": note.id, "kind": kind, "link": link,
    })
    return note


def render(note: Notification) -> tuple[str, str]:
    params = note.params or {}
    return gettext(note.title, **params), gettext(note.body, **params)


async def recent(session: AsyncSession, actor: Principal, limit: int = 30) -> list[Notification]:
    result = await session.execute(
        select(Notification).where(Notification.user_id == actor.user_id)
        .order_by(Notification.id.desc()).limit(limit)
    )
    return list(result.scalars())


async def unread_count(session: AsyncSession, actor: Principal) -> int:
    return int((await session.execute(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
    )).scalar_one())


async def mark_all_read(session: AsyncSession, actor: Principal) -> None:
    await session.execute(
        update(Notification)
        .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
    )
