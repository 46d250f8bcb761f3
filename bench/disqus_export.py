"""A realistic Disqus XML export of a given size, for the import benchmark.

Shaped like AVC.com's (459,000 comments in 397 MB, about 0.87 KB a comment, research §1.3):
categories, then threads, then posts in tree order. Posts carry HTML messages in CDATA
(paragraphs, links as Disqus writes them, line breaks, entities), about 45% are replies, some
are deleted or spam, guests have no username and often no e-mail address, and about one post in
a thousand holds a character XML forbids (0x1C or 0x1F, as real exports do). Deterministic for a
seed, and written as it is generated: memory stays small whatever the size.

    python -m bench.disqus_export OUT [--megabytes 400] [--seed 16]
    python -m bench.disqus_export OUT --read     # time importers.disqus alone on OUT

`--read` measures the reader alone (no plan, no log): comments/s and the process's peak RSS.
"""

import argparse
import random
import resource
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from importers.disqus import read
from importers.source import SourceComment

BYTES_PER_COMMENT = 870
COMMENTS_PER_THREAD = 25
START = datetime(2010, 1, 1, tzinfo=UTC)

_VOCABULARY = (
    "the a of to and in that is for it on with as this was but be are not you at have by from "
    "startup founder market growth venture capital investors board product users revenue team "
    "think agree point really great post comment question years ago company money value time "
    "people work build fund raise round seed series model business price network data cloud "
    "mobile platform service customers hard good interesting important maybe probably always"
)
_WORDS = tuple(_VOCABULARY.split())
_HEADER = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xsi:schemaLocation="http://disqus.com/api/schemas/1.0/disqus.xsd'
    ' http://disqus.com/api/schemas/1.0/disqus-internals.xsd">\n'
    '<category dsq:id="1">\n<forum>avc</forum>\n<title>General</title>\n'
    "<isDefault>true</isDefault>\n</category>\n"
)


@dataclass
class Counts:
    """What the export holds, for the tests and the benchmark to compare a reader with."""

    threads: int = 0
    closed_threads: int = 0
    deleted_threads: int = 0
    posts: int = 0
    replies: int = 0
    deleted: int = 0
    spam: int = 0
    guests: int = 0
    invalid_chars: int = 0
    bytes: int = 0


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(7, 26))
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice((".", ".", ".", "?", "!"))


def _message(rng: random.Random) -> str:
    """A message as Disqus stores it: paragraphs of HTML, sometimes a link, a break, an entity."""
    paragraphs = []
    for _ in range(rng.choices((1, 2, 3, 4), weights=(35, 35, 20, 10))[0]):
        text = " ".join(_sentence(rng) for _ in range(rng.randint(1, 3)))
        roll = rng.random()
        if roll < 0.15:
            path = "/".join(rng.choices(_WORDS, k=3))
            url = f"https://example.com/{rng.randint(2005, 2020)}/{path}"
            shown = url.split("://", 1)[1]
            shown = shown if len(shown) < 30 else shown[:27] + "..."
            text += (
                f' See <a href="{url}" rel="nofollow noopener" target="_blank"'
                f' title="{url}">{shown}</a>.'
            )
        elif roll < 0.25:
            text = text.replace(". ", ".<br>", 1)
        elif roll < 0.35:
            text += " Don&#39;t you think so &amp; more?"
        elif roll < 0.40:
            text = f"<b>{text}</b>"
        paragraphs.append(f"<p>{text}</p>")
    return "".join(paragraphs)


def _thread(rng: random.Random, number: int, counts: Counts) -> str:
    closed = rng.random() < 0.05
    deleted = rng.random() < 0.01
    counts.threads += 1
    counts.closed_threads += closed
    counts.deleted_threads += deleted
    created = START + timedelta(days=number // 3)
    return (
        f'<thread dsq:id="{500000 + number}">\n<id>post-{number}</id>\n<forum>avc</forum>\n'
        f'<category dsq:id="1" />\n<link>https://avc.example.com/{created:%Y/%m}/post-{number}/'
        f"</link>\n<title>Post number {number}: {' '.join(rng.choices(_WORDS, k=5))}</title>\n"
        f"<message />\n<createdAt>{created:%Y-%m-%dT%H:%M:%SZ}</createdAt>\n<author>\n"
        "<email>fred@example.com</email>\n<name>Fred</name>\n<isAnonymous>false</isAnonymous>\n"
        "<username>fredwilson</username>\n</author>\n<ipAddress>127.0.0.1</ipAddress>\n"
        f"<isClosed>{str(closed).lower()}</isClosed>\n<isDeleted>{str(deleted).lower()}"
        "</isDeleted>\n</thread>\n"
    )


def _post(
    rng: random.Random,
    number: int,
    thread: int,
    recent: list[int],
    when: datetime,
    counts: Counts,
) -> str:
    post_id = 1_000_000_000 + number
    parent = rng.choice(recent) if recent and rng.random() < 0.45 else None
    deleted = rng.random() < 0.03
    spam = not deleted and rng.random() < 0.02
    guest = rng.random() < 0.15
    message = "" if deleted and rng.random() < 0.5 else _message(rng)
    if message and rng.random() < 0.001:
        cut = rng.randrange(3, len(message) - 4)
        message = message[:cut] + rng.choice("\x1c\x1f") + message[cut:]
        counts.invalid_chars += 1
    user = rng.randint(1, 20_000)
    if guest:
        email = f"guest{user}@example.net" if rng.random() < 0.5 else ""
        author = (
            f"<email>{email}</email>\n<name>Guest {user}</name>\n<isAnonymous>true</isAnonymous>\n"
        )
    else:
        author = (
            f"<email>user{user}@example.org</email>\n<name>User {user}</name>\n"
            f"<isAnonymous>false</isAnonymous>\n<username>user{user}</username>\n"
        )
    parent_ref = f'<parent dsq:id="{1_000_000_000 + parent}" />\n' if parent is not None else ""
    text = (
        f'<post dsq:id="{post_id}">\n<id />\n<message><![CDATA[{message}]]></message>\n'
        f"<createdAt>{when:%Y-%m-%dT%H:%M:%SZ}</createdAt>\n"
        f"<isDeleted>{str(deleted).lower()}</isDeleted>\n<isSpam>{str(spam).lower()}</isSpam>\n"
        f"<author>\n{author}</author>\n<ipAddress>10.{user % 250}.{number % 250}.7</ipAddress>\n"
        f'<thread dsq:id="{500000 + thread}" />\n{parent_ref}</post>\n'
    )
    counts.posts += 1
    counts.replies += parent is not None
    counts.deleted += deleted
    counts.spam += spam
    counts.guests += guest
    recent.append(number)
    if len(recent) > 16:
        del recent[0]
    return text


def write_export(path: Path, size: int = 400 * 1024 * 1024, seed: int = 16) -> Counts:
    """Write an export of about `size` bytes (a little more: it ends after a whole post)."""
    rng = random.Random(seed)
    counts = Counts()
    threads = max(1, size // (BYTES_PER_COMMENT * COMMENTS_PER_THREAD))
    recent: list[list[int]] = [[] for _ in range(threads)]
    when = START
    # Everything written is ASCII: a character is a byte, so the length counts the size.
    with path.open("w", encoding="ascii", newline="\n") as out:
        written = out.write(_HEADER)
        for number in range(threads):
            written += out.write(_thread(rng, number, counts))
        number = 0
        while written < size:
            # Older threads get fewer comments: most talk happens on the latest posts.
            thread = min(threads - 1, int(threads * rng.random() ** 0.7))
            when += timedelta(seconds=rng.randint(1, 300))
            written += out.write(_post(rng, number, thread, recent[thread], when, counts))
            number += 1
        written += out.write("</disqus>\n")
    counts.bytes = written
    return counts


def read_rate(path: Path) -> str:
    """How fast importers.disqus reads `path` alone, and the peak RSS of this process."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    comments = sum(isinstance(item, SourceComment) for item in read(path))
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (
        f"importers.disqus read {path.stat().st_size / 2**20:.0f} MiB, {comments} comments in"
        f" {seconds:.1f} s: {comments / seconds:,.0f} comments/s;"
        f" peak RSS {rss / 1024:.0f} MiB ({(rss - rss_before) / 1024:.1f} MiB while reading)"
    )


def main() -> None:
    """Write an export from the command line and print what it holds, or time its reading."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--megabytes", type=float, default=400)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--read", action="store_true", help="time the reader on OUT instead")
    arguments = parser.parse_args()
    if arguments.read:
        print(read_rate(arguments.out))
        return
    counts = write_export(arguments.out, int(arguments.megabytes * 1024 * 1024), arguments.seed)
    print(counts)


if __name__ == "__main__":
    main()
