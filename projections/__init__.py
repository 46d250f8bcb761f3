"""Projection workers: fold the event log into PostgreSQL read models (threads, timelines).

Each read model has its own package (`threads`: its state, rules, reference fold, columns, DDL,
write and read sides); the machinery they share stays here: `policy`, `registry`, `store` (the
offsets and the exactly-once batch), `worker`, `rebuild`, `replay`, `verify`, `digest`.
"""

from projections.policy import Policy
from projections.registry import Projection, Threads, build_projections
from projections.worker import Worker, WorkerSettings

__all__ = ["Policy", "Projection", "Threads", "Worker", "WorkerSettings", "build_projections"]
