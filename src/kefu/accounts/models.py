"""Accounts: users and their roles, login sessions and API tokens, login attempts, invitations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.kit.db import Base, BigIntId


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    # buyer | merchant_owner | merchant_agent | platform_agent | platform_supervisor |
    # platform_admin
    role: Mapped[str] = mapped_column(String(32), index=True)
    store_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("store.id", ondelete="RESTRICT"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class AuthSession(Base):
    """A cookie session (pages) or a bearer token (JSON API). Only the token's hash is kept."""

    __tablename__ = "auth_session"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id",
                                                                ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # cookie | bearer
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """Failed logins, counted per username and address to slow down guessing."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "attempted_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime]


class StoreInvitation(Base):
    """An owner's invitation for a new agent of their store; accepted once, before it expires."""

    __tablename__ = "store_invitation"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id"), index=True)
    invited_by_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_by_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("user_account.id"))
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
