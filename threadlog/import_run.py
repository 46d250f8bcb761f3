"""`threadlog import`'s work: read the file, plan each article, append what is not applied yet.

The file is read whole into a spill (importers/spill.py) before anything is appended: parents
may come after their replies, and a truncated file stops the import with nothing appended.
Then each article's events go to the log in order, keyed by the article id, through the
command's own transactional producer (ingest's AtomicAppender: a chunk of articles per
transaction, whole or not at all). Before a chunk is appended, the event ids the threads
projection already applied are looked up and left out, so a second run, or a run after a
kill halfway, appends only what is missing, and says how much it found already imported.
"""

import asyncio
import gc
import multiprocessing
import sys
from collections import deque
from collections.abc import AsyncGenerator, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import aclosing, contextmanager
from datetime import UTC, datetime
from itertools import islice
from typing import Final, TextIO

from importers.batches import (
    ArticleSummary,
    PlanConfig,
    PlannedArticle,
    plan_batch,
    planned_article,
    warm_up,
)
from importers.envelopes import records as clear_records
from importers.formats import LOG_FORMATS, READERS, log_reader_for, reader_for
from importers.source import SourceProblem
from importers.spill import Spill
from subject_keys import KeyStore, KeyStoreUnavailable, sealed_records
from threadlog import installation_secret
from threadlog.import_append import Appending, ImportStopped, log_connection
from threadlog.import_log import import_log
from threadlog.import_report import ImportOptions, ImportReport
from threadlog.progress import ProgressBar
from threadlog.settings import Settings

BATCH_COMMENTS: Final = 2_000
"""Comments per batch of articles planned together (by one worker process)."""
AHEAD: Final = 4
"""Batches planned ahead of the one being appended: the workers keep busy meanwhile."""
GC_THRESHOLD: Final = (50_000, 20, 100)
"""The cyclic collector's thresholds while an import runs (Python's: 700, 10, 10)."""


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's cyclic collector, run less often for the import's span.

    An import allocates a few dozen containers per comment (items, nodes, dicts, envelopes,
    headers) and keeps thousands alive at once (the batch in flight), so the collector's
    default thresholds (a collection every 700 allocations, each older generation every tenth)
    walk the same live objects again and again: measured on a 20 MB Disqus export, 16 to 20%
    of the import's CPU, and twice encode_record's own cost. The cycles an import makes (a
    thread's nodes, parent to children) are still collected, 70 times less often; memory
    stays bounded by the batches in flight."""
    previous = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


async def run_import(
    settings: Settings,
    options: ImportOptions,
    *,
    report: ImportReport | None = None,
    readers: Mapping[str, str] = READERS,
    progress: TextIO = sys.stderr,
) -> ImportReport:
    """Import `options.path`; the report says what happened. UnknownFormat, BadMap and OSError
    come before anything is read. `report` may be passed in to watch it while this runs."""
    report = report if report is not None else ImportReport()
    with fewer_collections():
        return await _run_import(settings, options, report, readers, progress)


async def _run_import(
    settings: Settings,
    options: ImportOptions,
    report: ImportReport,
    readers: Mapping[str, str],
    progress: TextIO,
) -> ImportReport:
    if options.format in LOG_FORMATS:
        read_log = log_reader_for(options.format, readers)
        try:
            await import_log(settings, options, report, read_log)
        except ImportStopped as error:
            report.failed = str(error)
        except KeyStoreUnavailable as error:
            report.failed = _key_store_down(error, report)
        return report
    read = reader_for(options.format, dict(readers))
    with Spill() as spill:
        bar = ProgressBar(f"reading {options.path.name}", progress)
        spill.fill(read(options.path), on_comment=bar.update)
        bar.close()
        report.comments_read = spill.comments
        report.problems.extend(spill.general_problems())
        report.fatal = spill.fatal
        pool = start_pool(options.workers) if report.fatal is None else None
        try:
            if options.dry_run:
                # Author ids are never shown by a dry run: any secret derives the same counts.
                config = _config(settings, options, b"dry-run" * 5)
                async with aclosing(_planned(spill, config, pool)) as batches:
                    async for _, articles in batches:
                        for article in articles:
                            _add(report, article)
            elif report.fatal is not None:
                report.failed = "the file could not be read to its end; nothing was appended"
            else:
                await _append_all(settings, options, spill, report, progress, pool)
        except ImportStopped as error:
            report.failed = str(error)
        except KeyStoreUnavailable as error:
            report.failed = _key_store_down(error, report)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
    return report


def _key_store_down(error: KeyStoreUnavailable, report: ImportReport) -> str:
    return (
        f"{error}: {report.events_appended:,} events were appended before, none after (nothing"
        " is appended in clear). Run the same command again once it answers"
    )


def _config(settings: Settings, options: ImportOptions, secret: bytes) -> PlanConfig:
    return PlanConfig(
        format=options.format,
        secret=secret,
        site=options.site,
        limits=settings.ingest().limits,
        now=datetime.now(UTC),
        article_map=dict(options.article_map),
    )


def start_pool(workers: int) -> ProcessPoolExecutor | None:
    """`workers` planning processes, forked now: before the command opens any connection or
    starts any thread, so that no child inherits one in use, and without the second or so a
    fresh interpreter takes to import everything. None for no workers."""
    if workers == 0:
        return None
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    for job in [pool.submit(warm_up) for _ in range(workers)]:
        job.result()
    return pool


async def _planned(
    spill: Spill, config: PlanConfig, pool: ProcessPoolExecutor | None
) -> AsyncGenerator[tuple[int, list[PlannedArticle]]]:
    """Every article planned, in the spill's order, a batch at a time with its count of
    comments read; by the pool's processes, a few batches ahead of the caller."""
    batches = _batches(spill.article_keys())
    if pool is None:
        planner = config.planner()
        for keys, comments in batches:
            yield comments, [planned_article(planner, spill.article(key)) for key in keys]
        return
    loop = asyncio.get_running_loop()
    path = str(spill.path)
    ahead: deque[tuple[int, asyncio.Future[list[PlannedArticle]]]] = deque()
    try:
        for keys, comments in batches:
            ahead.append((comments, loop.run_in_executor(pool, plan_batch, config, path, keys)))
            if len(ahead) > AHEAD:
                comments_done, future = ahead.popleft()
                yield comments_done, await future
        while ahead:
            comments_done, future = ahead.popleft()
            yield comments_done, await future
    finally:
        for _, future in ahead:
            future.cancel()


def _batches(keys: list[tuple[str, int]]) -> list[tuple[list[str], int]]:
    """Article keys in batches of about BATCH_COMMENTS comments, in order."""
    batches: list[tuple[list[str], int]] = []
    current: list[str] = []
    count = 0
    for key, comments in keys:
        current.append(key)
        count += comments
        if count >= BATCH_COMMENTS:
            batches.append((current, count))
            current, count = [], 0
    if current:
        batches.append((current, count))
    return batches


async def _append_all(
    settings: Settings,
    options: ImportOptions,
    spill: Spill,
    report: ImportReport,
    progress: TextIO,
    pool: ProcessPoolExecutor | None,
) -> None:
    async with log_connection(settings) as (conn, appender), KeyStore(settings.key_store()) as keys:
        await installation_secret.migrate(conn, settings.pg_schema)
        secret = await installation_secret.secret(conn, settings.pg_schema)
        appending = Appending(appender, conn, settings.pg_schema, report)
        config = _config(settings, options, secret)
        bar = ProgressBar(f"importing {options.format}", progress)
        done = 0
        async with aclosing(_planned(spill, config, pool)) as batches:
            async for comments, articles in batches:
                # Sealed a batch at a time, as ingest seals a request: one key-store round trip
                # for the authors not cached (their keys made on first use). With sealing off,
                # the records share their common headers (importers.envelopes.records).
                envelopes = [e for a in articles for e in a.envelopes]
                sealed = iter(
                    await sealed_records(keys, envelopes)
                    if keys.settings.seal
                    else clear_records(envelopes)
                )
                for article in articles:
                    records = list(islice(sealed, len(article.envelopes)))
                    await appending.add(_add(report, article), article.event_ids, records)
                done += comments
                bar.update(done, spill.comments)
        await appending.flush()
        bar.close()


def _add(report: ImportReport, article: PlannedArticle) -> ArticleSummary:
    summary = article.summary
    report.articles.append(summary)
    report.problems.extend(article.problems)
    taken = report.article_ids.setdefault(summary.article_id, summary.source)
    if taken != summary.source:
        report.problems.append(
            SourceProblem(
                where="article",
                code="article_id_reused",
                detail=f"{summary.article_id} is also the article of {taken!r} (--map?):"
                " their comments share one thread",
                article_key=summary.source,
            )
        )
    return summary


__all__ = ["ImportOptions", "ImportReport", "run_import"]
