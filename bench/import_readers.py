"""How fast the Isso and Commento readers read a large generated input, and the memory they need.

    python -m bench.import_readers generate DIR [--comments 500000]
    python -m bench.import_readers measure isso DIR/comments.db
    python -m bench.import_readers measure commento DIR/commento.json.gz

`generate` writes an Isso database (Isso's schema, version 5) and a gzipped Commento export with
the same comments: 100 per page, every fifth a reply, Markdown of about 300 characters, one author
in ten anonymous, a tenth pending. `measure` runs in a fresh process so that its peak RSS is the
reader's alone (with the interpreter and the imports, reported apart): it pulls every item the
reader yields, as the plan would, and prints one JSON line. Only the reader: no plan, no log.
Asserts nothing.
"""

import argparse
import gzip
import json
import os
import resource
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec

from importers import commento, isso
from importers.source import SourceComment, SourceItem, SourceProblem

PER_PAGE = 100
_READERS: dict[str, Callable[[Path], Iterator[SourceItem]]] = {
    "isso": isso.read,
    "commento": commento.read,
}
_ISSO_DDL = (
    "CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256))",
    "CREATE TABLE comments (tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,"
    " created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,"
    " text VARCHAR NOT NULL, author VARCHAR, email VARCHAR, website VARCHAR,"
    " likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,"
    " notification INTEGER DEFAULT 0)",
    "CREATE TABLE preferences (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "PRAGMA user_version = 5",
)


def _text(n: int) -> str:
    return (
        f"Comment {n}: **bold**, a [link](https://example.org/{n}) and `code`.\n\n"
        "> a quoted line from the article, long enough to look like one\n\n"
        "Ünïcödé, <b>not html</b> &amp; the rest of a typical paragraph of a reader's reply."
    )


def _comments(total: int) -> Iterator[tuple[int, int, int | None, float, int, str | None]]:
    """(page, id, parent, created, mode, author) for every comment, ids from 1."""
    for n in range(1, total + 1):
        page = (n - 1) // PER_PAGE + 1
        first = (page - 1) * PER_PAGE + 1
        parent = first if n % 5 == 0 and n != first else None
        mode = 2 if n % 10 == 3 else 1
        author = None if n % 10 == 7 else f"Reader {n % 5000}"
        yield page, n, parent, 1_600_000_000 + n * 1.25, mode, author


def generate_isso(path: Path, total: int) -> None:
    path.unlink(missing_ok=True)
    voters = b"\x00" * 256
    with sqlite3.connect(path) as connection:
        for statement in _ISSO_DDL:
            connection.execute(statement)
        pages = (total + PER_PAGE - 1) // PER_PAGE
        connection.executemany(
            "INSERT INTO threads VALUES (?, ?, ?)",
            ((p, f"/blog/{p}/?lang=en", f"Post {p}") for p in range(1, pages + 1)),
        )
        connection.executemany(
            "INSERT INTO comments (tid, id, parent, created, mode, remote_addr, text, author,"
            " email, likes, dislikes, voters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (page, n, parent, created, mode, "198.51.100.0", _text(n), author,
                 None if author is None else f"r{n % 5000}@example.org", n % 3, n % 2, voters)
                for page, n, parent, created, mode, author in _comments(total)
            ),
        )  # fmt: skip
    connection.close()


def generate_commento(path: Path, total: int) -> None:
    comments = []
    commenters = []
    for page, n, parent, created, mode, author in _comments(total):
        commenter = "anonymous" if author is None else f"{n % 5000:064x}"
        comments.append(
            {
                "commentHex": f"{n:064x}",
                "domain": "example.com",
                "url": f"/blog/{page}/",
                "commenterHex": commenter,
                "markdown": _text(n),
                "html": "",
                "parentHex": "root" if parent is None else f"{parent:064x}",
                "score": n % 3 - n % 2,
                "state": "unapproved" if mode == 2 else "approved",
                "creationDate": time.strftime("%Y-%m-%dT%H:%M:%S.250000Z", time.gmtime(created)),
                "direction": 0,
                "deleted": False,
            }
        )
        if author is not None:  # the export repeats a commenter once per comment
            commenters.append(
                {
                    "commenterHex": commenter,
                    "email": f"r{n % 5000}@example.org",
                    "name": author,
                    "link": "undefined",
                    "photo": "undefined",
                    "provider": "commento",
                    "joinDate": "2020-01-01T00:00:00Z",
                    "isModerator": False,
                }
            )
    data = msgspec.json.encode({"version": 1, "comments": comments, "commenters": commenters})
    path.write_bytes(gzip.compress(data, compresslevel=6))


def measure(reader: str, path: Path) -> dict[str, object]:
    """Pull every item from the reader: comments/s and the process's peak RSS."""
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    comments = problems = others = 0
    started = time.perf_counter()
    for item in _READERS[reader](path):
        if isinstance(item, SourceComment):
            comments += 1
        elif isinstance(item, SourceProblem):
            problems += 1
        else:
            others += 1
    seconds = time.perf_counter() - started
    return {
        "reader": reader,
        "file": str(path),
        "file_mib": round(path.stat().st_size / 2**20, 1),
        "comments": comments,
        "articles": others,
        "problems": problems,
        "seconds": round(seconds, 2),
        "comments_per_s": round(comments / seconds),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_before_read_mib": round(before_kib / 1024, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate")
    generate.add_argument("directory", type=Path)
    generate.add_argument("--comments", type=int, default=500_000)
    run = commands.add_parser("measure")
    run.add_argument("reader", choices=sorted(_READERS))
    run.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    if args.command == "generate":
        args.directory.mkdir(parents=True, exist_ok=True)
        generate_isso(args.directory / "comments.db", args.comments)
        generate_commento(args.directory / "commento.json.gz", args.comments)
        print(f"wrote {args.comments:,} comments to {args.directory}", file=sys.stderr)
    else:
        print(json.dumps(measure(args.reader, args.path)))


if __name__ == "__main__":
    main()
