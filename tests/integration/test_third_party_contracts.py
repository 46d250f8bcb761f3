"""Our published contracts and real output, checked by others' tools, as a consumer would check
them: @asyncapi/parser on the AsyncAPI document, Ajv (strict, with ajv-formats) on the JSON
Schemas, the samples and live records, promtool on the worker's /metrics, and httpx-sse
resuming a live stream. The tools come from the project's own files
(`deploy/bin/ensure-system --contract`, pyproject's dev extras); see tests/contract/tools.py.
The CloudEvents SDK reads live records in tests/integration/test_cloudevents.py."""

import asyncio
import re
import subprocess
from datetime import UTC, datetime

import httpx
from aiokafka import AIOKafkaProducer

from events import CommentPosted, Envelope, encode_record
from projections import Worker
from projections.metrics import render, serve_metrics
from tests.contract.tools import promtool
from tests.integration.conftest import eventually
from threadlog.settings import Settings

AT = datetime(2024, 1, 1, 10, tzinfo=UTC)


async def test_metrics_pass_promtool_with_a_lag_series_for_every_partition(
    settings: Settings, worker: Worker, producer: AIOKafkaProducer
) -> None:
    """The worker's /metrics, as served, passes `promtool check metrics` without a word, and
    `threadlog_lag_records` has a series for every partition the worker reads: 0 for the two
    partitions of the three that never held a record, not no series (an alert on a missing
    series cannot tell "caught up" from "not reading")."""
    for n in range(3):
        key, value, headers = encode_record(
            Envelope(
                id=f"lag-{n}",
                type="CommentPosted",
                source="/contract-test",
                time=AT,
                data=CommentPosted(
                    article_id="art", comment_id=f"c{n}", author_id="ann", body="hello"
                ),
            )
        )
        await producer.send_and_wait(
            settings.topic, value=value, key=key, headers=headers, partition=0
        )

    async def applied() -> bool:
        return worker.applied_total == 3

    await eventually(applied, what="3 events applied")
    server = await serve_metrics("127.0.0.1", 0, lambda: render(worker.stats, settings.topic))
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient() as client:
            exposition = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    finally:
        server.close()
    lag = re.findall(
        r'^threadlog_lag_records\{topic="[^"]+",partition="(\d+)"\} (\d+)$', exposition, re.M
    )
    assert sorted(lag) == [("0", "0"), ("1", "0"), ("2", "0")], exposition
    checked = await asyncio.to_thread(
        subprocess.run,
        [promtool(), "check", "metrics"],
        input=exposition,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
