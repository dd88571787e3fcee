"""One WebSocket per signed-in user: live events, resume after a reconnect, sending.

The socket subscribes to its channels *before* it reads anything from the database, so an
event committed while a resume reads is either in the resume's result or waiting in the
subscription — nothing falls between. While a resume is sent, live events wait behind it;
message events already sent are not sent twice (clients dedupe by (conversation_id, seq) all
the same). Writes arrive over the socket too (``send``) and are acknowledged only after their
transaction commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from kefu.accounts import service as accounts
from kefu.accounts.roles import Principal
from kefu.chat import service
from kefu.kit import clockstore
from kefu.kit.db import Database, is_database_busy
from kefu.kit.errors import DATABASE_BUSY, DomainError, NotAuthenticated
from kefu.kit.events import Broker, Subscription, dumps
from kefu.kit.i18n import gettext
from kefu.kit.metrics import WEBSOCKETS_OPEN
from kefu.settings import Settings

log = logging.getLogger(__name__)

CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
MAX_FRAME_CHARS = 64 * 1024
RECHECK_SECONDS = 300.0
# Message events a socket remembers having sent, to skip the broker's copy of one it sent
# already (in an ack, or in a resume's catch-up). The copy follows within moments, so a few
# hundred suffice; clients dedupe anyway. Each costs about 140 bytes: at 4,096 a socket in
# steady use grew to over half a megabyte (a server at 300 messages/s grew 5 MB a minute),
# 2,000 busy sockets to a gigabyte.
_SEEN_LIMIT = 256


class SocketSession:
    def __init__(self, websocket: WebSocket, db: Database, settings: Settings, broker: Broker,
                 principal: Principal, token: str, token_kind: str) -> None:
        self.websocket = websocket
        self.db = db
        self.settings = settings
        self.broker = broker
        self.principal = principal
        self.token = token
        self.token_kind = token_kind
        self.send_lock = asyncio.Lock()
        # Message events already sent on this socket: (conversation_id, seq).
        self.seen: OrderedDict[tuple[int, int], None] = OrderedDict()

    # --- sending --------------------------------------------------------------------------

    def _mark_seen(self, key: tuple[int, int]) -> bool:
        """True the first time a message is sent on this socket."""
        if key in self.seen:
            return False
        self.seen[key] = None
        if len(self.seen) > _SEEN_LIMIT:
            self.seen.popitem(last=False)
        return True

    async def _send(self, event: dict[str, Any]) -> None:
        await self.websocket.send_text(dumps(event))

    async def send(self, event: dict[str, Any]) -> None:
        async with self.send_lock:
            await self._send_unlocked(event)

    async def _send_unlocked(self, event: dict[str, Any]) -> None:
        if event.get("type") == "message":
            message = event.get("message") or {}
            key = (int(message.get("conversation_id", 0)), int(message.get("seq", 0)))
            if not self._mark_seen(key):
                if "conversation" not in event:
                    return
                # Sent already (in an ack): only the conversation update it carries is new.
                event = {"type": "conversation", "conversation": event["conversation"]}
        await self._send(event)

    # --- the two loops --------------------------------------------------------------------

    async def pump(self, subscription: Subscription) -> None:
        """Broker → client."""
        while True:
            event = await subscription.get()
            if subscription.overflowed:
                # Events were dropped for this slow client: it must catch up from the database.
                subscription.overflowed = False
                await self.send({"type": "resync"})
            await self.send(event)

    async def listen(self) -> None:
        """Client → server."""
        while True:
            received = await self.websocket.receive()
            if received["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(received.get("code", 1000))
            raw = received.get("text")
            if raw is None:  # a binary frame: the protocol is JSON text
                await self.send(_error(None, "bad_frame", gettext("无法识别的消息")))
                continue
            if len(raw) > MAX_FRAME_CHARS:
                await self.send(_error(None, "frame_too_large", gettext("消息过大")))
                continue
            try:
                frame = orjson.loads(raw)
            except ValueError:
                await self.send(_error(None, "bad_frame", gettext("无法识别的消息")))
                continue
            if not isinstance(frame, dict):
                await self.send(_error(None, "bad_frame", gettext("无法识别的消息")))
                continue
            kind = frame.get("type")
            if kind == "ping":
                await self.send({"type": "pong"})
            elif kind == "resume":
                await self.resume(frame.get("conversations"))
            elif kind == "send":
                await self.send_message(frame)
            else:
                await self.send(_error(frame.get("client_msg_id"), "bad_frame",
                                       gettext("无法识别的消息")))

    async def watch(self) -> None:
        """Close the socket once its login is gone (logged out, account disabled). Checked
        now and then, spread out so thousands of sockets do not check at once."""
        while True:
            await asyncio.sleep(RECHECK_SECONDS * (0.75 + random.random() / 2))
            async with self.db.unit_of_work() as session:
                principal = await self._principal(session)
            if principal is None:
                await self.websocket.close(code=CLOSE_NOT_AUTHENTICATED)
                return

    # --- operations -----------------------------------------------------------------------

    async def _principal(self, session: AsyncSession) -> Principal | None:
        """The login, re-checked in the operation's own transaction: a socket must not
        outlive a log-out, and on SQLite a separate transaction would cost a write lock."""
        if self.settings.test_clock_enabled:
            await clockstore.load(session)
        return await accounts.principal_for_token(session, self.token, self.token_kind)

    async def resume(self, conversations: Any) -> None:
        marks: dict[int, int] = {}
        if isinstance(conversations, dict):
            for key, value in conversations.items():
                try:
                    marks[int(key)] = int(value)
                except (TypeError, ValueError):
                    continue
        # Hold the send lock throughout: live events queue up behind the catch-up.
        async with self.send_lock:
            async with self.db.unit_of_work() as session:
                principal = await self._principal(session)
                resumed = await service.resume(session, principal, marks) \
                    if principal is not None else None
            if resumed is None:
                await self.websocket.close(code=CLOSE_NOT_AUTHENTICATED)
                return
            for message in resumed.messages:
                await self._send_unlocked({"type": "message",
                                           "message": message.model_dump(mode="json")})
            await self._send({"type": "resumed", "truncated": resumed.truncated})

    async def send_message(self, frame: dict[str, Any]) -> None:
        client_msg_id = frame.get("client_msg_id")
        try:
            conversation_id = int(frame.get("conversation_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            await self.send(_error(client_msg_id, "bad_frame", gettext("缺少会话编号")))
            return
        posted: service.Posted | None = None
        blocked: service.MessageBlocked | None = None
        marked: tuple[int, int] | None = None
        try:
            async with self.db.unit_of_work() as session:
                if self.settings.test_clock_enabled:
                    await clockstore.load(session)
                try:
                    # The login is checked in the round trip that locks the conversation.
                    posted = await service.send_message(
                        session, self.principal, conversation_id,
                        client_msg_id=str(client_msg_id or ""),
                        kind=str(frame.get("kind") or "text"), text=_opt_str(frame.get("text")),
                        product_id=_opt_int(frame.get("product_id")),
                        order_id=_opt_int(frame.get("order_id")),
                        login=(self.token, self.token_kind))
                    # The ack will carry the message: this socket need not get its event
                    # too (other sockets of the same user still do). Marked before the
                    # commit, as the event may reach this socket's pump before the ack.
                    key = (posted.message.conversation_id, posted.message.seq)
                    if self._mark_seen(key):
                        marked = key
                except service.MessageBlocked as error:
                    # Leave the transaction normally: the screen's record is committed and
                    # its effects go out, as over HTTP.
                    blocked = error
        except BaseException as error:
            if marked is not None:  # not stored after all: the seq will come again
                self.seen.pop(marked, None)
            if is_database_busy(error):
                # Nothing was stored: the client may send the same frame again (its
                # client_msg_id makes a resend safe); the socket stays open.
                await self.send(_error(client_msg_id, "busy", gettext(DATABASE_BUSY)))
                return
            if not isinstance(error, DomainError):
                raise
            await self.send(_error(client_msg_id, error.code,
                                   gettext(error.message, **error.params)))
            if isinstance(error, NotAuthenticated):
                await self.websocket.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        if blocked is not None:
            await self.send(_error(client_msg_id, blocked.code, blocked.render(),
                                   blocked.details))
            return
        assert posted is not None
        # Committed: now it may be acknowledged.
        await self.send({"type": "ack", "client_msg_id": client_msg_id,
                         "created": posted.created,
                         "message": posted.message.model_dump(mode="json")})


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _error(client_msg_id: Any, code: str, message: str,
           details: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"type": "error", "client_msg_id": client_msg_id, "error": error}


def _origin_allowed(websocket: WebSocket) -> bool:
    """Cookie-authenticated sockets only from our own pages (a cross-site page could
    otherwise open one with the user's cookie)."""
    origin = websocket.headers.get("origin")
    if not origin:
        return True  # not a browser
    host = websocket.headers.get("host", "")
    return origin.split("://", 1)[-1].rstrip("/") == host


def _credentials(websocket: WebSocket, session_cookie: str) -> tuple[str | None, str]:
    token = websocket.query_params.get("token")
    if token:
        return token, "bearer"
    return websocket.cookies.get(session_cookie), "cookie"


async def authenticate(websocket: WebSocket, db: Database, settings: Settings,
                       session_cookie: str) -> tuple[Principal, str, str] | None:
    token, kind = _credentials(websocket, session_cookie)
    if not token:
        return None
    async with db.unit_of_work() as session:
        if settings.test_clock_enabled:
            await clockstore.load(session)
        principal = await accounts.principal_for_token(session, token, kind)
    return None if principal is None else (principal, token, kind)


async def serve(websocket: WebSocket, db: Database, settings: Settings, broker: Broker,
                session_cookie: str) -> None:
    await websocket.accept()
    token, kind = _credentials(websocket, session_cookie)
    if token and kind == "cookie" and not _origin_allowed(websocket):
        await websocket.close(code=CLOSE_FORBIDDEN_ORIGIN)
        return
    found = await authenticate(websocket, db, settings, session_cookie)
    if found is None:
        await websocket.close(code=CLOSE_NOT_AUTHENTICATED)
        return
    principal, token, kind = found
    socket = SocketSession(websocket, db, settings, broker, principal, token, kind)
    # Subscribe before anything is read from the database (see the module docstring).
    subscription = await broker.subscribe(*service.socket_channels(principal))
    WEBSOCKETS_OPEN.inc()
    tasks: list[asyncio.Task[None]] = []
    try:
        await socket.send({"type": "hello", "user_id": principal.user_id,
                           "role": str(principal.role), "store_id": principal.store_id})
        tasks = [asyncio.create_task(socket.pump(subscription), name="ws-pump"),
                 asyncio.create_task(socket.listen(), name="ws-listen"),
                 asyncio.create_task(socket.watch(), name="ws-watch")]
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, WebSocketDisconnect | RuntimeError):
                log.warning("websocket ended with %r", error)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        await subscription.close()
        WEBSOCKETS_OPEN.dec()
        if websocket.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close()
