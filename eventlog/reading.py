"""How every reader of the log must read it."""

from typing import Final

READ_COMMITTED: Final = "read_committed"
"""The `isolation_level` of every consumer of the event log. Ingest appends each request in a
Kafka transaction: a read_committed consumer sees a request's records only once all of them are
committed, and never those of a request that was aborted (answered 503). A read_uncommitted one
would apply half a request that was refused."""
