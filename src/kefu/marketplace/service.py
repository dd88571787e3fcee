"""Marketplace rules: stores, products and stock, orders with simulated payment and shipping.

Orders follow an explicit state machine (``ORDER_MACHINE``); every change is a service call
that checks the caller's role and the current state, writes an audit entry, notifies the
buyer and is safe to retry.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts import service as accounts
from kefu.accounts.models import User
from kefu.accounts.roles import SYSTEM_ROLE, Principal, Role
from kefu.deposit import service as deposit
from kefu.kit import audit, clock, deadlines
from kefu.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, _
from kefu.kit.media import save_image
from kefu.kit.models import AuditEvent
from kefu.kit.statemachine import StateMachine, transition
from kefu.marketplace import ranking, repository
from kefu.marketplace.models import Address, Order, OrderItem, Product, ProductImage, Sku, Store
from kefu.notifications import service as notifications
from kefu.settings import get_settings

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
MAX_QUANTITY = 99
MAX_SKUS = 200
MAX_STOCK = 1_000_000
MAX_DETAIL = 5000
SHIPPING_DAYS = 2  # simulated carrier: a shipped parcel is delivered two days later
UNPAID_CANCEL_MINUTES = 30

ORDER_STATES = ("created", "paid", "shipped", "delivered", "completed", "cancelled")
BUYER, OWNER, AGENT, SYSTEM = Role.BUYER, Role.MERCHANT_OWNER, Role.MERCHANT_AGENT, SYSTEM_ROLE
PLATFORM = (Role.PLATFORM_AGENT, Role.PLATFORM_SUPERVISOR, Role.PLATFORM_ADMIN)
ORDER_MACHINE = StateMachine("order", ORDER_STATES, [
    transition("pay", ["created"], "paid", [BUYER]),
    transition("cancel", ["created"], "cancelled", [BUYER, SYSTEM, *PLATFORM]),
    transition("ship", ["paid"], "shipped", [OWNER, AGENT]),
    transition("deliver", ["shipped"], "delivered", [SYSTEM, *PLATFORM]),
    transition("confirm_receipt", ["shipped", "delivered"], "completed", [BUYER]),
    transition("auto_complete", ["delivered"], "completed", [SYSTEM]),
])

STATUS_LABELS = {
    "created": "待付款", "paid": "待发货", "shipped": "已发货", "delivered": "已签收",
    "completed": "已完成", "cancelled": "已取消",
}


def yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


# --- stores ---------------------------------------------------------------------------------

async def open_store(session: AsyncSession, *, slug: str, name: str, trade: str = "",
                     description: str = "", owner_username: str, owner_display_name: str,
                     owner_password: str, logo_colour: str = "#e02e24") -> tuple[Store, User]:
    """A merchant opens a store: the store and its owner account, in one transaction."""
    if not SLUG.match(slug):
        raise InvalidInput(_("店铺标识须为 2–63 位小写字母、数字或 -"), code="bad_slug")
    if not name.strip() or len(name) > 64:
        raise InvalidInput(_("店铺名称须为 1–64 个字符"), code="bad_store_name")
    if await repository.store_by_slug(session, slug) is not None:
        raise Conflict(_("店铺标识「{slug}」已被使用"), code="slug_taken", slug=slug)
    store = Store(slug=slug, name=name.strip(), trade=trade, description=description,
                  logo_colour=logo_colour, status="active", created_at=clock.now())
    session.add(store)
    await session.flush()
    owner = await accounts.create_user(session, username=owner_username,
                                       display_name=owner_display_name, password=owner_password,
                                       role=Role.MERCHANT_OWNER, store_id=store.id)
    await audit.record(session, subject_type="store", subject_id=store.id, action="opened",
                       actor_id=owner.id, actor_role=Role.MERCHANT_OWNER, to_state="active")
    return store, owner


async def get_store(session: AsyncSession, store_id: int) -> Store:
    store = await repository.store_by_id(session, store_id)
    if store is None:
        raise NotFound(_("店铺不存在"))
    return store


async def stores_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, Store]:
    return await repository.stores_by_ids(session, ids)


def store_names_query(ids: Collection[int]) -> Select[int, str]:
    """``(id, name)`` of some stores, as a query another domain may combine with its own
    lookups into one round trip."""
    return select(Store.id, Store.name).where(Store.id.in_(set(ids)))


async def all_stores(session: AsyncSession, actor: Principal) -> list[Store]:
    if not actor.is_platform:
        raise Forbidden(_("只有平台员工可以查看所有店铺"))
    return await repository.stores(session)


async def set_store_logo(session: AsyncSession, actor: Principal, data: bytes) -> Store:
    if not actor.is_store_owner or actor.store_id is None:
        raise Forbidden(_("只有店主可以修改店铺信息"))
    store = await get_store(session, actor.store_id)
    settings = get_settings()
    stored = save_image(data, settings.upload_dir, max_bytes=settings.image_max_bytes,
                        folder="logos")
    store.logo_path = stored.thumbnail_path
    return store


# --- products -------------------------------------------------------------------------------

@dataclass
class SkuSpec:
    size: str
    colour: str
    stock: int


def _require_merchant_of(actor: Principal, store_id: int) -> None:
    if not actor.works_for(store_id):
        raise Forbidden(_("只能管理自己店铺的商品"))


async def create_product(session: AsyncSession, actor: Principal, *, title: str, price_fen: int,
                         detail: str = "", category: str = "", skus: list[SkuSpec],
                         original_price_fen: int | None = None,
                         images: list[bytes] | None = None) -> Product:
    if actor.store_id is None:
        raise Forbidden(_("只有商家可以发布商品"))
    _require_merchant_of(actor, actor.store_id)
    if not title.strip() or len(title) > 200:
        raise InvalidInput(_("商品标题须为 1–200 个字符"), code="bad_title")
    if price_fen <= 0 or price_fen > 100_000_000:
        raise InvalidInput(_("价格须在 0.01 至 1,000,000 元之间"), code="bad_price")
    if not skus:
        raise InvalidInput(_("至少需要一个规格"), code="no_sku")
    if len(skus) > MAX_SKUS:
        raise InvalidInput(_("规格最多 {max} 个"), code="too_many_skus", max=MAX_SKUS)
    if any(not 0 <= s.stock <= MAX_STOCK for s in skus):
        raise InvalidInput(_("库存须在 0 至 {max} 之间"), code="bad_stock", max=MAX_STOCK)
    if len(detail) > MAX_DETAIL:
        raise InvalidInput(_("详情不能超过 {max} 字"), code="detail_too_long", max=MAX_DETAIL)
    if len({(s.size, s.colour) for s in skus}) != len(skus):
        raise InvalidInput(_("规格重复"), code="duplicate_sku")
    await deposit.require_minimum(session, actor.store_id)
    product = Product(store_id=actor.store_id, title=title.strip(), price_fen=price_fen,
                      original_price_fen=original_price_fen, detail=detail, category=category,
                      status="listed", sales_count=0, created_at=clock.now())
    session.add(product)
    await session.flush()
    for spec in skus:
        session.add(Sku(product_id=product.id, size=spec.size[:32], colour=spec.colour[:32],
                        stock=spec.stock))
    settings = get_settings()
    for position, data in enumerate(images or []):
        stored = save_image(data, settings.upload_dir, max_bytes=settings.image_max_bytes,
                            folder="products")
        session.add(ProductImage(product_id=product.id, path=stored.path, position=position))
    await audit.record(session, subject_type="product", subject_id=product.id, action="listed",
                       actor_id=actor.user_id, actor_role=actor.role, to_state="listed")
    await session.flush()
    return product


async def set_stock(session: AsyncSession, actor: Principal, sku_id: int, stock: int) -> Sku:
    sku = await repository.sku_for_update(session, sku_id)
    if sku is None:
        raise NotFound(_("规格不存在"))
    product = await repository.product(session, sku.product_id)
    assert product is not None
    _require_merchant_of(actor, product.store_id)
    if not 0 <= stock <= MAX_STOCK:
        raise InvalidInput(_("库存须在 0 至 {max} 之间"), code="bad_stock", max=MAX_STOCK)
    sku.stock = stock
    return sku


async def set_product_listed(session: AsyncSession, actor: Principal, product_id: int,
                             listed: bool) -> Product:
    product = await repository.product(session, product_id)
    if product is None:
        raise NotFound(_("商品不存在"))
    _require_merchant_of(actor, product.store_id)
    if listed and product.status != "listed":
        await deposit.require_minimum(session, product.store_id)
    before = product.status
    product.status = "listed" if listed else "delisted"
    await audit.record(session, subject_type="product", subject_id=product.id,
                       action="listed" if listed else "delisted", actor_id=actor.user_id,
                       actor_role=actor.role, from_state=before, to_state=product.status)
    return product


@dataclass
class ProductView:
    product: Product
    store: Store
    images: list[ProductImage]
    skus: list[Sku] = field(default_factory=list)

    @property
    def stock(self) -> int:
        return sum(s.stock for s in self.skus)


async def product_page(session: AsyncSession, product_id: int,
                       viewer: Principal | None = None) -> ProductView:
    product = await repository.product(session, product_id)
    if product is None:
        raise NotFound(_("商品不存在"))
    store = await get_store(session, product.store_id)
    own = viewer is not None and viewer.works_for(product.store_id)
    if (product.status != "listed" or store.status != "active") and not own \
            and not (viewer is not None and viewer.is_platform):
        raise NotFound(_("商品不存在或已下架"))
    images = (await repository.images_for(session, [product.id]))[product.id]
    skus = await repository.skus_for(session, product.id)
    return ProductView(product, store, images, skus)


async def products_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, Product]:
    return await repository.products_by_ids(session, ids)


async def product_cards(session: AsyncSession, ids: list[int]) -> dict[int, ProductView]:
    """Products with store and images, for cards in chat and lists."""
    products = await repository.products_by_ids(session, ids)
    stores = await repository.stores_by_ids(session, [p.store_id for p in products.values()])
    images = await repository.images_for(session, list(products))
    return {pid: ProductView(p, stores[p.store_id], images[pid]) for pid, p in products.items()}


async def store_catalogue(session: AsyncSession, store_id: int,
                          viewer: Principal | None = None) -> list[ProductView]:
    store = await get_store(session, store_id)
    own = viewer is not None and viewer.works_for(store_id)
    products = await repository.store_products(session, store_id, listed_only=not own)
    images = await repository.images_for(session, [p.id for p in products])
    return [ProductView(p, store, images[p.id]) for p in products]


@dataclass
class SearchHit:
    view: ProductView
    relevance: float
    store_weight: float

    @property
    def score(self) -> float:
        return self.relevance * self.store_weight


async def search(session: AsyncSession, query: str, limit: int = 40) -> list[SearchHit]:
    """Listed products ranked by relevance × store weight (demotions, response rate …)."""
    query = query.strip()[:100]
    terms = ranking.query_terms(query)
    candidates = await repository.search_candidates(session, terms)
    scored = [(p, ranking.relevance(query, p.title, p.detail, p.category)) for p in candidates]
    scored = [(p, r) for p, r in scored if r > 0]
    store_ids = sorted({p.store_id for p, _r in scored})
    weights = await ranking.store_weights(session, store_ids, clock.now())
    stores = await repository.stores_by_ids(session, store_ids)
    images = await repository.images_for(session, [p.id for p, _r in scored])
    hits = [SearchHit(ProductView(p, stores[p.store_id], images[p.id]), r,
                      weights[p.store_id].weight) for p, r in scored]
    hits.sort(key=lambda h: (-h.score, -h.view.product.sales_count, -h.view.product.id))
    return hits[:limit]


async def store_weight(session: AsyncSession, store_id: int) -> ranking.StoreWeight:
    return (await ranking.store_weights(session, [store_id], clock.now()))[store_id]


# --- addresses ------------------------------------------------------------------------------

async def add_address(session: AsyncSession, actor: Principal, *, recipient: str, phone: str,
                      region: str, detail: str, is_default: bool = False) -> Address:
    if not actor.is_buyer:
        raise Forbidden(_("只有买家可以添加收货地址"))
    if not (recipient.strip() and phone.strip() and region.strip() and detail.strip()):
        raise InvalidInput(_("请填写完整的收货地址"), code="bad_address")
    existing = await repository.addresses(session, actor.user_id)
    if is_default or not existing:
        for address in existing:
            address.is_default = False
        is_default = True
    address = Address(user_id=actor.user_id, recipient=recipient.strip()[:32],
                      phone=phone.strip()[:32], region=region.strip()[:64],
                      detail=detail.strip()[:200], is_default=is_default)
    session.add(address)
    await session.flush()
    return address


async def my_addresses(session: AsyncSession, actor: Principal) -> list[Address]:
    return await repository.addresses(session, actor.user_id)


# --- orders ---------------------------------------------------------------------------------

def _order_key(order: Order) -> str:
    return f"order:{order.id}"


async def place_order(session: AsyncSession, actor: Principal, *, sku_id: int, quantity: int,
                      address_id: int, idempotency_key: str) -> Order:
    """A buyer orders one size/colour of a product. A retry with the same key returns the
    first order instead of a second one."""
    if not actor.is_buyer:
        raise Forbidden(_("只有买家可以下单"))
    if not idempotency_key or len(idempotency_key) > 64:
        raise InvalidInput(_("缺少幂等键"), code="bad_idempotency_key")
    existing = await repository.order_by_key(session, actor.user_id, idempotency_key)
    if existing is not None:
        return existing
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(_("购买数量须在 1 至 {max} 之间"), code="bad_quantity",
                           max=MAX_QUANTITY)
    address = next((a for a in await repository.addresses(session, actor.user_id)
                    if a.id == address_id), None)
    if address is None:
        raise InvalidInput(_("请选择收货地址"), code="bad_address")
    sku = await repository.sku_for_update(session, sku_id)
    if sku is None:
        raise NotFound(_("规格不存在"))
    product = await repository.product(session, sku.product_id)
    assert product is not None
    store = await get_store(session, product.store_id)
    if product.status != "listed" or store.status != "active":
        raise Conflict(_("商品已下架"), code="product_unavailable")
    if sku.stock < quantity:
        raise Conflict(_("库存不足，仅剩 {stock} 件"), code="out_of_stock", stock=sku.stock)
    sku.stock -= quantity
    now = clock.now()
    order = Order(order_no=f"{now:%y%m%d}{secrets.randbelow(10**10):010d}",
                  buyer_id=actor.user_id, store_id=store.id, status="created",
                  amount_fen=product.price_fen * quantity, recipient=address.recipient,
                  phone=address.phone, address_text=f"{address.region} {address.detail}",
                  idempotency_key=idempotency_key, created_at=now)
    session.add(order)
    await session.flush()
    session.add(OrderItem(order_id=order.id, product_id=product.id, sku_id=sku.id,
                          title=product.title, size=sku.size, colour=sku.colour,
                          unit_price_fen=product.price_fen, quantity=quantity))
    await audit.record(session, subject_type="order", subject_id=order.id, action="placed",
                       actor_id=actor.user_id, actor_role=actor.role, to_state="created",
                       data={"amount_fen": order.amount_fen})
    await deadlines.schedule(session, "order.cancel_unpaid", _order_key(order),
                             now + timedelta(minutes=UNPAID_CANCEL_MINUTES))
    return order


async def _transition(session: AsyncSession, order: Order, action: str, role: str,
                      actor_id: int | None, data: dict[str, object] | None = None) -> bool:
    """Apply ``action``; False when the order is already where the action leads (a retry)."""
    t = ORDER_MACHINE.check(action, order.status, role) if order.status != _target(action) \
        else None
    if t is None:
        return False
    before = order.status
    order.status = t.target
    await audit.record(session, subject_type="order", subject_id=order.id, action=action,
                       actor_id=actor_id, actor_role=role, from_state=before, to_state=t.target,
                       data=data)
    return True


def _target(action: str) -> str:
    return next(t.target for t in ORDER_MACHINE.transitions if t.action == action)


async def _locked_visible_order(session: AsyncSession, actor: Principal, order_id: int) -> Order:
    if await repository.visible_order(session, actor, order_id) is None:
        raise NotFound(_("订单不存在"))
    order = await repository.lock_order(session, order_id)
    assert order is not None
    return order


async def pay_order(session: AsyncSession, actor: Principal, order_id: int) -> Order:
    """Simulated payment."""
    order = await _locked_visible_order(session, actor, order_id)
    if await _transition(session, order, "pay", actor.role, actor.user_id):
        order.paid_at = clock.now()
        await deadlines.cancel(session, "order.cancel_unpaid", _order_key(order))
        product_ids = [i.product_id for i in (await repository.items_for(session, [order.id]))[
            order.id]]
        for product in (await repository.products_by_ids(session, product_ids)).values():
            product.sales_count += 1
    return order


async def cancel_order(session: AsyncSession, actor: Principal, order_id: int) -> Order:
    order = await _locked_visible_order(session, actor, order_id)
    if await _transition(session, order, "cancel", actor.role, actor.user_id):
        await _restock_and_close(session, order)
    return order


async def _restock_and_close(session: AsyncSession, order: Order) -> None:
    order.cancelled_at = clock.now()
    for item in (await repository.items_for(session, [order.id]))[order.id]:
        sku = await repository.sku_for_update(session, item.sku_id)
        if sku is not None:
            sku.stock += item.quantity
    await deadlines.cancel(session, "order.cancel_unpaid", _order_key(order))


async def ship_order(session: AsyncSession, actor: Principal, order_id: int, *, carrier: str,
                     tracking_no: str) -> Order:
    order = await _locked_visible_order(session, actor, order_id)
    if not carrier.strip() or not re.fullmatch(r"[A-Za-z0-9]{6,32}", tracking_no.strip()):
        raise InvalidInput(_("请填写快递公司和 6–32 位运单号"), code="bad_tracking")
    if await _transition(session, order, "ship", actor.role, actor.user_id,
                         {"carrier": carrier, "tracking_no": tracking_no}):
        now = clock.now()
        order.carrier = carrier.strip()[:32]
        order.tracking_no = tracking_no.strip()
        order.shipped_at = now
        await deadlines.schedule(session, "order.deliver", _order_key(order),
                                 now + timedelta(days=SHIPPING_DAYS))
        await notifications.notify(session, order.buyer_id, kind="order_shipped",
                                   title=_("订单已发货"),
                                   body=_("您的订单 {order_no} 已由 {carrier} 发出"),
                                   params={"order_no": order.order_no, "carrier": order.carrier},
                                   link=f"/orders/{order.id}")
    return order


async def confirm_receipt(session: AsyncSession, actor: Principal, order_id: int) -> Order:
    order = await _locked_visible_order(session, actor, order_id)
    if await _transition(session, order, "confirm_receipt", actor.role, actor.user_id):
        await _complete(session, order)
    return order


async def _complete(session: AsyncSession, order: Order) -> None:
    order.completed_at = clock.now()
    await deadlines.cancel(session, "order.deliver", _order_key(order))
    await deadlines.cancel(session, "order.auto_complete", _order_key(order))


async def deliver_order(session: AsyncSession, order_id: int, now: datetime, *,
                        actor: Principal | None = None) -> str:
    """The (simulated) carrier delivers. Run by the sweeper, or by platform staff in demos."""
    order = await repository.lock_order(session, order_id)
    if order is None:
        return "skipped:missing"
    role = actor.role if actor else SYSTEM_ROLE
    if order.status != "shipped":
        return f"skipped:{order.status}"
    await _transition(session, order, "deliver", role, actor.user_id if actor else None)
    order.delivered_at = now
    await deadlines.schedule(session, "order.auto_complete", _order_key(order),
                             now + timedelta(days=get_settings().auto_complete_days))
    await notifications.notify(session, order.buyer_id, kind="order_delivered",
                               title=_("订单已签收"), body=_("您的订单 {order_no} 已签收"),
                               params={"order_no": order.order_no}, link=f"/orders/{order.id}")
    return "delivered"


async def auto_complete_order(session: AsyncSession, order_id: int, now: datetime) -> str:
    order = await repository.lock_order(session, order_id)
    if order is None:
        return "skipped:missing"
    if order.status != "delivered":
        return f"skipped:{order.status}"
    await _transition(session, order, "auto_complete", SYSTEM_ROLE, None)
    await _complete(session, order)
    return "completed"


async def cancel_unpaid_order(session: AsyncSession, order_id: int, now: datetime) -> str:
    order = await repository.lock_order(session, order_id)
    if order is None:
        return "skipped:missing"
    if order.status != "created":
        return f"skipped:{order.status}"
    await _transition(session, order, "cancel", SYSTEM_ROLE, None, {"reason": "unpaid"})
    await _restock_and_close(session, order)
    return "cancelled"


@dataclass
class OrderView:
    order: Order
    items: list[OrderItem]
    store: Store
    buyer_name: str = ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.order.status, self.order.status)


async def _views(session: AsyncSession, orders: list[Order]) -> list[OrderView]:
    items = await repository.items_for(session, [o.id for o in orders])
    stores = await repository.stores_by_ids(session, [o.store_id for o in orders])
    buyers = await accounts.users_by_ids(session, [o.buyer_id for o in orders])
    return [OrderView(o, items[o.id], stores[o.store_id],
                      buyers[o.buyer_id].display_name if o.buyer_id in buyers else "")
            for o in orders]


async def list_orders(session: AsyncSession, actor: Principal, *, status: str | None = None,
                      buyer_id: int | None = None, limit: int = 50, offset: int = 0
                      ) -> list[OrderView]:
    if status is not None and status not in ORDER_STATES:
        raise InvalidInput(_("未知的订单状态"), code="bad_status")
    orders = await repository.list_orders(session, actor, status=status, buyer_id=buyer_id,
                                          limit=min(max(limit, 1), 200), offset=max(offset, 0))
    return await _views(session, orders)


async def order_detail(session: AsyncSession, actor: Principal, order_id: int) -> OrderView:
    order = await repository.visible_order(session, actor, order_id)
    if order is None:
        raise NotFound(_("订单不存在"))
    return (await _views(session, [order]))[0]


async def order_history(session: AsyncSession, actor: Principal, order_id: int
                        ) -> list[AuditEvent]:
    await order_detail(session, actor, order_id)
    return await audit.trail(session, "order", order_id)


def allowed_order_actions(view: OrderView, actor: Principal) -> list[str]:
    if not (actor.user_id == view.order.buyer_id or actor.works_for(view.order.store_id)
            or actor.is_platform):
        return []
    return ORDER_MACHINE.allowed_actions(view.order.status, actor.role)


def image_url(path: str | None) -> str:
    return f"/media/{path}" if path else "/static/placeholder.svg"


def media_path(relative: str) -> Path:
    return get_settings().upload_dir / relative


async def lock_store(session: AsyncSession, store_id: int) -> Store:
    """Serialise decisions that depend on a store's history (penalties) on its row."""
    store = await repository.lock_store(session, store_id)
    if store is None:
        raise NotFound(_("店铺不存在"))
    return store


async def store_member_ids(session: AsyncSession, store_id: int) -> list[int]:
    return [u.id for u in await accounts.store_members(session, store_id) if u.is_active]
