"""Old versions of an event's data, brought up to the current version where records are read.

Handlers only ever see the current shape: a record written under version n of its type is decoded
as JSON, passed through the upcasters n -> n+1 -> ... -> current, then validated as the current
Struct. Each record names its version in the CloudEvents `dataschema` attribute
(`urn:threadlog:<type>:<version>`); records written before the attribute existed are version 1.

To publish version 2 of a type: change its Struct, set `VERSION: ClassVar[int] = 2`, add an
upcaster from 1 to `UPCASTERS`, add a sample of version 2 under schemas/samples/, run
`threadlog schema`. The rules of what needs a new version are in schemas/README.md.
"""

from collections.abc import Callable, Mapping
from typing import Any, Final

from events.catalog import EVENT_TYPES

RawData = dict[str, Any]
"""An event's data as plain JSON values, before validation."""

Upcaster = Callable[[RawData], RawData]
"""Turns the data of version n into the data of version n+1 (a pure function)."""

SCHEMA_PREFIX: Final = "urn:threadlog:"
SEALED_SUFFIX: Final = ":sealed"
"""Ends the `dataschema` of a record whose personal fields are sealed (events/sealing.py): its
schema is the version's, each personal field either its text or a SealedField."""

UPCASTERS: Mapping[tuple[str, int], Upcaster] = {}
"""(event type, version n) -> the upcaster to n+1. Empty: every type is still at version 1."""


class UnknownVersion(Exception):
    """A record names a version this code cannot read (newer, or malformed)."""


def current_version(type_: str) -> int:
    """The version of `type_` this code writes and its handlers see."""
    return EVENT_TYPES[type_].VERSION


def dataschema(type_: str, version: int | None = None) -> str:
    """The `dataschema` attribute naming a type's version (default: the current one)."""
    return f"{SCHEMA_PREFIX}{type_}:{current_version(type_) if version is None else version}"


def version_of(type_: str, schema: str | None) -> int:
    """The version a record's `dataschema` names; 1 when absent (records from before it)."""
    if schema is None:
        return 1
    schema = schema.removesuffix(SEALED_SUFFIX)
    prefix = f"{SCHEMA_PREFIX}{type_}:"
    number = schema.removeprefix(prefix)
    if number == schema or not number.isdigit() or int(number) < 1:
        raise UnknownVersion(f"dataschema {schema!r} is not {prefix}<version>")
    version = int(number)
    if version > current_version(type_):
        raise UnknownVersion(
            f"{type_} version {version} is newer than this code reads"
            f" ({current_version(type_)}); upgrade the consumer"
        )
    return version


def upcast(
    type_: str,
    version: int,
    data: RawData,
    *,
    to: int | None = None,
    upcasters: Mapping[tuple[str, int], Upcaster] = UPCASTERS,
) -> RawData:
    """`data` of `type_` at `version`, brought step by step to `to` (default: current)."""
    for step in range(version, current_version(type_) if to is None else to):
        try:
            data = upcasters[(type_, step)](data)
        except KeyError as error:
            raise UnknownVersion(f"no upcaster for {type_} from version {step}") from error
    return data
