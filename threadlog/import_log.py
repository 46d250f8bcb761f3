"""`threadlog import threadlog FILE`: another installation's export, appended as it is.

Its events were judged where they were first accepted, and the worker decides them by their
`recordedtime` (the log's clock), so they are appended verbatim, in the file's order (which
keeps every key's order), with no plan and no `importedfrom` mark (importers/threadlog_format.py
says why). As for the other formats, the file is read to its end before anything is appended
(a truncated file appends nothing), and events the threads projection applied already are left
out and counted. The file is read twice, to check it and then to append, rather than spilled.
"""

from events import CommentPosted, Envelope, encode_record
from importers.batches import ArticleSummary
from importers.formats import LogReader
from importers.source import SourceProblem
from threadlog.import_append import Appending, log_connection
from threadlog.import_report import ImportOptions, ImportReport
from threadlog.settings import Settings


async def import_log(
    settings: Settings, options: ImportOptions, report: ImportReport, read: LogReader
) -> None:
    """Check the whole file, then (unless dry, or the file is broken) append its events."""
    summaries: dict[str, ArticleSummary] = {}
    for item in read(options.path):
        if isinstance(item, SourceProblem):
            report.problems.append(item)
            if item.fatal:
                report.fatal = item
                break
            continue
        summary = _summary(summaries, item)
        if isinstance(item.data, CommentPosted):
            summary.comments += 1
            report.comments_read += 1
    report.articles.extend(summaries.values())
    if options.dry_run:
        return
    if report.fatal is not None:
        report.failed = "the file could not be read to its end; nothing was appended"
        return
    async with log_connection(settings) as (conn, appender):
        appending = Appending(appender, conn, settings.pg_schema, report)
        for item in read(options.path):
            if isinstance(item, Envelope):
                await appending.add(summaries[item.key], [item.id], [encode_record(item)])
        await appending.flush()


def _summary(summaries: dict[str, ArticleSummary], envelope: Envelope) -> ArticleSummary:
    """The summary of the envelope's key (an article id, or `author:<id>` for bans)."""
    summary = summaries.get(envelope.key)
    if summary is None:
        summary = summaries[envelope.key] = ArticleSummary(
            source=envelope.key, article_id=envelope.key, comments=0, tombstones=0, skipped={}
        )
    return summary
