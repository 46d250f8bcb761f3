"""What is wrong with an event, said so that a producer can fix it without reading our code."""

import re

import msgspec

# msgspec names the missing or unknown field in the message, not in the path; we move it to the
# path so that `field` always points at the field to fix.
_NAMED_FIELD = re.compile(r"^Object (?:missing required|contains unknown) field `([^`]+)`$")


class Problem(msgspec.Struct, frozen=True):
    """One error in one event of a request: which event, which field, what is wrong."""

    index: int
    field: str
    message: str


class InvalidEvents(Exception):
    """A request held one or more invalid events; every problem found is listed."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            f"{len(problems)} invalid event(s): {problems[0].field}: {problems[0].message}"
        )
        self.problems = problems


class MalformedRequest(Exception):
    """The request body is not JSON, or not a JSON object or array of objects."""


class UndecodableRecord(Exception):
    """A Kafka record that is not a valid threadlog event; it belongs in the dead-letter topic."""


def problem_from_validation(index: int, error: msgspec.ValidationError, prefix: str) -> Problem:
    """Split msgspec's "message - at `$.path`" into a field path and a message.

    `prefix` places the path of a nested decode (the `data` object) inside the envelope.
    """
    text = str(error)
    message, sep, where = text.rpartition(" - at `")
    if not sep:
        message, where = text, "$`"
    path = where.rstrip("`").removeprefix("$").removeprefix(".")
    named = _NAMED_FIELD.match(message)
    if named:
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    if path.startswith("["):
        field = f"{prefix}{path}" if prefix else path
    else:
        field = ".".join(part for part in (prefix, path) if part)
    return Problem(index=index, field=field or "$", message=message)
