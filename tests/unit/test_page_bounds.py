"""A page's cost is bounded whatever its parameters, and equal pages share one cache key."""

import itertools

from services.query.page_bounds import PageShape, bounded


def test_every_parameter_combination_fits_the_bound() -> None:
    """For every limit, replies and depth the API accepts, the shape built holds at most the
    bound's comments, and a shape that fits is left as asked."""
    for limit, per_level, depth in itertools.product(range(1, 201), range(21), range(11)):
        for bound in (10_000, 40):
            shape = bounded(limit, per_level, depth, bound)
            asked = PageShape(limit, per_level, depth)
            assert shape.worst_case() <= max(bound, limit), (asked, shape)
            assert shape.limit == limit
            if per_level and depth and asked.worst_case() <= bound:
                assert shape == asked


def test_parameters_that_ask_the_same_page_come_out_equal() -> None:
    """No replies inlined at any depth, or no depth with any replies, is one shape; so are the
    depths a bound cuts to the same level."""
    assert {bounded(50, 0, d, 10_000) for d in range(11)} == {PageShape(50, 0, 0)}
    assert {bounded(50, r, 0, 10_000) for r in range(21)} == {PageShape(50, 0, 0)}
    assert {bounded(200, 20, d, 10_000) for d in range(1, 11)} == {PageShape(200, 20, 1)}
    assert bounded(50, 5, 3, 10_000) == PageShape(50, 5, 3), "the default page is left whole"
