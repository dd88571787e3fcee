"""Deposit JSON API: the ledger of a store and top-ups."""

from __future__ import annotations

from fastapi import APIRouter

from kefu.deposit import schemas, service
from kefu.settings import get_settings
from kefu.web.deps import CurrentPrincipal, DbSession

router = APIRouter(prefix="/api", tags=["deposit"])


@router.get("/stores/{store_id}/deposit", response_model=schemas.DepositOut)
async def deposit(store_id: int, session: DbSession, principal: CurrentPrincipal
                  ) -> schemas.DepositOut:
    entries = await service.ledger(session, principal, store_id)
    balance = await service.balance(session, store_id)
    minimum = get_settings().minimum_deposit_fen
    return schemas.DepositOut(store_id=store_id, balance_fen=balance, minimum_fen=minimum,
                              meets_minimum=balance >= minimum,
                              entries=[schemas.EntryOut.model_validate(e) for e in entries])


@router.post("/stores/{store_id}/deposit/top-up", response_model=schemas.EntryOut,
             status_code=201)
async def top_up(store_id: int, body: schemas.TopUpIn, session: DbSession,
                 principal: CurrentPrincipal) -> schemas.EntryOut:
    posting = await service.top_up(session, principal, store_id=store_id,
                                   amount_fen=body.amount_fen,
                                   idempotency_key=body.idempotency_key)
    return schemas.EntryOut.model_validate(posting.entry)
