"""Account pages: login, logout, buyer sign-up, agent invitations, language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from kefu.accounts import service
from kefu.accounts.roles import Principal
from kefu.kit.errors import DomainError
from kefu.kit.i18n import LOCALES, gettext
from kefu.settings import Settings
from kefu.web.deps import (
    LOCALE_COOKIE,
    SESSION_COOKIE,
    CurrentPrincipal,
    DbSession,
    MaybePrincipal,
    client_address,
    verify_csrf,
)
from kefu.web.forms import discard_failed_write, error_text, safe_next
from kefu.web.templating import render, set_flash

router = APIRouter(include_in_schema=False)


def home_for(principal: Principal) -> str:
    if principal.is_merchant:
        return "/workbench"
    if principal.is_platform:
        return "/console"
    return "/"


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings: Settings = request.app.state.settings
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https",
                        max_age=settings.session_ttl_days * 86400)


@router.get("/login")
async def login_page(request: Request, principal: MaybePrincipal, next: str = "") -> Response:
    if principal is not None:
        return RedirectResponse(safe_next(next, home_for(principal)), status_code=303)
    return render(request, "accounts/login.html", next=next)


@router.post("/login")
async def login(request: Request, session: DbSession, username: Annotated[str, Form()],
                password: Annotated[str, Form()], next: Annotated[str, Form()] = "") -> Response:
    await verify_csrf(request)
    try:
        user, issued = await service.log_in(session, username=username, password=password,
                                            address=client_address(request), kind="cookie")
    except DomainError as error:
        await discard_failed_write(session)
        return render(request, "accounts/login.html", status_code=error.status_code,
                      error=error_text(error), next=next, username=username)
    response = RedirectResponse(safe_next(next, home_for(service.principal_of(user))),
                                status_code=303)
    _set_session_cookie(request, response, issued.token)
    if user.locale in LOCALES:
        response.set_cookie(LOCALE_COOKIE, user.locale, samesite="lax", max_age=365 * 86400)
    return response


@router.post("/logout")
async def logout(request: Request, session: DbSession, _principal: CurrentPrincipal) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await service.log_out(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/signup")
async def signup_page(request: Request) -> Response:
    return render(request, "accounts/signup.html")


@router.post("/signup")
async def signup(request: Request, session: DbSession, username: Annotated[str, Form()],
                 display_name: Annotated[str, Form()], password: Annotated[str, Form()]
                 ) -> Response:
    await verify_csrf(request)
    try:
        user = await service.sign_up_buyer(session, username=username.strip(),
                                           display_name=display_name, password=password)
        issued = await service.open_session(session, user, "cookie")
    except DomainError as error:
        await discard_failed_write(session)
        return render(request, "accounts/signup.html", status_code=error.status_code,
                      error=error_text(error), username=username, display_name=display_name)
    response = RedirectResponse("/", status_code=303)
    _set_session_cookie(request, response, issued.token)
    set_flash(request, response, gettext("注册成功，欢迎来到 kefu 商城"))
    return response


@router.get("/invite/{token}", name="invitation_page")
async def invitation_page(request: Request, token: str, session: DbSession) -> Response:
    try:
        invitation = await service.invitation_for_token(session, token)
    except DomainError as error:
        return render(request, "error.html", status_code=error.status_code,
                      status=error.status_code, message=error_text(error))
    return render(request, "accounts/invite.html", token=token, invitation=invitation)


@router.post("/invite/{token}")
async def accept_invitation(request: Request, token: str, session: DbSession,
                            username: Annotated[str, Form()],
                            display_name: Annotated[str, Form()],
                            password: Annotated[str, Form()]) -> Response:
    await verify_csrf(request)
    try:
        user = await service.accept_invitation(session, token=token, username=username.strip(),
                                               display_name=display_name, password=password)
        issued = await service.open_session(session, user, "cookie")
    except DomainError as error:
        await discard_failed_write(session)
        return render(request, "accounts/invite.html", status_code=error.status_code,
                      error=error_text(error), token=token, invitation=None, username=username,
                      display_name=display_name)
    response = RedirectResponse("/workbench", status_code=303)
    _set_session_cookie(request, response, issued.token)
    return response


@router.get("/lang/{locale}")
async def switch_language(request: Request, locale: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next or request.headers.get("referer")), status_code=303)
    if locale in LOCALES:
        response.set_cookie(LOCALE_COOKIE, locale, samesite="lax", max_age=365 * 86400)
    return response


@router.get("/store/team")
async def team_page(request: Request, session: DbSession, principal: CurrentPrincipal
                    ) -> Response:
    members = await service.store_team(session, principal)
    invitations = (await service.pending_invitations(session, principal)
                   if principal.is_store_owner else [])
    return render(request, "accounts/team.html", members=members, invitations=invitations,
                  new_link=None)


@router.post("/store/team/invite")
async def invite(request: Request, session: DbSession, principal: CurrentPrincipal,
                 note: Annotated[str, Form()] = "") -> Response:
    _invitation, token = await service.invite_agent(session, principal, note)
    members = await service.store_team(session, principal)
    invitations = await service.pending_invitations(session, principal)
    link = str(request.url_for("invitation_page", token=token))
    return render(request, "accounts/team.html", members=members, invitations=invitations,
                  new_link=link)


@router.post("/store/team/{user_id}/active")
async def set_agent_active(request: Request, user_id: int, session: DbSession,
                           principal: CurrentPrincipal, active: Annotated[str, Form()]
                           ) -> Response:
    await service.set_agent_active(session, principal, user_id, active == "1")
    return RedirectResponse("/store/team", status_code=303)


@router.get("/console/staff")
async def staff_page(request: Request, session: DbSession, principal: CurrentPrincipal
                     ) -> Response:
    staff = await service.list_staff(session, principal)
    return render(request, "accounts/staff.html", staff=staff)


@router.post("/console/staff")
async def create_staff(request: Request, session: DbSession, principal: CurrentPrincipal,
                       username: Annotated[str, Form()], display_name: Annotated[str, Form()],
                       password: Annotated[str, Form()], role: Annotated[str, Form()]
                       ) -> Response:
    try:
        await service.create_staff(session, principal, username=username.strip(),
                                   display_name=display_name, password=password, role=role)
    except DomainError as error:
        await discard_failed_write(session)
        staff = await service.list_staff(session, principal)
        return render(request, "accounts/staff.html", status_code=error.status_code,
                      staff=staff, error=error_text(error))
    response = RedirectResponse("/console/staff", status_code=303)
    set_flash(request, response, gettext("已创建员工 {username}", username=username))
    return response
