"""The worker's lag on the real log: ingest's transaction markers are not records to apply."""

from __future__ import annotations

from projections import Worker
from tests.integration.conftest import eventually
from tests.integration.test_lifecycle_api import Client, ev, post, send


async def test_lag_is_zero_once_every_committed_record_is_applied(
    ingest: Client, query: Client, worker: Worker
) -> None:
    """A request of several events is one Kafka transaction, which leaves a marker past its
    records. Once the worker applied them its lag is 0 in every partition, not 1: the gauge
    operators alert on must not stand above zero on an idle log."""
    await send(
        ingest,
        query,
        [ev("ArticlePublished", 0, article_id="art", title="T"), post("c1", 1), post("c2", 2)],
    )

    async def idle() -> bool:
        return bool(worker.stats.lag) and set(worker.stats.lag.values()) == {0}

    await eventually(idle, what="the lag of every partition to reach 0", timeout_s=10)
