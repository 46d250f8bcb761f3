"""Constrained field types shared by every event: ids, texts and timestamps.

msgspec checks these constraints while decoding only, so the domain never builds an event in code
without going through `events.codec` when the input comes from outside.
"""

import unicodedata
from datetime import datetime
from typing import Annotated

from msgspec import Meta

# msgspec matches with Python's `re.search`, where `$` also matches just before a final newline,
# so "mira\n" passed for an id. `(?!\n)` closes that; in JSON Schema's ECMA-262 regexes `$` is
# already the very end, so the published pattern means the same to every validator.
ID_PATTERN = r"^[A-Za-z0-9._:-]+$(?!\n)"

Id = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        description="1-128 characters of [A-Za-z0-9._:-]",
    ),
]
"""An identifier chosen by the producer: an article, comment or author id, or an event id."""

Title = Annotated[str, Meta(min_length=1, max_length=500)]
Url = Annotated[str, Meta(min_length=1, max_length=2048)]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Note = Annotated[str, Meta(min_length=1, max_length=2000)]
ArticleText = Annotated[str, Meta(max_length=200_000)]

# The static bound is a ceiling for the log; the configurable, usually tighter, limit is checked
# by `events.codec` so that lowering it later never turns events already in the log into poison.
CommentText = Annotated[str, Meta(min_length=1, max_length=100_000)]

ImportedScore = Annotated[
    int,
    Meta(
        ge=-1_000_000_000,
        le=1_000_000_000,
        description="votes the source counted without voters (up minus down)",
    ),
]
"""A score a source counted: bounded so that it and the votes added to it fit the score column."""

Timestamp = Annotated[datetime, Meta(tz=True, description="RFC 3339 with a time zone offset")]

# RFC 3986 URI-reference (appendix A), spelled out so that msgspec checks it while decoding and
# the JSON Schema publishes the same rule. ASCII only: anything else must be percent-encoded.
_PLAIN = "A-Za-z0-9._~!$&'()*+,;="  # unreserved and sub-delims; "-" goes last in each class
_PCT = "%[0-9A-Fa-f]{2}"
_PCHAR = f"(?:[{_PLAIN}:@-]|{_PCT})"
_QUERY = f"(?:[{_PLAIN}:@/?-]|{_PCT})*"
_H16 = "[0-9A-Fa-f]{1,4}"
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_LS32 = f"(?:{_H16}:{_H16}|{_OCTET}(?:\\.{_OCTET}){{3}})"
_IPV6 = "|".join(
    [
        f"(?:{_H16}:){{6}}{_LS32}",
        f"::(?:{_H16}:){{5}}{_LS32}",
        f"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
        *(f"(?:(?:{_H16}:){{0,{n}}}{_H16})?::(?:{_H16}:){{{3 - n}}}{_LS32}" for n in range(1, 3)),
        f"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
        f"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
        f"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
        f"(?:(?:{_H16}:){{0,6}}{_H16})?::",
    ]
)
# An IP literal is an IPv6 address or an IPvFuture, exactly: `//[13.4]/` is not a URI.
_HOST = f"(?:\\[(?:{_IPV6}|v[0-9A-Fa-f]+\\.[{_PLAIN}:-]+)\\]|(?:[{_PLAIN}-]|{_PCT})*)"
_AUTHORITY = f"(?:(?:[{_PLAIN}:-]|{_PCT})*@)?{_HOST}(?::[0-9]*)?"
_PATH_ABEMPTY = f"(?:/{_PCHAR}*)*"
_ROOTED = f"//{_AUTHORITY}{_PATH_ABEMPTY}|/(?:{_PCHAR}+{_PATH_ABEMPTY})?"
_HIER_PART = f"(?:{_ROOTED}|{_PCHAR}+{_PATH_ABEMPTY})?"
_RELATIVE_PART = (
    f"(?:{_ROOTED}|(?:[{_PLAIN}@-]|{_PCT})+{_PATH_ABEMPTY})?"  # no ":" in the first segment
)
URI_REFERENCE_PATTERN = (
    f"^(?:[A-Za-z][A-Za-z0-9+.-]*:{_HIER_PART}|{_RELATIVE_PART})"
    f"(?:\\?{_QUERY})?(?:#{_QUERY})?$(?!\\n)"
)

Source = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=512,
        pattern=URI_REFERENCE_PATTERN,
        description="A URI-reference (RFC 3986) naming the producer, e.g. /cms",
        extra_json_schema={"format": "uri-reference"},
    ),
]
"""CloudEvents `source`: a non-empty URI-reference. Checked where producers post; records
already in the log are read with `LoggedSource`, so that tightening it poisons none of them."""

LoggedSource = Annotated[str, Meta(min_length=1, max_length=512)]
"""`source` as records hold it: ingest checked it as a URI-reference only from 2026 on."""


# Characters that show nothing by themselves: controls and format characters (zero-width spaces
# and joiners, word joiner, BOM, soft hyphen, bidi marks, invisible operators, tags), separators,
# and the fillers, blanks and selectors that fonts draw empty.
_BLANK_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
_BLANK_CHARACTERS = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


def is_blank(text: str) -> bool:
    """Whether `text` would render as nothing: only whitespace or invisible characters.

    Stops at the first visible character, so it costs next to nothing on real text.
    """
    return all(
        char.isspace()
        or char in _BLANK_CHARACTERS
        or unicodedata.category(char) in _BLANK_CATEGORIES
        for char in text
    )
