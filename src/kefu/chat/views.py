"""Chat pages: the buyer's entry points (product "客服", order "联系商家"), the buyer's chat and
list, the workbench's side panel. Thin: every rule lives in :mod:`kefu.chat.service`; the live
parts talk to the JSON API and the WebSocket (``static/chat.js``, ``docs/chat-protocol.md``).

The merchant workbench itself is the ``workbench`` block of ``marketplace/workbench.html``,
filled by ``chat/workbench.html``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from kefu.accounts.roles import Principal
from kefu.chat import service
from kefu.chat.schemas import MessageOut
from kefu.kit import clock
from kefu.kit.errors import DomainError
from kefu.kit.i18n import gettext
from kefu.settings import get_settings
from kefu.web.deps import CurrentPrincipal, DbSession
from kefu.web.forms import discard_failed_write, error_text
from kefu.web.templating import environment, render, set_flash

router = APIRouter(include_in_schema=False)


def chat_boot(principal: Principal, now: datetime, **extra: Any) -> dict[str, Any]:
    """What chat.js needs to start: who is speaking, the server's (test) clock, the limits."""
    settings = get_settings()
    return {
        "me": {"id": principal.user_id, "name": principal.display_name,
               "role": str(principal.role)},
        "is_owner": principal.is_store_owner,
        "now": now.isoformat(),
        "timezone": settings.timezone,
        "test_clock": settings.test_clock_enabled,
        "image_max_bytes": settings.image_max_bytes,
        "reply_target_seconds": settings.reply_on_time_minutes * 60,
        "reply_warn_seconds": settings.countdown_amber_minutes * 60,
        **extra,
    }


def message_preview(message: MessageOut | None) -> str:
    """One line for a list: the text, or what kind of thing was sent."""
    if message is None:
        return ""
    if message.kind == "image":
        return gettext("[图片]")
    if message.kind == "product_card":
        return gettext("[商品] {title}", title=message.product.title if message.product else "")
    if message.kind == "order_card":
        return gettext("[订单] {no}", no=message.order.order_no if message.order else "")
    return message.text or ""


environment.globals["chat_boot_for"] = chat_boot
environment.globals["chat_preview"] = message_preview


@router.post("/chat/open")
async def open_chat(request: Request, session: DbSession, principal: CurrentPrincipal,
                    store_id: Annotated[int, Form()],
                    product_id: Annotated[int | None, Form()] = None,
                    order_id: Annotated[int | None, Form()] = None) -> Response:
    """The product page's 客服 and the order page's 联系商家: open (or reuse) the buyer's
    conversation with the store, adding the product or order as a card."""
    try:
        conversation = await service.open_conversation(session, principal, store_id,
                                                       product_id=product_id,
                                                       order_id=order_id)
    except DomainError as error:
        await discard_failed_write(session)
        back = (f"/products/{product_id}" if product_id is not None
                else f"/orders/{order_id}" if order_id is not None else "/")
        response = RedirectResponse(back, status_code=303)
        set_flash(request, response, error_text(error), "error")
        return response
    return RedirectResponse(f"/chat/{conversation.id}", status_code=303)


@router.get("/chat")
async def my_conversations(request: Request, session: DbSession, principal: CurrentPrincipal
                           ) -> Response:
    """我的消息: the buyer's conversations, the latest first."""
    if principal.is_merchant:
        return RedirectResponse("/workbench", status_code=303)
    conversations = await service.list_conversations(session, principal, limit=100)
    return render(request, "chat/list.html", conversations=conversations,
                  chat_boot=chat_boot(principal, clock.now()), preview=message_preview)


@router.get("/chat/{conversation_id}")
async def conversation_page(request: Request, conversation_id: int, session: DbSession,
                            principal: CurrentPrincipal) -> Response:
    """The buyer's chat with a store. Store staff work in the workbench; platform staff may
    read (the service decides who sees what)."""
    conversation = await service.get_conversation(session, principal, conversation_id)
    if principal.is_merchant:
        return RedirectResponse(f"/workbench?c={conversation.id}", status_code=303)
    side = "buyer" if principal.is_buyer else "platform"
    return render(request, "chat/conversation.html", conversation=conversation, side=side,
                  chat_boot=chat_boot(principal, clock.now(), conversation_id=conversation.id,
                                      side=side))


@router.get("/workbench/conversations/{conversation_id}/context")
async def conversation_context(request: Request, conversation_id: int, session: DbSession,
                               principal: CurrentPrincipal) -> Response:
    """Beside a conversation on the workbench: the buyer's orders here and the product."""
    context = await service.conversation_context(session, principal, conversation_id)
    return render(request, "chat/_context.html", context=context)
