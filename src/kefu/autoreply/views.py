"""Auto-reply pages: the store's settings with a "try it" box, and the buyer help desk."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from kefu.autoreply import service
from kefu.kit.errors import DomainError
from kefu.kit.i18n import gettext
from kefu.web.deps import CurrentPrincipal, DbSession
from kefu.web.forms import discard_failed_write, error_text, parse_id
from kefu.web.templating import render, set_flash

router = APIRouter(include_in_schema=False)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("，", "\n").replace(",", "\n").splitlines()
            if line.strip()]


async def _page(request: Request, session: DbSession, principal: CurrentPrincipal,
                status_code: int = 200, **extra: object) -> Response:
    rules = await service.store_rules(session, principal)
    assert principal.store_id is not None
    settings = await service.settings_for(session, principal.store_id)
    return render(request, "autoreply/settings.html", status_code=status_code, rules=rules,
                  reply_settings=settings, **extra)


@router.get("/store/autoreply")
async def settings_page(request: Request, session: DbSession, principal: CurrentPrincipal,
                        q: str = "") -> Response:
    decision = None
    if q.strip():
        try:
            decision = await service.try_it(session, principal, q)
        except DomainError as error:
            return await _page(request, session, principal, error=error_text(error), q=q)
    return await _page(request, session, principal, decision=decision, q=q)


@router.post("/store/autoreply/settings")
async def save_settings(
    request: Request, session: DbSession, principal: CurrentPrincipal,
    welcome_text: Annotated[str, Form()] = "", off_hours_text: Annotated[str, Form()] = "",
    welcome_enabled: Annotated[str, Form()] = "", faq_enabled: Annotated[str, Form()] = "",
    keywords_enabled: Annotated[str, Form()] = "",
    off_hours_enabled: Annotated[str, Form()] = "",
    after_sales_pointer_enabled: Annotated[str, Form()] = "",
) -> Response:
    try:
        await service.update_settings(session, principal, service.SettingsUpdate(
            welcome_enabled=bool(welcome_enabled), welcome_text=welcome_text,
            faq_enabled=bool(faq_enabled), keywords_enabled=bool(keywords_enabled),
            off_hours_enabled=bool(off_hours_enabled), off_hours_text=off_hours_text,
            after_sales_pointer_enabled=bool(after_sales_pointer_enabled)))
    except DomainError as error:
        await discard_failed_write(session)
        return await _page(request, session, principal, status_code=error.status_code,
                           error=error_text(error))
    response = RedirectResponse("/store/autoreply", status_code=303)
    set_flash(request, response, gettext("自动回复设置已保存"))
    return response


@router.post("/store/autoreply/rules")
async def save_rule(
    request: Request, session: DbSession, principal: CurrentPrincipal,
    kind: Annotated[str, Form()], answer: Annotated[str, Form()],
    question: Annotated[str, Form()] = "", examples: Annotated[str, Form()] = "",
    keywords: Annotated[str, Form()] = "", product_ids: Annotated[str, Form()] = "",
    rule_id: Annotated[str, Form()] = "", enabled: Annotated[str, Form()] = "1",
) -> Response:
    try:
        await service.save_rule(
            session, principal, rule_id=parse_id(rule_id), kind=kind,
            question=question, answer=answer, examples=_lines(examples),
            keywords=_lines(keywords),
            product_ids=[i for i in (parse_id(p) for p in _lines(product_ids)) if i is not None],
            enabled=enabled == "1")
    except DomainError as error:
        await discard_failed_write(session)
        return await _page(request, session, principal, status_code=error.status_code,
                           error=error_text(error))
    response = RedirectResponse("/store/autoreply", status_code=303)
    set_flash(request, response, gettext("规则已保存"))
    return response


@router.post("/store/autoreply/rules/{rule_id}/delete")
async def delete_rule(request: Request, rule_id: int, session: DbSession,
                      principal: CurrentPrincipal) -> Response:
    await service.delete_rule(session, principal, rule_id)
    return RedirectResponse("/store/autoreply", status_code=303)


@router.get("/help")
async def help_desk(request: Request, q: str = "") -> Response:
    result = None
    error = None
    if q.strip():
        try:
            result = service.ask_helpdesk(q)
        except DomainError as failure:
            error = error_text(failure)
    return render(request, "autoreply/help.html", q=q, result=result, error=error,
                  topics=service.helpdesk_topics())
