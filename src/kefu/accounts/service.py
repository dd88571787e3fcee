"""Account rules: sign-up, login with rate limiting, sessions and tokens, staff, invitations."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts import repository
from kefu.accounts.models import AuthSession, LoginAttempt, StoreInvitation, User
from kefu.accounts.roles import MERCHANT_ROLES, PLATFORM_ROLES, Principal, Role
from kefu.kit import audit, clock
from kefu.kit.db import UTCDateTime
from kefu.kit.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
    _,
)
from kefu.kit.security import hash_password, hash_token, new_token, verify_password
from kefu.settings import get_settings

_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,32}$")
INVITATION_TTL = timedelta(days=7)


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, username=user.username, display_name=user.display_name,
                     role=Role(user.role), store_id=user.store_id)


def _check_new_account(username: str, display_name: str, password: str) -> None:
    if not _USERNAME.match(username):
        raise InvalidInput(_("用户名须为 3–32 位字母、数字或 _ . -"), code="bad_username")
    if not display_name.strip() or len(display_name) > 32:
        raise InvalidInput(_("昵称须为 1–32 个字符"), code="bad_display_name")
    if len(password) < 8:
        raise InvalidInput(_("密码至少 8 位"), code="weak_password")


async def create_user(session: AsyncSession, *, username: str, display_name: str, password: str,
                      role: Role, store_id: int | None = None) -> User:
    """Create any account (CLI, demo, and the public flows below)."""
    _check_new_account(username, display_name, password)
    if (role in MERCHANT_ROLES) != (store_id is not None):
        raise InvalidInput(_("商家账号必须属于一个店铺"), code="store_required")
    if await repository.user_by_username(session, username) is not None:
        raise Conflict(_("用户名「{username}」已被使用"), code="username_taken", username=username)
    user = User(username=username, display_name=display_name.strip(),
                password_hash=hash_password(password), role=role.value, store_id=store_id,
                is_active=True, created_at=clock.now())
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:  # a concurrent sign-up took the name
        raise Conflict(_("用户名「{username}」已被使用"), code="username_taken",
                       username=username) from error
    return user


async def sign_up_buyer(session: AsyncSession, *, username: str, display_name: str,
                        password: str) -> User:
    return await create_user(session, username=username, display_name=display_name,
                             password=password, role=Role.BUYER)


async def create_staff(session: AsyncSession, actor: Principal, *, username: str,
                       display_name: str, password: str, role: str) -> User:
    if not actor.is_platform_admin:
        raise Forbidden(_("只有平台管理员可以创建平台员工"))
    try:
        staff_role = Role(role)
    except ValueError as error:
        raise InvalidInput(_("未知角色"), code="bad_role") from error
    if staff_role not in PLATFORM_ROLES:
        raise InvalidInput(_("只能创建平台员工角色"), code="bad_role")
    user = await create_user(session, username=username, display_name=display_name,
                             password=password, role=staff_role)
    await audit.record(session, subject_type="user", subject_id=user.id, action="staff_created",
                       actor_id=actor.user_id, actor_role=actor.role, to_state=staff_role.value)
    return user


async def authenticate(session: AsyncSession, *, username: str, password: str,
                       address: str) -> User:
    """Check a login. Too many recent failures for this name from this address → 429."""
    settings = get_settings()
    now = clock.now()
    since = now - timedelta(minutes=settings.login_window_minutes)
    failures = await repository.recent_failures(session, username, address, since)
    if failures >= settings.login_max_failures:
        raise TooManyRequests(_("登录失败次数过多，请 {minutes} 分钟后再试"),
                              code="login_rate_limited", minutes=settings.login_window_minutes)
    user = await repository.user_by_username(session, username)
    if not verify_password(user.password_hash if user else None, password) or user is None \
            or not user.is_active:
        session.add(LoginAttempt(username=username[:64], address=address[:64],
                                 attempted_at=now))
        await session.flush()
        # The failed attempt must be kept although the request ends in an error.
        session.info["commit_on_error"] = True
        raise NotAuthenticated(_("用户名或密码错误"), code="bad_credentials")
    user.last_login_at = now
    return user


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


async def open_session(session: AsyncSession, user: User, kind: str) -> IssuedToken:
    if kind not in ("cookie", "bearer"):
        raise ValueError(kind)
    token = new_token()
    now = clock.now()
    expires_at = now + timedelta(days=get_settings().session_ttl_days)
    session.add(AuthSession(token_hash=hash_token(token), user_id=user.id, kind=kind,
                            created_at=now, expires_at=expires_at))
    await session.flush()
    return IssuedToken(token, expires_at)


async def log_in(session: AsyncSession, *, username: str, password: str, address: str,
                 kind: str) -> tuple[User, IssuedToken]:
    user = await authenticate(session, username=username, password=password, address=address)
    return user, await open_session(session, user, kind)


async def principal_for_token(session: AsyncSession, token: str, kind: str) -> Principal | None:
    found = await repository.live_session(session, hash_token(token), kind, clock.now())
    return None if found is None else principal_of(found[1])


async def log_out(session: AsyncSession, token: str) -> None:
    auth_session = await repository.auth_session_by_hash(session, hash_token(token))
    if auth_session is not None and auth_session.revoked_at is None:
        auth_session.revoked_at = clock.now()


async def invite_agent(session: AsyncSession, actor: Principal, note: str = "") -> tuple[
        StoreInvitation, str]:
    if not actor.is_store_owner or actor.store_id is None:
        raise Forbidden(_("只有店主可以邀请客服"))
    token = new_token()
    now = clock.now()
    invitation = StoreInvitation(token_hash=hash_token(token), store_id=actor.store_id,
                                 invited_by_id=actor.user_id, note=note[:64], created_at=now,
                                 expires_at=now + INVITATION_TTL)
    session.add(invitation)
    await session.flush()
    await audit.record(session, subject_type="store", subject_id=actor.store_id,
                       action="agent_invited", actor_id=actor.user_id, actor_role=actor.role,
                       data={"invitation_id": invitation.id})
    return invitation, token


async def invitation_for_token(session: AsyncSession, token: str) -> StoreInvitation:
    invitation = await repository.invitation_by_hash(session, hash_token(token))
    if invitation is None or invitation.revoked_at is not None:
        raise NotFound(_("邀请链接无效"), code="invitation_invalid")
    if invitation.accepted_at is not None:
        raise Conflict(_("该邀请已被使用"), code="invitation_used")
    if invitation.expires_at <= clock.now():
        raise Conflict(_("该邀请已过期"), code="invitation_expired")
    return invitation


async def accept_invitation(session: AsyncSession, *, token: str, username: str,
                            display_name: str, password: str) -> User:
    invitation = await invitation_for_token(session, token)
    user = await create_user(session, username=username, display_name=display_name,
                             password=password, role=Role.MERCHANT_AGENT,
                             store_id=invitation.store_id)
    invitation.accepted_by_id = user.id
    invitation.accepted_at = clock.now()
    await audit.record(session, subject_type="store", subject_id=invitation.store_id,
                       action="agent_joined", actor_id=user.id, actor_role=Role.MERCHANT_AGENT,
                       data={"invitation_id": invitation.id})
    return user


async def revoke_invitation(session: AsyncSession, actor: Principal, invitation_id: int) -> None:
    invitation = await session.get(StoreInvitation, invitation_id)
    if invitation is None or not actor.is_store_owner or invitation.store_id != actor.store_id:
        raise NotFound(_("邀请不存在"))
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = clock.now()


async def store_team(session: AsyncSession, actor: Principal) -> list[User]:
    if not actor.is_merchant or actor.store_id is None:
        raise Forbidden(_("只有商家可以查看店铺团队"))
    return await repository.store_members(session, actor.store_id)


async def pending_invitations(session: AsyncSession, actor: Principal) -> list[StoreInvitation]:
    if not actor.is_store_owner or actor.store_id is None:
        raise Forbidden(_("只有店主可以管理邀请"))
    return await repository.open_invitations(session, actor.store_id, clock.now())


DeactivationHook = Callable[[AsyncSession, Principal], Awaitable[None]]
_deactivation_hooks: dict[str, DeactivationHook] = {}


def register_deactivation_hook(name: str, hook: DeactivationHook) -> None:
    """Other domains act when an account stops working (the chat takes the agent offline and
    hands their conversations on); accounts knows nothing about them."""
    _deactivation_hooks[name] = hook


async def set_agent_active(session: AsyncSession, actor: Principal, user_id: int,
                           active: bool) -> User:
    """An owner disables or re-enables one of their agents; disabling ends their sessions."""
    user = await repository.user_by_id(session, user_id)
    if user is None or not actor.is_store_owner or user.store_id != actor.store_id \
            or user.role != Role.MERCHANT_AGENT:
        raise NotFound(_("客服不存在"))
    user.is_active = active
    if not active:
        for hook in _deactivation_hooks.values():
            await hook(session, principal_of(user))
    await audit.record(session, subject_type="user", subject_id=user.id,
                       action="enabled" if active else "disabled", actor_id=actor.user_id,
                       actor_role=actor.role)
    return user


async def list_staff(session: AsyncSession, actor: Principal) -> list[User]:
    if not actor.is_platform:
        raise Forbidden(_("只有平台员工可以查看"))
    return await repository.platform_staff(session, [r.value for r in PLATFORM_ROLES])


async def users_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, User]:
    return await repository.users_by_ids(session, ids)


def display_names_query(ids: Collection[int]) -> Select[int, str]:
    """``(id, display_name)`` of some users, as a query another domain may combine with its
    own lookups into one round trip (no caller check: names are shown to conversation
    partners)."""
    return select(User.id, User.display_name).where(User.id.in_(set(ids)))


def signed_in_user_query() -> Select[int]:
    """The user id behind a live login, as a query another domain may fold into its own
    statement (a chat socket checks its login with every message it sends, in the same round
    trip that locks the conversation). Built once; its parameters come from
    :func:`signed_in_params`."""
    return (select(AuthSession.user_id).join(User, User.id == AuthSession.user_id)
            .where(AuthSession.token_hash == bindparam("login_token_hash"),
                   AuthSession.kind == bindparam("login_kind"),
                   AuthSession.revoked_at.is_(None),
                   AuthSession.expires_at > bindparam("login_now", type_=UTCDateTime()),
                   User.is_active.is_(True)))


def signed_in_params(token: str, kind: str, now: datetime) -> dict[str, Any]:
    return {"login_token_hash": hash_token(token), "login_kind": kind, "login_now": now}


async def store_members(session: AsyncSession, store_id: int) -> list[User]:
    """Everyone who works for a store (for notifications and assignment; no caller check)."""
    return await repository.store_members(session, store_id)
