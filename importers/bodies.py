"""A comment's text as the log stores it: no characters PostgreSQL or JSON cannot hold, within
the length limit, and not blank.

Ingest refuses NUL and blank bodies and bodies over the limit; an import repairs what it can
instead, and says what it did, so that one bad comment does not stop a thread.
"""

import re
from typing import Final, NamedTuple

from events.fields import is_blank

TRUNCATION_MARK: Final = "\n\n[… truncated at import]"
"""Ends a body cut at the limit, so that readers see it was cut, not that the author stopped."""

_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""NUL and the other C0 controls but tab, line feed and carriage return (XML 1.0 forbids them,
PostgreSQL refuses NUL), lone surrogates (not UTF-8), and the noncharacters U+FFFE, U+FFFF."""


class Body(NamedTuple):
    """A body fit for the log, and what it took."""

    text: str
    removed: int
    """Invalid characters removed."""
    truncated: bool
    blank: bool
    """Nothing visible is left: the comment cannot be posted with it."""


def clean_body(text: str, max_chars: int) -> Body:
    """`text` without invalid characters, cut at `max_chars` with TRUNCATION_MARK."""
    text, removed = _INVALID.subn("", text)
    truncated = len(text) > max_chars
    if truncated:
        text = text[: max_chars - len(TRUNCATION_MARK)] + TRUNCATION_MARK
    return Body(text, removed, truncated, is_blank(text))


def clean_line(text: str | None, max_chars: int) -> str | None:
    """A one-line field (a name, a title): invalid characters removed, cut at `max_chars`,
    None when nothing visible is left."""
    if text is None:
        return None
    text = _INVALID.sub("", text).strip()[:max_chars]
    return None if is_blank(text) else text
