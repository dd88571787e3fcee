"""Chat tests run with no screens or reactions registered unless a test adds its own: other
domains (diversion, auto-reply) register theirs when imported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kefu.chat import hooks


@pytest.fixture(autouse=True)
def isolated_hooks() -> Iterator[None]:
    saved = (dict(hooks._screens), dict(hooks._after_message))
    hooks._screens.clear()
    hooks._after_message.clear()
    yield
    hooks._screens.clear()
    hooks._screens.update(saved[0])
    hooks._after_message.clear()
    hooks._after_message.update(saved[1])


_PASSWORD_HASH: str | None = None


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 takes ~0.1 s a user by design; chat tests create many users and never test
    passwords, so the factories' one password is hashed once."""
    from factories import PASSWORD
    from kefu.accounts import service as accounts
    from kefu.kit.security import hash_password

    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_password(PASSWORD)
    known = _PASSWORD_HASH

    def fast(password: str) -> str:
        return known if password == PASSWORD else hash_password(password)

    monkeypatch.setattr(accounts, "hash_password", fast)
