"""Chat rules: who may say what in which conversation, delivery without loss or duplicates,
waits, assignment, read marks, nudges, quick replies, hours, transcripts.

Every write that users see goes through one function here; its events are queued on the
session and published only after the caller's transaction commits. Nothing here commits.

Message path: lock the conversation row, reading in the same round trip whether this is a
resend (same ``client_msg_id``), the assignee's status and (sockets) the login → check the
caller's scope → return the original on a resend → screens → take ``last_seq + 1`` → store →
waits / assignment → after-message reactions → events.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from kefu.accounts import service as accounts
from kefu.accounts.roles import Principal, Role
from kefu.chat import assignment, hooks, hours, present, push, repository, transcript, waits
from kefu.chat.models import (
    AGENT_OFFLINE,
    AGENT_STATUSES,
    AUTO_REPLY_KINDS,
    KIND_AUTO_REPLY,
    KIND_IMAGE,
    KIND_NUDGE,
    KIND_ORDER_CARD,
    KIND_PRODUCT_CARD,
    KIND_SYSTEM,
    KIND_TEXT,
    SIDE_BUYER,
    SIDE_STORE,
    SIDE_SYSTEM,
    STATUS_OPEN,
    STATUS_RESOLVED,
    AgentPresence,
    Conversation,
    Message,
    QuickReply,
    StoreHoliday,
    StoreHours,
    Wait,
)
from kefu.chat.schemas import (
    AgentStatusOut,
    ContextOut,
    ConversationOut,
    DayHoursIO,
    HolidayIO,
    MessageOut,
    MessagePageOut,
    OrderCardOut,
    ProductCardOut,
    QuickReplyOut,
    StoreHoursOut,
    SummaryOut,
    VerifyOut,
)
from kefu.kit import audit, clock
from kefu.kit.db import is_postgres, record_of, write_deferred
from kefu.kit.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    _,
)
from kefu.kit.events import publish_after_commit
from kefu.kit.i18n import gettext
from kefu.kit.media import save_image
from kefu.marketplace import service as marketplace
from kefu.settings import get_settings

log = logging.getLogger(__name__)

MAX_TEXT = 2000
MAX_PAGE = 200
RESUME_PER_CONVERSATION = 200
RESUME_MAX_CONVERSATIONS = 500
RECENT_TEXTS_LIMIT = 5
RECENT_TEXTS_WINDOW = timedelta(minutes=10)
MAX_QUICK_REPLIES = 200
TRANSCRIPT_MAX_MESSAGES = 50_000
NUDGE_TEXT = "您好，请问在吗？"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")

MESSAGES_POSTED = Counter("kefu_chat_messages_total", "Chat messages stored",
                          ["side", "kind"])
MESSAGES_BLOCKED = Counter("kefu_chat_messages_blocked_total",
                           "Chat messages refused by a screen", ["side"])
SCREEN_ERRORS = Counter("kefu_chat_screen_errors_total", "Chat screens that raised", ["screen"])
REACTION_ERRORS = Counter("kefu_chat_reaction_errors_total",
                          "After-message reactions that raised", ["reaction"])


class ScreenUnavailable(DomainError):
    """A screen failed on a store message: refused for now, safe to retry."""

    status_code = 503


class MessageBlocked(InvalidInput):
    """A screen refused the message. What the screen recorded is kept: the transaction is
    committed although the request answers 422."""

    code = "diversion_blocked"

    def __init__(self, message: str, *, details: dict[str, Any]) -> None:
        # The reason's {placeholders} (channel_label …) are filled from the details.
        super().__init__(message, details=details,
                         **{k: v for k, v in details.items() if isinstance(k, str)})


def format_reason(message: str, params: dict[str, Any]) -> str:
    text = gettext(message)
    try:
        return text.format(**{k: v for k, v in params.items() if isinstance(k, str)})
    except (KeyError, IndexError, ValueError):
        return text


@dataclass(frozen=True)
class Posted:
    message: MessageOut
    created: bool  # False: a resend, answered with the original


# --- access ---------------------------------------------------------------------------------


def side_of(actor: Principal) -> str:
    return SIDE_BUYER if actor.is_buyer else SIDE_STORE


async def _visible(session: AsyncSession, actor: Principal, conversation_id: int
                   ) -> Conversation:
    conversation = await repository.visible_conversation(session, actor, conversation_id)
    if conversation is None:
        raise NotFound(_("会话不存在"), code="conversation_not_found")
    return conversation


def _require_participant(actor: Principal) -> None:
    if actor.is_platform:
        raise Forbidden(_("平台员工只能查看聊天记录"), code="read_only")
    if not (actor.is_buyer or actor.is_merchant):
        raise Forbidden(_("您没有权限执行此操作"))


def _require_handler(actor: Principal, conversation: Conversation) -> None:
    """An agent speaks in conversations assigned to them or waiting in the queue (taking
    them); the owner anywhere in the store."""
    if actor.is_merchant and not actor.is_store_owner \
            and conversation.assigned_agent_id not in (None, actor.user_id) \
            and conversation.status == STATUS_OPEN:
        raise Forbidden(_("该会话由其他客服接待"), code="assigned_to_other")


_LOCKED_KEY = "chat_locked_now"


async def _lock(session: AsyncSession, conversation_id: int) -> Conversation:
    if conversation_id in session.info.get(_LOCKED_KEY, ()):
        # Locked further up this call (a reaction answering the message being stored): the
        # session's copy is the row as this transaction holds it.
        held = await session.get(Conversation, conversation_id)
        if held is not None:
            return held
    await session.flush()  # pending changes must not be overwritten by the fresh read
    conversation = await repository.lock_conversation(session, conversation_id)
    if conversation is None:
        raise NotFound(_("会话不存在"), code="conversation_not_found")
    return conversation


def _clean_text(text: str | None) -> str:
    cleaned = _CONTROL.sub("", text or "")
    if not cleaned.strip():
        raise InvalidInput(_("消息内容不能为空"), code="empty_message")
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput(_("消息不能超过 {max} 个字"), code="message_too_long", max=MAX_TEXT)
    return cleaned


def _check_client_id(client_msg_id: str) -> None:
    if not _CLIENT_ID.match(client_msg_id or ""):
        raise InvalidInput(_("消息编号无效"), code="bad_client_msg_id")


# --- cards ----------------------------------------------------------------------------------


def _product_card(view: marketplace.ProductView) -> dict[str, Any]:
    p = view.product
    image = view.images[0].path if view.images else None
    return ProductCardOut(id=p.id, title=p.title, price_fen=p.price_fen,
                          image_url=marketplace.image_url(image),
                          url=f"/products/{p.id}").model_dump(mode="json")


def _order_card(view: marketplace.OrderView, images: dict[int, str | None]) -> dict[str, Any]:
    o = view.order
    first = view.items[0] if view.items else None
    return OrderCardOut(
        id=o.id, order_no=o.order_no, status=o.status, status_label=view.status_label,
        amount_fen=o.amount_fen, item_title=first.title if first else "",
        item_count=sum(i.quantity for i in view.items),
        image_url=marketplace.image_url(images.get(first.product_id) if first else None),
        url=f"/orders/{o.id}", created_at=o.created_at,
    ).model_dump(mode="json")


async def _order_cards(session: AsyncSession, views: list[marketplace.OrderView]
                       ) -> list[dict[str, Any]]:
    product_ids = [v.items[0].product_id for v in views if v.items]
    cards = await marketplace.product_cards(session, product_ids)
    images = {pid: (c.images[0].path if c.images else None) for pid, c in cards.items()}
    return [_order_card(v, images) for v in views]


async def _product_for(session: AsyncSession, actor: Principal, conversation_store_id: int,
                       product_id: int) -> marketplace.ProductView:
    view = await marketplace.product_page(session, product_id, actor)
    if view.product.store_id != conversation_store_id:
        raise InvalidInput(_("只能发送本店的商品"), code="product_of_other_store")
    return view


async def _order_for(session: AsyncSession, actor: Principal, store_id: int, buyer_id: int,
                     order_id: int) -> marketplace.OrderView:
    try:
        view = await marketplace.order_detail(session, actor, order_id)
    except NotFound:
        raise InvalidInput(_("只能发送买家在本店的订单"), code="order_not_allowed") from None
    if view.order.store_id != store_id or view.order.buyer_id != buyer_id:
        raise InvalidInput(_("只能发送买家在本店的订单"), code="order_not_allowed")
    return view


# --- conversations --------------------------------------------------------------------------


async def open_conversation(session: AsyncSession, actor: Principal, store_id: int, *,
                            product_id: int | None = None, order_id: int | None = None
                            ) -> ConversationOut:
    """A buyer opens (or returns to) their conversation with a store, from a product page or
    from an order; the product or order is added as a card."""
    if not actor.is_buyer:
        raise Forbidden(_("只有买家可以发起咨询"), code="buyers_only")
    store = await marketplace.get_store(session, store_id)
    card: tuple[str, dict[str, Any], int] | None = None
    if product_id is not None and order_id is not None:
        raise InvalidInput(_("商品和订单只能选一个"), code="one_card_only")
    if product_id is not None:
        product = await _product_for(session, actor, store.id, product_id)
        card = (KIND_PRODUCT_CARD, {"product": _product_card(product)}, product_id)
    elif order_id is not None:
        order = await _order_for(session, actor, store.id, actor.user_id, order_id)
        card = (KIND_ORDER_CARD, {"order": (await _order_cards(session, [order]))[0]}, order_id)
    conversation = await _find_or_create(session, actor, store.id)
    if card is not None:
        kind, data, subject_id = card
        last = (await repository.last_messages(session, [conversation.id])).get(conversation.id)
        repeated = last is not None and last.kind == kind and last.sender_side == SIDE_BUYER \
            and (last.product_id if kind == KIND_PRODUCT_CARD else last.order_id) == subject_id
        if not repeated:  # opening twice from the same page adds the card once
            locked = await _lock(session, conversation.id)
            await _append_human(session, locked, actor, kind=kind, client_msg_id=None,
                                data=data, product_id=product_id, order_id=order_id)
            conversation = locked
    await push.emit(session, _last_posted(session))
    return (await present.conversations_out(session, [conversation], "buyer", actor.user_id,
                                            _last_posted(session)))[0]


async def _find_or_create(session: AsyncSession, actor: Principal, store_id: int
                          ) -> Conversation:
    existing = await repository.conversation_between(session, store_id, actor.user_id)
    if existing is not None:
        return existing
    now = clock.now()
    conversation = Conversation(store_id=store_id, buyer_id=actor.user_id, status=STATUS_OPEN,
                                last_seq=0, buyer_read_seq=0, store_read_seq=0,
                                buyer_unread=0, store_unread=0,
                                wait_nudged=False, created_at=now)
    try:
        async with session.begin_nested():
            session.add(conversation)
            await session.flush()
    except IntegrityError:
        # The same buyer opened it in another tab at the same moment: use theirs.
        found = await repository.conversation_between(session, store_id, actor.user_id)
        if found is None:
            raise
        return found
    present.remember_user(session, actor.user_id, actor.display_name)
    locked = await _lock(session, conversation.id)
    await assignment.route(session, locked, now)
    push.touch(session, locked)
    return locked


async def list_conversations(session: AsyncSession, actor: Principal, *,
                             status: str | None = None, limit: int = 50,
                             store_id: int | None = None, buyer_id: int | None = None
                             ) -> list[ConversationOut]:
    if status not in (None, STATUS_OPEN, STATUS_RESOLVED):
        raise InvalidInput(_("未知的会话状态"), code="bad_status")
    limit = min(max(limit, 1), MAX_PAGE)
    conversations = await repository.inbox(session, actor, status=status, limit=limit,
                                           store_id=store_id, buyer_id=buyer_id)
    return await present.conversations_out(session, conversations,
                                           "buyer" if actor.is_buyer else "store", actor.user_id)


async def get_conversation(session: AsyncSession, actor: Principal, conversation_id: int
                           ) -> ConversationOut:
    conversation = await _visible(session, actor, conversation_id)
    return (await present.conversations_out(session, [conversation],
                                            "buyer" if actor.is_buyer else "store",
                                            actor.user_id))[0]


async def list_messages(session: AsyncSession, actor: Principal, conversation_id: int, *,
                        after_seq: int | None = None, before_seq: int | None = None,
                        limit: int = 50) -> MessagePageOut:
    """A page of history in seq order: after a seq (catching up), before a seq (scrolling
    back), or the latest ones."""
    conversation = await _visible(session, actor, conversation_id)
    if (after_seq is not None and after_seq < 0) or (before_seq is not None and before_seq < 1):
        raise InvalidInput(_("消息序号无效"), code="bad_seq")
    limit = min(max(limit, 1), MAX_PAGE)
    if after_seq is None and before_seq is None:
        rows = await repository.latest_messages(session, conversation.id, limit)
        has_more = len(rows) > limit
        rows = rows[1:] if has_more else rows
    else:
        rows = await repository.messages_page(session, conversation.id, after_seq=after_seq,
                                              before_seq=before_seq, limit=limit)
        has_more = len(rows) > limit
        if has_more:
            rows = rows[1:] if before_seq is not None else rows[:limit]
    names = await present.load_names(session, {m.sender_id for m in rows},
                                     {conversation.store_id})
    return MessagePageOut(
        messages=[present.message_out(m, names, conversation.store_id, actor.user_id)
                  for m in rows],
        has_more=has_more)


# --- sending --------------------------------------------------------------------------------


async def send_message(session: AsyncSession, actor: Principal, conversation_id: int, *,
                       client_msg_id: str, kind: str = KIND_TEXT, text: str | None = None,
                       product_id: int | None = None, order_id: int | None = None,
                       login: tuple[str, str] | None = None) -> Posted:
    """A human message (text or card). A resend with the same ``client_msg_id`` returns the
    first message and changes nothing. ``login``: (token, kind) of a socket's login, checked
    in the same round trip that locks the conversation (a socket must not outlive a log-out).
    """
    _require_participant(actor)
    _check_client_id(client_msg_id)
    login_params = accounts.signed_in_params(login[0], login[1], clock.now()) \
        if login is not None else None
    locked = await repository.lock_for_send(session, conversation_id, actor.user_id,
                                            client_msg_id, login_params)
    gone = NotAuthenticated(_("登录已失效，请重新登录"), code="bad_token")
    if locked is None:
        # No such conversation: the login decides which error a socket gets.
        if login is not None and await accounts.principal_for_token(
                session, login[0], login[1]) is None:
            raise gone
        raise NotFound(_("会话不存在"), code="conversation_not_found")
    if not locked.signed_in:
        raise gone
    if not _may_see(actor, locked.conversation):
        raise NotFound(_("会话不存在"), code="conversation_not_found")
    conversation = locked.conversation
    if locked.resent_id is not None:
        existing = await session.get(Message, locked.resent_id)
        assert existing is not None
        return await _resent(session, conversation, existing, actor)
    _require_handler(actor, conversation)
    data: dict[str, Any] | None = None
    if kind == KIND_TEXT:
        text = _clean_text(text)
        product_id = order_id = None
    elif kind == KIND_PRODUCT_CARD:
        if product_id is None:
            raise InvalidInput(_("请选择商品"), code="product_required")
        data = {"product": _product_card(
            await _product_for(session, actor, conversation.store_id, product_id))}
        text, order_id = None, None
    elif kind == KIND_ORDER_CARD:
        if order_id is None:
            raise InvalidInput(_("请选择订单"), code="order_required")
        order = await _order_for(session, actor, conversation.store_id, conversation.buyer_id,
                                 order_id)
        data = {"order": (await _order_cards(session, [order]))[0]}
        text, product_id = None, None
    else:
        raise InvalidInput(_("不支持的消息类型"), code="bad_message_kind")
    warning = None
    if kind == KIND_TEXT:
        warning = await _screen(session, conversation, actor, kind=kind, text=text, image=None,
                                client_msg_id=client_msg_id)
    return await _store_human(session, conversation, actor, kind=kind,
                              client_msg_id=client_msg_id, text=text, data=data,
                              product_id=product_id, order_id=order_id, warning=warning,
                              locked=locked)


def _may_see(actor: Principal, conversation: Conversation) -> bool:
    """:func:`repository.conversations_visible_to`, for a row read by id."""
    if actor.is_buyer:
        return conversation.buyer_id == actor.user_id
    if actor.is_merchant and actor.store_id is not None:
        return conversation.store_id == actor.store_id
    return actor.is_platform


async def send_image(session: AsyncSession, actor: Principal, conversation_id: int, *,
                     client_msg_id: str, data: bytes) -> Posted:
    """An image: checked by content, size-capped, re-encoded without EXIF, thumbnailed."""
    _require_participant(actor)
    _check_client_id(client_msg_id)
    conversation = await _visible(session, actor, conversation_id)
    existing = await repository.message_by_client_id(session, conversation.id, actor.user_id,
                                                     client_msg_id)
    if existing is not None:
        return await _resent(session, conversation, existing, actor)
    _require_handler(actor, conversation)
    settings = get_settings()
    # Decoding and re-encoding is CPU work: keep it off the event loop.
    stored = await asyncio.to_thread(save_image, data, settings.upload_dir,
                                     max_bytes=settings.image_max_bytes, folder="chat")
    warning = await _screen(session, conversation, actor, kind=KIND_IMAGE, text=None,
                            image=data, client_msg_id=client_msg_id,
                            image_path=stored.path)
    return await _store_human(
        session, conversation, actor, kind=KIND_IMAGE, client_msg_id=client_msg_id, text=None,
        data={"width": stored.width, "height": stored.height}, warning=warning,
        image_path=stored.path, thumbnail_path=stored.thumbnail_path)


async def _resent(session: AsyncSession, conversation: Conversation, message: Message,
                  actor: Principal) -> Posted:
    names = await present.load_names(session, [message.sender_id], [conversation.store_id])
    return Posted(present.message_out(message, names, conversation.store_id, actor.user_id),
                  created=False)


async def _screen(session: AsyncSession, conversation: Conversation, actor: Principal, *,
                  kind: str, text: str | None, image: bytes | None,
                  client_msg_id: str | None, image_path: str | None = None) -> str | None:
    """Run the registered screens; returns a warning for the sender, or raises
    MessageBlocked. Each screen runs in a savepoint so a failing one leaves nothing half
    written; what a blocking screen wrote is kept."""
    registered = hooks.screens()
    if not registered:
        return None
    conversation_id, sender_id = conversation.id, actor.user_id

    async def recent_texts() -> tuple[str, ...]:
        return tuple(await repository.recent_texts(
            session, conversation_id, sender_id, clock.now() - RECENT_TEXTS_WINDOW,
            RECENT_TEXTS_LIMIT))

    context = hooks.ScreenContext(
        conversation_id=conversation.id, store_id=conversation.store_id,
        buyer_id=conversation.buyer_id, sender_id=actor.user_id,
        sender_side="buyer" if actor.is_buyer else "store", kind=kind, text=text, image=image,
        load_recent_texts=recent_texts, client_msg_id=client_msg_id, image_path=image_path)
    warning: str | None = None
    for name, screen, applies in registered:
        marker = len(session.info.get("after_commit", []))
        try:
            if applies is not None and not applies(context):
                continue
            async with session.begin_nested():
                result = await screen(session, context)
        except Exception as error:
            SCREEN_ERRORS.labels(name).inc()
            del session.info.get("after_commit", [])[marker:]
            if context.sender_side == "store":
                # A merchant's message must never slip through unchecked: refuse it and let
                # the client retry (the same client_msg_id) once the screen works again.
                log.exception("chat screen %s failed; store message refused", name)
                raise ScreenUnavailable(_("消息暂时无法发送，请稍后重试"),
                                        code="screen_unavailable") from error
            log.exception("chat screen %s failed; buyer message goes on", name)
            continue
        if result is None or result.action == "deliver":
            continue
        if result.action == "block":
            MESSAGES_BLOCKED.labels(context.sender_side).inc()
            details = dict(result.details)
            details.setdefault("reason", result.reason)
            if result.code:
                details.setdefault("rule", result.code)
            # Keep the screen's record (violation, evidence) though the request fails.
            session.info["commit_on_error"] = True
            raise MessageBlocked(result.reason or _("消息包含不允许发送的内容，未发送"),
                                 details=details)
        if result.action == "warn" and warning is None:
            warning = format_reason(result.reason or _("请勿在聊天中交换联系方式"),
                                    result.details)
    return warning


async def _store_human(session: AsyncSession, conversation: Conversation, actor: Principal, *,
                       kind: str, client_msg_id: str, text: str | None,
                       data: dict[str, Any] | None, product_id: int | None = None,
                       order_id: int | None = None, warning: str | None = None,
                       image_path: str | None = None, thumbnail_path: str | None = None,
                       locked: repository.LockedForSend | None = None) -> Posted:
    """``locked``: what :func:`repository.lock_for_send` found under the lock this transaction
    holds since (else the row is locked here, and a resend looked for again)."""
    assignee_status: str | None = None
    if locked is not None:
        conversation, assignee_status = locked.conversation, locked.assignee_status
    else:
        conversation = await _lock(session, conversation.id)
        if is_postgres(session):
            # A concurrent resend may have stored it while we screened (SQLite's write lock,
            # taken at BEGIN, already rules that out).
            existing = await repository.message_by_client_id(session, conversation.id,
                                                             actor.user_id, client_msg_id)
            if existing is not None:
                return await _resent(session, conversation, existing, actor)
        assignee_status = await _assignee_status(session, conversation)
    locked_here: set[int] = session.info.setdefault(_LOCKED_KEY, set())
    locked_here.add(conversation.id)
    try:
        message = await _append_human(
            session, conversation, actor, kind=kind, client_msg_id=client_msg_id, text=text,
            data=data, product_id=product_id, order_id=order_id, warning=warning,
            image_path=image_path, thumbnail_path=thumbnail_path,
            assignee_status=assignee_status,
            reserved_wait_id=locked.reserved_wait_id if locked is not None else None)
    finally:
        locked_here.discard(conversation.id)
    await push.emit(session, _last_posted(session))
    names = present.known_names(session)
    return Posted(present.message_out(message, names, conversation.store_id, actor.user_id),
                  created=True)


_LAST_KEY = "chat_last_posted"


def _remember_posted(session: AsyncSession, message: Message) -> None:
    session.info.setdefault(_LAST_KEY, {})[message.conversation_id] = message


def _last_posted(session: AsyncSession) -> dict[int, Message]:
    posted: dict[int, Message] = session.info.get(_LAST_KEY, {})
    return posted


async def _append(session: AsyncSession, conversation: Conversation, *, sender_id: int | None,
                  side: str, kind: str, client_msg_id: str | None, text: str | None,
                  data: dict[str, Any] | None, product_id: int | None = None,
                  order_id: int | None = None, auto_reply_kind: str | None = None,
                  warning: str | None = None, image_path: str | None = None,
                  thumbnail_path: str | None = None) -> Message:
    """Give the next seq of a *locked* conversation to a new message and store it (the
    conversation's own changes are written by :func:`_write_conversation`)."""
    now = clock.now()
    conversation.last_seq += 1
    values = {"conversation_id": conversation.id, "seq": conversation.last_seq,
              "client_msg_id": client_msg_id, "sender_id": sender_id, "sender_side": side,
              "kind": kind, "text": text, "image_path": image_path,
              "thumbnail_path": thumbnail_path, "product_id": product_id,
              "order_id": order_id, "auto_reply_kind": auto_reply_kind, "data": data,
              "warning": warning, "created_at": now}
    # Not added to the session: a plain record of what was stored, for the events. It is
    # written with the conversation's row (_write_conversation), which also gives its id.
    message = record_of(Message, values)

    def stored_as(message_id: int) -> None:
        message.id = message_id

    await repository.insert_message_later(session, values, stored_as)
    conversation.last_message_at = now
    # Unread for the other side: every read mark is below the new seq.
    if side == SIDE_BUYER:
        conversation.store_unread += 1
    else:
        conversation.buyer_unread += 1
    if kind == KIND_PRODUCT_CARD:
        conversation.product_id = product_id
    elif kind == KIND_ORDER_CARD:
        conversation.order_id = order_id
    _remember_posted(session, message)
    MESSAGES_POSTED.labels(side, kind).inc()
    return message


_SEND_PATH_COLUMNS = frozenset(repository.SEND_PATH_COLUMNS)


class _Unread:
    """The assignee's status was not read with the lock."""


_UNREAD = _Unread()


async def _assignee_status(session: AsyncSession, conversation: Conversation) -> str | None:
    if conversation.assigned_agent_id is None:
        return None
    presence = await repository.presence(session, conversation.assigned_agent_id)
    return presence.status if presence is not None else None


async def _write_conversation(session: AsyncSession, conversation: Conversation) -> None:
    """Write what storing messages changed on a conversation: one prebuilt UPDATE when only
    the send path's columns changed (the usual case), else the ORM's flush. The writes
    queued meanwhile (the message, the wait's answer) go with it: on PostgreSQL, one
    statement for them all."""
    changed = set(inspect(conversation).committed_state)
    if changed and changed <= _SEND_PATH_COLUMNS:
        await repository.update_send_path_columns_later(session, conversation)
        repository.mark_written(session, conversation)
    elif changed:
        await session.flush()  # the queued writes go first (kit.db)
    await write_deferred(session)


async def _append_human(session: AsyncSession, conversation: Conversation, actor: Principal, *,
                        kind: str, client_msg_id: str | None, text: str | None = None,
                        data: dict[str, Any] | None = None, product_id: int | None = None,
                        order_id: int | None = None, warning: str | None = None,
                        image_path: str | None = None, thumbnail_path: str | None = None,
                        assignee_status: str | _Unread | None = _UNREAD,
                        reserved_wait_id: int | None = None) -> Message:
    """A buyer's or a store member's message, with what it means for waits and assignment.
    ``assignee_status``: the assigned agent's chat status if read with the lock (else it is
    read here when it matters); ``reserved_wait_id``: see :class:`repository.LockedForSend`."""
    now = clock.now()
    side = side_of(actor)
    reopened = conversation.status == STATUS_RESOLVED
    if reopened:
        conversation.status = STATUS_OPEN
        conversation.resolved_at = None
        push.touch(session, conversation)
    wait_started = False
    if side == SIDE_BUYER and conversation.open_wait_id is None and kind != KIND_NUDGE:
        # Opened before the message changes the row, so the row is written once.
        await waits.start(session, conversation, conversation.last_seq + 1, now,
                          reserved_wait_id)
        wait_started = True
        push.touch(session, conversation)
    message = await _append(session, conversation, sender_id=actor.user_id, side=side,
                            kind=kind, client_msg_id=client_msg_id, text=text, data=data,
                            product_id=product_id, order_id=order_id, warning=warning,
                            image_path=image_path, thumbnail_path=thumbnail_path)
    present.remember_user(session, actor.user_id, actor.display_name)
    if side == SIDE_BUYER:
        conversation.buyer_read_seq = message.seq  # one has read what one just wrote
        conversation.buyer_unread = 0
        if reopened:
            # Routed afresh (the last agent is preferred while within the sticky window).
            conversation.assigned_agent_id = None
        if isinstance(assignee_status, _Unread):
            assignee_status = await _assignee_status(session, conversation)
        if reopened or assignment.needs_routing(conversation, assignee_status):
            await assignment.route(session, conversation, now)
    else:
        conversation.store_read_seq = message.seq
        conversation.store_unread = 0
        conversation.last_human_agent_id = actor.user_id
        conversation.last_human_reply_at = now
        if conversation.open_wait_id is not None:
            await waits.answer(session, conversation, actor.user_id, now)
            push.touch(session, conversation)
        if conversation.assigned_agent_id is None or (
                reopened and conversation.assigned_agent_id != actor.user_id):
            # Answering a queued (or reopening a resolved) conversation takes it.
            pool = await assignment.open_pool(session, conversation.store_id, now)
            await assignment.set_assignee(session, conversation, actor.user_id, now,
                                          action="claimed", actor=actor, pool=pool)
    await _write_conversation(session, conversation)
    # A human message is shown with its sender's name, which we have.
    push.message(session, conversation, message, present.known_names(session))
    if side == SIDE_BUYER:
        await _react(session, conversation, message, wait_started, now)
    return message


async def _react(session: AsyncSession, conversation: Conversation, message: Message,
                 wait_started: bool, now: datetime) -> None:
    """Run the after-message reactions (auto-replies …), each in a savepoint: one that
    fails is logged and undone, the buyer's message stays."""
    reactions = hooks.after_message_reactions()
    if not reactions:
        return
    posted = hooks.MessagePosted(
        conversation_id=conversation.id, store_id=conversation.store_id,
        buyer_id=conversation.buyer_id, message_id=message.id, seq=message.seq,
        sender_id=message.sender_id or 0, kind=message.kind, text=message.text,
        created_at=message.created_at, first_in_conversation=message.seq == 1,
        wait_id=conversation.open_wait_id, wait_started=wait_started,
        store_open=await hours.is_store_open(session, conversation.store_id, now),
        product_id=conversation.product_id, order_id=conversation.order_id)
    for name, reaction, applies in reactions:
        try:
            if applies is not None and not applies(session, posted):
                continue
        except Exception:
            log.exception("chat reaction %s failed its check; the buyer's message stays", name)
            REACTION_ERRORS.labels(name).inc()
            continue
        effects = len(session.info.get("after_commit", []))
        last = dict(_last_posted(session))
        events = push.message_events_snapshot(session)
        try:
            async with session.begin_nested():
                await reaction(session, posted)
        except Exception:
            log.exception("chat reaction %s failed; the buyer's message stays", name)
            REACTION_ERRORS.labels(name).inc()
            del session.info.get("after_commit", [])[effects:]
            session.info[_LAST_KEY] = last
            push.restore_message_events(session, events)
            await session.refresh(conversation)


async def post_auto_reply(session: AsyncSession, conversation_id: int, text: str,
                          auto_reply_kind: str, *, data: dict[str, Any] | None = None
                          ) -> Message:
    """An automatic answer in the store's name, labelled 自动回复. It never ends a wait and
    never counts as a human reply. For the auto-reply domain (after-message reactions)."""
    if auto_reply_kind not in AUTO_REPLY_KINDS:
        raise InvalidInput(_("未知的自动回复类型"), code="bad_auto_reply_kind")
    cleaned = _clean_text(text)
    conversation = await _lock(session, conversation_id)
    message = await _append(session, conversation, sender_id=None, side=SIDE_STORE,
                            kind=KIND_AUTO_REPLY, client_msg_id=None, text=cleaned, data=data,
                            auto_reply_kind=auto_reply_kind)
    await _write_conversation(session, conversation)
    names = await present.load_names(session, [], [conversation.store_id])
    push.message(session, conversation, message, names)
    return message


async def post_system_note(session: AsyncSession, conversation_id: int, text: str, *,
                           data: dict[str, Any] | None = None) -> Message:
    """A neutral note in the conversation (a transfer, an after-sales request was filed …)."""
    cleaned = _clean_text(text)
    conversation = await _lock(session, conversation_id)
    message = await _append(session, conversation, sender_id=None, side=SIDE_SYSTEM,
                            kind=KIND_SYSTEM, client_msg_id=None, text=cleaned, data=data)
    await _write_conversation(session, conversation)
    names = await present.load_names(session, [], [conversation.store_id])
    push.message(session, conversation, message, names)
    return message


# For other domains, beside open_wait(): the store's hours on the business clock.
is_store_open = hours.is_store_open
next_opening = hours.next_opening


@dataclass(frozen=True)
class ConversationFacts:
    """What another domain may need to know about a conversation (no scope: for code that
    already runs on the chat's behalf, such as an after-message reaction)."""

    conversation_id: int
    store_id: int
    buyer_id: int
    status: str
    assigned_agent_id: int | None
    product_id: int | None
    order_id: int | None
    last_seq: int
    open_wait_id: int | None
    wait_started_at: datetime | None


async def conversation_facts(session: AsyncSession, conversation_id: int) -> ConversationFacts:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(_("会话不存在"), code="conversation_not_found")
    return ConversationFacts(
        conversation_id=conversation.id, store_id=conversation.store_id,
        buyer_id=conversation.buyer_id, status=conversation.status,
        assigned_agent_id=conversation.assigned_agent_id, product_id=conversation.product_id,
        order_id=conversation.order_id, last_seq=conversation.last_seq,
        open_wait_id=conversation.open_wait_id, wait_started_at=conversation.wait_started_at)


async def open_wait(session: AsyncSession, conversation_id: int) -> Wait | None:
    """The conversation's open wait, if a buyer is waiting for a human."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    return await waits.open_wait(session, conversation)


async def auto_reply_sent_in_open_wait(session: AsyncSession, conversation_id: int,
                                       auto_reply_kind: str) -> bool:
    """Has an automatic answer of this kind already been given during the open wait? (The
    off-hours notice goes out once per wait.)"""
    wait = await open_wait(session, conversation_id)
    if wait is None:
        return False
    return await repository.auto_reply_exists_since(session, conversation_id, auto_reply_kind,
                                                    wait.started_seq)


# --- nudges and read marks ------------------------------------------------------------------


async def nudge(session: AsyncSession, actor: Principal, conversation_id: int, *,
                client_msg_id: str) -> Posted:
    """The buyer's 您好，请问在吗？ — once per wait, after a while without a human reply."""
    if not actor.is_buyer:
        raise Forbidden(_("只有买家可以催促"), code="buyers_only")
    _check_client_id(client_msg_id)
    conversation = await _visible(session, actor, conversation_id)
    existing = await repository.message_by_client_id(session, conversation.id, actor.user_id,
                                                     client_msg_id)
    if existing is not None:
        return await _resent(session, conversation, existing, actor)
    locked = await _lock(session, conversation.id)
    now = clock.now()
    minutes = get_settings().nudge_after_minutes
    if locked.open_wait_id is None or locked.wait_started_at is None:
        raise Conflict(_("商家已回复，无需催促"), code="no_open_wait")
    if locked.wait_nudged:
        raise Conflict(_("本次咨询已经催促过了"), code="nudge_used")
    if now < locked.wait_started_at + timedelta(minutes=minutes):
        raise Conflict(_("发出消息 {minutes} 分钟后仍无人工回复才能催促"),
                       code="nudge_too_early", minutes=minutes)
    message = await _append_human(session, locked, actor, kind=KIND_NUDGE,
                                  client_msg_id=client_msg_id, text=NUDGE_TEXT)
    await waits.mark_nudged(session, locked, now)
    push.touch(session, locked)
    await push.emit(session, _last_posted(session))
    names = present.known_names(session)
    return Posted(present.message_out(message, names, locked.store_id, actor.user_id), True)


async def mark_read(session: AsyncSession, actor: Principal, conversation_id: int, seq: int
                    ) -> int:
    """Move the caller's side's read mark forward (never back)."""
    _require_participant(actor)
    conversation = await _visible(session, actor, conversation_id)
    seq = max(0, min(seq, conversation.last_seq))
    unread = await repository.move_read_mark(session, conversation.id, actor.is_buyer, seq)
    if unread is None:
        # Already there or beyond (perhaps moved by another tab since we read it).
        current = conversation.buyer_read_seq if actor.is_buyer else conversation.store_read_seq
        return max(current, seq)
    # The row has changed under the session's copy: written as committed, not as a change.
    if actor.is_buyer:
        set_committed_value(conversation, "buyer_read_seq", seq)
        set_committed_value(conversation, "buyer_unread", unread)
    else:
        set_committed_value(conversation, "store_read_seq", seq)
        set_committed_value(conversation, "store_unread", unread)
    push.read(session, conversation, side_of(actor), seq)
    return seq


# --- assignment -----------------------------------------------------------------------------


def _require_store_member(actor: Principal) -> int:
    if not actor.is_merchant or actor.store_id is None:
        raise Forbidden(_("只有商家客服可以执行此操作"), code="merchants_only")
    return actor.store_id


async def transfer(session: AsyncSession, actor: Principal, conversation_id: int,
                   agent_id: int | None) -> ConversationOut:
    """Hand a conversation to another agent. Agents hand over their own; owners any, and may
    send one back to be routed automatically (``agent_id`` None)."""
    store_id = _require_store_member(actor)
    conversation = await _visible(session, actor, conversation_id)
    if not actor.is_store_owner and conversation.assigned_agent_id not in (None, actor.user_id):
        raise Forbidden(_("该会话由其他客服接待"), code="assigned_to_other")
    locked = await _lock(session, conversation.id)
    if locked.status != STATUS_OPEN:
        raise Conflict(_("会话已结束，不能转接"), code="conversation_resolved")
    now = clock.now()
    previous = locked.assigned_agent_id
    if agent_id is None:
        if not actor.is_store_owner:
            raise Forbidden(_("只有店主可以将会话退回排队"), code="owners_only")
        await assignment.route(session, locked, now, exclude={previous} if previous else ())
    else:
        target = (await accounts.users_by_ids(session, [agent_id])).get(agent_id)
        if target is None or target.store_id != store_id or not target.is_active \
                or target.role not in (Role.MERCHANT_OWNER, Role.MERCHANT_AGENT):
            raise NotFound(_("客服不存在"), code="agent_not_found")
        if agent_id == previous:
            raise Conflict(_("会话已由该客服接待"), code="already_assigned")
        pool = await assignment.open_pool(session, store_id, now)
        if agent_id not in pool.online:
            raise Conflict(_("该客服当前不在线，不能转接"), code="agent_unavailable")
        if not actor.is_store_owner and not pool.has_room(agent_id):
            raise Conflict(_("该客服接待已满"), code="agent_full")
        await assignment.set_assignee(session, locked, agent_id, now, action="transferred",
                                      actor=actor, pool=pool)
        await post_system_note(session, locked.id,
                               f"会话已转接给客服 {target.display_name}",
                               data={"event": "transferred", "to_agent_id": agent_id})
        if previous is not None:
            await assignment.drain(session, store_id, now, pool)
    await push.emit(session, _last_posted(session))
    return (await present.conversations_out(session, [locked], "store", actor.user_id,
                                            _last_posted(session)))[0]


async def resolve(session: AsyncSession, actor: Principal, conversation_id: int
                  ) -> ConversationOut:
    """Mark a conversation resolved: frees the agent's slot (the queue moves up). A buyer
    still waiting counts as a wait not answered. Resolving twice changes nothing."""
    store_id = _require_store_member(actor)
    conversation = await _visible(session, actor, conversation_id)
    _require_handler(actor, conversation)
    locked = await _lock(session, conversation.id)
    if locked.status == STATUS_OPEN:
        now = clock.now()
        await waits.close_unanswered(session, locked, now)
        locked.status = STATUS_RESOLVED
        locked.resolved_at = now
        locked.queued_since = None
        await audit.record(session, subject_type="chat_conversation", subject_id=locked.id,
                           action="resolved", actor_id=actor.user_id, actor_role=actor.role,
                           from_state=STATUS_OPEN, to_state=STATUS_RESOLVED)
        await post_system_note(session, locked.id, "本次会话已结束",
                               data={"event": "resolved", "by": actor.user_id})
        push.touch(session, locked, push.queue_channel(store_id))
        await session.flush()
        await assignment.drain(session, store_id, now)
    await push.emit(session, _last_posted(session))
    return (await present.conversations_out(session, [locked], "store", actor.user_id,
                                            _last_posted(session)))[0]


def _agent_out(user_id: int, name: str, role: str, store_id: int,
               presence: AgentPresence | None, load: int) -> AgentStatusOut:
    return AgentStatusOut(user_id=user_id, name=name, role=role, store_id=store_id,
                          status=presence.status if presence else AGENT_OFFLINE,
                          capacity=presence.capacity if presence else 5, load=load)


async def set_agent_status(session: AsyncSession, actor: Principal, status: str,
                           capacity: int | None = None) -> AgentStatusOut:
    """online / away / offline, and how many conversations at once. Coming online or
    raising capacity takes from the queue; going offline hands open conversations back."""
    store_id = _require_store_member(actor)
    if status not in AGENT_STATUSES:
        raise InvalidInput(_("未知的客服状态"), code="bad_agent_status")
    if capacity is not None and not 1 <= capacity <= 100:
        raise InvalidInput(_("接待上限须在 1 至 100 之间"), code="bad_capacity")
    now = clock.now()
    await repository.lock_desk(session, store_id, now)  # desk before presence rows
    presence = await repository.presence_for_update(session, actor.user_id)
    if presence is None:
        presence = AgentPresence(user_id=actor.user_id, store_id=store_id,
                                 status=AGENT_OFFLINE, capacity=5, updated_at=now)
        session.add(presence)
    before = (presence.status, presence.capacity)
    presence.status = status
    if capacity is not None:
        presence.capacity = capacity
    presence.updated_at = now
    await session.flush()
    if before != (presence.status, presence.capacity):
        await audit.record(session, subject_type="chat_agent", subject_id=actor.user_id,
                           action="status", actor_id=actor.user_id, actor_role=actor.role,
                           from_state=before[0], to_state=status,
                           data={"capacity": presence.capacity})
    pool = await assignment.open_pool(session, store_id, now)
    if status == AGENT_OFFLINE:
        await assignment.release(session, actor.user_id, store_id, now, pool)
    await assignment.drain(session, store_id, now, pool)
    await push.emit(session)
    out = _agent_out(actor.user_id, actor.display_name, actor.role, store_id, presence,
                     pool.load(actor.user_id))
    publish_after_commit(session, push.owners_channel(store_id),
                         {"type": "agent", "agent": out.model_dump(mode="json")})
    return out


async def agent_status(session: AsyncSession, actor: Principal) -> AgentStatusOut:
    store_id = _require_store_member(actor)
    presence = await repository.presence(session, actor.user_id)
    loads = await repository.agent_loads(session, store_id)
    return _agent_out(actor.user_id, actor.display_name, actor.role, store_id, presence,
                      loads.get(actor.user_id, 0))


async def store_agents(session: AsyncSession, actor: Principal) -> list[AgentStatusOut]:
    """The store's team with status and load (for transfers and the owner's overview)."""
    store_id = _require_store_member(actor)
    team = [u for u in await accounts.store_team(session, actor) if u.is_active]
    presences = {p.user_id: p for p in await repository.store_presences(session, store_id)}
    loads = await repository.agent_loads(session, store_id)
    return [_agent_out(u.id, u.display_name, u.role, store_id, presences.get(u.id),
                       loads.get(u.id, 0)) for u in team]


# --- workbench ------------------------------------------------------------------------------


async def conversation_context(session: AsyncSession, actor: Principal, conversation_id: int
                               ) -> ContextOut:
    """Beside the conversation: the buyer's orders with this store and the product asked
    about."""
    if actor.is_buyer:
        raise Forbidden(_("只有商家客服可以查看"), code="merchants_only")
    conversation = await _visible(session, actor, conversation_id)
    views = await marketplace.list_orders(session, actor, buyer_id=conversation.buyer_id,
                                          limit=50)
    views = [v for v in views if v.order.store_id == conversation.store_id][:20]
    product = None
    if conversation.product_id is not None:
        cards = await marketplace.product_cards(session, [conversation.product_id])
        if conversation.product_id in cards:
            product = ProductCardOut(**_product_card(cards[conversation.product_id]))
    names = await present.load_names(session, [conversation.buyer_id], [])
    return ContextOut(conversation_id=conversation.id, buyer_id=conversation.buyer_id,
                      buyer_name=names.users.get(conversation.buyer_id, ""), product=product,
                      orders=[OrderCardOut(**card)
                              for card in await _order_cards(session, views)])


async def workbench_summary(session: AsyncSession, actor: Principal) -> SummaryOut:
    """The workbench's counters over the caller's open conversations: how many buyers wait
    for a reply (and how many of them past the on-time limit), the queue, unread messages."""
    _require_store_member(actor)
    open_count, waiting, overdue, queued, unread = await repository.inbox_summary(
        session, actor, clock.now())
    return SummaryOut(open=open_count, waiting_for_reply=waiting, overdue=overdue,
                      queued=queued, unread=unread)


async def search(session: AsyncSession, actor: Principal, query: str, limit: int = 50
                 ) -> list[MessageOut]:
    """Messages containing ``query``, newest first, in the conversations the caller sees."""
    query = query.strip()
    if not query or len(query) > 50:
        raise InvalidInput(_("搜索内容须为 1–50 个字"), code="bad_query")
    rows = await repository.search_messages(session, actor, query, min(max(limit, 1), 100))
    conversation_ids = sorted({m.conversation_id for m in rows})
    stores: dict[int, int] = {}
    if conversation_ids:
        for c in await repository.inbox_by_ids(session, actor, conversation_ids):
            stores[c.id] = c.store_id
    names = await present.load_names(session, {m.sender_id for m in rows}, set(stores.values()))
    return [present.message_out(m, names, stores.get(m.conversation_id, 0), actor.user_id)
            for m in rows if m.conversation_id in stores]


async def quick_replies(session: AsyncSession, actor: Principal) -> list[QuickReplyOut]:
    store_id = _require_store_member(actor)
    return [_quick_reply_out(r)
            for r in await repository.quick_replies_for(session, store_id, actor.user_id)]


def _quick_reply_out(reply: QuickReply) -> QuickReplyOut:
    return QuickReplyOut(id=reply.id, text=reply.text,
                         scope="store" if reply.owner_id is None else "personal",
                         created_at=reply.created_at)


async def add_quick_reply(session: AsyncSession, actor: Principal, text: str, scope: str
                          ) -> QuickReplyOut:
    store_id = _require_store_member(actor)
    if scope not in ("store", "personal"):
        raise InvalidInput(_("未知的快捷回复范围"), code="bad_scope")
    if scope == "store" and not actor.is_store_owner:
        raise Forbidden(_("只有店主可以设置全店快捷回复"), code="owners_only")
    cleaned = _clean_text(text)
    if len(cleaned) > 500:
        raise InvalidInput(_("快捷回复不能超过 500 个字"), code="quick_reply_too_long")
    owner_id = None if scope == "store" else actor.user_id
    if await repository.count_quick_replies(session, store_id, owner_id) >= MAX_QUICK_REPLIES:
        raise Conflict(_("快捷回复最多 {max} 条"), code="too_many_quick_replies",
                       max=MAX_QUICK_REPLIES)
    reply = QuickReply(store_id=store_id, owner_id=owner_id, text=cleaned,
                       created_by=actor.user_id, created_at=clock.now())
    session.add(reply)
    await session.flush()
    return _quick_reply_out(reply)


async def delete_quick_reply(session: AsyncSession, actor: Principal, reply_id: int) -> None:
    store_id = _require_store_member(actor)
    reply = await repository.quick_reply(session, reply_id)
    mine = reply is not None and reply.store_id == store_id and (
        reply.owner_id == actor.user_id or (reply.owner_id is None and actor.is_store_owner))
    if reply is None or not mine:
        raise NotFound(_("快捷回复不存在"), code="quick_reply_not_found")
    await session.delete(reply)


# --- resume (WebSocket) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Resumed:
    messages: list[MessageOut]
    truncated: list[int]  # conversations with more missed messages than sent: page via REST


async def resume(session: AsyncSession, actor: Principal, marks: dict[int, int]) -> Resumed:
    """Everything after the given seqs in the caller's conversations (unknown or foreign ids
    are ignored), for a reconnecting client."""
    marks = dict(list(marks.items())[:RESUME_MAX_CONVERSATIONS])
    visible = {c.id: c for c in await repository.inbox_by_ids(session, actor, list(marks))}
    wanted = {cid: max(0, seq) for cid, seq in marks.items()
              if cid in visible and seq < visible[cid].last_seq}
    rows = await repository.messages_after(session, wanted, RESUME_PER_CONVERSATION)
    counts: dict[int, int] = {}
    kept: list[Message] = []
    truncated: set[int] = set()
    for m in rows:
        counts[m.conversation_id] = counts.get(m.conversation_id, 0) + 1
        if counts[m.conversation_id] > RESUME_PER_CONVERSATION:
            truncated.add(m.conversation_id)
        else:
            kept.append(m)
    names = await present.load_names(session, {m.sender_id for m in kept},
                                     {c.store_id for c in visible.values()})
    return Resumed([present.message_out(m, names, visible[m.conversation_id].store_id,
                                        actor.user_id) for m in kept], sorted(truncated))


def socket_channels(actor: Principal) -> list[str]:
    """What a signed-in user's socket listens to."""
    channels = [push.user_channel(actor.user_id)]
    if actor.is_merchant and actor.store_id is not None:
        channels.append(push.queue_channel(actor.store_id))
        if actor.is_store_owner:
            channels.append(push.owners_channel(actor.store_id))
    return channels


# --- working hours --------------------------------------------------------------------------


async def store_hours(session: AsyncSession, store_id: int) -> StoreHoursOut:
    """A store's customer-service hours (public: buyers see when they will be answered)."""
    await marketplace.get_store(session, store_id)
    schedule = await hours.load_schedule(session, store_id)
    now = clock.now()
    today = schedule.local_day(now)
    _weekly, holiday_rows = await repository.store_hours(session, store_id)
    return StoreHoursOut(
        store_id=store_id, timezone=str(schedule.tz),
        weekly=[DayHoursIO(weekday=i, closed=d.closed,
                           opens=hours.format_hhmm(d.opens if not d.closed else 0),
                           closes=hours.format_hhmm(d.closes if not d.closed else 0))
                for i, d in enumerate(schedule.weekly)],
        holidays=[HolidayIO(date=h.day, closed=h.closed, opens=hours.format_hhmm(h.opens_minute),
                            closes=hours.format_hhmm(h.closes_minute), note=h.note)
                  for h in holiday_rows if h.day >= today - timedelta(days=31)],
        open_now=schedule.is_open(now), next_opening=schedule.next_opening(now))


async def my_store_hours(session: AsyncSession, actor: Principal) -> StoreHoursOut:
    return await store_hours(session, _require_store_member(actor))


def _parse_hours(opens: str, closes: str) -> tuple[int, int]:
    try:
        opens_minute, closes_minute = hours.parse_hhmm(opens), hours.parse_hhmm(closes)
    except ValueError:
        raise InvalidInput(_("时间格式应为 HH:MM"), code="bad_time") from None
    if opens_minute >= closes_minute:
        raise InvalidInput(_("开始时间须早于结束时间"), code="bad_hours")
    return opens_minute, closes_minute


async def set_store_hours(session: AsyncSession, actor: Principal, weekly: list[DayHoursIO],
                          holidays: list[HolidayIO]) -> StoreHoursOut:
    """The owner replaces the weekly hours and the date overrides."""
    store_id = _require_store_member(actor)
    if not actor.is_store_owner:
        raise Forbidden(_("只有店主可以修改客服时间"), code="owners_only")
    if sorted(d.weekday for d in weekly) != list(range(7)):
        raise InvalidInput(_("请为每周七天各设置一次"), code="bad_weekly_hours")
    if all(d.closed for d in weekly):
        raise InvalidInput(_("每周至少要有一天营业"), code="always_closed")
    if len({h.date for h in holidays}) != len(holidays):
        raise InvalidInput(_("同一日期只能设置一次"), code="duplicate_holiday")
    parsed_weekly = [(d, (0, 0) if d.closed else _parse_hours(d.opens, d.closes))
                     for d in weekly]
    parsed_holidays = [(h, (0, 0) if h.closed else _parse_hours(h.opens, h.closes))
                       for h in holidays]
    old_weekly, old_holidays = await repository.store_hours(session, store_id)
    for row in [*old_weekly, *old_holidays]:
        await session.delete(row)
    await session.flush()
    for d, (opens, closes) in parsed_weekly:
        session.add(StoreHours(store_id=store_id, weekday=d.weekday, closed=d.closed,
                               opens_minute=opens, closes_minute=closes))
    for h, (opens, closes) in parsed_holidays:
        session.add(StoreHoliday(store_id=store_id, day=h.date, closed=h.closed,
                                 opens_minute=opens, closes_minute=closes, note=h.note.strip()))
    await session.flush()
    hours.forget_schedule(session, store_id)
    await audit.record(session, subject_type="store", subject_id=store_id,
                       action="chat_hours_changed", actor_id=actor.user_id,
                       actor_role=actor.role,
                       data={"weekly": [d.model_dump(mode="json") for d in weekly],
                             "holidays": len(holidays)})
    return await store_hours(session, store_id)


# --- response rates -------------------------------------------------------------------------


async def response_rate_report(session: AsyncSession, actor: Principal, *, first_day: date,
                               last_day: date | None = None, agent_id: int | None = None,
                               store_id: int | None = None) -> waits.ResponseRate:
    """A store's or an agent's response rate. Owners see the store and every agent; agents
    their own; platform staff any store."""
    if actor.is_platform:
        if store_id is None:
            raise InvalidInput(_("请指定店铺"), code="store_required")
        await marketplace.get_store(session, store_id)
    else:
        store_id = _require_store_member(actor)
        if not actor.is_store_owner:
            if agent_id not in (None, actor.user_id):
                raise Forbidden(_("只能查看自己的响应率"), code="own_rate_only")
            agent_id = actor.user_id
    last_day = last_day or first_day
    if last_day < first_day or (last_day - first_day).days > 366:
        raise InvalidInput(_("日期范围无效"), code="bad_range")
    return await waits.response_rate(session, store_id, first_day, last_day, now=clock.now(),
                                     agent_id=agent_id)


# --- transcripts ----------------------------------------------------------------------------


async def export_transcript(session: AsyncSession, actor: Principal, conversation_id: int
                            ) -> dict[str, Any]:
    """The whole conversation as a signed document: evidence that cannot be edited unseen.
    Buyers export theirs, stores theirs, platform staff any (for cases)."""
    conversation = await _visible(session, actor, conversation_id)
    rows = await repository.all_messages(session, conversation.id, TRANSCRIPT_MAX_MESSAGES)
    names = await present.load_names(session, {conversation.buyer_id,
                                               *(m.sender_id for m in rows)},
                                     {conversation.store_id})
    # Warnings were shown to the buyer only; the store's copy leaves them out.
    viewer = conversation.buyer_id if (actor.is_buyer or actor.is_platform) else actor.user_id
    messages = [present.message_out(m, names, conversation.store_id, viewer).model_dump(
        mode="json") for m in rows]
    return transcript.sign(transcript.build(
        conversation={"id": conversation.id, "store_id": conversation.store_id,
                      "store_name": names.stores.get(conversation.store_id, ""),
                      "buyer_id": conversation.buyer_id,
                      "buyer_name": names.users.get(conversation.buyer_id, ""),
                      "created_at": conversation.created_at.isoformat()},
        messages=messages, exported_at=clock.now(),
        exported_by={"user_id": actor.user_id, "role": str(actor.role)}))


def verify_transcript(document: Any) -> VerifyOut:
    result = transcript.verify(document)
    return VerifyOut(valid=result.valid, conversation_id=result.conversation_id,
                     message_count=result.message_count, reason=result.reason)


def verify_transcript_html(html: str) -> VerifyOut:
    result = transcript.verify_html(html)
    return VerifyOut(valid=result.valid, conversation_id=result.conversation_id,
                     message_count=result.message_count, reason=result.reason)
