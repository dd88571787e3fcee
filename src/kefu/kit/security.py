"""Passwords (argon2), opaque tokens and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps timing the same for both cases.
_DUMMY_HASH = _hasher.hash("kefu-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored hashed: a leaked table gives no usable session."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(secret_key: str, session_token: str) -> str:
    return hmac.new(secret_key.encode(), b"csrf:" + session_token.encode(),
                    hashlib.sha256).hexdigest()


def csrf_token_valid(secret_key: str, session_token: str, candidate: str | None) -> bool:
    if not candidate or not candidate.isascii():
        return False
    return hmac.compare_digest(csrf_token_for(secret_key, session_token).encode(),
                               candidate.encode())


def sign(secret_key: str, payload: bytes) -> str:
    return hmac.new(secret_key.encode(), payload, hashlib.sha256).hexdigest()
