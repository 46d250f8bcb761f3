"""`threadlog import FORMAT FILE`: another system's comments into the log, as imported history.

The work is in threadlog/import_run.py; this is the command line: its arguments, what it
prints (a report per article and in total, or `--json` lines), and its exit status (0 done,
1 stopped before the end, 2 refused before reading).
"""

import argparse
import asyncio
import sys
from collections import defaultdict
from pathlib import Path
from typing import TextIO

import msgspec

from importers.article_map import BadMap, read_map
from importers.batches import ArticleSummary
from importers.formats import READERS, UnknownFormat
from importers.source import SourceProblem
from threadlog.import_run import ImportOptions, ImportReport, run_import
from threadlog.settings import Settings


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `import` to the `threadlog` parser."""
    parser = commands.add_parser(
        "import",
        help="import another system's export into the log (see the README, Importing)",
        description="Read FILE, an export of FORMAT, and append its threads to the log as"
        " imported history. Running it again appends only what the log does not hold yet.",
    )
    parser.add_argument("format", metavar="FORMAT", help=f"one of {', '.join(READERS)}")
    parser.add_argument("file", metavar="FILE", type=Path)
    parser.add_argument(
        "--map",
        type=Path,
        metavar="CSV",
        help="old URL or source key, article id: which article each old thread becomes",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="write nothing; print what would be imported and every problem",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per article")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="plan in N more processes (for large files on a machine with idle cores)",
    )
    parser.add_argument(
        "--site",
        metavar="NAME",
        help="a name for the source site when one installation imports two sites of one"
        " format (it goes into article and author ids)",
    )


def run(settings: Settings, args: argparse.Namespace) -> None:
    """Run `threadlog import` and exit with its status."""
    try:
        options = ImportOptions(
            format=args.format,
            path=args.file,
            article_map=read_map(args.map) if args.map else {},
            dry_run=args.dry_run,
            site=args.site,
            workers=args.workers,
        )
        if not args.file.is_file():
            raise OSError(f"{args.file}: no such file")
        report = asyncio.run(run_import(settings, options))
    except (UnknownFormat, BadMap, OSError, ValueError) as error:
        sys.exit(f"threadlog import: {error}")
    print_report(report, options, as_json=args.json, out=sys.stdout)
    if report.fatal is not None or report.failed is not None:
        sys.exit(1)


_json = msgspec.json.Encoder()


def print_report(
    report: ImportReport, options: ImportOptions, *, as_json: bool, out: TextIO
) -> None:
    """The report as text (per article when dry, then problems and totals) or as JSON lines
    (one object per article on `out`; the totals on stderr)."""
    if as_json:
        for article in report.articles:
            out.write(_json.encode(article).decode() + "\n")
        out = sys.stderr
    by_article: dict[str | None, list[SourceProblem]] = defaultdict(list)
    for problem in report.problems:
        by_article[problem.article_key].append(problem)
    if options.dry_run and not as_json:
        for article in report.articles:
            out.write(_article_line(article) + "\n")
            for problem in by_article.pop(article.source, []):
                out.write(f"    {_problem_line(problem)}\n")
    for problems in by_article.values():
        for problem in problems:
            out.write(f"problem: {_problem_line(problem)}\n")
    out.write(_totals(report, options) + "\n")


def _article_line(article: ArticleSummary) -> str:
    skipped = ", ".join(f"{reason} {n}" for reason, n in article.skipped.items())
    return (
        f"{article.source} -> {article.article_id}: {article.comments} comments,"
        f" {article.tombstones} tombstones" + (f"; skipped: {skipped}" if skipped else "")
    )


def _problem_line(problem: SourceProblem) -> str:
    article = f"[{problem.article_key}] " if problem.article_key is not None else ""
    return f"{article}{problem.where}: {problem.code}: {problem.detail}"


def _totals(report: ImportReport, options: ImportOptions) -> str:
    articles, comments, tombstones, skipped = report.totals()
    verb = "would import" if options.dry_run else "imported"
    lines = [
        f"{verb}: {articles} articles, {comments} comments, {tombstones} tombstones"
        f" (of {report.comments_read} comments read)",
        "skipped: " + (", ".join(f"{r} {n}" for r, n in sorted(skipped.items())) or "nothing"),
        f"problems: {len(report.problems)}",
    ]
    if not options.dry_run:
        lines.append(f"appended: {report.events_appended} events")
        lines.append(f"already imported: {report.already_imported} events")
        if report.already_imported and not report.events_appended:
            lines.append("nothing new: the log holds every event of this file already")
    if report.fatal is not None:
        lines.append(f"stopped at {report.fatal.where}: {report.fatal.detail}")
    if report.failed is not None:
        lines.append(f"stopped: {report.failed}")
    return "\n".join(lines)
