"""Deposit page for store owners and agents."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from kefu.deposit import service
from kefu.kit.errors import DomainError, NotFound, _
from kefu.kit.i18n import gettext
from kefu.settings import get_settings
from kefu.web.deps import CurrentPrincipal, DbSession
from kefu.web.forms import discard_failed_write, error_text, yuan_to_fen
from kefu.web.templating import render, set_flash

router = APIRouter(include_in_schema=False)


@router.get("/store/deposit")
async def deposit_page(request: Request, session: DbSession, principal: CurrentPrincipal
                       ) -> Response:
    if principal.store_id is None:
        raise NotFound(_("店铺不存在"))
    entries = await service.ledger(session, principal, principal.store_id)
    balance = await service.balance(session, principal.store_id)
    return render(request, "deposit/deposit.html", entries=entries, balance=balance,
                  minimum=get_settings().minimum_deposit_fen,
                  idempotency_key=secrets.token_urlsafe(12))


@router.post("/store/deposit")
async def top_up(request: Request, session: DbSession, principal: CurrentPrincipal,
                 amount_yuan: Annotated[str, Form()], idempotency_key: Annotated[str, Form()]
                 ) -> Response:
    response = RedirectResponse("/store/deposit", status_code=303)
    amount_fen = yuan_to_fen(amount_yuan)
    try:
        if principal.store_id is None:
            raise NotFound(_("店铺不存在"))
        await service.top_up(session, principal, store_id=principal.store_id,
                             amount_fen=amount_fen, idempotency_key=idempotency_key)
    except DomainError as error:
        await discard_failed_write(session)
        set_flash(request, response, error_text(error), "error")
        return response
    set_flash(request, response, gettext("充值成功"))
    return response
