"""The key store of crypto-shredding: per-subject data keys, wrapped by a KEK.

Every path that appends events seals with `sealed_records`; every path that reads them opens
with `open_keys_for` (events/sealing.py holds the cipher, pure).

For `threadlog import` (and any other writer of the log):

    async with KeyStore(settings.key_store()) as keys:
        records = await sealed_records(keys, envelopes)   # [(key, value, headers)]
        # append `records` instead of `[encode_record(e) for e in envelopes]`

`sealed_records` returns clear records when the settings turn sealing off.
"""

from subject_keys.records import open_keys_for, sealed_records
from subject_keys.settings import KeyStoreSettings
from subject_keys.store import KeyStore, KeyStoreUnavailable, migrate_key_store

__all__ = [
    "KeyStore",
    "KeyStoreSettings",
    "KeyStoreUnavailable",
    "migrate_key_store",
    "open_keys_for",
    "sealed_records",
]
