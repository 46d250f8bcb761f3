"""Each ingest process's transactional ids: unique among live processes, stable across restarts.

Kafka fences by transactional id: a producer starting under an id aborts whatever a previous
producer under that id left open, at once. Under a new id, an open transaction of a process
that died holds back every read_committed reader of its partitions until the broker's
transaction timeout aborts it. So a restarted process should take its predecessor's id, and two
live processes must never share one (they would fence each other in turn).

The id is `threadlog-ingest.<topic>.<instance>.<slot>.<lane>`: the instance is the host's name
(a pod's name on Kubernetes) unless THREADLOG_INGEST_INSTANCE_ID names it; the slot tells apart
the processes serving one port on one host (uvicorn workers): each process holds a lock on the
lowest free slot's file, which the system releases when it dies, so its replacement finds that
slot free again.
"""

import fcntl
import os
import re
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass
class ProducerIdentity:
    """A claimed slot; `release()` (or the process's end) frees it."""

    base: str
    _lock: IO[bytes]

    def transactional_ids(self, lanes: int) -> tuple[str, ...]:
        """One transactional id per lane of this process."""
        return tuple(f"{self.base}.{lane}" for lane in range(lanes))

    def release(self) -> None:
        """Free the slot for the next process (closing the file drops the lock)."""
        self._lock.close()


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)[:100]


def claim(topic: str, instance_id: str = "", lock_dir: Path | None = None) -> ProducerIdentity:
    """Claim the lowest slot no live process of this instance holds, for `topic`."""
    instance = _safe(instance_id or socket.gethostname())
    base = f"threadlog-ingest.{_safe(topic)}.{instance}"
    folder = lock_dir or Path(tempfile.gettempdir()) / "threadlog-ingest-slots"
    folder.mkdir(mode=0o700, exist_ok=True)
    slot = 0
    while True:
        lock = (folder / f"{base}.{slot}.lock").open("ab")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            slot += 1
            continue
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n".encode())
        lock.flush()
        return ProducerIdentity(f"{base}.{slot}", lock)
