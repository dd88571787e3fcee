"""`kefu demo`: a realistic marketplace — stores in different trades with Chinese products,
buyers, agents, platform staff, orders in every state, chats — and the logins to try it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from kefu import domains
from kefu.accounts import repository as accounts_repository
from kefu.accounts import service as accounts
from kefu.accounts.roles import ROLE_LABELS, Role
from kefu.autoreply import service as autoreply
from kefu.chat import service as chat
from kefu.chat.schemas import DayHoursIO
from kefu.demo import catalogue
from kefu.demo.images import render_product_image, render_store_logo
from kefu.deposit import service as deposit
from kefu.diversion import service as diversion
from kefu.kit import clock
from kefu.kit.db import Database
from kefu.marketplace import repository as marketplace_repository
from kefu.marketplace import service as marketplace
from kefu.settings import Settings
from kefu.web.app import install_clock

log = logging.getLogger(__name__)

STAFF_ROLES = {"platform_admin": Role.PLATFORM_ADMIN,
               "platform_supervisor": Role.PLATFORM_SUPERVISOR,
               "platform_agent": Role.PLATFORM_AGENT}


@dataclass
class DemoSummary:
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)  # role, user, name, store
    created: bool = False


def _get(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, dict):
        return item.get(name, default)
    return getattr(item, name, default)


async def _user(session: AsyncSession, username: str, display_name: str, role: Role,
                store_id: int | None = None) -> None:
    if await accounts_repository.user_by_username(session, username) is None:
        await accounts.create_user(session, username=username, display_name=display_name,
                                   password=catalogue.DEMO_PASSWORD, role=role,
                                   store_id=store_id)


async def _seed_store(session: AsyncSession, spec: Any, summary: DemoSummary) -> None:
    slug = _get(spec, "slug")
    store = await marketplace_repository.store_by_slug(session, slug)
    owner_spec = _get(spec, "owner")
    if store is None:
        store, _owner = await marketplace.open_store(
            session, slug=slug, name=_get(spec, "name"), trade=_get(spec, "trade", ""),
            description=_get(spec, "description", ""),
            logo_colour=_get(spec, "logo_colour", "#e02e24"),
            owner_username=_get(owner_spec, "username"),
            owner_display_name=_get(owner_spec, "display_name"),
            owner_password=catalogue.DEMO_PASSWORD)
        owner_user = await accounts_repository.user_by_username(session, _get(owner_spec,
                                                                              "username"))
        assert owner_user is not None
        owner = accounts.principal_of(owner_user)
        # Fill the deposit to list the products, then bring it to the demo's figure (one
        # store is deliberately below the minimum and is told so).
        target = int(_get(spec, "deposit_fen", 300_000))
        topped = max(target, 500_000)
        await deposit.post(session, store_id=store.id, kind="top_up", amount_fen=topped,
                           idempotency_key=f"demo:topup:{slug}", actor_role="system",
                           note="演示充值")
        for product_spec in _get(spec, "products", []):
            image = render_product_image(_get(product_spec, "title"),
                                         _get(product_spec, "image_colours", ["#eeeeee"]))
            await marketplace.create_product(
                session, owner, title=_get(product_spec, "title"),
                price_fen=int(_get(product_spec, "price_fen")),
                original_price_fen=_get(product_spec, "original_price_fen"),
                detail=_get(product_spec, "detail", ""),
                category=_get(product_spec, "category", ""),
                skus=[marketplace.SkuSpec(str(_get(s, "size", "")), str(_get(s, "colour", "")),
                                          int(_get(s, "stock", 0)))
                      for s in _get(product_spec, "skus", [])],
                images=[image])
        if topped > target:
            await deposit.post(session, store_id=store.id, kind="withdrawal",
                               amount_fen=target - topped,
                               idempotency_key=f"demo:withdrawal:{slug}", actor_role="system",
                               note="演示：提取部分保证金")
        await marketplace.set_store_logo(session, owner,
                                         render_store_logo(_get(spec, "logo_colour", "#e02e24")))
        for agent_spec in _get(spec, "agents", []):
            await _user(session, _get(agent_spec, "username"), _get(agent_spec, "display_name"),
                        Role.MERCHANT_AGENT, store.id)
        await _seed_store_extras(session, store.id, spec)
    summary.logins.append((ROLE_LABELS[Role.MERCHANT_OWNER], _get(owner_spec, "username"),
                           _get(owner_spec, "display_name"), _get(spec, "name")))
    for agent_spec in _get(spec, "agents", []):
        summary.logins.append((ROLE_LABELS[Role.MERCHANT_AGENT], _get(agent_spec, "username"),
                               _get(agent_spec, "display_name"), _get(spec, "name")))


async def _seed_store_extras(session: AsyncSession, store_id: int, spec: Any) -> None:
    """Auto-reply texts and FAQ; working hours and quick replies for the chat."""
    settings = await autoreply.settings_for(session, store_id)
    settings.welcome_text = _get(spec, "welcome_message") or settings.welcome_text
    settings.off_hours_text = _get(spec, "off_hours_notice") or settings.off_hours_text
    faq = [{"intent": _get(e, "intent"), "question": _get(e, "question"),
            "answer": _get(e, "answer"), "examples": list(_get(e, "examples", []))}
           for e in _get(spec, "faq", [])]
    await autoreply.seed_rules(session, store_id, faq)
    await _seed_chat_setup(session, store_id, spec)


async def _store_staff(session: AsyncSession, store_id: int) -> tuple[Any, list[Any]]:
    members = await accounts.store_members(session, store_id)
    owner = accounts.principal_of(next(u for u in members if u.role == Role.MERCHANT_OWNER))
    agents = [accounts.principal_of(u) for u in members if u.role == Role.MERCHANT_AGENT]
    return owner, agents


async def _seed_chat_setup(session: AsyncSession, store_id: int, spec: Any) -> None:
    """Working hours, quick replies, and agents online so new chats are assigned."""
    owner, agents = await _store_staff(session, store_id)
    hours = _get(spec, "working_hours") or {}
    opens, closes = _get(hours, "opens", "09:00"), _get(hours, "closes", "22:00")
    await chat.set_store_hours(
        session, owner,
        [DayHoursIO(weekday=day, opens=opens, closes=closes) for day in range(7)], [])
    for text in _get(spec, "quick_replies", []):
        await chat.add_quick_reply(session, owner, text, "store")
    for agent in agents:
        await chat.set_agent_status(session, agent, "online", 8)


async def _seed_conversations(session: AsyncSession) -> None:
    """The catalogue's sample chats, sent through the chat service like real ones (so the
    auto-replies and the waits behave as they would)."""
    stores = {s.slug: s for s in await marketplace_repository.stores(session)}
    titles = {_get(p, "slug"): _get(p, "title")
              for spec in catalogue.STORES for p in _get(spec, "products", [])}
    for number, sample in enumerate(catalogue.SAMPLE_CONVERSATIONS):
        store = stores.get(sample["store_slug"])
        user = await accounts_repository.user_by_username(session, sample["buyer_username"])
        if store is None or user is None:
            continue
        buyer = accounts.principal_of(user)
        owner, agents = await _store_staff(session, store.id)
        product_id = order_id = None
        if sample.get("product_slug"):
            views = await marketplace.store_catalogue(session, store.id)
            product_id = next((v.product.id for v in views
                               if v.product.title == titles.get(sample["product_slug"])), None)
        if sample.get("order_status"):
            orders = await marketplace.list_orders(session, buyer, status=sample["order_status"])
            order_id = next((o.order.id for o in orders if o.store.id == store.id), None)
        conversation = await chat.open_conversation(session, buyer, store.id,
                                                    product_id=product_id, order_id=order_id)
        for line, (sender, text) in enumerate(sample["messages"]):
            actor = buyer
            if sender != "buyer":
                # Whoever the chat assigned the buyer to answers (the owner when nobody is).
                facts = await chat.conversation_facts(session, conversation.id)
                actor = next((a for a in agents if a.user_id == facts.assigned_agent_id), owner)
            await chat.send_message(session, actor, conversation.id,
                                    client_msg_id=f"demo-{number}-{line}", text=text)


async def _seed_violation_example(session: AsyncSession) -> None:
    """One refused contact, so the platform console has something to show."""
    spec = catalogue.STORES[1]
    store = await marketplace_repository.store_by_slug(session, spec["slug"])
    if store is None:
        return
    _owner, agents = await _store_staff(session, store.id)
    if agents:
        await diversion.screen_message(session, store_id=store.id, sender_id=agents[0].user_id,
                                       sender_side="store",
                                       text="亲，加我vx：shanye_guoyuan88，给您发果园实拍")


async def _seed_buyer(session: AsyncSession, spec: Any) -> None:
    username = _get(spec, "username")
    if await accounts_repository.user_by_username(session, username) is not None:
        return
    user = await accounts.create_user(session, username=username,
                                      display_name=_get(spec, "display_name"),
                                      password=catalogue.DEMO_PASSWORD, role=Role.BUYER)
    principal = accounts.principal_of(user)
    for address in _get(spec, "addresses", []):
        region = " ".join(str(_get(address, k, "")) for k in ("province", "city", "district"))
        await marketplace.add_address(session, principal, recipient=_get(address, "recipient"),
                                      phone=_get(address, "phone"), region=region.strip(),
                                      detail=_get(address, "detail"))


ORDER_PLAN = ["completed", "delivered", "shipped", "paid", "created", "cancelled"]


async def _seed_orders(session: AsyncSession) -> None:
    """Every buyer gets orders across the stores, one in each state of the order's life."""
    stores = await marketplace_repository.stores(session)
    catalogues = {s.id: await marketplace.store_catalogue(session, s.id) for s in stores}
    now = clock.now()
    for index, buyer_spec in enumerate(catalogue.BUYERS):
        user = await accounts_repository.user_by_username(session, _get(buyer_spec, "username"))
        assert user is not None
        buyer = accounts.principal_of(user)
        addresses = await marketplace.my_addresses(session, buyer)
        if not addresses:
            continue
        for step, state in enumerate(ORDER_PLAN):
            store = stores[(index + step) % len(stores)]
            views = catalogues[store.id]
            if not views:
                continue
            product = views[(index * 3 + step) % len(views)].product
            skus = [s for s in (await marketplace.product_page(session, product.id)).skus
                    if s.stock > 0]
            if not skus:
                continue
            order = await marketplace.place_order(
                session, buyer, sku_id=skus[(index + step) % len(skus)].id, quantity=1,
                address_id=addresses[0].id, idempotency_key=f"demo:{buyer.username}:{step}")
            await _advance_order(session, buyer, store.id, order.id, state, now)


async def _advance_order(session: AsyncSession, buyer: Any, store_id: int, order_id: int,
                         state: str, now: Any) -> None:
    members = await accounts.store_members(session, store_id)
    owner = accounts.principal_of(next(u for u in members if u.role == Role.MERCHANT_OWNER))
    if state == "cancelled":
        await marketplace.cancel_order(session, buyer, order_id)
        return
    if state == "created":
        return
    await marketplace.pay_order(session, buyer, order_id)
    if state == "paid":
        return
    await marketplace.ship_order(session, owner, order_id, carrier="中通快递",
                                 tracking_no=f"ZT{7730000000 + order_id}")
    if state == "shipped":
        return
    await marketplace.deliver_order(session, order_id, now)
    if state == "delivered":
        return
    await marketplace.confirm_receipt(session, buyer, order_id)


async def seed_demo(settings: Settings, console: Console) -> DemoSummary:
    """Create the demo marketplace (once; a second run only collects the logins)."""
    install_clock(settings)
    domains.load()
    db = Database(settings.database_url)
    summary = DemoSummary()
    try:
        async with db.unit_of_work() as session:
            fresh = await marketplace_repository.store_by_slug(
                session, _get(catalogue.STORES[0], "slug")) is None
        summary.created = fresh
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("准备演示数据 / seeding demo data",
                                     total=len(catalogue.STORES) + len(catalogue.BUYERS) + 3)
            async with db.unit_of_work() as session:
                for staff in catalogue.PLATFORM_STAFF:
                    role = STAFF_ROLES[_get(staff, "role")]
                    await _user(session, _get(staff, "username"), _get(staff, "display_name"),
                                role)
                    summary.logins.append((ROLE_LABELS[role], _get(staff, "username"),
                                           _get(staff, "display_name"), ""))
            progress.advance(task)
            for spec in catalogue.STORES:
                async with db.unit_of_work() as session:
                    await _seed_store(session, spec, summary)
                progress.advance(task)
            for buyer_spec in catalogue.BUYERS:
                async with db.unit_of_work() as session:
                    await _seed_buyer(session, buyer_spec)
                summary.logins.append((ROLE_LABELS[Role.BUYER], buyer_spec["username"],
                                       buyer_spec["display_name"], ""))
                progress.advance(task)
            if fresh:
                async with db.unit_of_work() as session:
                    await _seed_orders(session)
                progress.advance(task)
                async with db.unit_of_work() as session:
                    await _seed_conversations(session)
                    await _seed_violation_example(session)
                progress.advance(task)
    finally:
        await db.dispose()
    return summary


def print_logins(summary: DemoSummary, console: Console, url: str) -> None:
    table = Table(title=f"kefu demo — {url} — 密码 / password: {catalogue.DEMO_PASSWORD}")
    for column in ("角色 role", "登录名 login", "昵称 name", "店铺 store"):
        table.add_column(column)
    for row in summary.logins:
        table.add_row(*row)
    Console().print(table)

