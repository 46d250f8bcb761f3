"""`threadlog import`'s work: read the file, plan each article, append what is not applied yet.

The file is read whole into a spill (importers/spill.py) before anything is appended: parents
may come after their replies, and a truncated file stops the import with nothing appended.
Then each article's events go to the log in order, keyed by the article id, through the
command's own transactional producer (ingest's AtomicAppender: a chunk of articles per
transaction, whole or not at all). Before a chunk is appended, the event ids the threads
projection already applied are looked up and left out, so a second run, or a run after a
kill halfway, appends only what is missing, and says how much it found already imported.
"""

import socket
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import asyncpg
import msgspec

from events import Envelope, InvalidEvents
from importers.envelopes import validated
from importers.formats import READERS, reader_for
from importers.ids import IdMaker
from importers.plan import ArticlePlan, Planner
from importers.source import SourceProblem
from importers.spill import Spill, Spilled
from services.ingest.atomic_append import AtomicAppender
from services.ingest.producer_identity import claim
from services.ingest.producers import LogSettings
from threadlog import installation_secret
from threadlog.import_append import Appending, ImportStopped, connected
from threadlog.progress import ProgressBar
from threadlog.settings import Settings


class ArticleSummary(msgspec.Struct, kw_only=True):
    """What `--json` prints for each article."""

    source: str
    article_id: str
    comments: int
    tombstones: int
    skipped: dict[str, int]
    already_imported: int = 0
    """Events of the article the log had applied already: left out of this run."""


@dataclass
class ImportReport:
    """What an import did (or, dry, would do)."""

    articles: list[ArticleSummary] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    comments_read: int = 0
    events_appended: int = 0
    already_imported: int = 0
    batches: int = 0
    """Transactions committed so far (a test cancels the import after some)."""
    fatal: SourceProblem | None = None
    failed: str | None = None
    """Why the import stopped before its end, with what was appended and what not."""

    def totals(self) -> tuple[int, int, int, Counter[str]]:
        """Articles with events, comments, tombstones, and skipped comments by reason."""
        skipped: Counter[str] = Counter()
        for article in self.articles:
            skipped.update(article.skipped)
        return (
            sum(1 for a in self.articles if a.comments or a.tombstones),
            sum(a.comments for a in self.articles),
            sum(a.tombstones for a in self.articles),
            skipped,
        )


@dataclass(frozen=True)
class ImportOptions:
    """The command's arguments."""

    format: str
    path: Path
    article_map: Mapping[str, str] = field(default_factory=dict)
    dry_run: bool = False
    site: str | None = None


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
    read = reader_for(options.format, dict(readers))
    limits = settings.ingest().limits
    with Spill() as spill:
        bar = ProgressBar(f"reading {options.path.name}", progress)
        spill.fill(read(options.path), on_comment=bar.update)
        bar.close()
        report.comments_read = spill.comments
        report.problems.extend(spill.general_problems())
        report.fatal = spill.fatal
        if options.dry_run:
            # Author ids are never shown by a dry run: any secret derives the same counts.
            ids = IdMaker(options.format, b"dry-run" * 5, options.site)
            planner = Planner(ids, limits, datetime.now(UTC), options.article_map)
            for article in spill.by_article():
                _add(report, *_planned(planner, article, options.format))
            return report
        if report.fatal is not None:
            report.failed = "the file could not be read to its end; nothing was appended"
            return report
        try:
            await _append_all(settings, options, spill, report)
        except ImportStopped as error:
            report.failed = str(error)
    return report


async def _append_all(
    settings: Settings, options: ImportOptions, spill: Spill, report: ImportReport
) -> None:
    limits = settings.ingest().limits
    try:
        conn = await asyncpg.connect(settings.database_url, timeout=settings.db_timeout_s)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        raise ImportStopped(
            f"PostgreSQL did not answer ({error!r}); is it running, and is DATABASE_URL right?"
            " Nothing was appended"
        ) from error
    identity = claim(settings.topic, f"import-{socket.gethostname()}")
    appender = AtomicAppender(
        LogSettings(
            kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
            topic=settings.topic,
            transactional_ids=identity.transactional_ids(1),
        )
    )
    try:
        await installation_secret.migrate(conn, settings.pg_schema)
        secret = await installation_secret.secret(conn, settings.pg_schema)
        appender.start()
        await connected(appender, settings)
        ids = IdMaker(options.format, secret, options.site)
        planner = Planner(ids, limits, datetime.now(UTC), options.article_map)
        appending = Appending(appender, conn, settings.pg_schema, report)
        bar = ProgressBar(f"importing {options.format}", sys.stderr)
        done = 0
        for spilled in spill.by_article():
            summary, envelopes = _add(report, *_planned(planner, spilled, options.format))
            await appending.add(summary, envelopes)
            done += len(spilled.comments)
            bar.update(done, spill.comments)
        await appending.flush()
        bar.close()
    finally:
        await appender.stop()
        identity.release()
        await conn.close()


def _planned(
    planner: Planner, spilled: Spilled, format_: str
) -> tuple[ArticlePlan, list[Envelope]]:
    """One article's plan and its events as ingest validates them, now."""
    plan = planner.plan_article(spilled)
    try:
        return plan, validated(plan.events, format_, planner.limits, datetime.now(UTC))
    except InvalidEvents as error:
        _refused(plan, error)
        return plan, []


def _refused(plan: ArticlePlan, error: InvalidEvents) -> None:
    """An article ingest would refuse is not imported at all: reported with ingest's words."""
    for problem in error.problems:
        event = plan.events[problem.index]
        plan.problems.append(
            SourceProblem(
                where=f"event {event.id}",
                code="invalid_event",
                detail=f"{problem.field}: {problem.message}; the article is not imported",
                article_key=plan.source,
            )
        )
    plan.skipped = dict(Counter(plan.skipped) + Counter(invalid_events=plan.comments))
    plan.comments = plan.tombstones = 0
    plan.events = []


def _add(
    report: ImportReport, plan: ArticlePlan, envelopes: list[Envelope]
) -> tuple[ArticleSummary, list[Envelope]]:
    summary = ArticleSummary(
        source=plan.source,
        article_id=plan.article_id,
        comments=plan.comments,
        tombstones=plan.tombstones,
        skipped=plan.skipped,
    )
    report.articles.append(summary)
    report.problems.extend(plan.problems)
    return summary, envelopes
