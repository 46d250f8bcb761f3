"""A tiny export format for tests and the bench: SourceItems as JSON lines.

Each line is `{"article": {...}}`, `{"comment": {...}}` or `{"problem": {...}}` with the fields
of importers/source.py. Registered for a test in place of a real format (READERS: as `disqus`,
since `importedfrom` names a format the log knows), it drives the import pipeline without any
real format's reader.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path

import msgspec

from importers.source import SourceArticle, SourceComment, SourceItem, SourceProblem

READERS = {"disqus": "tests.import_items:read"}


class _Line(msgspec.Struct, omit_defaults=True):
    article: SourceArticle | None = None
    comment: SourceComment | None = None
    problem: SourceProblem | None = None


_decoder = msgspec.json.Decoder(_Line)
_encoder = msgspec.json.Encoder()


def read(path: Path) -> Iterator[SourceItem]:
    """The items of a file `write` wrote, in its order."""
    with path.open("rb") as file:
        for line in file:
            item = _decoder.decode(line)
            found = item.article or item.comment or item.problem
            assert found is not None
            yield found


def write(path: Path, items: Iterable[SourceItem]) -> None:
    """Write `items`, one a line."""
    with path.open("wb") as file:
        for item in items:
            if isinstance(item, SourceArticle):
                line = _Line(article=item)
            elif isinstance(item, SourceComment):
                line = _Line(comment=item)
            else:
                line = _Line(problem=item)
            file.write(_encoder.encode(line) + b"\n")
