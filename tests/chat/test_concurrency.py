"""Real concurrent transactions (committed): gapless seqs, deduplicated resends, and
capacity that two requests can never both take."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select

from factories import make_agent, make_buyer, make_store, principal
from kefu.accounts.roles import Principal
from kefu.chat import service
from kefu.chat.models import Conversation, Message
from kefu.kit.db import Database

pytestmark = pytest.mark.committing


async def test_concurrent_senders_get_gapless_seqs_and_resends_dedupe(
        committed_db: Database) -> None:
    async with committed_db.unit_of_work() as session:
        store, _owner = await make_store(session)
        agent = await make_agent(session, store)
        buyer = await make_buyer(session)
        await service.set_agent_status(session, principal(agent), "online")
        chat = await service.open_conversation(session, principal(buyer), store.id)
        people = [principal(buyer), principal(agent)]

    async def send(who: Principal, key: str) -> int:
        async with committed_db.unit_of_work() as session:
            posted = await service.send_message(session, who, chat.id, client_msg_id=key,
                                                text=f"消息 {key}")
            return posted.message.id

    # 24 distinct messages from both sides, each sent twice at the same moment.
    jobs = [send(people[n % 2], f"k{n}") for n in range(24) for _ in range(2)]
    ids = await asyncio.gather(*jobs)
    assert len(set(ids)) == 24
    assert all(count == 2 for count in Counter(ids).values())
    async with committed_db.unit_of_work() as session:
        seqs = list((await session.execute(select(Message.seq).where(
            Message.conversation_id == chat.id).order_by(Message.seq))).scalars())
        last_seq = (await session.get(Conversation, chat.id)).last_seq  # type: ignore[union-attr]
    assert seqs == list(range(1, 25)) and last_seq == 24


async def test_concurrent_conversations_never_exceed_capacity(committed_db: Database) -> None:
    async with committed_db.unit_of_work() as session:
        store, _owner = await make_store(session)
        agents = [await make_agent(session, store) for _ in range(2)]
        for agent in agents:
            await service.set_agent_status(session, principal(agent), "online", capacity=3)
        buyers = [principal(await make_buyer(session)) for _ in range(10)]
        store_id = store.id

    async def open_one(buyer: Principal) -> None:
        async with committed_db.unit_of_work() as session:
            await service.open_conversation(session, buyer, store_id)

    await asyncio.gather(*(open_one(b) for b in buyers))
    async with committed_db.unit_of_work() as session:
        loads = dict((await session.execute(
            select(Conversation.assigned_agent_id, func.count())
            .where(Conversation.store_id == store_id)
            .group_by(Conversation.assigned_agent_id))).all())
    assert loads == {agents[0].id: 3, agents[1].id: 3, None: 4}
