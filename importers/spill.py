"""What a reader yields, spilled to a temporary SQLite file and read back one article at a time.

Readers yield comments in the file's order, which is rarely grouped by article; holding them
until every article is complete would hold the whole file (a 400 MB Disqus export ran other
importers out of memory). SQLite on disk holds them instead, its page cache bounded, and the
plan takes one article's comments at a time. The file goes when the spill is closed.
"""

import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Final, NamedTuple

import msgspec

from importers.source import SourceArticle, SourceComment, SourceItem, SourceProblem

_ROWS_PER_INSERT: Final = 5_000
_CACHE_KIB: Final = 32_768
"""SQLite's page cache (32 MiB): what the spill may hold in memory whatever the file's size."""

_encoder = msgspec.msgpack.Encoder()
_comment = msgspec.msgpack.Decoder(SourceComment)
_article = msgspec.msgpack.Decoder(SourceArticle)
_problem = msgspec.msgpack.Decoder(SourceProblem)

_SCHEMA = """
create table articles (key text primary key, seq integer not null, item blob not null);
create table comments (seq integer primary key, article_key text not null, item blob not null);
create table problems (seq integer primary key, article_key text, item blob not null);
"""


class Spilled(NamedTuple):
    """One article's items, in the file's order: the article (None when the file named it only
    from its comments), its comments and the problems readers reported about it."""

    key: str
    article: SourceArticle | None
    comments: list[SourceComment]
    problems: list[SourceProblem]


class Spill:
    """A temporary SQLite file of one import's items. Use it as a context manager."""

    def __init__(self, directory: Path | None = None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="threadlog-import-", dir=directory)
        self.path = Path(self._dir.name) / "spill.sqlite"
        """The file: other processes read it with SpillReader once `fill` returned."""
        self._db = sqlite3.connect(self.path, isolation_level=None)
        # A scratch file: nothing to recover after a crash, so no journal and no fsync.
        self._db.executescript(
            f"pragma journal_mode = off; pragma synchronous = off;"
            f" pragma cache_size = -{_CACHE_KIB}; {_SCHEMA}"
        )
        self.comments = 0
        self.articles = 0
        self.fatal: SourceProblem | None = None
        """The problem that stopped the reader, if one did: what was read before it is here."""

    def __enter__(self) -> "Spill":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete the file."""
        self._db.close()
        self._dir.cleanup()

    def fill(
        self, items: Iterable[SourceItem], *, on_comment: Callable[[int], None] | None = None
    ) -> None:
        """Store every item until the reader ends or yields a fatal problem (kept in `fatal`)."""
        comments: list[tuple[int, str, bytes]] = []
        articles: list[tuple[str, int, bytes]] = []
        problems: list[tuple[int, str | None, bytes]] = []
        for seq, item in enumerate(items, start=1):
            if type(item) is SourceComment:
                comments.append((seq, item.article_key, _encoder.encode(item)))
                if len(comments) >= _ROWS_PER_INSERT:
                    self._insert(comments, articles, problems)
                    if on_comment is not None:
                        on_comment(self.comments)
            elif isinstance(item, SourceArticle):
                articles.append((item.key, seq, _encoder.encode(item)))
            elif isinstance(item, SourceProblem):
                problems.append((seq, item.article_key, _encoder.encode(item)))
                if item.fatal:
                    self.fatal = item
                    break
        self._insert(comments, articles, problems)
        # Built once all rows are in: cheaper than keeping an index up to date row by row.
        self._db.execute("create index comments_by_article on comments (article_key, seq)")
        self._db.execute("create index problems_by_article on problems (article_key, seq)")

    def _insert(
        self,
        comments: list[tuple[int, str, bytes]],
        articles: list[tuple[str, int, bytes]],
        problems: list[tuple[int, str | None, bytes]],
    ) -> None:
        self._db.execute("begin")
        self._db.executemany("insert into comments values (?, ?, ?)", comments)
        # The first of an article's items wins, as with comments (importers/plan.py).
        self._db.executemany("insert or ignore into articles values (?, ?, ?)", articles)
        self._db.executemany("insert into problems values (?, ?, ?)", problems)
        self._db.execute("commit")
        self.comments += len(comments)
        self.articles += len(articles)
        comments.clear()
        articles.clear()
        problems.clear()

    def general_problems(self) -> list[SourceProblem]:
        """Problems about no article in particular (or one with no items), in the file's order."""
        rows = self._db.execute(
            "select item from problems p where article_key is null"
            " or not exists (select 1 from articles a where a.key = p.article_key)"
            " and not exists (select 1 from comments c where c.article_key = p.article_key)"
            " order by seq"
        ).fetchall()
        return [_problem.decode(item) for (item,) in rows]

    def article_keys(self) -> list[tuple[str, int]]:
        """Every article's key and count of comments: first those the file yielded, in its
        order, then those only comments (or problems) named, by key."""
        counts = dict(
            self._db.execute("select article_key, count(*) from comments group by article_key")
        )
        named = [key for (key,) in self._db.execute("select key from articles order by seq")]
        unnamed = sorted(counts.keys() - set(named))
        return [(key, counts.get(key, 0)) for key in [*named, *unnamed]]

    def article(self, key: str) -> Spilled:
        """One article's items."""
        return article_items(self._db, key)

    def by_article(self) -> Iterator[Spilled]:
        """Each article with its comments and problems, in the order of `article_keys`."""
        for key, _ in self.article_keys():
            yield article_items(self._db, key)


class SpillReader:
    """A filled spill read from another process (the planning workers), read-only."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        self._db.execute(f"pragma cache_size = -{_CACHE_KIB // 4}")

    def article(self, key: str) -> Spilled:
        """One article's items."""
        return article_items(self._db, key)

    def close(self) -> None:
        """Close the connection (the file is the Spill's to delete)."""
        self._db.close()


def article_items(db: sqlite3.Connection, key: str) -> Spilled:
    """One article's items from a spill's database."""
    row = db.execute("select item from articles where key = ?", (key,)).fetchone()
    comments = db.execute("select item from comments where article_key = ? order by seq", (key,))
    problems = db.execute("select item from problems where article_key = ? order by seq", (key,))
    return Spilled(
        key,
        _article.decode(row[0]) if row else None,
        [_comment.decode(item) for (item,) in comments],
        [_problem.decode(item) for (item,) in problems],
    )
