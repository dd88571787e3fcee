"""A store that answers fewer than 80 % of its waits within 5 minutes ranks lower."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from factories import make_agent, make_buyer, make_store, principal
from kefu.chat import service as chat
from kefu.kit import clock as clock_module
from kefu.marketplace import service as marketplace


async def test_slow_store_gets_the_low_response_weight(session: AsyncSession,
                                                       clock: clock_module.TestClock) -> None:
    store, _owner = await make_store(session)
    agent = await make_agent(session, store)
    await chat.set_agent_status(session, principal(agent), "online", 10)
    for n in range(6):
        buyer = await make_buyer(session)
        conversation = await chat.open_conversation(session, principal(buyer), store.id)
        await chat.send_message(session, principal(buyer), conversation.id,
                                client_msg_id=f"q{n}", text="请问有货吗")
        clock.advance(timedelta(minutes=2 if n == 0 else 7))  # one on time, five late
        await chat.send_message(session, principal(agent), conversation.id,
                                client_msg_id=f"a{n}", text="有的亲")
    weight = await marketplace.store_weight(session, store.id)
    assert weight.weight == 0.7
    assert "回复率" in weight.factors[0].reason


async def test_few_waits_do_not_punish_a_new_store(session: AsyncSession,
                                                   clock: clock_module.TestClock) -> None:
    store, _owner = await make_store(session)
    agent = await make_agent(session, store)
    await chat.set_agent_status(session, principal(agent), "online", 10)
    buyer = await make_buyer(session)
    conversation = await chat.open_conversation(session, principal(buyer), store.id)
    await chat.send_message(session, principal(buyer), conversation.id, client_msg_id="q",
                            text="在吗")
    clock.advance(timedelta(minutes=30))
    await chat.send_message(session, principal(agent), conversation.id, client_msg_id="a",
                            text="在的")
    assert (await marketplace.store_weight(session, store.id)).weight == 1.0
