"""Projection workers: fold the event log into PostgreSQL read models (threads, timelines).

The pure core is `threads`, `timelines` and `memory`; `store`, `*_store` and `worker` are the
Postgres and Kafka shells around it.
"""

from projections.registry import PROJECTIONS, Projection
from projections.worker import Worker, WorkerSettings

__all__ = ["PROJECTIONS", "Projection", "Worker", "WorkerSettings"]
