"""Where the key store is and how the services use it."""

import msgspec


class KeyStoreSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The key store: its database and schema, the KEK, and the cache of each process."""

    database_url: str
    schema: str = "threadlog_keys"
    """A schema of its own, so that a role can be granted it alone (README, Security)."""
    kek: str = ""
    """The key-encrypting key, 32 bytes in base64; empty: read (or create) `kek_file`."""
    kek_file: str = ".state/kek"
    timeout_s: float
    """How long a key load may take before the key store counts as unreachable (the services'
    database timeout, THREADLOG_DB_TIMEOUT_S)."""
    seal: bool = True
    """Seal personal fields at ingest. Off: events are appended in clear (readers still open
    what was sealed before)."""
    ttl_s: float = 30.0
    """How long a process keeps a live data key in memory: bounds how long an erased key
    lingers in another process (destroyed keys are known for good)."""
