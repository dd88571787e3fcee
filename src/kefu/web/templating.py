"""Jinja2 pages: zh-CN first, English second; every page gets the caller, CSRF and locale."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from kefu.accounts.roles import ROLE_LABELS, Principal
from kefu.kit import clock
from kefu.kit.i18n import get_locale, gettext, ngettext
from kefu.kit.security import csrf_token_for
from kefu.settings import Settings

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
FLASH_COOKIE = "kefu_flash"

environment = Environment(
    loader=FileSystemLoader(str(TEMPLATE_DIR)),
    autoescape=select_autoescape(["html", "xml"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# `_("…{name}…", name=value)` in templates, like in Python; the result is escaped as usual.
environment.globals["_"] = gettext
environment.globals["ngettext"] = ngettext


def _yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen / 100:.2f}"


def _local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(str(environment.globals["timezone"]))).strftime(fmt)


def _tojson_attr(value: Any) -> Markup:
    return Markup(json.dumps(value, ensure_ascii=False, default=str))


environment.filters["yuan"] = _yuan
environment.filters["localtime"] = _local_time
environment.globals["timezone"] = "Asia/Shanghai"
environment.globals["role_labels"] = ROLE_LABELS


def csrf_token(request: Request) -> str:
    settings: Settings = request.app.state.settings
    cookie = getattr(request.state, "csrf_cookie", None) or request.cookies.get("kefu_csrf", "")
    return csrf_token_for(settings.resolved_secret_key(), cookie)


def _flash_serializer(request: Request) -> URLSafeSerializer:
    settings: Settings = request.app.state.settings
    return URLSafeSerializer(settings.resolved_secret_key(), salt="flash")


def set_flash(request: Request, response: Any, message: str, level: str = "info") -> None:
    response.set_cookie(FLASH_COOKIE, _flash_serializer(request).dumps([level, message]),
                        httponly=True, samesite="lax", max_age=60)


def _pop_flash(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        level, message = _flash_serializer(request).loads(raw)
    except (BadSignature, ValueError):
        return None
    request.state.clear_flash = True
    return str(level), str(message)


def render(request: Request, template: str, status_code: int = 200, **context: Any
           ) -> HTMLResponse:
    principal: Principal | None = getattr(request.state, "principal", None)
    settings: Settings = request.app.state.settings
    body = environment.get_template(template).render(
        request=request, principal=principal, csrf_token=csrf_token(request),
        locale=get_locale(), settings=settings, now=clock.now(), flash=_pop_flash(request),
        test_clock_enabled=settings.test_clock_enabled, **context,
    )
    response = HTMLResponse(body, status_code=status_code)
    if getattr(request.state, "clear_flash", False):
        response.delete_cookie(FLASH_COOKIE)
    return response
