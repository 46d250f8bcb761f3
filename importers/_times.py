"""Times as the exports write them, read as UTC."""

from datetime import UTC, datetime


def utc(text: str | None) -> datetime | None:
    """`text` (ISO 8601 / RFC 3339, "T" or a space between date and time) as an aware UTC
    datetime; a time without a zone is UTC (Disqus, WordPress GMT dates). None when it is
    missing or no date at all (WordPress's `0000-00-00 00:00:00`)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
