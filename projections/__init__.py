"""Projection workers: fold the event log into PostgreSQL read models (threads, timelines).

The pure core is `lifecycle` (the rules), `state`, `policy` and `memory` (the reference fold);
`store`, `threads_store` and `worker` are the Postgres and Kafka shells around it.
"""

from projections.policy import Policy
from projections.registry import Projection, Threads, build_projections
from projections.worker import Worker, WorkerSettings

__all__ = ["Policy", "Projection", "Threads", "Worker", "WorkerSettings", "build_projections"]
