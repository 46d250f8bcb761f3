"""The projection worker: consume the event log, apply each poll batch in one transaction.

Errors are decided one by one: a record that is not an event is dead-lettered at once; a batch
that Postgres refuses for its data is retried record by record and only the guilty records are
dead-lettered; a lost connection or a serialization conflict is retried with backoff without
moving on; anything else means the code is wrong, and the worker stops rather than guess.
"""

import asyncio
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from eventlog.connection import Kafka, client_args, start_client
from eventlog.dead_letters import dead_letter_headers
from eventlog.reading import READ_COMMITTED
from events import UndecodableRecord, decode_record
from events.sealing import KeyMissing
from projections.dead_letter_ops import read_dead_letters
from projections.log_reader import partitions
from projections.metrics import WorkerStats
from projections.policy import Policy
from projections.registry import Projection, build_projections
from projections.store import Positioned, apply_batch, migrate, seek_positions
from projections.threads.parked import parked_outcome
from subject_keys import KeyStore, KeyStoreSettings, KeyStoreUnavailable, open_keys_for

log = structlog.get_logger("threadlog.worker")

_TRANSIENT = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # What a connection cut mid-query by a PostgreSQL restart may raise.
    asyncpg.InternalClientError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.OperatorInterventionError,
)
"""Postgres failures that pass: retry the same batch, never skip it."""

_DATA_ERRORS = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, UnicodeError)
"""Postgres refusing a value: some record of the batch can never apply."""


class WorkerSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where the worker reads, writes and parks, and how much it takes per transaction."""

    kafka: Kafka
    topic: str
    dlq_topic: str
    database_url: str
    pg_schema: str
    group_id: str = "threadlog-projections"
    instance_id: str | None = None
    """A stable name for this worker in the group (Kafka static membership): restarted under
    the same name within the session timeout, it takes its partitions back without a rebalance.
    Two live workers must never share one (Kafka fences the older)."""
    projections: tuple[str, ...] = ("threads",)
    key_store: KeyStoreSettings | None = None
    """Where the data keys that open sealed fields are; None reads them as sealed (only right
    for a log that holds none)."""
    # The policy's defaults are Policy's own; a setting only carries them to the worker.
    edit_window_s: float = Policy.edit_window.total_seconds()
    premoderate_all: bool = Policy.premoderate_all
    banned_patterns: tuple[str, ...] = Policy.banned_patterns
    max_links: int = Policy.max_links
    flag_threshold: int = Policy.flag_threshold
    max_batch: int = 2000
    synchronous_commit: bool = False
    """Wait for each batch's WAL to reach disk before the next batch. Off by default: the offsets
    commit with the rows, so a PostgreSQL crash that loses the last batches (up to three WAL
    writer delays, 600 ms by default) loses their offsets too, and the worker applies them
    again from the log; nothing is lost or doubled. Readers may see the read models step back
    that far until it has. A worker crash loses nothing either way."""
    poll_timeout_ms: int = 500
    standalone: bool = False
    """Read every partition without a consumer group and never dead-letter: how a rebuild or a
    replay reads the log beside the group's worker, which parks what cannot apply."""
    replay: bool = False
    """Apply records below the stored offsets too; applied event ids keep each to one effect."""

    def policy(self) -> Policy:
        """The moderation policy these settings configure."""
        return Policy(
            edit_window=timedelta(seconds=self.edit_window_s),
            premoderate_all=self.premoderate_all,
            banned_patterns=self.banned_patterns,
            max_links=self.max_links,
            flag_threshold=self.flag_threshold,
        )


@dataclass
class _Polled:
    """One poll's records, decoded, with what `_apply` needs to apply them and park failures."""

    records: list[Positioned] = field(default_factory=list)
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    raw: dict[tuple[int, int], ConsumerRecord] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    """Partition -> records of it in this poll."""


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """On assignment, continue from the offsets stored with the read models, not Kafka's."""

    def __init__(self, worker: "Worker") -> None:
        self._worker = worker

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        log.info("partitions revoked", partitions=sorted(tp.partition for tp in revoked))
        self._worker.stats.partitions_revoked(tp.partition for tp in revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._worker.seek_assigned(assigned)


class Worker:
    """Consumes the topic and keeps the read models exactly one application behind the log."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        available = build_projections(settings.policy())
        self.projections: list[Projection] = [available[n] for n in settings.projections]
        self.stats = WorkerStats()
        self._stopping = asyncio.Event()
        self._pool: asyncpg.Pool[Any] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._in_flight: dict[int, int] = {}
        self._ahead: asyncio.Task[_Polled | None] | None = None
        """Partition -> records read and not yet applied (the lag gauge counts them)."""
        self.keys = KeyStore(settings.key_store) if settings.key_store else None
        """The data keys that open sealed fields (loaded once per poll batch, cached briefly)."""

    async def start(self) -> None:
        """Connect to Postgres (creating the tables if needed) and to Kafka."""
        s = self.settings
        self._pool = await asyncpg.create_pool(
            s.database_url,
            min_size=1,
            max_size=2,
            server_settings={
                "search_path": s.pg_schema,
                "synchronous_commit": "on" if s.synchronous_commit else "off",
            },
        )
        async with self._pool.acquire() as conn:
            await migrate(conn, s.pg_schema, {p.name: p.version for p in self.projections})
        self._consumer = AIOKafkaConsumer(
            **client_args(s.kafka),
            group_id=None if s.standalone else s.group_id,
            group_instance_id=None if s.standalone else s.instance_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            isolation_level=READ_COMMITTED,
        )
        if s.standalone:
            await start_client(self._consumer, s.kafka)
            assigned = await partitions(self._consumer, s.topic)
            self._consumer.assign(assigned)
            await self.seek_assigned(assigned)
        else:
            self._producer = AIOKafkaProducer(
                **client_args(s.kafka), acks="all", enable_idempotence=True
            )
            await start_client(self._producer, s.kafka)
            self._consumer.subscribe([s.topic], listener=_SeekToStored(self))
            await self._consumer.start()
        log.info("worker started", topic=s.topic, group=s.group_id, schema=s.pg_schema)

    async def stop(self) -> None:
        """Leave the group and close connections; an unfinished batch is simply read again."""
        self._stopping.set()
        if self._ahead is not None:
            # Read, never applied: the records are read again from the stored offsets.
            self._ahead.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._ahead
            self._ahead = None
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()
        if self._pool is not None:
            await self._pool.close()
        if self.keys is not None:
            await self.keys.stop()

    def request_stop(self) -> None:
        """Finish the batch in hand, then return from `run`."""
        self._stopping.set()

    async def __aenter__(self) -> "Worker":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def seek_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        """Seek each newly assigned partition to the lowest offset any projection still needs."""
        assert self._pool is not None
        assert self._consumer is not None
        async with self._pool.acquire() as conn:
            positions = await seek_positions(
                conn,
                self.settings.projections,
                self.settings.topic,
                [tp.partition for tp in assigned],
            )
        for tp in assigned:
            self._consumer.seek(tp, positions[tp.partition])
        log.info("partitions assigned", positions=positions)
        await self._lag_from(assigned, positions)

    async def _lag_from(
        self, assigned: Sequence[TopicPartition], positions: dict[int, int]
    ) -> None:
        """Give /metrics a lag for every assigned partition at once, from the partitions' ends;
        batches keep it current from then on."""
        assert self._consumer is not None
        try:
            ends = await asyncio.wait_for(self._consumer.end_offsets(list(assigned)), 5)
        except Exception as error:  # a gauge must never stop the worker: 0 until a batch
            log.warning("could not read the partitions' ends for the lag gauge", error=str(error))
            ends = {tp: positions[tp.partition] for tp in assigned}
        self.stats.partitions_assigned(
            {tp.partition: ends[tp] - positions[tp.partition] for tp in assigned}
        )

    async def count_dead_letters(self, every_s: float = 30.0) -> None:
        """Keep the dead-letter gauges of /metrics current: read the dead-letter topic and the
        operators' actions every `every_s` seconds until the worker stops."""
        assert self._pool is not None
        while not self._stopping.is_set():
            try:
                async with self._pool.acquire() as conn:
                    letters = await read_dead_letters(
                        self.settings.kafka, self.settings.dlq_topic, conn
                    )
                open_letters = [d for d in letters if d.resolved is None]
                stamps = [d.at.timestamp() for d in open_letters if d.at is not None]
                self.stats.dead_letters_unresolved = len(open_letters)
                self.stats.oldest_dead_letter_at = min(stamps, default=None)
            except Exception as error:  # a gauge must never stop the worker
                log.warning("could not count dead letters", error=str(error))
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), every_s)

    @property
    def applied_total(self) -> int:
        """Events this process applied since it started."""
        return self.stats.applied_total

    @property
    def dead_lettered_total(self) -> int:
        """Records this process parked on the dead-letter topic since it started."""
        return self.stats.dead_lettered_total

    @property
    def consumer(self) -> AIOKafkaConsumer:
        """The Kafka consumer, once started: positions, end offsets, seeks."""
        assert self._consumer is not None
        return self._consumer

    async def step(self) -> int:
        """Poll once and apply what came; return how many events were applied.

        While catching up (the poll came full), the next poll is read and decoded while
        PostgreSQL writes this one (`_ahead`). At the log's end it is not: reading ahead would
        hold the few records there are now while more arrive, and the next poll takes everything
        that arrived meanwhile in one batch. Order and exactly-once do not change: batches apply
        one at a time in the order read, and a batch read ahead of a rebalance is checked
        against the stored offsets like any other.
        """
        ahead, self._ahead = self._ahead, None
        polled = await ahead if ahead is not None else await self._poll()
        if polled is not None and len(polled.records) >= self.settings.max_batch:
            self._ahead = asyncio.create_task(self._poll(), name="threadlog-worker-read-ahead")
        applied = await self._apply_polled(polled) if polled is not None else 0
        await self._measure_lag()
        return applied

    async def _poll(self) -> "_Polled | None":
        """One poll's records, decoded (the undecodable ones parked); None when none came."""
        batches = await self.consumer.getmany(
            timeout_ms=self.settings.poll_timeout_ms, max_records=self.settings.max_batch
        )
        if not batches:
            return None
        for tp, messages in batches.items():
            self._in_flight[tp.partition] = self._in_flight.get(tp.partition, 0) + len(messages)
        return await self._decode(batches)

    async def _measure_lag(self) -> None:
        """Records committed to each assigned partition and not yet read: from the consumer's
        position, which steps over ingest's transaction markers (an idle partition's lag is 0,
        not 1), to the last stable offset, past which a read_committed reader cannot go.
        Measured after every poll, so a marker read by an empty poll lowers it too."""
        consumer = self.consumer
        # Only assigned partitions: aiokafka asserts on the offsets of one a rebalance revoked
        # during the batch (it killed workers in `make chaos`).
        assigned = consumer.assignment()
        for partition in [
            p for p in self.stats.lag if TopicPartition(self.settings.topic, p) not in assigned
        ]:
            del self.stats.lag[partition]
        for tp in assigned:
            end = consumer.last_stable_offset(tp)
            if end is not None:
                # Records read ahead (`run` decodes the next batch while this one is written)
                # are not applied yet: they still count.
                behind = end - await consumer.position(tp) + self._in_flight.get(tp.partition, 0)
                self.stats.lag[tp.partition] = max(behind, 0)

    async def run(self) -> None:
        """Poll and apply until `request_stop`."""
        window_start, window_applied = time.monotonic(), 0
        while not self._stopping.is_set():
            window_applied += await self.step()
            elapsed = time.monotonic() - window_start
            if elapsed >= 5:
                log.info(
                    "applying",
                    applied=window_applied,
                    per_second=round(window_applied / elapsed),
                    total=self.stats.applied_total,
                )
                window_start, window_applied = time.monotonic(), 0

    async def process(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> int:
        """Decode one poll's records, park the undecodable ones, apply the rest; return applied."""
        for tp, messages in batches.items():
            self._in_flight[tp.partition] = self._in_flight.get(tp.partition, 0) + len(messages)
        return await self._apply_polled(await self._decode(batches))

    async def _open_keys(
        self, batches: dict[TopicPartition, list[ConsumerRecord]]
    ) -> dict[str, bytes | None] | None:
        """The data keys the batch's sealed records name, in one query; while the key store
        does not answer, wait and retry: a key that cannot be read now is not a key destroyed,
        and nothing is applied (or erased) meanwhile."""
        delay = 0.2
        while True:
            try:
                return await open_keys_for(
                    self.keys, (m.headers for messages in batches.values() for m in messages)
                )
            except KeyStoreUnavailable as error:
                self.stats.last_error = str(error)
                log.warning(
                    "key store unavailable; retrying the batch", error=str(error), in_s=delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _decode(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> "_Polled":
        polled = _Polled()
        keys = await self._open_keys(batches)
        for tp, messages in batches.items():
            for message in messages:
                polled.raw[(tp.partition, message.offset)] = message
                parked = None
                try:
                    try:
                        envelope = decode_record(message.headers, message.value, keys)
                    except KeyMissing as missing:
                        # Not erased: parked, and redriven once the key store holds the key.
                        raise UndecodableRecord(str(missing)) from missing
                except UndecodableRecord as error:
                    with structlog.contextvars.bound_contextvars(
                        partition=message.partition, offset=message.offset
                    ):
                        await self._dead_letter(message, "decode", str(error))
                    envelope = None
                    parked = parked_outcome(
                        message.headers, message.timestamp, "decode", str(error)
                    )
                polled.records.append(
                    Positioned(tp.topic, tp.partition, message.offset, envelope, parked)
                )
            polled.next_offsets[(tp.topic, tp.partition)] = messages[-1].offset + 1
            polled.counts[tp.partition] = len(messages)
        return polled

    async def _apply_polled(self, polled: "_Polled") -> int:
        started = time.monotonic()
        try:
            applied = await self._apply(polled.records, polled.next_offsets, polled.raw)
        finally:
            for partition, count in polled.counts.items():
                self._in_flight[partition] = max(self._in_flight.get(partition, 0) - count, 0)
        self.stats.batch_applied(len(polled.records), applied, time.monotonic() - started)
        assert self._consumer is not None
        if self.settings.standalone:
            return applied
        # Kafka's committed offsets are only a mirror for standard lag tools; Postgres is the truth.
        try:
            await self._consumer.commit(
                {TopicPartition(t, p): offset for (t, p), offset in polled.next_offsets.items()}
            )
        except Exception as error:  # a failed mirror must not stop applying
            log.warning("could not mirror offsets to Kafka", error=str(error))
        return applied

    async def _apply(
        self,
        records: list[Positioned],
        next_offsets: dict[tuple[str, int], int],
        raw: dict[tuple[int, int], ConsumerRecord],
    ) -> int:
        assert self._pool is not None
        delay = 0.2
        while True:
            try:
                async with self._pool.acquire() as conn:
                    return await apply_batch(
                        conn,
                        self.projections,
                        records,
                        next_offsets,
                        replay=self.settings.replay,
                    )
            except _TRANSIENT as error:
                log.warning(
                    "postgres unavailable; retrying the batch", error=str(error), in_s=delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            except _DATA_ERRORS as error:
                if len(records) == 1:
                    record = records[0]
                    message = raw[(record.partition, record.offset)]
                    await self._dead_letter(message, "apply", str(error))
                    outcome = parked_outcome(
                        message.headers, message.timestamp, "apply", str(error)
                    )
                    parked = [record._replace(envelope=None, parked=outcome)]
                    return await self._apply(parked, next_offsets, raw)
                log.warning("batch refused; applying record by record", error=str(error))
                applied = 0
                for r in records:
                    # Every log line about this record names it, without passing it around.
                    with structlog.contextvars.bound_contextvars(
                        partition=r.partition,
                        offset=r.offset,
                        event_id=r.envelope.id if r.envelope else None,
                    ):
                        applied += await self._apply(
                            [r], {(r.topic, r.partition): r.offset + 1}, raw
                        )
                return applied

    async def _dead_letter(self, message: ConsumerRecord, stage: str, error: str) -> None:
        self.stats.last_error = error
        if self.settings.standalone:
            # The group's worker parked this record when it first met it; parking it again would
            # put a second copy on the dead-letter topic, redriven twice.
            log.warning("skipped a record that cannot apply", stage=stage, error=error)
            return
        assert self._producer is not None
        headers = dead_letter_headers(
            message.headers,
            stage=stage,
            error=error,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            at=datetime.now(UTC),
        )
        await self._producer.send_and_wait(
            self.settings.dlq_topic, key=message.key, value=message.value, headers=headers
        )
        self.stats.dead_lettered_total += 1
        log.error("dead-lettered a record", stage=stage, error=error, dlq=self.settings.dlq_topic)
