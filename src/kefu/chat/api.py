"""Chat JSON API and the WebSocket endpoint. Thin: parse, resolve the caller, call one
service function, return.

A message refused by a screen answers 422 ``diversion_blocked`` with ``details`` through the
kit's error handler; the unit of work commits what the screen recorded (``commit_on_error``)
and sends its effects.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile, WebSocket
from fastapi.responses import HTMLResponse

from kefu.chat import realtime, schemas, service, transcript
from kefu.kit.errors import InvalidInput, _
from kefu.kit.events import get_broker
from kefu.settings import Settings
from kefu.web.deps import (
    SESSION_COOKIE,
    CurrentPrincipal,
    DbSession,
    get_settings_dep,
)

MAX_VERIFY_BYTES = 50 * 1024 * 1024


# No prefix: the WebSocket lives at /ws beside the /api routes. Every route commits before it
# answers (the kit's function-scoped DbSession): a 201 means the message is stored.
router = APIRouter(tags=["chat"])
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


# --- conversations --------------------------------------------------------------------------


@router.post("/api/conversations", response_model=schemas.ConversationOut)
async def open_conversation(body: schemas.ConversationIn, session: DbSession, caller: CurrentPrincipal
                            ) -> schemas.ConversationOut:
    return await service.open_conversation(session, caller, body.store_id,
                                           product_id=body.product_id, order_id=body.order_id)


@router.get("/api/conversations", response_model=list[schemas.ConversationOut])
async def list_conversations(session: DbSession, caller: CurrentPrincipal,
                             status: Literal["open", "resolved"] | None = None,
                             limit: int = 50, store_id: int | None = None,
                             buyer_id: int | None = None) -> list[schemas.ConversationOut]:
    return await service.list_conversations(session, caller, status=status, limit=limit,
                                            store_id=store_id, buyer_id=buyer_id)


@router.get("/api/conversations/{conversation_id}", response_model=schemas.ConversationOut)
async def get_conversation(conversation_id: int, session: DbSession, caller: CurrentPrincipal
                           ) -> schemas.ConversationOut:
    return await service.get_conversation(session, caller, conversation_id)


@router.get("/api/conversations/{conversation_id}/messages", response_model=schemas.MessagePageOut)
async def list_messages(conversation_id: int, session: DbSession, caller: CurrentPrincipal,
                        after_seq: int | None = None, before_seq: int | None = None,
                        limit: int = 50) -> schemas.MessagePageOut:
    return await service.list_messages(session, caller, conversation_id, after_seq=after_seq,
                                       before_seq=before_seq, limit=limit)


def _posted(posted: service.Posted, response: Response) -> schemas.MessageOut:
    response.status_code = 201 if posted.created else 200
    return posted.message


@router.post("/api/conversations/{conversation_id}/messages", response_model=schemas.MessageOut,
             status_code=201, responses={200: {"description": "A resend: the original"},
                                         422: {"description": "Refused (diversion_blocked)"}})
async def send_message(conversation_id: int, body: schemas.MessageIn, response: Response,
                       session: DbSession, caller: CurrentPrincipal) -> schemas.MessageOut:
    return _posted(await service.send_message(
        session, caller, conversation_id, client_msg_id=body.client_msg_id, kind=body.kind,
        text=body.text, product_id=body.product_id, order_id=body.order_id), response)


@router.post("/api/conversations/{conversation_id}/images", response_model=schemas.MessageOut,
             status_code=201)
async def send_image(conversation_id: int, response: Response, session: DbSession,
                     caller: CurrentPrincipal, settings: SettingsDep,
                     file: Annotated[UploadFile, File()],
                     client_msg_id: Annotated[str, Form(min_length=1, max_length=64)]
                     ) -> schemas.MessageOut:
    # One byte over the cap is enough for the service to refuse it as too large.
    data = await file.read(settings.image_max_bytes + 1)
    return _posted(await service.send_image(session, caller, conversation_id,
                                            client_msg_id=client_msg_id, data=data), response)


@router.post("/api/conversations/{conversation_id}/read", response_model=schemas.ReadOut)
async def mark_read(conversation_id: int, body: schemas.ReadIn, session: DbSession,
                    caller: CurrentPrincipal) -> schemas.ReadOut:
    return schemas.ReadOut(read_seq=await service.mark_read(session, caller, conversation_id,
                                                            body.seq))


@router.post("/api/conversations/{conversation_id}/nudge", response_model=schemas.MessageOut,
             status_code=201)
async def nudge(conversation_id: int, body: schemas.NudgeIn, response: Response,
                session: DbSession, caller: CurrentPrincipal) -> schemas.MessageOut:
    return _posted(await service.nudge(session, caller, conversation_id,
                                       client_msg_id=body.client_msg_id), response)


@router.post("/api/conversations/{conversation_id}/transfer",
             response_model=schemas.ConversationOut)
async def transfer(conversation_id: int, body: schemas.TransferIn, session: DbSession,
                   caller: CurrentPrincipal) -> schemas.ConversationOut:
    return await service.transfer(session, caller, conversation_id, body.agent_id)


@router.post("/api/conversations/{conversation_id}/resolve", response_model=schemas.ConversationOut)
async def resolve(conversation_id: int, session: DbSession, caller: CurrentPrincipal
                  ) -> schemas.ConversationOut:
    return await service.resolve(session, caller, conversation_id)


@router.get("/api/conversations/{conversation_id}/context", response_model=schemas.ContextOut)
async def context(conversation_id: int, session: DbSession, caller: CurrentPrincipal) -> schemas.ContextOut:
    return await service.conversation_context(session, caller, conversation_id)


# --- transcripts ----------------------------------------------------------------------------


@router.get("/api/conversations/{conversation_id}/transcript", response_model=None)
async def export_transcript(conversation_id: int, session: DbSession, caller: CurrentPrincipal,
                            format: Literal["json", "html"] = "json") -> Response:
    document = await service.export_transcript(session, caller, conversation_id)
    filename = f"transcript-{conversation_id}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"',
               "Cache-Control": "no-store"}
    if format == "html":
        return HTMLResponse(transcript.render_html(document), headers=headers)
    return Response(json.dumps(document, ensure_ascii=False, indent=1),
                    media_type="application/json", headers=headers)


@router.post("/api/transcripts/verify", response_model=schemas.VerifyOut)
async def verify_transcript(request: Request, _caller: CurrentPrincipal) -> schemas.VerifyOut:
    """Body: the transcript JSON, or the printable HTML (``Content-Type: text/html``)."""
    body = await request.body()
    if len(body) > MAX_VERIFY_BYTES:
        raise InvalidInput(_("文件太大"), code="too_large")
    text = body.decode("utf-8", errors="replace")
    if request.headers.get("content-type", "").startswith("text/html"):
        return service.verify_transcript_html(text)
    try:
        document: Any = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidInput(_("不是有效的聊天记录文件"), code="not_a_transcript") from None
    return service.verify_transcript(document)


# --- workbench ------------------------------------------------------------------------------


@router.get("/api/quick-replies", response_model=list[schemas.QuickReplyOut])
async def quick_replies(session: DbSession, caller: CurrentPrincipal) -> list[schemas.QuickReplyOut]:
    return await service.quick_replies(session, caller)


@router.post("/api/quick-replies", response_model=schemas.QuickReplyOut, status_code=201)
async def add_quick_reply(body: schemas.QuickReplyIn, session: DbSession, caller: CurrentPrincipal
                          ) -> schemas.QuickReplyOut:
    return await service.add_quick_reply(session, caller, body.text, body.scope)


@router.delete("/api/quick-replies/{reply_id}", status_code=204)
async def delete_quick_reply(reply_id: int, session: DbSession, caller: CurrentPrincipal) -> Response:
    await service.delete_quick_reply(session, caller, reply_id)
    return Response(status_code=204)


@router.get("/api/agents", response_model=list[schemas.AgentStatusOut])
async def store_agents(session: DbSession, caller: CurrentPrincipal) -> list[schemas.AgentStatusOut]:
    return await service.store_agents(session, caller)


@router.get("/api/agents/me/status", response_model=schemas.AgentStatusOut)
async def my_status(session: DbSession, caller: CurrentPrincipal) -> schemas.AgentStatusOut:
    return await service.agent_status(session, caller)


@router.post("/api/agents/me/status", response_model=schemas.AgentStatusOut)
async def set_my_status(body: schemas.AgentStatusIn, session: DbSession, caller: CurrentPrincipal
                        ) -> schemas.AgentStatusOut:
    return await service.set_agent_status(session, caller, body.status, body.capacity)


@router.get("/api/chat/summary", response_model=schemas.SummaryOut)
async def summary(session: DbSession, caller: CurrentPrincipal) -> schemas.SummaryOut:
    return await service.workbench_summary(session, caller)


@router.get("/api/chat/search", response_model=list[schemas.MessageOut])
async def search(session: DbSession, caller: CurrentPrincipal, q: str = "", limit: int = 50
                 ) -> list[schemas.MessageOut]:
    return await service.search(session, caller, q, limit)


@router.get("/api/chat/response-rate", response_model=schemas.ResponseRateOut)
async def response_rate(session: DbSession, caller: CurrentPrincipal, settings: SettingsDep,
                        first_day: date, last_day: date | None = None,
                        agent_id: int | None = None, store_id: int | None = None
                        ) -> schemas.ResponseRateOut:
    rate = await service.response_rate_report(session, caller, first_day=first_day,
                                              last_day=last_day, agent_id=agent_id,
                                              store_id=store_id)
    return schemas.ResponseRateOut(
        store_id=rate.store_id, agent_id=rate.agent_id, first_day=rate.first_day,
        last_day=rate.last_day, waits=rate.waits, on_time=rate.on_time, pending=rate.pending,
        rate=rate.rate, target=settings.response_rate_target_percent / 100)


# --- working hours --------------------------------------------------------------------------


@router.get("/api/store/hours", response_model=schemas.StoreHoursOut)
async def my_store_hours(session: DbSession, caller: CurrentPrincipal) -> schemas.StoreHoursOut:
    return await service.my_store_hours(session, caller)


@router.put("/api/store/hours", response_model=schemas.StoreHoursOut)
async def set_store_hours(body: schemas.StoreHoursIn, session: DbSession, caller: CurrentPrincipal
                          ) -> schemas.StoreHoursOut:
    return await service.set_store_hours(session, caller, body.weekly, body.holidays)


@router.get("/api/stores/{store_id}/hours", response_model=schemas.StoreHoursOut)
async def store_hours(store_id: int, session: DbSession) -> schemas.StoreHoursOut:
    return await service.store_hours(session, store_id)


# --- WebSocket ------------------------------------------------------------------------------


@router.websocket("/ws")
async def websocket(websocket: WebSocket) -> None:
    app = websocket.app
    await realtime.serve(websocket, app.state.db, app.state.settings, get_broker(),
                         SESSION_COOKIE)

