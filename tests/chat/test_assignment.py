"""Assignment: sticky, least-loaded, capacity, the store queue, presence, transfers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import commit
from factories import make_agent, make_buyer, principal
from kefu.chat import service
from kefu.kit import audit
from kefu.kit import clock as clock_module
from kefu.kit.errors import Conflict, Forbidden, NotFound

from .helpers import capture, make_shop, open_chat, say


async def test_new_conversations_go_to_the_least_loaded_online_agent(
        session: AsyncSession, clock: clock_module.TestClock) -> None:
    shop = await make_shop(session, agents=3)
    a, b, c = shop.agents
    await service.set_agent_status(session, principal(c), "away")
    buyers = [await make_buyer(session) for _ in range(4)]
    chats = []
    for buyer in buyers:
        chats.append(await open_chat(session, buyer, shop.store))
        clock.advance(timedelta(seconds=1))
    # Equal loads: whoever was given one longest ago; never the away agent.
    assert [x.assigned_agent_id for x in chats] == [a.id, b.id, a.id, b.id]
    trail = await audit.trail(session, "chat_conversation", chats[0].id)
    assert [e.action for e in trail] == ["assigned"]
    assert trail[0].data == {"from_agent_id": None, "to_agent_id": a.id}


async def test_the_agent_who_served_the_buyer_in_the_last_day_gets_them_again(
        session: AsyncSession, clock: clock_module.TestClock) -> None:
    shop = await make_shop(session, agents=2)
    a, b = shop.agents
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    served_by = a if chat.assigned_agent_id == a.id else b
    other = b if served_by is a else a
    await say(session, buyer, chat.id, "你好")
    await say(session, served_by, chat.id, "您好")
    await service.resolve(session, principal(served_by), chat.id)
    # Make the other agent the less loaded one: the buyer still comes back to who served them.
    for _ in range(2):
        busy = await open_chat(session, await make_buyer(session), shop.store)
        if busy.assigned_agent_id != served_by.id:
            await service.transfer(session, principal(shop.owner), busy.id, served_by.id)
    clock.advance(timedelta(hours=23))
    await say(session, buyer, chat.id, "我又来了")
    again = await service.get_conversation(session, principal(buyer), chat.id)
    assert again.status == "open" and again.assigned_agent_id == served_by.id
    await service.resolve(session, principal(served_by), chat.id)
    clock.advance(timedelta(hours=25))
    await service.set_agent_status(session, principal(other), "online", capacity=10)
    await say(session, buyer, chat.id, "过了一天又来了")
    later = await service.get_conversation(session, principal(buyer), chat.id)
    loads = {x.user_id: x.load for x in await service.store_agents(session,
                                                                   principal(shop.owner))}
    assert later.assigned_agent_id in (a.id, b.id)
    assert loads[later.assigned_agent_id] <= max(loads[a.id], loads[b.id])


async def test_full_agents_queue_and_the_queue_drains_when_capacity_frees(
        session: AsyncSession, clock: clock_module.TestClock) -> None:
    shop = await make_shop(session, agents=1, capacity=1)
    agent = shop.agents[0]
    buyers = [await make_buyer(session) for _ in range(3)]
    chats = []
    for buyer in buyers:
        chats.append(await open_chat(session, buyer, shop.store))
        clock.advance(timedelta(seconds=5))
    assert chats[0].assigned_agent_id == agent.id
    assert chats[1].queued and chats[2].queued and chats[1].assigned_agent_id is None
    # Agents see their own and the queue; the owner sees all.
    mine = {x.id for x in await service.list_conversations(session, principal(agent))}
    assert mine == {x.id for x in chats}
    queue_events = await capture(f"store:{shop.store.id}:queue")
    await service.resolve(session, principal(agent), chats[0].id)
    await commit(session)
    first_queued = await service.get_conversation(session, principal(agent), chats[1].id)
    assert first_queued.assigned_agent_id == agent.id and not first_queued.queued
    assert (await service.get_conversation(session, principal(agent), chats[2].id)).queued
    left_queue = [c["id"] for c in queue_events.conversations()]
    assert chats[1].id in left_queue
    # More capacity takes the rest at once.
    await service.set_agent_status(session, principal(agent), "online", capacity=3)
    assert (await service.get_conversation(session, principal(agent), chats[2].id)
            ).assigned_agent_id == agent.id


async def test_a_new_agent_coming_online_takes_from_the_queue(session: AsyncSession) -> None:
    shop = await make_shop(session, agents=0)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    assert chat.queued
    await say(session, buyer, chat.id, "有人吗")
    agent = await make_agent(session, shop.store)
    await service.set_agent_status(session, principal(agent), "away")
    assert (await service.get_conversation(session, principal(agent), chat.id)).queued
    out = await service.set_agent_status(session, principal(agent), "online")
    assert out.load == 1 and out.status == "online"
    assert (await service.get_conversation(session, principal(agent), chat.id)
            ).assigned_agent_id == agent.id
    # Running the same status change twice changes nothing.
    again = await service.set_agent_status(session, principal(agent), "online")
    assert again.load == 1
    trail = await audit.trail(session, "chat_agent", agent.id)
    assert [(e.from_state, e.to_state) for e in trail] == [("offline", "away"),
                                                          ("away", "online")]


async def test_going_offline_hands_conversations_back(session: AsyncSession) -> None:
    shop = await make_shop(session, agents=2, capacity=1)
    a, b = shop.agents
    chats = [await open_chat(session, await make_buyer(session), shop.store) for _ in range(2)]
    mine = next(x for x in chats if x.assigned_agent_id == a.id)
    await service.set_agent_status(session, principal(b), "away")  # away keeps its own
    await service.set_agent_status(session, principal(a), "offline")
    # Nobody online has room (b is away): back to the queue.
    assert (await service.get_conversation(session, principal(b), mine.id)).queued
    await service.set_agent_status(session, principal(b), "online", capacity=2)
    assert (await service.get_conversation(session, principal(b), mine.id)
            ).assigned_agent_id == b.id
    trail = await audit.trail(session, "chat_conversation", mine.id)
    assert [e.action for e in trail] == ["assigned", "released", "assigned"]


async def test_an_agent_answering_a_queued_conversation_takes_it(session: AsyncSession) -> None:
    shop = await make_shop(session, agents=1, online=False)
    agent = shop.agents[0]
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    assert chat.queued
    await say(session, agent, chat.id, "您好，我是小王")
    taken = await service.get_conversation(session, principal(agent), chat.id)
    assert taken.assigned_agent_id == agent.id
    assert [e.action for e in await audit.trail(session, "chat_conversation", chat.id)] == [
        "queued", "claimed"]


async def test_transfers(session: AsyncSession) -> None:
    shop = await make_shop(session, agents=3, capacity=1)
    a, b, c = shop.agents
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    holder = next(x for x in shop.agents if x.id == chat.assigned_agent_id)
    others = [x for x in shop.agents if x is not holder]
    # Fill the others so the agent-to-agent rules can be seen.
    for _ in range(2):
        await open_chat(session, await make_buyer(session), shop.store)
    with pytest.raises(Conflict) as full:
        await service.transfer(session, principal(holder), chat.id, others[0].id)
    assert full.value.code == "agent_full"
    await service.set_agent_status(session, principal(others[0]), "online", capacity=5)
    events = await capture(f"user:{holder.id}", f"user:{others[0].id}")
    moved = await service.transfer(session, principal(holder), chat.id, others[0].id)
    await commit(session)
    assert moved.assigned_agent_id == others[0].id
    assert moved.last_message is not None and moved.last_message.kind == "system"
    seen = {(c["id"], c["assigned_agent_id"]) for c in events.conversations()}
    assert (chat.id, others[0].id) in seen  # the old holder hears it is gone
    # The old holder may no longer transfer it; the owner may, past capacity too.
    with pytest.raises(Forbidden):
        await service.transfer(session, principal(holder), chat.id, holder.id)
    await service.set_agent_status(session, principal(others[1]), "offline")
    with pytest.raises(Conflict) as offline:
        await service.transfer(session, principal(shop.owner), chat.id, others[1].id)
    assert offline.value.code == "agent_unavailable"
    back = await service.transfer(session, principal(shop.owner), chat.id, holder.id)
    assert back.assigned_agent_id == holder.id
    with pytest.raises(NotFound):
        await service.transfer(session, principal(shop.owner), chat.id, buyer.id)
    with pytest.raises(Forbidden):
        await service.transfer(session, principal(holder), chat.id, None)
    # The owner sends it back to be routed to someone else (or the queue).
    rerouted = await service.transfer(session, principal(shop.owner), chat.id, None)
    assert rerouted.assigned_agent_id != holder.id
    actions = [e.action for e in await audit.trail(session, "chat_conversation", chat.id)]
    assert actions[:3] == ["assigned", "transferred", "transferred"]
    with pytest.raises(Forbidden):
        await service.transfer(session, principal(buyer), chat.id, a.id)
    assert {a.id, b.id, c.id} >= {holder.id}


async def test_a_card_or_a_nudge_never_moves_a_conversation_from_its_available_agent(
        session: AsyncSession, clock: clock_module.TestClock) -> None:
    """Messages stored outside the socket path (the product card of a new chat, a nudge)
    still know the assignee is available: the conversation stays where it was routed."""
    shop = await make_shop(session, agents=2)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store, product=shop.product)
    routed_to = chat.assigned_agent_id
    assert routed_to is not None
    clock.advance(timedelta(minutes=31))
    await say(session, buyer, chat.id, "在吗")
    clock.advance(timedelta(minutes=31))
    await service.nudge(session, principal(buyer), chat.id, client_msg_id="nudge-1")
    again = await service.get_conversation(session, principal(buyer), chat.id)
    assert again.assigned_agent_id == routed_to
    trail = await audit.trail(session, "chat_conversation", chat.id)
    assert [e.action for e in trail] == ["assigned"]
