"""Diversion JSON API: violations (scoped), appeals, platform decisions, a checker."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kefu.diversion import schemas, service
from kefu.kit.errors import Forbidden, _
from kefu.web.deps import CurrentPrincipal, DbSession

router = APIRouter(prefix="/api", tags=["diversion"])


@router.get("/violations", response_model=list[schemas.ViolationOut])
async def list_violations(session: DbSession, principal: CurrentPrincipal,
                          store_id: int | None = None, channel: str | None = None,
                          status: str | None = None, side: str | None = None,
                          limit: int = 50, offset: int = 0) -> list[schemas.ViolationOut]:
    found = await service.list_violations(session, principal, store_id=store_id,
                                          channel=channel, status=status, side=side,
                                          limit=limit, offset=offset)
    return [schemas.ViolationOut.model_validate(v) for v in found]


@router.get("/violations/{violation_id}", response_model=schemas.ViolationOut)
async def get_violation(violation_id: int, session: DbSession, principal: CurrentPrincipal
                        ) -> schemas.ViolationOut:
    return schemas.ViolationOut.model_validate(
        await service.get_violation(session, principal, violation_id))


@router.post("/violations/{violation_id}/appeal", response_model=schemas.ViolationOut)
async def appeal(violation_id: int, body: schemas.AppealIn, session: DbSession,
                 principal: CurrentPrincipal) -> schemas.ViolationOut:
    return schemas.ViolationOut.model_validate(
        await service.appeal(session, principal, violation_id, body.text))


@router.post("/violations/{violation_id}/reverse", response_model=schemas.ViolationOut)
async def reverse(violation_id: int, body: schemas.DecisionIn, session: DbSession,
                  principal: CurrentPrincipal) -> schemas.ViolationOut:
    return schemas.ViolationOut.model_validate(
        await service.reverse(session, principal, violation_id, body.note))


@router.post("/violations/{violation_id}/uphold", response_model=schemas.ViolationOut)
async def uphold(violation_id: int, body: schemas.DecisionIn, session: DbSession,
                 principal: CurrentPrincipal) -> schemas.ViolationOut:
    return schemas.ViolationOut.model_validate(
        await service.uphold(session, principal, violation_id, body.note))


@router.post("/diversion/check")
async def check(body: schemas.CheckIn, principal: CurrentPrincipal) -> dict[str, Any]:
    """Platform staff try the detector on a text (nothing is recorded)."""
    if not principal.is_platform:
        raise Forbidden(_("只有平台员工可以使用检测工具"))
    return service.check_text(body.text, body.recent).to_dict()
