"""ASGI middleware: locale, the CSRF cookie, request ids, structured request logs, metrics."""

from __future__ import annotations

import json
import time
import uuid
from http.cookies import SimpleCookie
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kefu.kit.i18n import gettext, negotiate_locale, set_locale
from kefu.kit.metrics import HTTP_LATENCY, HTTP_REQUESTS
from kefu.kit.security import new_token

log = structlog.get_logger("kefu.http")


def _cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return {}
            return {k: m.value for k, m in jar.items()}
    return {}


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class BodyTooLarge(Exception):
    pass


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, secure_cookies: bool = False,
                 max_body_bytes: int = 12 * 1024 * 1024) -> None:
        self.app = app
        self.secure_cookies = secure_cookies
        self.max_body_bytes = max_body_bytes

    async def _too_large(self, send: Send) -> None:
        body = json.dumps({"error": {"code": "http_413", "message": gettext("上传的内容太大")}},
                          ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        set_locale(negotiate_locale(cookies.get("kefu_lang"),
                                    _header(scope, b"accept-language")))
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex[:16]
        state["request_id"] = request_id
        new_csrf = None
        if "kefu_csrf" not in cookies:
            new_csrf = new_token()
            state["csrf_cookie"] = new_csrf
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        status_holder = {"status": 500}
        # Refuse oversized bodies before anything reads them: by the declared length, and by
        # counting what actually arrives (chunked uploads declare none).
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(send)
            return
        received = 0
        limit = self.max_body_bytes

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                if new_csrf is not None:
                    cookie = f"kefu_csrf={new_csrf}; Path=/; SameSite=Lax; HttpOnly"
                    if self.secure_cookies:
                        cookie += "; Secure"
                    headers.append((b"set-cookie", cookie.encode()))
                message["headers"] = headers
            await send(message)

        try:
            try:
                await self.app(scope, receive_limited, send_wrapper)
            except BodyTooLarge:
                status_holder["status"] = 413
                await self._too_large(send)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_label(scope)
            method = scope.get("method", "GET")
            HTTP_REQUESTS.labels(method, route, str(status_holder["status"])).inc()
            HTTP_LATENCY.labels(method, route).observe(elapsed)
            if route not in ("/healthz", "/metrics", "/static", "unmatched") or \
                    status_holder["status"] >= 500:
                log.info("request", method=method, path=scope.get("path"), route=route,
                         status=status_holder["status"], ms=round(elapsed * 1000, 1),
                         request_id=request_id)
