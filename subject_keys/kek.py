"""The key-encrypting key (KEK): wraps every data key the key store holds.

The KEK comes from the environment (`THREADLOG_KEK`, 32 bytes in base64) or, for a single
machine, from a file created on first use (`THREADLOG_KEK_FILE`, mode 0600). A database dump of
the key store without the KEK holds no usable key.
"""

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class BadKek(Exception):
    """The KEK is not 32 bytes of base64, or does not open the key store's data keys."""


def parse_kek(text: str) -> bytes:
    """The KEK's 32 bytes from its base64 (standard or url-safe, padded or not)."""
    try:
        raw = base64.urlsafe_b64decode(
            text.strip().replace("+", "-").replace("/", "_") + "=" * (-len(text.strip()) % 4)
        )
    except ValueError as error:
        raise BadKek(f"THREADLOG_KEK is not base64: {error}") from None
    if len(raw) != 32:
        raise BadKek(f"THREADLOG_KEK must be 32 bytes of base64, got {len(raw)} bytes")
    return raw


def load_kek(value: str, file: str) -> bytes:
    """The KEK from `value`, else from `file`, which is created with a new KEK if missing."""
    if value:
        return parse_kek(value)
    path = Path(file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode())
    return parse_kek(path.read_text())


def wrap(kek: bytes, kid: str, dek: bytes) -> bytes:
    """`dek` sealed under the KEK, bound to its key id: nonce (12 bytes) then ciphertext."""
    nonce = os.urandom(12)
    return nonce + AESGCM(kek).encrypt(nonce, dek, kid.encode())


def unwrap(kek: bytes, kid: str, wrapped: bytes) -> bytes:
    """The data key `wrap` sealed; BadKek when this KEK did not wrap it."""
    try:
        return AESGCM(kek).decrypt(wrapped[:12], wrapped[12:], kid.encode())
    except InvalidTag:
        raise BadKek(
            f"the KEK does not open data key {kid}: is THREADLOG_KEK the one used?"
        ) from None
