"""The formats `threadlog import` reads: one line per format, naming its reader.

A reader is `read(path: Path) -> Iterator[SourceItem]` (importers/source.py). It is imported
only when its format is asked for, so a format whose module is missing (or broken) fails with
its own message and no other format depends on it.
"""

import importlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Final, cast

from events import Envelope
from importers.source import SourceItem, SourceProblem

Reader = Callable[[Path], Iterator[SourceItem]]
LogReader = Callable[[Path], Iterator[Envelope | SourceProblem]]

READERS: Final[dict[str, str]] = {
    "disqus": "importers.disqus:read",
    "wordpress": "importers.wordpress:read",
    "isso": "importers.isso:read",
    "remark42": "importers.remark42:read",
    "commento": "importers.commento:read",
    "threadlog": "importers.threadlog_format:read_envelopes",
}
"""Format name -> `module:function` of its reader. Adding a format is adding a line here."""

LOG_FORMATS: Final = frozenset({"threadlog"})
"""Formats whose reader yields another installation's events (`Envelope | SourceProblem`),
judged where they were accepted: appended as they are, with no plan (threadlog/import_log.py)."""


class UnknownFormat(Exception):
    """The format is not one `threadlog import` reads, or its reader cannot be loaded."""


def reader_for(name: str, readers: Mapping[str, str] = READERS) -> Reader:
    """The reader of format `name`; UnknownFormat saying which formats exist, or why the
    format's reader could not be loaded."""
    return cast(Reader, _load(name, readers))


def log_reader_for(name: str, readers: Mapping[str, str] = READERS) -> LogReader:
    """The reader of a format of LOG_FORMATS, as `reader_for` finds it."""
    return cast(LogReader, _load(name, readers))


def _load(name: str, readers: Mapping[str, str]) -> object:
    target = readers.get(name)
    if target is None:
        raise UnknownFormat(
            f"{name!r} is not a format threadlog imports; choose one of {', '.join(readers)}"
        )
    module_name, _, function = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise  # the reader exists but something it imports is missing: a real bug
        raise UnknownFormat(
            f"the {name} reader ({module_name}) is not in this version of threadlog yet;"
            " nothing was read"
        ) from error
    reader = getattr(module, function, None)
    if not callable(reader):
        raise UnknownFormat(f"{module_name} has no function {function}(path) to read {name}")
    return reader
