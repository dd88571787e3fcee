"""Small typed factories with explicit, deterministic defaults."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts import service as accounts
from kefu.accounts.models import User
from kefu.accounts.roles import Principal, Role
from kefu.deposit import service as deposit
from kefu.marketplace import service as marketplace
from kefu.marketplace.models import Address, Order, Product, Store

PASSWORD = "correct-horse-9"
_counter = itertools.count(1)


def _n() -> int:
    return next(_counter)


async def make_user(session: AsyncSession, role: Role = Role.BUYER, *,
                    store_id: int | None = None, username: str | None = None,
                    display_name: str | None = None) -> User:
    n = _n()
    return await accounts.create_user(session, username=username or f"user{n}",
                                      display_name=display_name or f"用户{n}",
                                      password=PASSWORD, role=role, store_id=store_id)


async def make_buyer(session: AsyncSession, **kwargs: str) -> User:
    return await make_user(session, Role.BUYER, **kwargs)  # type: ignore[arg-type]


async def make_store(session: AsyncSession, *, name: str | None = None,
                     deposit_fen: int = 200_000) -> tuple[Store, User]:
    n = _n()
    store, owner = await marketplace.open_store(
        session, slug=f"store-{n}", name=name or f"测试店铺{n}", trade="服饰",
        owner_username=f"owner{n}", owner_display_name=f"店主{n}", owner_password=PASSWORD)
    if deposit_fen:
        await deposit.post(session, store_id=store.id, kind="top_up", amount_fen=deposit_fen,
                           idempotency_key=f"test-topup:{store.id}", actor_role="system")
    return store, owner


async def make_agent(session: AsyncSession, store: Store) -> User:
    return await make_user(session, Role.MERCHANT_AGENT, store_id=store.id)


def principal(user: User) -> Principal:
    return accounts.principal_of(user)


async def make_product(session: AsyncSession, owner: User, *, title: str = "纯棉短袖T恤 夏季宽松",
                       price_fen: int = 5_900, stock: int = 10,
                       detail: str = "100%纯棉，M码胸围104cm") -> Product:
    return await marketplace.create_product(
        session, principal(owner), title=title, price_fen=price_fen, detail=detail,
        category="女装", skus=[marketplace.SkuSpec("M", "白色", stock),
                             marketplace.SkuSpec("L", "白色", stock)])


async def make_address(session: AsyncSession, buyer: User) -> Address:
    return await marketplace.add_address(session, principal(buyer), recipient="李女士",
                                         phone="138****0001", region="浙江省 杭州市 西湖区",
                                         detail="文三路 100 号")


async def make_order(session: AsyncSession, buyer: User, product: Product, *,
                     quantity: int = 1, key: str | None = None) -> Order:
    skus = await marketplace.product_page(session, product.id)
    address = await make_address(session, buyer)
    return await marketplace.place_order(session, principal(buyer), sku_id=skus.skus[0].id,
                                         quantity=quantity, address_id=address.id,
                                         idempotency_key=key or f"k{_n()}")


async def bearer(session: AsyncSession, user: User) -> dict[str, str]:
    issued = await accounts.open_session(session, user, "bearer")
    return {"Authorization": f"Bearer {issued.token}"}


@dataclass
class StoreChat:
    store: Store
    owner: User
    agent: User
    buyer: User
    conversation_id: int


async def make_store_chat(session: AsyncSession) -> StoreChat:
    """A store with one online agent and a buyer's open conversation with it."""
    from kefu.chat import service as chat

    store, owner = await make_store(session)
    agent = await make_agent(session, store)
    await chat.set_agent_status(session, principal(agent), "online", 5)
    buyer = await make_buyer(session)
    conversation = await chat.open_conversation(session, principal(buyer), store.id)
    return StoreChat(store, owner, agent, buyer, conversation.id)
