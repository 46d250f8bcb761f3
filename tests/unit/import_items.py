"""What the importer readers' tests share about the items a reader yields."""

from collections.abc import Iterable

from importers.source import SourceItem, SourceProblem


def only_fatal(items: Iterable[SourceItem]) -> SourceProblem:
    """The one item a reader yielded, asserted to be a fatal problem (it read nothing else)."""
    listed = list(items)
    assert len(listed) == 1, listed
    problem = listed[0]
    assert isinstance(problem, SourceProblem)
    assert problem.fatal
    return problem
