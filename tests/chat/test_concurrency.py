"""Real concurrent transactions (committed): gapless seqs, deduplicated resends, and
capacity that two requests can never both take."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select

from factories import make_agent, make_buyer, make_store, make_store_chat, principal
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


async def test_unread_counts_stay_exact_while_read_receipts_race_new_messages(
        committed_db: Database) -> None:
    """Read marks move in one statement from the row's current values: receipts from two
    tabs, racing the buyer's messages and the store's replies, leave each side's unread
    count equal to a recount of the log."""
    async with committed_db.unit_of_work() as session:
        chat = await make_store_chat(session)
    people = {"buyer": principal(chat.buyer), "agent": principal(chat.agent)}

    async def send(who: str, key: str) -> None:
        async with committed_db.unit_of_work() as session:
            await service.send_message(session, people[who], chat.conversation_id,
                                       client_msg_id=key, text=f"消息 {key}")

    async def read(who: str, seq: int) -> None:
        async with committed_db.unit_of_work() as session:
            await service.mark_read(session, people[who], chat.conversation_id, seq)

    jobs = [send("buyer", f"b{n}") for n in range(20)]
    jobs += [send("agent", f"a{n}") for n in range(4)]
    jobs += [read(who, seq) for seq in (3, 7, 12, 18, 40) for who in ("buyer", "agent")
             for _tab in range(2)]
    await asyncio.gather(*jobs)
    async with committed_db.unit_of_work() as session:
        conversation = await session.get(Conversation, chat.conversation_id)
        assert conversation is not None
        log = (await session.execute(select(Message.seq, Message.sender_side).where(
            Message.conversation_id == chat.conversation_id))).all()
    assert conversation.store_unread == sum(
        1 for seq, side in log if side == "buyer" and seq > conversation.store_read_seq)
    assert conversation.buyer_unread == sum(
        1 for seq, side in log if side != "buyer" and seq > conversation.buyer_read_seq)
