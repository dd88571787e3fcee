"""Route dependencies: the request's transaction, the caller, CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts import service as accounts
from kefu.accounts.roles import Principal
from kefu.kit import clockstore
from kefu.kit.db import Database, commit_or_rollback
from kefu.kit.errors import Forbidden, NotAuthenticated, _
from kefu.kit.security import csrf_token_valid
from kefu.settings import Settings

SESSION_COOKIE = "kefu_session"
CSRF_COOKIE = "kefu_csrf"
LOCALE_COOKIE = "kefu_lang"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction, committed when the route returns without error."""
    # Tests substitute a session bound to a rolled-back outer transaction.
    provider = getattr(request.app.state, "session_provider", None)
    factory = provider if provider is not None else get_database(request).sessionmaker
    async with factory() as session, commit_or_rollback(session):
        if request.app.state.settings.test_clock_enabled:
            await clockstore.load(session)
        yield session


# scope="function": the transaction commits when the route returns, before the response is
# sent, so a client never hears "created" for something that then fails to commit.
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def _csrf_ok(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie:
        return False
    candidate = request.headers.get("x-csrf-token")
    if candidate is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        candidate = value if isinstance(value, str) else None
    return csrf_token_valid(settings.resolved_secret_key(), cookie, candidate)


async def verify_csrf(request: Request) -> None:
    """Browser writes must carry the CSRF token; bearer-token API calls need none."""
    if request.method in UNSAFE_METHODS and bearer_token(request) is None \
            and not await _csrf_ok(request):
        raise Forbidden(_("页面已过期，请刷新后重试"), code="csrf_failed")


async def optional_principal(request: Request, session: DbSession) -> Principal | None:
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    token = bearer_token(request)
    principal: Principal | None = None
    if token is not None:
        principal = await accounts.principal_for_token(session, token, "bearer")
        if principal is None:
            raise NotAuthenticated(_("登录已失效，请重新登录"), code="bad_token")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            principal = await accounts.principal_for_token(session, cookie, "cookie")
    request.state.principal = principal
    return principal


async def require_principal(
    request: Request, principal: Annotated[Principal | None, Depends(optional_principal)]
) -> Principal:
    if principal is None:
        raise NotAuthenticated(_("请先登录"), code="login_required")
    await verify_csrf(request)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
