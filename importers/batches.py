"""Planning a batch of articles into Kafka records: the work `threadlog import` spreads over
processes.

Planning, ingest's validation and the record encoding cost most of an import's CPU (measured
on 30,000 comments: 11 + 11 + 10 µs a comment, against 7 to read and spill them), and one
article's work needs nothing of another's. So the command reads the file into the spill, then
hands batches of article keys to worker processes; each opens the spill read-only, plans,
validates and encodes, and sends back records ready to append. Pure but for the spill file.
"""

from datetime import UTC, datetime
from pathlib import Path

import msgspec

from events import InvalidEvents, Limits
from importers.envelopes import Record, records, validated
from importers.ids import IdMaker
from importers.plan import ArticlePlan, Planner
from importers.source import SourceProblem
from importers.spill import Spilled, SpillReader


class PlanConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a worker needs to plan like the command would."""

    format: str
    secret: bytes
    site: str | None
    limits: Limits
    now: datetime
    article_map: dict[str, str]

    def planner(self) -> Planner:
        """A planner of this configuration."""
        ids = IdMaker(self.format, self.secret, self.site)
        return Planner(ids, self.limits, self.now, self.article_map)


class ArticleSummary(msgspec.Struct, kw_only=True):
    """What the import says of one article (`--json` prints it)."""

    source: str
    article_id: str
    comments: int
    tombstones: int
    skipped: dict[str, int]
    already_imported: int = 0
    """Events of the article the log had applied already: left out of this run."""


class PlannedArticle(msgspec.Struct, kw_only=True):
    """One article, planned, validated and encoded."""

    summary: ArticleSummary
    problems: list[SourceProblem]
    event_ids: list[str]
    records: list[Record]


def planned_article(planner: Planner, spilled: Spilled) -> PlannedArticle:
    """One article's records, validated by ingest's decoder now; an article ingest would refuse
    any event of is not imported, and its problems say which event and why."""
    plan = planner.plan_article(spilled)
    try:
        envelopes = validated(plan.events, planner.ids.format, planner.limits, datetime.now(UTC))
    except InvalidEvents as error:
        _refused(plan, error)
        envelopes = []
    return PlannedArticle(
        summary=ArticleSummary(
            source=plan.source,
            article_id=plan.article_id,
            comments=plan.comments,
            tombstones=plan.tombstones,
            skipped=plan.skipped,
        ),
        problems=plan.problems,
        event_ids=[envelope.id for envelope in envelopes],
        records=records(envelopes),
    )


def _refused(plan: ArticlePlan, error: InvalidEvents) -> None:
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
    skipped = dict(plan.skipped)
    skipped["invalid_events"] = skipped.get("invalid_events", 0) + plan.comments
    plan.skipped = skipped
    plan.comments = plan.tombstones = 0
    plan.events = []


_worker: tuple[PlanConfig, Planner, SpillReader] | None = None
"""A worker process's planner (its caches live as long as the process) and spill connection,
made at its first batch."""


def plan_batch(config: PlanConfig, spill_path: str, keys: list[str]) -> list[PlannedArticle]:
    """Plan the articles of `keys` in this worker process. The configuration comes with every
    batch: workers are forked before the secret is read, so that they inherit no connection."""
    global _worker  # one per process, by the pool's design
    if _worker is None or _worker[0] != config:
        _worker = (config, config.planner(), SpillReader(Path(spill_path)))
    _, planner, reader = _worker
    return [planned_article(planner, reader.article(key)) for key in keys]


def warm_up() -> None:
    """A job that does nothing: submitted once per worker, it makes the pool fork them now."""
