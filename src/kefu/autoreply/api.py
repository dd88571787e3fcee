"""Auto-reply JSON API: store settings and rules, the "try it" box, the platform help desk."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kefu.autoreply import schemas, service
from kefu.kit.errors import Forbidden, _
from kefu.web.deps import CurrentPrincipal, DbSession

router = APIRouter(prefix="/api", tags=["auto-replies"])


def _store_id(principal: Any) -> int:
    if principal.store_id is None:
        raise Forbidden(_("只有商家可以查看自动回复"))
    return int(principal.store_id)


@router.get("/autoreply/settings", response_model=schemas.SettingsOut)
async def get_settings(session: DbSession, principal: CurrentPrincipal) -> schemas.SettingsOut:
    return schemas.SettingsOut.model_validate(
        await service.settings_for(session, _store_id(principal)))


@router.put("/autoreply/settings", response_model=schemas.SettingsOut)
async def put_settings(body: schemas.SettingsIn, session: DbSession, principal: CurrentPrincipal
                       ) -> schemas.SettingsOut:
    updated = await service.update_settings(session, principal,
                                            service.SettingsUpdate(**body.model_dump()))
    return schemas.SettingsOut.model_validate(updated)


@router.get("/autoreply/rules", response_model=list[schemas.RuleOut])
async def list_rules(session: DbSession, principal: CurrentPrincipal) -> list[schemas.RuleOut]:
    return [schemas.RuleOut.model_validate(r) for r in await service.store_rules(session, principal)]


@router.post("/autoreply/rules", response_model=schemas.RuleOut, status_code=201)
async def create_rule(body: schemas.RuleIn, session: DbSession, principal: CurrentPrincipal
                      ) -> schemas.RuleOut:
    rule = await service.save_rule(session, principal, rule_id=None, **body.model_dump())
    return schemas.RuleOut.model_validate(rule)


@router.put("/autoreply/rules/{rule_id}", response_model=schemas.RuleOut)
async def update_rule(rule_id: int, body: schemas.RuleIn, session: DbSession,
                      principal: CurrentPrincipal) -> schemas.RuleOut:
    rule = await service.save_rule(session, principal, rule_id=rule_id, **body.model_dump())
    return schemas.RuleOut.model_validate(rule)


@router.delete("/autoreply/rules/{rule_id}", status_code=204)
async def delete_rule(rule_id: int, session: DbSession, principal: CurrentPrincipal) -> None:
    await service.delete_rule(session, principal, rule_id)


@router.post("/autoreply/try")
async def try_it(body: schemas.TryIn, session: DbSession, principal: CurrentPrincipal
                 ) -> dict[str, Any]:
    return (await service.try_it(session, principal, body.text, body.product_id)).to_dict()


@router.post("/help/ask")
async def ask(body: schemas.AskIn) -> dict[str, Any]:
    """The platform help desk: rule questions answered by the same engine (no login needed)."""
    return service.ask_helpdesk(body.question).to_dict()
