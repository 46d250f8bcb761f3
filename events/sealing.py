"""Personal fields sealed under their owner's key (crypto-shredding); pure, no I/O.

A record's personal fields (a comment's body and author name, an edit's body, free-text notes
and reasons) are each sealed with AES-256-GCM under the data key of the person the text belongs
to: the author for a post or an edit, the flagger for a flag's note, the moderator for a
moderator's note. Erasing a person deletes their key (subject_keys/), and every copy of their
text in the log, replicas and backups included, can no longer be read. Ids stay clear: the log
keeps its keys, its order and its rules.

On Kafka a sealed field holds `{"enc": "v1", "kid": <key id>, "n": <nonce>, "ct": <ciphertext>}`
(nonce and ciphertext in unpadded base64url) instead of its text, and the record carries the
CloudEvents extension attribute `sealedwith`: the ids of the keys it was sealed with, comma
separated. The event id and the field's name are the AEAD's associated data, so a ciphertext
moved to another event or field does not open.
"""

import base64
import binascii
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED_HEADER: Final = "ce_sealedwith"
"""The Kafka header of the CloudEvents extension attribute `sealedwith`."""
SEALED_FORM: Final = "v1"

ERASED_TEXT: Final = "[erased]"
"""What a required personal field (a body) reads once its owner's key is destroyed."""
SEALED_TEXT: Final = "[sealed]"
"""What it reads for a reader without access to the key store."""

PERSONAL_FIELDS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "CommentPosted": (("body", "author_id"), ("author_name", "author_id")),
    "CommentEdited": (("body", "editor_id"),),
    "CommentDeleted": (("reason", "deleted_by"),),
    "CommentFlagged": (("note", "flagger_id"),),
    "CommentModerated": (("note", "moderator_id"),),
    "CommentPinned": (("note", "moderator_id"),),
    "CommentUnpinned": (("note", "moderator_id"),),
    "ArticleClosed": (("reason", "by"),),
    "ArticleReopened": (("reason", "by"),),
    "AuthorBanned": (("reason", "moderator_id"),),
    "AuthorUnbanned": (("reason", "moderator_id"),),
    "AuthorErased": (("reason", "moderator_id"),),
}
"""Per event type, each personal field with the field naming whose text it is. Not listed:
`ArticlePublished.author` and the article's title and body, which a newsroom publishes under a
byline and which name no subject id to key them by."""

REQUIRED_TEXT: Final = frozenset({"body"})
"""Personal fields the data cannot go without: they read as a placeholder, the others as absent."""


class DataKey(msgspec.Struct, frozen=True):
    """One subject's data key as sealing needs it: its id and its 32 bytes, or None once the
    subject was erased (their new text is then sealed under a key nobody keeps)."""

    kid: str
    dek: bytes | None


class KeyMissing(Exception):
    """A record names a key the key store does not hold (never created there, or a restore
    from an older backup lost it). Not an erasure: the record must not be read as erased."""


OpenKeys = Mapping[str, bytes | None]
"""Key id -> its data key, or None for a key destroyed by an erasure."""


class _Sealed(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    enc: str
    kid: str
    n: str
    ct: str


_encoder = msgspec.json.Encoder()
_sealed_decoder = msgspec.json.Decoder(dict[str, Any])


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@lru_cache(maxsize=4096)
def _aead(dek: bytes) -> AESGCM:
    """One cipher object per data key, reused (its key schedule is computed once)."""
    return AESGCM(dek)


def _aad(event_id: str, field: str) -> bytes:
    return f"{event_id}\x00{field}".encode()


def new_data_key() -> bytes:
    """A fresh 256-bit data key."""
    return AESGCM.generate_key(bit_length=256)


def owners(type_: str, data: Mapping[str, Any]) -> set[str]:
    """The subjects whose keys sealing `data` of `type_` needs (only fields it holds)."""
    return {
        data[owner]
        for field, owner in PERSONAL_FIELDS.get(type_, ())
        if data.get(field) is not None
    }


def seal_data(
    type_: str, event_id: str, data: dict[str, Any], keys: Mapping[str, DataKey]
) -> list[str]:
    """Seal `data`'s personal fields in place under their owners' keys (`keys` by subject id);
    return the key ids used, for the `sealedwith` attribute ([] when nothing was sealed)."""
    used: list[str] = []
    fields = [(f, o) for f, o in PERSONAL_FIELDS.get(type_, ()) if data.get(f) is not None]
    # Random 96-bit nonces, drawn in one call per record (a syscall each cost as much as the
    # cipher): keys are per person, so no key seals anywhere near 2^32 fields.
    nonces = os.urandom(12 * len(fields))
    for index, (field, owner) in enumerate(fields):
        text = data[field]
        key = keys[data[owner]]
        # An erased subject's new text is sealed under a key nobody keeps: shredded at once.
        dek = key.dek if key.dek is not None else new_data_key()
        nonce = nonces[12 * index : 12 * index + 12]
        ct = _aead(dek).encrypt(nonce, text.encode(), _aad(event_id, field))
        data[field] = {"enc": SEALED_FORM, "kid": key.kid, "n": _b64(nonce), "ct": _b64(ct)}
        if key.kid not in used:
            used.append(key.kid)
    return used


def sealed_kids(headers: Any) -> list[str]:
    """The key ids a record's `sealedwith` header names ([] for a record in clear)."""
    for name, raw in headers:
        if name == SEALED_HEADER:
            return [kid for kid in bytes(raw).decode().split(",") if kid]
    return []


def open_value(type_: str, event_id: str, value: bytes, keys: OpenKeys | None) -> bytes:
    """The record value with each sealed field opened: its text; a placeholder (or absent)
    when its key was destroyed, or for a reader without the keys (`keys` None).

    Raises KeyMissing when `keys` lacks a key id the record names, and ValueError when a
    ciphertext does not open (tampered, or moved from another event or field).
    """
    data = _sealed_decoder.decode(value)
    for field, _ in PERSONAL_FIELDS.get(type_, ()):
        raw = data.get(field)
        if not isinstance(raw, dict):
            continue
        sealed = msgspec.convert(raw, _Sealed)
        if sealed.enc != SEALED_FORM:
            raise ValueError(f"data.{field}: unknown sealed form {sealed.enc!r}")
        if keys is None:
            text: str | None = SEALED_TEXT
        else:
            if sealed.kid not in keys:
                raise KeyMissing(f"key {sealed.kid} is not in the key store")
            dek = keys[sealed.kid]
            text = ERASED_TEXT if dek is None else _open(dek, sealed, event_id, field)
        if field in REQUIRED_TEXT or text not in (ERASED_TEXT, SEALED_TEXT):
            data[field] = text
        else:
            del data[field]
    return _encoder.encode(data)


def _open(dek: bytes, sealed: _Sealed, event_id: str, field: str) -> str:
    try:
        plain = _aead(dek).decrypt(_unb64(sealed.n), _unb64(sealed.ct), _aad(event_id, field))
    except InvalidTag:
        raise ValueError(f"data.{field}: the ciphertext does not open under {sealed.kid}") from None
    return plain.decode()
