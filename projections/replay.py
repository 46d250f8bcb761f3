"""`replay`: read a stretch of the log again into the live copy; each event still applies once.

Records from the start position to the log's end (as it was when the replay began) go through
the same `apply_batch` as the worker's, with the stored offsets ignored: the applied event ids
alone decide, so whatever the copy already has is skipped and only what it lacks (events that
were skipped, e.g. around a bug since fixed) is applied, in log order. Stored offsets only ever
move forward, so the replay and the live worker can run at the same time.
"""

from datetime import datetime

import msgspec
from aiokafka import TopicPartition

from projections.worker import Worker, WorkerSettings


async def start_offsets(
    worker: Worker, start: int | datetime, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """Where `start` (an offset for every partition, or a time) falls in each partition."""
    ends = await worker.consumer.end_offsets(partitions)
    if isinstance(start, int):
        return {tp: min(start, ends[tp]) for tp in partitions}
    found = await worker.consumer.offsets_for_times(
        {tp: int(start.timestamp() * 1000) for tp in partitions}
    )
    return {tp: found[tp].offset if found.get(tp) else ends[tp] for tp in partitions}


async def replay(settings: WorkerSettings, name: str, start: int | datetime) -> tuple[int, int]:
    """Re-apply `name` from `start` to the current end; return (records read, events applied)."""
    worker = Worker(
        msgspec.structs.replace(settings, projections=(name,), standalone=True, replay=True)
    )
    await worker.start()
    try:
        consumer = worker.consumer
        partitions = sorted(consumer.assignment(), key=lambda tp: tp.partition)
        ends = await consumer.end_offsets(partitions)
        positions = await start_offsets(worker, start, partitions)
        for tp, offset in positions.items():
            consumer.seek(tp, offset)
        read = sum(ends[tp] - positions[tp] for tp in partitions)
        todo = {tp for tp in partitions if positions[tp] < ends[tp]}
        applied = 0
        while todo:
            applied += await worker.step()
            todo = {tp for tp in todo if await consumer.position(tp) < ends[tp]}
        return read, applied
    finally:
        await worker.stop()
