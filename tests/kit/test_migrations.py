"""Migrations go up and down cleanly and match the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from conftest import TEST_DATABASE_URL, _recreate_postgres_database, is_postgres
from kefu.kit import migrate


def _scratch_url() -> str:
    if is_postgres():
        base, _sep, name = TEST_DATABASE_URL.rpartition("/")
        url = f"{base}/{name}_migrations"
        asyncio.run(_recreate_postgres_database(url))
        return url
    return f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'migrations.db'}"


def test_upgrade_downgrade_upgrade_and_models_match() -> None:
    url = _scratch_url()
    migrate.upgrade(url)
    migrate.check(url)  # raises if the models have changes no migration covers
    migrate.downgrade(url, "base")
    migrate.upgrade(url)
    migrate.check(url)


def test_the_unread_counters_are_counted_from_the_log_when_added() -> None:
    """Down past the migration that adds the conversations' unread counters and up again:
    its backfill gives every conversation the counts the code had kept (both checked
    against a count of the log here)."""
    from sqlalchemy import select

    from factories import make_agent, make_buyer, make_store, principal
    from kefu.chat import service
    from kefu.chat.models import Conversation, Message
    from kefu.kit.db import Database

    url = _scratch_url()
    migrate.upgrade(url)

    async def chat() -> None:
        db = Database(url)
        try:
            async with db.unit_of_work() as session:
                store, _owner = await make_store(session)
                agent = principal(await make_agent(session, store))
                await service.set_agent_status(session, agent, "online")
                for n in range(3):
                    buyer = principal(await make_buyer(session))
                    chat = await service.open_conversation(session, buyer, store.id)
                    for k in range(n + 2):
                        await service.send_message(session, buyer, chat.id,
                                                   client_msg_id=f"b{k}", text="在吗")
                    await service.post_system_note(session, chat.id, "备注")
                    if n == 1:  # the store has read the first two
                        await service.mark_read(session, agent, chat.id, 2)
                    if n == 2:  # the store answered, the buyer wrote again
                        await service.send_message(session, agent, chat.id,
                                                   client_msg_id="a", text="您好")
                        await service.send_message(session, buyer, chat.id,
                                                   client_msg_id="b", text="好的")
        finally:
            await db.dispose()

    async def counters_and_recounts() -> tuple[dict[int, tuple[int, int]],
                                               dict[int, tuple[int, int]]]:
        db = Database(url)
        try:
            async with db.unit_of_work() as session:
                conversations = (await session.execute(select(Conversation))).scalars().all()
                log = (await session.execute(select(
                    Message.conversation_id, Message.seq, Message.sender_side))).all()
        finally:
            await db.dispose()
        counters = {c.id: (c.buyer_unread, c.store_unread) for c in conversations}
        recounts = {c.id: (
            sum(1 for cid, seq, side in log
                if cid == c.id and side != "buyer" and seq > c.buyer_read_seq),
            sum(1 for cid, seq, side in log
                if cid == c.id and side == "buyer" and seq > c.store_read_seq))
            for c in conversations}
        return counters, recounts

    asyncio.run(chat())
    kept, recounted = asyncio.run(counters_and_recounts())
    assert kept == recounted and len(kept) == 3 and all(any(v) for v in kept.values())
    migrate.downgrade(url, "c0b08c57ff29")
    migrate.upgrade(url)
    assert asyncio.run(counters_and_recounts()) == (kept, recounted)
