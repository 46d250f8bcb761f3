"""What ingest needs to know: where it appends, and what it accepts."""

import msgspec

from eventlog.connection import Kafka
from events import Limits
from services.auth import AuthSettings
from services.cors import CorsPolicy
from subject_keys import KeyStoreSettings


class IngestSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where ingest appends, and what it accepts."""

    kafka: Kafka
    """Where Kafka is and how to connect to it (TLS, SASL)."""
    topic: str
    auth: AuthSettings
    limits: Limits = Limits()
    max_body_bytes: int = 16 * 1024 * 1024
    produce_timeout_s: float = 10.0
    key_store: KeyStoreSettings | None = None
    """Where the data keys that seal personal fields are; None appends them in clear."""
    linger_ms: int = 0
    """How long the producer holds a record for others to join its batch. 0: records that
    arrive while a produce request is in flight batch anyway, and a lone comment is not delayed
    (2 ms halved the single-post rate at concurrency 8: 1,878 against 3,888 req/s)."""
    flag_limit_per_min: float = 60.0
    """CommentFlagged events one key may post a minute (see flag_limit.py); 0: no limit."""
    instance_id: str = ""
    """This ingest's stable name in its transactional ids (default: the host's name); see
    services/ingest/producer_identity.py."""
    producers: int = 2
    """Transactional producers per process, taking turns (see services/ingest/atomic_append.py)."""
    max_request_bytes: int = 1_048_576
    """The producer's largest request, so also its largest record."""
    cors: CorsPolicy = CorsPolicy()
    """Origins whose scripts may post (off by default: such a script holds a produce key)."""
