"""Marketplace queries, scoped to what the caller may see."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.roles import Principal
from kefu.marketplace.models import Address, Order, OrderItem, Product, ProductImage, Sku, Store


async def store_by_id(session: AsyncSession, store_id: int) -> Store | None:
    return await session.get(Store, store_id)


async def store_by_slug(session: AsyncSession, slug: str) -> Store | None:
    return (await session.execute(select(Store).where(Store.slug == slug))).scalar_one_or_none()


async def stores(session: AsyncSession) -> list[Store]:
    return list((await session.execute(select(Store).order_by(Store.id))).scalars())


async def stores_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Store]:
    if not ids:
        return {}
    result = await session.execute(select(Store).where(Store.id.in_(set(ids))))
    return {s.id: s for s in result.scalars()}


async def product(session: AsyncSession, product_id: int) -> Product | None:
    return await session.get(Product, product_id)


async def products_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Product]:
    if not ids:
        return {}
    result = await session.execute(select(Product).where(Product.id.in_(set(ids))))
    return {p.id: p for p in result.scalars()}


async def store_products(session: AsyncSession, store_id: int, *, listed_only: bool
                         ) -> list[Product]:
    query = select(Product).where(Product.store_id == store_id)
    if listed_only:
        query = query.where(Product.status == "listed")
    return list((await session.execute(query.order_by(Product.id))).scalars())


async def images_for(session: AsyncSession, product_ids: Sequence[int]
                     ) -> dict[int, list[ProductImage]]:
    out: dict[int, list[ProductImage]] = {pid: [] for pid in product_ids}
    if not product_ids:
        return out
    result = await session.execute(
        select(ProductImage).where(ProductImage.product_id.in_(set(product_ids)))
        .order_by(ProductImage.product_id, ProductImage.position)
    )
    for image in result.scalars():
        out[image.product_id].append(image)
    return out


async def skus_for(session: AsyncSession, product_id: int) -> list[Sku]:
    result = await session.execute(select(Sku).where(Sku.product_id == product_id)
                                   .order_by(Sku.id))
    return list(result.scalars())


async def sku_for_update(session: AsyncSession, sku_id: int) -> Sku | None:
    return (await session.execute(select(Sku).where(Sku.id == sku_id).with_for_update())
            ).scalar_one_or_none()


async def search_candidates(session: AsyncSession, terms: Sequence[str], limit: int = 500
                            ) -> list[Product]:
    query: Select[Product] = select(Product).where(Product.status == "listed")
    if terms:
        clauses = []
        for term in terms:
            pattern = f"%{term}%"
            clauses.append(Product.title.ilike(pattern))
            clauses.append(Product.detail.ilike(pattern))
            clauses.append(Product.category.ilike(pattern))
        query = query.where(or_(*clauses))
    query = query.join(Store, Store.id == Product.store_id).where(Store.status == "active")
    result = await session.execute(query.order_by(Product.id.desc()).limit(limit))
    return list(result.scalars())


def orders_visible_to(principal: Principal) -> Select[Order]:
    """The only way to list orders: a buyer sees theirs, a store its own, the platform all."""
    query = select(Order)
    if principal.is_buyer:
        return query.where(Order.buyer_id == principal.user_id)
    if principal.is_merchant:
        return query.where(Order.store_id == principal.store_id)
    if principal.is_platform:
        return query
    return query.where(Order.id < 0)


async def visible_order(session: AsyncSession, principal: Principal, order_id: int
                        ) -> Order | None:
    return (await session.execute(orders_visible_to(principal).where(Order.id == order_id))
            ).scalar_one_or_none()


async def lock_order(session: AsyncSession, order_id: int) -> Order | None:
    return (await session.execute(select(Order).where(Order.id == order_id).with_for_update())
            ).scalar_one_or_none()


async def list_orders(session: AsyncSession, principal: Principal, *, status: str | None = None,
                      buyer_id: int | None = None, limit: int = 50, offset: int = 0
                      ) -> list[Order]:
    query = orders_visible_to(principal)
    if status:
        query = query.where(Order.status == status)
    if buyer_id is not None:
        query = query.where(Order.buyer_id == buyer_id)
    result = await session.execute(query.order_by(Order.id.desc()).limit(limit).offset(offset))
    return list(result.scalars())


async def order_by_key(session: AsyncSession, buyer_id: int, key: str) -> Order | None:
    return (await session.execute(
        select(Order).where(Order.buyer_id == buyer_id, Order.idempotency_key == key)
    )).scalar_one_or_none()


async def items_for(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, list[OrderItem]]:
    out: dict[int, list[OrderItem]] = {oid: [] for oid in order_ids}
    if not order_ids:
        return out
    result = await session.execute(select(OrderItem).where(OrderItem.order_id.in_(set(order_ids)))
                                   .order_by(OrderItem.id))
    for item in result.scalars():
        out[item.order_id].append(item)
    return out


async def addresses(session: AsyncSession, user_id: int) -> list[Address]:
    result = await session.execute(select(Address).where(Address.user_id == user_id)
                                   .order_by(Address.is_default.desc(), Address.id))
    return list(result.scalars())


async def order_counts_by_status(session: AsyncSession, principal: Principal) -> dict[str, int]:
    sub = orders_visible_to(principal).subquery()
    rows = await session.execute(select(sub.c.status, func.count()).group_by(sub.c.status))
    return {status: int(count) for status, count in rows.all()}


async def lock_store(session: AsyncSession, store_id: int) -> Store | None:
    return (await session.execute(select(Store).where(Store.id == store_id).with_for_update())
            ).scalar_one_or_none()
