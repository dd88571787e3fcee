"""Domain errors: raised by services, carrying an HTTP status and a translatable message.

One exception handler (``kefu.web.errors``) turns them into a JSON error or a page in the
user's language. The message is a gettext id (written in Chinese, the product's first
language) with ``{name}`` placeholders filled from ``params``.
"""

from __future__ import annotations

from typing import Any


def _(message: str) -> str:
    """Mark a message for extraction; it is translated when shown, not when raised."""
    return message


# Shown when the database could not take the work in time (kefu.kit.db.is_database_busy).
DATABASE_BUSY = _("系统繁忙，请稍后再试")


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None,
                 details: dict[str, Any] | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params
        # Machine-readable facts for the client (what matched, which rule …), sent as is.
        self.details = details
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code


    def render(self) -> str:
        """The message in the caller's language, its ``{placeholders}`` filled in."""
        from kefu.kit.i18n import gettext

        text = gettext(self.message)
        try:
            return text.format(**self.params) if self.params else text
        except (KeyError, IndexError, ValueError):
            return text


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"


class TooManyRequests(DomainError):
    status_code = 429
    code = "too_many_requests"


class InvalidTransition(Conflict):
    code = "invalid_transition"
