"""Chat test helpers: a store with agents, buyers, conversations, messages, captured events."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from factories import make_agent, make_buyer, make_product, make_store, principal
from kefu.accounts.models import User
from kefu.chat import service
from kefu.chat.schemas import ConversationOut
from kefu.kit.events import Subscription, get_broker
from kefu.marketplace.models import Product, Store

_ids = itertools.count(1)


def cid() -> str:
    return f"c-{next(_ids)}"


@dataclass
class Shop:
    store: Store
    owner: User
    agents: list[User]
    product: Product


async def make_shop(session: AsyncSession, *, agents: int = 1, online: bool = True,
                    capacity: int = 5) -> Shop:
    store, owner = await make_store(session)
    product = await make_product(session, owner)
    team = [await make_agent(session, store) for _ in range(agents)]
    if online:
        for agent in team:
            await service.set_agent_status(session, principal(agent), "online", capacity)
    return Shop(store, owner, team, product)


async def open_chat(session: AsyncSession, buyer: User, store: Store, *,
                    product: Product | None = None) -> ConversationOut:
    return await service.open_conversation(session, principal(buyer), store.id,
                                           product_id=product.id if product else None)


async def say(session: AsyncSession, user: User, conversation_id: int, text: str = "你好",
              client_msg_id: str | None = None) -> service.Posted:
    return await service.send_message(session, principal(user), conversation_id,
                                      client_msg_id=client_msg_id or cid(), text=text)


async def new_buyer(session: AsyncSession) -> User:
    return await make_buyer(session)


@dataclass
class Captured:
    """Events published to some channels (in-process broker)."""

    subscription: Subscription
    events: list[dict[str, Any]] = field(default_factory=list)

    def drain(self) -> list[dict[str, Any]]:
        while not self.subscription.queue.empty():
            self.events.append(self.subscription.queue.get_nowait())
        out, self.events = self.events, []
        return out

    def conversations(self) -> list[dict[str, Any]]:
        """Conversation updates as a client applies them: ``conversation`` events and the
        conversation a message event carries."""
        return [e["conversation"] for e in self.drain()
                if e["type"] in ("conversation", "message") and "conversation" in e]


async def capture(*channels: str) -> Captured:
    return Captured(await get_broker().subscribe(*channels))


class StatementCounter:
    """Counts SQL statements sent to the database (query-count assertions)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The test session's own savepoints (it stands in for a request's transaction).
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._on_execute)

    @property
    def count(self) -> int:
        return len(self.statements)
