"""Constrained field types shared by every event: ids, texts and timestamps.

msgspec checks these constraints while decoding only, so the domain never builds an event in code
without going through `events.codec` when the input comes from outside.
"""

from datetime import datetime
from typing import Annotated

from msgspec import Meta

ID_PATTERN = r"^[A-Za-z0-9._:-]+$"

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

Timestamp = Annotated[datetime, Meta(tz=True, description="RFC 3339 with a time zone offset")]
Source = Annotated[str, Meta(min_length=1, max_length=512)]
