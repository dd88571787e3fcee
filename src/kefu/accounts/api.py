"""Accounts JSON API: tokens, sign-up, the caller, staff, store invitations."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from kefu.accounts import schemas, service
from kefu.web.deps import CurrentPrincipal, DbSession, bearer_token, client_address

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post("/auth/token", response_model=schemas.TokenOut)
async def issue_token(body: schemas.Credentials, request: Request,
                      session: DbSession) -> schemas.TokenOut:
    _user, issued = await service.log_in(session, username=body.username, password=body.password,
                                         address=client_address(request), kind="bearer")
    return schemas.TokenOut(access_token=issued.token, expires_at=issued.expires_at)


@router.post("/auth/logout", status_code=204)
async def revoke_token(request: Request, session: DbSession, _p: CurrentPrincipal) -> None:
    token = bearer_token(request) or request.cookies.get("kefu_session")
    if token:
        await service.log_out(session, token)


@router.post("/auth/signup", response_model=schemas.UserOut, status_code=201)
async def sign_up(body: schemas.SignUp, session: DbSession) -> schemas.UserOut:
    user = await service.sign_up_buyer(session, username=body.username,
                                       display_name=body.display_name, password=body.password)
    return schemas.UserOut.model_validate(user)


@router.get("/me", response_model=schemas.UserOut)
async def me(principal: CurrentPrincipal) -> schemas.UserOut:
    return schemas.UserOut(id=principal.user_id, username=principal.username,
                           display_name=principal.display_name, role=principal.role,
                           store_id=principal.store_id)


@router.get("/staff", response_model=list[schemas.UserOut])
async def list_staff(session: DbSession, principal: CurrentPrincipal) -> list[schemas.UserOut]:
    return [schemas.UserOut.model_validate(u) for u in await service.list_staff(session, principal)]


@router.post("/staff", response_model=schemas.UserOut, status_code=201)
async def create_staff(body: schemas.StaffCreate, session: DbSession,
                       principal: CurrentPrincipal) -> schemas.UserOut:
    user = await service.create_staff(session, principal, username=body.username,
                                      display_name=body.display_name, password=body.password,
                                      role=body.role)
    return schemas.UserOut.model_validate(user)


class InviteIn(BaseModel):
    note: str = Field(default="", max_length=64)


@router.post("/store/invitations", response_model=schemas.InvitationOut, status_code=201)
async def invite_agent(body: InviteIn, request: Request, session: DbSession,
                       principal: CurrentPrincipal) -> schemas.InvitationOut:
    invitation, token = await service.invite_agent(session, principal, body.note)
    return schemas.InvitationOut(id=invitation.id, token=token,
                                 url=str(request.url_for("invitation_page", token=token)),
                                 expires_at=invitation.expires_at)


@router.post("/invitations/accept", response_model=schemas.UserOut, status_code=201)
async def accept_invitation(body: schemas.InvitationAccept, session: DbSession
                            ) -> schemas.UserOut:
    user = await service.accept_invitation(session, token=body.token, username=body.username,
                                           display_name=body.display_name, password=body.password)
    return schemas.UserOut.model_validate(user)


@router.get("/store/team", response_model=list[schemas.UserOut])
async def store_team(session: DbSession, principal: CurrentPrincipal) -> list[schemas.UserOut]:
    return [schemas.UserOut.model_validate(u) for u in await service.store_team(session, principal)]
