"""The rules of an event that its types cannot state: configurable limits, storable text and
times, no self-reference. Pure; `events.codec` applies them to posted events and records alike.
"""

from datetime import UTC, datetime, timedelta

from events.catalog import AuthorBanned, CommentEdited, CommentPosted, Event
from events.fields import is_blank
from events.limits import Limits
from events.problems import Problem


def _text_problems(index: int, data: Event) -> list[Problem]:
    # JSON can carry NUL ("\u0000"), PostgreSQL text cannot. (msgspec itself refuses lone
    # surrogates and invalid UTF-8 as malformed JSON.)
    return [
        Problem(index, f"data.{name}", "NUL characters are not allowed")
        for name in data.__struct_fields__
        if isinstance(value := getattr(data, name), str) and "\x00" in value
    ]


def domain_problems(
    index: int, data: Event, limits: Limits | None, *, may_hold_nul: bool = True
) -> list[Problem]:
    """Rules the type system cannot state: configurable limits, storable text, self-references.

    `may_hold_nul=False` skips looking for NUL in every text field, for a caller that knows the
    JSON held none (JSON carries NUL only as the escape `\\u0000`)."""
    problems = _text_problems(index, data) if may_hold_nul else []
    if isinstance(data, CommentPosted | CommentEdited):
        if limits is not None and len(data.body) > limits.max_comment_chars:
            problems.append(
                Problem(
                    index, "data.body", f"Expected `str` of length <= {limits.max_comment_chars}"
                )
            )
        if is_blank(data.body):
            problems.append(
                Problem(
                    index,
                    "data.body",
                    "Expected text, got only whitespace or invisible characters",
                )
            )
    if isinstance(data, CommentPosted) and data.parent_id == data.comment_id:
        problems.append(Problem(index, "data.parent_id", "A comment cannot reply to itself"))
    if isinstance(data, AuthorBanned) and data.until is not None and limits is not None:
        problem = _until_problem(index, data.until, limits)
        if problem is not None:
            problems.append(problem)
    return problems


def _until_problem(index: int, until: datetime, limits: Limits) -> Problem | None:
    """A ban's end must be storable: not before the earliest time, and a valid instant in UTC."""
    try:
        until.astimezone(UTC)
    except OverflowError:
        pass
    else:
        if until >= limits.earliest_time:
            return None
    return Problem(
        index,
        "data.until",
        f"Expected a time from {limits.earliest_time.isoformat()} on, in a year UTC can hold,"
        f" got {until.isoformat()}",
    )


def time_problem(index: int, time: datetime, limits: Limits, now: datetime) -> Problem | None:
    """An event's time must lie between the configured earliest time and a little past now."""
    latest = now + timedelta(seconds=limits.max_future_s)
    if limits.earliest_time <= time <= latest:
        return None
    return Problem(
        index,
        "time",
        f"Expected a time from {limits.earliest_time.isoformat()} to {latest.isoformat()}"
        f" ({limits.max_future_s:g} s past now), got {time.isoformat()}; check the producer's"
        " clock and zone offset",
    )
