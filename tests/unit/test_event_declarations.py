"""Every event type is declared whole: a type added to the catalog alone fails here, by name.

The catalog's class carries the scope that may post it and whether streams carry it; the fold
dispatches it (projections/threads/rules.py) and knows what it reads (projections/threads/write.py);
the tests generate it (tests/strategies.py); the contract publishes it (schemas/) and the README
documents it. This test walks every type and names each piece missing.
"""

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import msgspec

from events import EVENT_TYPES, Envelope, Event
from events.catalog import STREAMED_TYPES, PostScope
from events.contract import schema_path
from projections.policy import Policy
from projections.threads.rules import evolve
from projections.threads.state import State
from projections.threads.write import rows_to_load
from tests.strategies import EVENT_STRATEGIES
from threadlog.contract import DEFAULT_DIR

README = Path(__file__).resolve().parents[2] / "README.md"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _readme_types() -> set[str]:
    """The types named in the first column of the README's event types table."""
    text = README.read_text()
    table = text.split("### Event types", 1)[1].split("\n### ", 1)[0]
    return {
        name
        for line in table.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`(\w+)`", line.split("|")[1])
    }


def _value(info: msgspec.inspect.Type) -> object:
    match info:
        case msgspec.inspect.LiteralType():
            return info.values[0]
        case msgspec.inspect.BoolType():
            return False
        case msgspec.inspect.DateTimeType():
            return T0
        case _:
            return "x"  # every other required field is a string (an id, a name, a text)


def _instance(cls: type[Event]) -> Event:
    """The smallest event of `cls`: its required fields only (the rules may well reject it)."""
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    return msgspec.convert({f.name: _value(f.type) for f in info.fields if f.required}, cls)


def _missing(name: str, cls: type[Event], documented: set[str]) -> list[str]:
    """What the declaration of `name` lacks, each with where it goes."""
    missing = []
    if getattr(cls, "SCOPE", None) not in get_args(PostScope):
        missing.append("scope: SCOPE = 'produce' or 'moderate' on its class in events/catalog.py")
    streamed = getattr(cls, "STREAMED", None)
    if not isinstance(streamed, bool):
        missing.append("streams: STREAMED = True or False on its class in events/catalog.py")
    elif streamed and cls not in STREAMED_TYPES:
        missing.append("streams: only comment events can be streamed (they name a comment)")
    event = Envelope(id="e1", type=name, source="/test", time=T0, data=_instance(cls))
    try:
        evolve(State(), event, Policy())
    except AssertionError:
        missing.append("handler: a case in projections/threads/rules.py `_apply`")
    try:
        rows_to_load([event])
    except AssertionError:
        missing.append("preload: a case in projections/threads/write.py `rows_to_load`")
    if cls not in EVENT_STRATEGIES:
        missing.append("strategy: an entry of EVENT_STRATEGIES in tests/strategies.py")
    schema = schema_path(name, cls.VERSION)
    if not (DEFAULT_DIR / schema).is_file():
        missing.append(f"JSON Schema: schemas/{schema} (`threadlog schema`)")
    if not (DEFAULT_DIR / "samples" / f"{name}.v{cls.VERSION}.json").is_file():
        missing.append(f"sample: schemas/samples/{name}.v{cls.VERSION}.json")
    if name not in documented:
        missing.append("README: a row of the event types table")
    return missing


def test_every_event_type_is_declared_whole() -> None:
    """A type in the `Event` union has a scope, a streamed flag, a handler, a preload case, a
    hypothesis strategy, a JSON Schema, a sample and a README row; the failure names each gap."""
    documented = _readme_types()
    gaps = {
        name: missing
        for name, cls in EVENT_TYPES.items()
        if (missing := _missing(name, cls, documented))
    }
    assert not gaps, "incomplete event declarations:\n" + "\n".join(
        f"  {name}: " + "; ".join(missing) for name, missing in gaps.items()
    )
