"""Every id an import derives, deterministically, from what the source calls things.

The same file gives the same ids on every run and every machine of one installation, so a
second run finds its events applied already. No e-mail address or name ever lands in an id:
author keys go through an HMAC with the installation's secret, and a source id that is not
already a safe id is replaced by its hash.
"""

import hashlib
import hmac
import re
from typing import Final

from events.fields import ID_PATTERN

MAX_ID: Final = 128
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_ID = re.compile(ID_PATTERN)
_AUTHORS_KEPT: Final = 100_000
"""Most author ids remembered at once (a few MiB); past it the memory starts afresh."""
SITE_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
"""`--site NAME`: it goes into article and author ids, so it is kept short and safe."""


def is_id(value: str) -> bool:
    """Whether `value` is an id events accept (1-128 of [A-Za-z0-9._:-])."""
    return len(value) <= MAX_ID and _ID.match(value) is not None


def safe_part(value: str, room: int = MAX_ID) -> str:
    """`value` itself when it is safe (starts with a letter or digit, then letters, digits, `.`,
    `_`, `-`; no `:`) and fits in `room`; else `_` and 40 hex digits of its SHA-256, which no
    safe value looks like (it starts with `_`)."""
    if len(value) <= room and _SAFE.fullmatch(value):
        return value
    return "_" + hashlib.sha256(value.encode()).hexdigest()[:40]


class IdMaker:
    """Derives the ids of one import: its format, its installation secret, its site."""

    def __init__(self, format_: str, secret: bytes, site: str | None = None) -> None:
        if site is not None and not SITE_PATTERN.fullmatch(site):
            raise ValueError(
                f"--site {site!r}: use 1-32 of A-Z a-z 0-9 . _ -, starting with a letter or digit"
            )
        self.format = format_
        self._secret = secret
        self._site = site
        self._article_prefix = f"{format_}-{site}:" if site else f"{format_}-"
        self._author_prefix = f"{site}\x00" if site else ""
        self._authors: dict[str, str] = {}
        """Author ids already derived: authors comment many times, and an HMAC costs µs."""
        self.anonymous = f"{format_}-anonymous"
        """The one author id of every comment whose source tells no authors apart."""
        self.deleted = f"{format_}-deleted"
        """The author id of a deleted comment's placeholder: nobody's."""

    def article_id(self, key: str) -> str:
        """`<format>-<key>` (`<format>-<site>:<key>` with a site), the key hashed if unsafe."""
        return self._article_prefix + safe_part(key, MAX_ID - len(self._article_prefix))

    def author_id(self, key: str | None) -> str:
        """`<format>-` + the first 32 hex digits of HMAC-SHA256(secret, [site NUL] key)."""
        if key is None:
            return self.anonymous
        known = self._authors.get(key)
        if known is not None:
            return known
        digest = hmac.new(self._secret, (self._author_prefix + key).encode(), hashlib.sha256)
        if len(self._authors) >= _AUTHORS_KEPT:
            self._authors.clear()
        found = self._authors[key] = f"{self.format}-{digest.hexdigest()[:32]}"
        return found

    def event_id(self, article_id: str, comment_id: str, kind: str) -> str:
        """`imp:<format>:<article>:<comment>:<kind>` (comment empty for an article's own
        events); past 128 characters, `imp:<format>:_` and 48 hex digits of its SHA-256.
        Injective: neither a comment id nor a kind holds `:`, so the string splits one way."""
        full = f"imp:{self.format}:{article_id}:{comment_id}:{kind}"
        if len(full) <= MAX_ID:
            return full
        return f"imp:{self.format}:_{hashlib.sha256(full.encode()).hexdigest()[:48]}"


def comment_id(source_id: str) -> str:
    """The comment's id in its thread: the source's id, hashed if unsafe."""
    return safe_part(source_id)
