"""API keys as clients hold them and as we store them: random tokens, kept only as a hash. Pure."""

import hashlib
import secrets
from typing import Final

import msgspec

PREFIX: Final = "tl_"
"""Every key starts with this, so that secret scanners and people recognise a leaked one."""


class ApiKey(msgspec.Struct, frozen=True):
    """A key that is in force: its name (what logs and events show) and its scopes."""

    name: str
    scopes: frozenset[str]


def new_key() -> str:
    """A fresh key: the prefix and 256 random bits, URL-safe. Shown once, never stored."""
    return PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    """What we store and look a key up by.

    A plain SHA-256 is enough here: the keys are 256 random bits, not passwords a person chose,
    so there is no dictionary to try and brute force is hopeless; a slow hash (bcrypt, argon2)
    would only add milliseconds to every request.
    """
    return hashlib.sha256(key.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None if absent or another scheme."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
