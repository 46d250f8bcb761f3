"""`threadlog import threadlog FILE`: another installation's export, appended as it is.

Its events were judged where they were first accepted, and the worker decides them by their
`recordedtime` (the log's clock), so they are appended verbatim, in the file's order (which
keeps every key's order), with no plan and no `importedfrom` mark (importers/threadlog_format.py
says why). As for the other formats, the file is read to its end before anything is appended
(a truncated file appends nothing), and events the threads projection applied already are left
out and counted. The file is read twice, to check it and then to append, rather than spilled.

An export holds personal text in clear (threadlog/export/ opens it): the events are sealed
under this installation's keys as ingest would seal them, a batch at a time. An author the
file erased (its AuthorErased) has their key destroyed here before anything is appended, as
ingest destroys it, so that what is appended under it is shredded at once.
"""

from typing import Final

from events import AuthorErased, CommentPosted, Envelope
from importers.batches import ArticleSummary
from importers.formats import LogReader
from importers.source import SourceProblem
from subject_keys import KeyStore, sealed_records
from threadlog.import_append import Appending, log_connection
from threadlog.import_report import ImportOptions, ImportReport
from threadlog.settings import Settings

SEAL_EVENTS: Final = 1_000
"""Events sealed together: one key-store round trip for the authors among them not cached."""


async def import_log(
    settings: Settings, options: ImportOptions, report: ImportReport, read: LogReader
) -> None:
    """Check the whole file, then (unless dry, or the file is broken) append its events."""
    summaries: dict[str, ArticleSummary] = {}
    erased: set[str] = set()
    for item in read(options.path):
        if isinstance(item, SourceProblem):
            report.problems.append(item)
            if item.fatal:
                report.fatal = item
                break
            continue
        summary = _summary(summaries, item)
        if isinstance(item.data, AuthorErased):
            erased.add(item.data.author_id)
        if isinstance(item.data, CommentPosted):
            summary.comments += 1
            report.comments_read += 1
    report.articles.extend(summaries.values())
    if options.dry_run:
        return
    if report.fatal is not None:
        report.failed = "the file could not be read to its end; nothing was appended"
        return
    async with log_connection(settings) as (conn, appender), KeyStore(settings.key_store()) as keys:
        for author in sorted(erased):
            await keys.destroy(author)
        appending = Appending(appender, conn, settings.pg_schema, report)
        batch: list[Envelope] = []
        for item in read(options.path):
            if isinstance(item, Envelope):
                batch.append(item)
                if len(batch) >= SEAL_EVENTS:
                    await _add_sealed(appending, keys, summaries, batch)
                    batch = []
        await _add_sealed(appending, keys, summaries, batch)
        await appending.flush()


async def _add_sealed(
    appending: Appending,
    keys: KeyStore,
    summaries: dict[str, ArticleSummary],
    batch: list[Envelope],
) -> None:
    """Seal `batch` and queue it, in its order, an event at a time with its key's summary."""
    for envelope, record in zip(batch, await sealed_records(keys, batch), strict=True):
        await appending.add(summaries[envelope.key], [envelope.id], [record])


def _summary(summaries: dict[str, ArticleSummary], envelope: Envelope) -> ArticleSummary:
    """The summary of the envelope's key (an article id, or `author:<id>` for bans)."""
    summary = summaries.get(envelope.key)
    if summary is None:
        summary = summaries[envelope.key] = ArticleSummary(
            source=envelope.key, article_id=envelope.key, comments=0, tombstones=0, skipped={}
        )
    return summary
