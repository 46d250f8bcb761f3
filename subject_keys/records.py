"""Sealing a batch of envelopes into records, and loading the keys a batch of records needs:
one key-store round trip per batch, whatever its size."""

from collections.abc import Iterable, Sequence

import msgspec

from events import Envelope, Headers, encode_record
from events.sealing import owners, sealed_kids
from subject_keys.store import KeyStore

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


async def sealed_records(keys: KeyStore | None, envelopes: Sequence[Envelope]) -> list[Record]:
    """The Kafka records of `envelopes`, their personal fields sealed under their owners' keys
    (created on first use); in clear without a key store or with sealing off.

    Raises KeyStoreUnavailable when the key store does not answer: append nothing then.
    """
    if keys is None or not keys.settings.seal:
        return [encode_record(e) for e in envelopes]
    subjects: set[str] = set()
    for envelope in envelopes:
        subjects |= owners(envelope.type, msgspec.structs.asdict(envelope.data))
    ring = await keys.sealing_keys(subjects) if subjects else {}
    return [encode_record(e, ring) for e in envelopes]


async def open_keys_for(
    keys: KeyStore | None, headers: Iterable[Headers]
) -> dict[str, bytes | None] | None:
    """The keys that open a batch of records (one query for those not cached), or None when
    no key store is configured: sealed fields then read as sealed placeholders."""
    if keys is None:
        return None
    kids = {kid for h in headers for kid in sealed_kids(h)}
    return await keys.opening_keys(kids) if kids else {}
