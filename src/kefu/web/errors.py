"""One place that turns errors into JSON (API) or pages, in the caller's language."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kefu.kit.db import is_database_busy
from kefu.kit.errors import DATABASE_BUSY, DomainError, NotAuthenticated
from kefu.kit.i18n import gettext
from kefu.web.templating import render


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or \
        "application/json" in request.headers.get("accept", "")


def _error_response(request: Request, status: int, code: str, message: str,
                    details: Any = None) -> Response:
    if wants_json(request):
        payload: dict[str, Any] = {"error": {"code": code, "message": message}}
        if details is not None:
            payload["error"]["details"] = details
        return JSONResponse(payload, status_code=status)
    return render(request, "error.html", status_code=status, status=status, message=message,
                  code=code)


async def domain_error_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, DomainError)
    if isinstance(error, NotAuthenticated) and not wants_json(request):
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    return _error_response(request, error.status_code, error.code, error.render(),
                           error.details)


async def validation_error_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    details = [{"loc": list(e.get("loc", ())), "type": e.get("type")} for e in error.errors()]
    fields = ", ".join(str(d["loc"][-1]) for d in details if d["loc"])
    message = gettext("输入无效：{fields}", fields=fields) if fields else gettext("输入无效")
    return _error_response(request, 422, "invalid_input", message, details)


async def http_error_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    messages = {404: "页面不存在", 405: "不支持的请求方法", 413: "上传的内容太大"}
    message = gettext(messages.get(error.status_code, "请求无法处理"))
    return _error_response(request, error.status_code, f"http_{error.status_code}", message)


async def out_of_range_handler(request: Request, error: Exception) -> Response:
    """Numbers too large for the database (an id of 30 digits) are bad input, not a crash."""
    return _error_response(request, 422, "invalid_input", gettext("输入无效：数值超出范围"))


def _is_out_of_range(error: DBAPIError) -> bool:
    text = str(error.orig).lower()
    return "out of range" in text or "too large" in text or "int64" in text


async def database_busy_handler(request: Request, error: Exception) -> Response:
    """No connection or write lock came free in time: nothing was written, so the client
    may send the same request again (a message's client id makes that safe)."""
    response = _error_response(request, 503, "busy", gettext(DATABASE_BUSY))
    response.headers["Retry-After"] = "1"
    return response


async def database_error_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, DBAPIError)
    if _is_out_of_range(error):
        return await out_of_range_handler(request, error)
    if is_database_busy(error):
        return await database_busy_handler(request, error)
    raise error


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(OverflowError, out_of_range_handler)
    app.add_exception_handler(DBAPIError, database_error_handler)
    app.add_exception_handler(PoolTimeoutError, database_busy_handler)
