"""Our published contracts and real output, checked by others' tools, as a consumer would check
them: @asyncapi/parser on the AsyncAPI document, Ajv (strict, with ajv-formats) on the JSON
Schemas, the samples and live records, promtool on the worker's /metrics, and httpx-sse
resuming a live stream by Last-Event-ID. The tools come from the project's own files
(`deploy/bin/ensure-system --contract`, pyproject's dev extras); see tests/contract/tools.py.
The CloudEvents SDK reads live records in tests/integration/test_cloudevents.py."""

import asyncio
import json
import re
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer
from httpx_sse import ServerSentEvent, aconnect_sse

from events import CommentPosted, Envelope, encode_record
from events.contract import asyncapi
from projections import Worker
from projections.metrics import render, serve_metrics
from tests.contract.live import SAMPLES, every_type, instance, record_headers
from tests.contract.tools import promtool, run_node
from tests.integration.conftest import eventually
from tests.integration.test_lifecycle_api import Client, ev, post, send
from tests.integration.test_worker import read_all
from threadlog.contract import DEFAULT_DIR
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


def test_asyncapi_parser_finds_no_error_in_the_document() -> None:
    """@asyncapi/parser (the library behind `asyncapi validate`, its Spectral rules included)
    parses schemas/asyncapi.json with 0 errors."""
    checked = run_node("asyncapi.mjs", str(DEFAULT_DIR / "asyncapi.json"))
    diagnostics = [json.loads(line) for line in checked.stdout.splitlines() if line]
    errors = [d for d in diagnostics if d["severity"] == 0]
    assert (checked.returncode, errors) == (0, []), checked.stderr
    print(f"asyncapi: 0 errors, {len(diagnostics)} other diagnostics")


def _headers_schemas(folder: Path) -> list[str]:
    """Each AsyncAPI message's headers schema as a file of its own, $id `asyncapi:<message>`."""
    paths = []
    for name, message in asyncapi()["components"]["messages"].items():
        path = folder / f"{name}.headers.json"
        path.write_text(json.dumps({"$id": f"asyncapi:{name}", **message["headers"]}))
        paths.append(str(path))
    return paths


async def test_ajv_strict_validates_schemas_samples_and_live_records(
    settings: Settings, ingest: Client, tmp_path: Path
) -> None:
    """Ajv in strict mode, with ajv-formats, compiles every published JSON Schema and the
    AsyncAPI document's header schemas; every sample's value validates against the schema its
    record names, and so does every live record ingest appended (one of every type): its data
    against its `ce_dataschema`, its headers against its AsyncAPI message's headers."""
    posted = every_type()
    answer = await ingest.post("/v1/events", json=posted)
    assert answer.status_code == 202, answer.text
    lines = []
    for path in SAMPLES:
        sample = json.loads(path.read_text())
        type_ = sample["headers"]["ce_type"]
        schema = sample["headers"].get("ce_dataschema", f"urn:threadlog:{type_}:1")
        lines.append(instance(schema, f"sample {path.name}", sample["value"]))
    for record in await read_all(settings, settings.topic, len(posted)):
        headers = record_headers(record)
        label = f"record {record.partition}:{record.offset} {headers['ce_type']}"
        lines.append(instance(headers["ce_dataschema"], label, json.loads(record.value)))
        lines.append(instance(f"asyncapi:{headers['ce_type']}", f"{label} headers", headers))
    checked = await asyncio.to_thread(
        run_node,
        "ajv.mjs",
        str(DEFAULT_DIR / "events"),
        *_headers_schemas(tmp_path),
        stdin="\n".join(lines) + "\n",
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    valid = [line for line in checked.stdout.splitlines() if line.startswith("valid ")]
    assert len(valid) == len(SAMPLES) + 2 * len(posted)


async def test_a_real_dead_letter_has_the_headers_the_asyncapi_document_declares(
    settings: Settings, worker: Worker, producer: AIOKafkaProducer, tmp_path: Path
) -> None:
    """A record the worker cannot decode reaches the dead-letter topic with headers that
    validate (Ajv, strict, formats) against the document's DeadLetter message: every
    `threadlog.dlq.*` header it declares, in the form it declares."""
    await producer.send_and_wait(
        settings.topic,
        value=b"{not json",
        key=b"art",
        headers=[("ce_id", b"poison-1"), ("ce_type", b"CommentPosted")],
    )
    (letter,) = await read_all(settings, settings.dlq_topic, 1)
    headers = record_headers(letter)
    checked = await asyncio.to_thread(
        run_node,
        "ajv.mjs",
        *_headers_schemas(tmp_path),
        stdin=instance("asyncapi:DeadLetter", "dead letter", headers) + "\n",
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "valid dead letter" in checked.stdout
    assert headers["threadlog.dlq.stage"] == "decode"


Events = AsyncIterator[ServerSentEvent]


async def _changes(events: Events, count: int) -> list[ServerSentEvent]:
    """The next `count` events with data (the stream's opening `retry` block skipped)."""
    got: list[ServerSentEvent] = []
    async with asyncio.timeout(15):
        async for sse in events:
            if sse.data:
                got.append(sse)
                if len(got) == count:
                    break
    return got


async def _following(events: Events) -> None:
    """Return once the stream follows the log: its opening block sets `retry` (the library
    yields it as an event without data), sent after any replay."""
    async with asyncio.timeout(15):
        async for sse in events:
            if sse.retry is not None:
                return


async def test_httpx_sse_resumes_by_last_event_id_in_order_without_duplicates(
    ingest: Client, query: Client, query_server: httpx.AsyncClient, worker: Worker
) -> None:
    """httpx-sse, a third-party SSE client, follows a thread, leaves, and reconnects with the
    last id it saw as Last-Event-ID: it receives exactly the changes made while it was away,
    in log order, none twice, then the live ones."""
    await send(ingest, query, [ev("ArticlePublished", 0, article_id="art", title="T")])
    url = "/v1/articles/art/stream"
    async with aconnect_sse(query_server, "GET", url) as source:
        events = source.aiter_sse()
        await _following(events)
        await ingest.post("/v1/events", json=[post("c1", 1), post("c2", 2)])
        seen = await _changes(events, 2)
    last_id = seen[-1].id
    await send(ingest, query, [post(f"c{n}", n) for n in (3, 4, 5)])  # while nobody follows
    async with aconnect_sse(query_server, "GET", url, headers={"Last-Event-ID": last_id}) as source:
        events = source.aiter_sse()
        missed = await _changes(events, 3)
        await ingest.post("/v1/events", json=[post("c6", 6)])
        live = await _changes(events, 1)
    received = [*seen, *missed, *live]
    assert [json.loads(sse.data)["comment_id"] for sse in received] == [
        f"c{n}" for n in range(1, 7)
    ]
    assert {sse.event for sse in received} == {"comment"}
    positions = [tuple(map(int, sse.id.split(":"))) for sse in received]
    assert positions == sorted(set(positions)), "in log order, none twice"
