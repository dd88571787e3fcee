"""Marketplace pages: buyer home and search, product and store pages, orders, addresses,
the merchant's products, and the role homes (workbench and console shells)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from kefu.deposit import service as deposit
from kefu.kit.errors import DomainError, NotFound, _
from kefu.kit.i18n import gettext
from kefu.marketplace import service
from kefu.settings import get_settings
from kefu.web.deps import CurrentPrincipal, DbSession, MaybePrincipal
from kefu.web.forms import discard_failed_write, error_text, yuan_to_fen
from kefu.web.templating import environment, render, set_flash

router = APIRouter(include_in_schema=False)

environment.globals["image_url"] = service.image_url
environment.globals["order_status_labels"] = service.STATUS_LABELS


@router.get("/")
async def home(request: Request, session: DbSession, principal: MaybePrincipal) -> Response:
    if principal is not None and principal.is_merchant:
        return RedirectResponse("/workbench", status_code=303)
    if principal is not None and principal.is_platform:
        return RedirectResponse("/console", status_code=303)
    hits = await service.search(session, "", limit=40)
    return render(request, "marketplace/home.html", hits=hits, query="")


@router.get("/search")
async def search(request: Request, session: DbSession, q: str = "") -> Response:
    hits = await service.search(session, q)
    return render(request, "marketplace/home.html", hits=hits, query=q)


@router.get("/products/{product_id}")
async def product_page(request: Request, product_id: int, session: DbSession,
                       principal: MaybePrincipal) -> Response:
    view = await service.product_page(session, product_id, principal)
    addresses = (await service.my_addresses(session, principal)
                 if principal is not None and principal.is_buyer else [])
    return render(request, "marketplace/product.html", view=view, addresses=addresses,
                  idempotency_key=secrets.token_urlsafe(12))


@router.get("/stores/{store_id}")
async def store_page(request: Request, store_id: int, session: DbSession,
                     principal: MaybePrincipal) -> Response:
    views = await service.store_catalogue(session, store_id, principal)
    store = await service.get_store(session, store_id)
    return render(request, "marketplace/store.html", store=store, views=views)


@router.post("/products/{product_id}/buy")
async def buy(request: Request, product_id: int, session: DbSession,
              principal: CurrentPrincipal, sku_id: Annotated[int, Form()],
              quantity: Annotated[int, Form()], address_id: Annotated[int, Form()],
              idempotency_key: Annotated[str, Form()]) -> Response:
    try:
        order = await service.place_order(session, principal, sku_id=sku_id, quantity=quantity,
                                          address_id=address_id, idempotency_key=idempotency_key)
    except DomainError as error:
        await discard_failed_write(session)
        response = RedirectResponse(f"/products/{product_id}", status_code=303)
        set_flash(request, response, error_text(error), "error")
        return response
    return RedirectResponse(f"/orders/{order.id}", status_code=303)


@router.get("/orders")
async def orders_page(request: Request, session: DbSession, principal: CurrentPrincipal,
                      status: str | None = None) -> Response:
    views = await service.list_orders(session, principal, status=status or None, limit=100)
    return render(request, "marketplace/orders.html", views=views, status=status or "")


@router.get("/orders/{order_id}")
async def order_page(request: Request, order_id: int, session: DbSession,
                     principal: CurrentPrincipal) -> Response:
    view = await service.order_detail(session, principal, order_id)
    history = await service.order_history(session, principal, order_id)
    return render(request, "marketplace/order.html", view=view, history=history,
                  actions=service.allowed_order_actions(view, principal))


_ACTIONS = {
    "pay": service.pay_order,
    "cancel": service.cancel_order,
    "confirm_receipt": service.confirm_receipt,
}


@router.post("/orders/{order_id}/{action}")
async def order_action(request: Request, order_id: int, action: str, session: DbSession,
                       principal: CurrentPrincipal) -> Response:
    try:
        if action == "ship":
            form = await request.form()
            await service.ship_order(session, principal, order_id,
                                     carrier=str(form.get("carrier", "")),
                                     tracking_no=str(form.get("tracking_no", "")))
        elif action in _ACTIONS:
            await _ACTIONS[action](session, principal, order_id)
        else:
            raise NotFound(_("操作不存在"))
    except DomainError as error:
        await discard_failed_write(session)
        response = RedirectResponse(f"/orders/{order_id}", status_code=303)
        set_flash(request, response, error_text(error), "error")
        return response
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


@router.get("/addresses")
async def addresses_page(request: Request, session: DbSession, principal: CurrentPrincipal,
                         next: str = "") -> Response:
    addresses = await service.my_addresses(session, principal)
    return render(request, "marketplace/addresses.html", addresses=addresses, next=next)


@router.post("/addresses")
async def add_address(request: Request, session: DbSession, principal: CurrentPrincipal,
                      recipient: Annotated[str, Form()], phone: Annotated[str, Form()],
                      region: Annotated[str, Form()], detail: Annotated[str, Form()],
                      next: Annotated[str, Form()] = "") -> Response:
    try:
        await service.add_address(session, principal, recipient=recipient, phone=phone,
                                  region=region, detail=detail)
    except DomainError as error:
        await discard_failed_write(session)
        addresses = await service.my_addresses(session, principal)
        return render(request, "marketplace/addresses.html", status_code=error.status_code,
                      addresses=addresses, error=error_text(error), next=next)
    target = next if next.startswith("/products/") else "/addresses"
    return RedirectResponse(target, status_code=303)


@router.get("/store/products")
async def merchant_products(request: Request, session: DbSession, principal: CurrentPrincipal
                            ) -> Response:
    if principal.store_id is None:
        raise NotFound(_("店铺不存在"))
    views = await service.store_catalogue(session, principal.store_id, principal)
    store = await service.get_store(session, principal.store_id)
    weight = await service.store_weight(session, principal.store_id)
    return render(request, "marketplace/merchant_products.html", views=views, store=store,
                  weight=weight)


@router.post("/store/products")
async def merchant_create_product(
    request: Request, session: DbSession, principal: CurrentPrincipal,
    title: Annotated[str, Form()], price_yuan: Annotated[str, Form()],
    stock: Annotated[int, Form(ge=0, le=1_000_000)], detail: Annotated[str, Form()] = "",
    sizes: Annotated[str, Form()] = "", colours: Annotated[str, Form()] = "",
    image: Annotated[UploadFile | None, File()] = None,
) -> Response:
    price_fen = yuan_to_fen(price_yuan)
    size_list = [s.strip() for s in sizes.replace("，", ",").split(",") if s.strip()] or [""]
    colour_list = [c.strip() for c in colours.replace("，", ",").split(",") if c.strip()] or [""]
    images = []
    if image is not None and image.filename:
        images.append(await image.read(get_settings().image_max_bytes + 1))
    try:
        product = await service.create_product(
            session, principal, title=title, price_fen=price_fen, detail=detail,
            skus=[service.SkuSpec(s, c, max(stock, 0)) for s in size_list for c in colour_list],
            images=images)
    except DomainError as error:
        await discard_failed_write(session)
        response = RedirectResponse("/store/products", status_code=303)
        set_flash(request, response, error_text(error), "error")
        return response
    response = RedirectResponse(f"/products/{product.id}", status_code=303)
    set_flash(request, response, gettext("商品已发布"))
    return response


@router.post("/store/logo")
async def upload_logo(request: Request, session: DbSession, principal: CurrentPrincipal,
                      logo: Annotated[UploadFile, File()]) -> Response:
    response = RedirectResponse("/store/products", status_code=303)
    try:
        await service.set_store_logo(session, principal,
                                     await logo.read(get_settings().image_max_bytes + 1))
    except DomainError as error:
        await discard_failed_write(session)
        set_flash(request, response, error_text(error), "error")
        return response
    set_flash(request, response, gettext("店铺标志已更新"))
    return response


@router.post("/store/products/{product_id}/listed")
async def merchant_toggle_listed(request: Request, product_id: int, session: DbSession,
                                 principal: CurrentPrincipal, listed: Annotated[str, Form()]
                                 ) -> Response:
    try:
        await service.set_product_listed(session, principal, product_id, listed == "1")
    except DomainError as error:
        await discard_failed_write(session)
        response = RedirectResponse("/store/products", status_code=303)
        set_flash(request, response, error_text(error), "error")
        return response
    return RedirectResponse("/store/products", status_code=303)


@router.get("/workbench")
async def workbench(request: Request, session: DbSession, principal: CurrentPrincipal
                    ) -> Response:
    if not principal.is_merchant or principal.store_id is None:
        return RedirectResponse("/", status_code=303)
    store = await service.get_store(session, principal.store_id)
    to_ship = await service.list_orders(session, principal, status="paid", limit=20)
    return render(request, "marketplace/workbench.html", store=store, to_ship=to_ship)


@router.get("/console")
async def console(request: Request, session: DbSession, principal: CurrentPrincipal
                  ) -> Response:
    if not principal.is_platform:
        return RedirectResponse("/", status_code=303)
    stores = await service.all_stores(session, principal)
    balances = await deposit.balances(session, [s.id for s in stores])
    weights = {s.id: await service.store_weight(session, s.id) for s in stores}
    return render(request, "marketplace/console.html", stores=stores, balances=balances,
                  weights=weights, minimum=get_settings().minimum_deposit_fen)


@router.get("/media/{path:path}")
async def media(path: str) -> Response:
    root = get_settings().upload_dir.resolve()
    target = (root / path).resolve()
    if root not in target.parents or not target.is_file():
        raise NotFound(_("文件不存在"))
    return FileResponse(Path(target), headers={"Cache-Control": "public, max-age=86400",
                                               "X-Content-Type-Options": "nosniff"})
