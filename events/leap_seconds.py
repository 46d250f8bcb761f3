"""Leap seconds: RFC 3339 allows `23:59:60` (UTC) at the end of a month; Python's datetime
cannot hold a second 60, nor can PostgreSQL's timestamptz keep it apart from the next day.

Such a time is kept as the last microsecond before it, `23:59:59.999999` of the same minute and
zone offset: it sorts after every earlier instant and before the next day's first one, which is
all the rules need. A second 60 anywhere else stays invalid, as msgspec finds it.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import msgspec

_T = TypeVar("_T")

# A second 60, with the minute and the zone kept apart to rebuild the text.
_LEAP_SECOND = re.compile(r"(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}):60(?:\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
# msgspec's message for a time it cannot parse, at a top-level field (where every time sits).
_INVALID_TIME = re.compile(r"^Invalid RFC3339 encoded datetime - at `\$\.(\w+)`$")

_encoder = msgspec.json.Encoder()


def before_leap_second(text: str) -> str | None:
    """`text` with its leap second as `:59.999999`, or None when it is not a leap second.

    RFC 3339 5.7: a leap second is the last second of a UTC month ("in time zones other than Z,
    the leap second point is shifted by the zone offset"). Future leap seconds are not known in
    advance, so any month's end is taken, not only the ones IERS has used so far.
    """
    found = _LEAP_SECOND.fullmatch(text)
    if found is None:
        return None
    minute, zone = found.groups()
    try:
        last = datetime.fromisoformat(f"{minute}:59{'+00:00' if zone in 'Zz' else zone}")
        utc = last.astimezone(UTC)
        month_ends = (utc + timedelta(seconds=1)).day == 1
    except (ValueError, OverflowError):
        return None
    if not month_ends or (utc.hour, utc.minute) != (23, 59):
        return None
    return f"{minute}:59.999999{zone}"


def decode(decoder: msgspec.json.Decoder[_T], raw: bytes | memoryview) -> _T:
    """`decoder.decode(raw)`, a leap second in a top-level time taken as `before_leap_second`.

    Costs nothing on valid input: the JSON is read again only when msgspec refused a time.
    """
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as error:
        named = _INVALID_TIME.match(str(error))
        if named is None:
            raise
        fields = msgspec.json.decode(raw, type=dict[str, Any])
        value = fields.get(named.group(1))
        instead = before_leap_second(value) if isinstance(value, str) else None
        if instead is None:
            raise
        fields[named.group(1)] = instead
    # Each round replaces one field, so this ends after as many rounds as there are leap seconds.
    return decode(decoder, _encoder.encode(fields))
