"""What one `threadlog import` was asked (its options) and what it did (its report)."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from importers.batches import ArticleSummary
from importers.source import SourceProblem


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
    article_ids: dict[str, str] = field(default_factory=dict)
    """Article id -> the source key that took it first, to report two keys mapped to one."""
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
    workers: int = 0
    """Processes planning articles besides the command's own; 0 plans in the command's process
    (measured faster on the shared 2-core machine, whose cores were busy: see the README)."""
