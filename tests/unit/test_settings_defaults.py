"""Each configuration default is written once: in the component that uses it, or, for what only
the deployment knows (where Kafka and PostgreSQL are), in threadlog.settings. Everything else
takes it from there, so a default changed in one place cannot silently disagree with another.

Which component field each setting reaches is found by changing the setting and seeing what
changes, so a new setting is checked without being listed here."""

import ast
import inspect
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pytest

from projections.policy import Policy
from threadlog.settings import Settings

_MISSING = object()


@dataclass(frozen=True)
class Place:
    """A default as written in one class: its value and the expression that gives it."""

    owner: type
    name: str
    value: Any
    expression: ast.expr | None

    def __str__(self) -> str:
        return f"{self.owner.__name__}.{self.name}"


def components(settings: Settings) -> list[object]:
    """What each process is given, as threadlog.settings builds it."""
    worker = settings.worker()
    return [
        settings.ingest(),
        settings.query(),
        settings.auth(),
        settings.notifier(),
        settings.web(),
        worker,
        worker.policy(),
    ]


def leaves(component: object) -> Iterator[tuple[type, str, Any]]:
    """(class, field, value) of a settings object and of the settings objects it holds."""
    if isinstance(component, msgspec.Struct):
        names = [f.name for f in msgspec.structs.fields(component)]
    else:
        names = [n for n in vars(component) if not n.startswith("_")]
    for name in names:
        value = getattr(component, name)
        if isinstance(value, msgspec.Struct):
            yield from leaves(value)
        else:
            yield type(component), name, value


def changed(value: Any, name: str) -> Any:
    """Another valid value of the same type."""
    match value:
        case bool():
            return not value
        case int() | float():
            return value + 1
        case datetime():
            return value + timedelta(days=1)
        case str() if name == "banned_patterns":
            return '["x"]'
        case str():
            return value + "x"
    raise AssertionError(f"Settings.{name}: no way to change a {type(value).__name__}")


def reached(name: str) -> set[tuple[type, str]]:
    """The component fields that setting `name` flows into."""
    default = Settings()
    before = {(c, f): v for part in components(default) for c, f, v in leaves(part)}
    other = msgspec.structs.replace(default, **{name: changed(getattr(default, name), name)})
    after = {(c, f): v for part in components(other) for c, f, v in leaves(part)}
    return {key for key, value in after.items() if before[key] != value}


def place(owner: type, name: str) -> Place | None:
    """Where `owner` declares a default for `name`, or None when the field is required."""
    if isinstance(owner, type) and issubclass(owner, msgspec.Struct):
        [field] = [f for f in msgspec.structs.fields(owner) if f.name == name]
        value = field.default
        if value is msgspec.NODEFAULT:
            return None
    else:
        value = getattr(owner, name, _MISSING)
        if value is _MISSING:
            return None
    tree = ast.parse(textwrap.dedent(inspect.getsource(owner)))
    [expression] = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == name
    ]
    return Place(owner, name, value, expression)


_CONSTRUCTORS = {"timedelta", "frozenset", "tuple"}


def written_out(expression: ast.expr | None) -> bool:
    """True when the default is a literal, not taken from somewhere else (a name, a field)."""
    if expression is None:
        return False
    for node in ast.walk(expression):
        if isinstance(node, ast.Attribute):
            return False
        if isinstance(node, ast.Name) and node.id not in _CONSTRUCTORS:
            return False
    return True


def kind(value: Any) -> str:
    """What a default means, whatever its spelling: a duration in seconds or as a timedelta is
    one kind; a list as a JSON string for the environment and as a tuple are two."""
    if isinstance(value, timedelta | int | float) and not isinstance(value, bool):
        return "number"
    return type(value).__name__


SETTINGS = [f.name for f in msgspec.structs.fields(Settings)]


@pytest.mark.parametrize("name", SETTINGS)
def test_a_default_is_written_once(name: str) -> None:
    """Among Settings and the component fields a setting reaches, one place at most writes each
    kind of its default as a literal; the others take it from there."""
    places = [place(Settings, name)] + [place(c, f) for c, f in sorted(reached(name), key=str)]
    written: dict[str, list[str]] = {}
    for found in places:
        if found is not None and written_out(found.expression):
            written.setdefault(kind(found.value), []).append(str(found))
    assert {k: w for k, w in written.items() if len(w) > 1} == {}


@pytest.mark.parametrize("name", SETTINGS)
def test_settings_defaults_give_each_component_its_own_defaults(name: str) -> None:
    """Unset in the environment, a setting gives each component the default it declares."""
    built = {(c, f): v for part in components(Settings()) for c, f, v in leaves(part)}
    for owner, field in reached(name):
        declared = place(owner, field)
        if declared is not None:
            assert built[(owner, field)] == declared.value, f"{owner.__name__}.{field}"


def test_the_policy_is_reached_through_the_worker() -> None:
    """The walk covers the moderation policy (a dataclass, not a Struct)."""
    assert (Policy, "max_links") in reached("max_links")
