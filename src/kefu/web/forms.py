"""Helpers for HTML form routes."""

from __future__ import annotations

from urllib.parse import urlparse

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.kit.errors import DomainError
from kefu.kit.i18n import gettext


async def discard_failed_write(session: AsyncSession) -> None:
    """A form error shown on the page must change nothing (unless the service asked to keep
    what it wrote, like a failed login attempt)."""
    if not session.info.pop("commit_on_error", False):
        await session.rollback()


def error_text(error: DomainError) -> str:
    return gettext(error.message, **error.params)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative redirects after login."""
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
