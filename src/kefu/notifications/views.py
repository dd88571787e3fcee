"""The notification list."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kefu.notifications import service
from kefu.web.deps import CurrentPrincipal, DbSession
from kefu.web.templating import environment, render

router = APIRouter(include_in_schema=False)
environment.globals["render_notification"] = service.render


@router.get("/notifications")
async def notifications_page(request: Request, session: DbSession, principal: CurrentPrincipal
                             ) -> Response:
    notes = await service.recent(session, principal, limit=50)
    return render(request, "notifications.html", notes=notes)


@router.post("/notifications/read")
async def mark_read(session: DbSession, principal: CurrentPrincipal) -> Response:
    await service.mark_all_read(session, principal)
    return RedirectResponse("/notifications", status_code=303)
