"""Marketplace JSON API: search, products, stock, addresses, orders."""

from __future__ import annotations

from fastapi import APIRouter

from kefu.accounts.roles import Principal
from kefu.marketplace import schemas, service
from kefu.web.deps import CurrentPrincipal, DbSession, MaybePrincipal

router = APIRouter(prefix="/api", tags=["marketplace"])


def product_out(view: service.ProductView) -> schemas.ProductOut:
    p = view.product
    return schemas.ProductOut(
        id=p.id, store_id=p.store_id, store_name=view.store.name, title=p.title,
        price_fen=p.price_fen, original_price_fen=p.original_price_fen, detail=p.detail,
        category=p.category, status=p.status,
        images=[service.image_url(i.path) for i in view.images],
        skus=[schemas.SkuOut(id=s.id, size=s.size, colour=s.colour, stock=s.stock)
              for s in view.skus],
    )


def order_out(view: service.OrderView, principal: Principal) -> schemas.OrderOut:
    o = view.order
    return schemas.OrderOut(
        id=o.id, order_no=o.order_no, status=o.status, status_label=view.status_label,
        store_id=o.store_id, store_name=view.store.name, buyer_id=o.buyer_id,
        amount_fen=o.amount_fen, carrier=o.carrier, tracking_no=o.tracking_no,
        created_at=o.created_at, paid_at=o.paid_at, shipped_at=o.shipped_at,
        delivered_at=o.delivered_at, completed_at=o.completed_at,
        items=[schemas.OrderItemOut(product_id=i.product_id, sku_id=i.sku_id, title=i.title,
                                    size=i.size, colour=i.colour,
                                    unit_price_fen=i.unit_price_fen, quantity=i.quantity)
               for i in view.items],
        actions=service.allowed_order_actions(view, principal),
    )


@router.get("/search", response_model=list[schemas.SearchHitOut])
async def search(session: DbSession, q: str = "", limit: int = 40
                 ) -> list[schemas.SearchHitOut]:
    hits = await service.search(session, q, limit=min(max(limit, 1), 100))
    return [schemas.SearchHitOut(product=product_out(h.view), relevance=round(h.relevance, 4),
                                 store_weight=round(h.store_weight, 4), score=round(h.score, 4))
            for h in hits]


@router.get("/products/{product_id}", response_model=schemas.ProductOut)
async def product(product_id: int, session: DbSession, principal: MaybePrincipal
                  ) -> schemas.ProductOut:
    return product_out(await service.product_page(session, product_id, principal))


@router.get("/stores/{store_id}/products", response_model=list[schemas.ProductOut])
async def store_products(store_id: int, session: DbSession, principal: MaybePrincipal
                         ) -> list[schemas.ProductOut]:
    return [product_out(v) for v in await service.store_catalogue(session, store_id, principal)]


@router.post("/products", response_model=schemas.ProductOut, status_code=201)
async def create_product(body: schemas.ProductIn, session: DbSession,
                         principal: CurrentPrincipal) -> schemas.ProductOut:
    created = await service.create_product(
        session, principal, title=body.title, price_fen=body.price_fen, detail=body.detail,
        category=body.category, original_price_fen=body.original_price_fen,
        skus=[service.SkuSpec(s.size, s.colour, s.stock) for s in body.skus])
    return product_out(await service.product_page(session, created.id, principal))


@router.post("/skus/{sku_id}/stock", response_model=schemas.SkuOut)
async def set_stock(sku_id: int, body: schemas.StockIn, session: DbSession,
                    principal: CurrentPrincipal) -> schemas.SkuOut:
    sku = await service.set_stock(session, principal, sku_id, body.stock)
    return schemas.SkuOut(id=sku.id, size=sku.size, colour=sku.colour, stock=sku.stock)


@router.get("/addresses", response_model=list[schemas.AddressOut])
async def addresses(session: DbSession, principal: CurrentPrincipal
                    ) -> list[schemas.AddressOut]:
    return [schemas.AddressOut(id=a.id, recipient=a.recipient, phone=a.phone, region=a.region,
                               detail=a.detail, is_default=a.is_default)
            for a in await service.my_addresses(session, principal)]


@router.post("/addresses", response_model=schemas.AddressOut, status_code=201)
async def add_address(body: schemas.AddressIn, session: DbSession, principal: CurrentPrincipal
                      ) -> schemas.AddressOut:
    a = await service.add_address(session, principal, recipient=body.recipient, phone=body.phone,
                                  region=body.region, detail=body.detail,
                                  is_default=body.is_default)
    return schemas.AddressOut(id=a.id, recipient=a.recipient, phone=a.phone, region=a.region,
                              detail=a.detail, is_default=a.is_default)


@router.get("/orders", response_model=list[schemas.OrderOut])
async def list_orders(session: DbSession, principal: CurrentPrincipal, status: str | None = None,
                      limit: int = 50, offset: int = 0) -> list[schemas.OrderOut]:
    views = await service.list_orders(session, principal, status=status, limit=limit,
                                      offset=offset)
    return [order_out(v, principal) for v in views]


@router.post("/orders", response_model=schemas.OrderOut, status_code=201)
async def place_order(body: schemas.OrderIn, session: DbSession, principal: CurrentPrincipal
                      ) -> schemas.OrderOut:
    order = await service.place_order(session, principal, sku_id=body.sku_id,
                                      quantity=body.quantity, address_id=body.address_id,
                                      idempotency_key=body.idempotency_key)
    return order_out(await service.order_detail(session, principal, order.id), principal)


@router.get("/orders/{order_id}", response_model=schemas.OrderOut)
async def order_detail(order_id: int, session: DbSession, principal: CurrentPrincipal
                       ) -> schemas.OrderOut:
    return order_out(await service.order_detail(session, principal, order_id), principal)


@router.post("/orders/{order_id}/pay", response_model=schemas.OrderOut)
async def pay(order_id: int, session: DbSession, principal: CurrentPrincipal
              ) -> schemas.OrderOut:
    await service.pay_order(session, principal, order_id)
    return order_out(await service.order_detail(session, principal, order_id), principal)


@router.post("/orders/{order_id}/cancel", response_model=schemas.OrderOut)
async def cancel(order_id: int, session: DbSession, principal: CurrentPrincipal
                 ) -> schemas.OrderOut:
    await service.cancel_order(session, principal, order_id)
    return order_out(await service.order_detail(session, principal, order_id), principal)


@router.post("/orders/{order_id}/ship", response_model=schemas.OrderOut)
async def ship(order_id: int, body: schemas.ShipIn, session: DbSession,
               principal: CurrentPrincipal) -> schemas.OrderOut:
    await service.ship_order(session, principal, order_id, carrier=body.carrier,
                             tracking_no=body.tracking_no)
    return order_out(await service.order_detail(session, principal, order_id), principal)


@router.post("/orders/{order_id}/confirm-receipt", response_model=schemas.OrderOut)
async def confirm_receipt(order_id: int, session: DbSession, principal: CurrentPrincipal
                          ) -> schemas.OrderOut:
    await service.confirm_receipt(session, principal, order_id)
    return order_out(await service.order_detail(session, principal, order_id), principal)
