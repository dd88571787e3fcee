"""Helpers for HTML form routes."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
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


def yuan_to_fen(text: str) -> int:
    """A price typed in yuan ("59.9", "59.90") as fen; anything else is 0 (refused later as
    an invalid amount) rather than a crash."""
    try:
        amount = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return 0
    if not amount.is_finite() or amount <= 0 or amount > 100_000_000:
        return 0
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


_ID = re.compile(r"[0-9]{1,18}")


def parse_id(text: str) -> int | None:
    """A database id typed into a form or query string, or None."""
    text = text.strip()
    return int(text) if _ID.fullmatch(text) else None
