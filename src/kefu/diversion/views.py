"""Violation pages: the platform console (evidence, filters, reversal) and the store's list
with appeals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from kefu.diversion import service
from kefu.kit.errors import DomainError
from kefu.kit.i18n import gettext
from kefu.web.deps import CurrentPrincipal, DbSession
from kefu.web.forms import discard_failed_write, error_text, parse_id
from kefu.web.templating import environment, render, set_flash

router = APIRouter(include_in_schema=False)
environment.globals["channel_labels"] = service.CHANNEL_LABELS


def _home(principal_is_platform: bool) -> str:
    return "/console/violations" if principal_is_platform else "/store/violations"


@router.get("/console/violations")
@router.get("/store/violations")
async def violations_page(request: Request, session: DbSession, principal: CurrentPrincipal,
                          channel: str = "", status: str = "", side: str = "",
                          store_id: str = "") -> Response:
    violations = await service.list_violations(
        session, principal, channel=channel or None, status=status or None,
        side=side or None, store_id=parse_id(store_id), limit=200)
    return render(request, "diversion/violations.html", violations=violations,
                  filters={"channel": channel, "status": status, "side": side,
                           "store_id": store_id})


@router.get("/console/violations/{violation_id}")
@router.get("/store/violations/{violation_id}")
async def violation_page(request: Request, violation_id: int, session: DbSession,
                         principal: CurrentPrincipal) -> Response:
    violation = await service.get_violation(session, principal, violation_id)
    actions = service.VIOLATION_MACHINE.allowed_actions(violation.status, principal.role)
    return render(request, "diversion/violation.html", v=violation, actions=actions)


@router.post("/violations/{violation_id}/{action}")
async def violation_action(request: Request, violation_id: int, action: str,
                           session: DbSession, principal: CurrentPrincipal,
                           text: Annotated[str, Form()] = "") -> Response:
    target = f"{_home(principal.is_platform)}/{violation_id}"
    response = RedirectResponse(target, status_code=303)
    try:
        if action == "appeal":
            await service.appeal(session, principal, violation_id, text)
            message = gettext("申诉已提交，平台会尽快处理")
        elif action == "reverse":
            await service.reverse(session, principal, violation_id, text)
            message = gettext("已撤销处罚，罚款已退回")
        elif action == "uphold":
            await service.uphold(session, principal, violation_id, text)
            message = gettext("已维持处罚")
        else:
            return RedirectResponse(target, status_code=303)
    except DomainError as error:
        await discard_failed_write(session)
        set_flash(request, response, error_text(error), "error")
        return response
    set_flash(request, response, message)
    return response
