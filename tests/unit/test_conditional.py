"""RFC 9110's If-None-Match and Accept-Encoding rules, as the web process applies them."""

import pytest

from services.conditional import accepts_gzip, none_match

ETAG = 'W/"abc"'


@pytest.mark.parametrize(
    ("header", "held"),
    [
        ('W/"abc"', True),
        ('"abc"', True),  # weak comparison: the strong form of a weak tag matches
        ('"x", W/"abc"', True),
        ("*", True),
        ('"abcd"', False),
        ('W/"ab"', False),
        ("", False),
        (None, False),
    ],
)
def test_if_none_match_compares_weakly_and_star_matches(header: str | None, held: bool) -> None:
    """A listed tag matches by weak comparison, `*` matches any representation, and a tag that
    merely contains ours (or is contained in it) does not."""
    assert none_match(header, ETAG) is held


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("*", True),
        ("identity", False),
        ("gzip;q=0", False),
        ("*, gzip;q=0", False),
        ("*;q=0", False),
        ("x-gzip", True),
        ("gzip;q=nonsense", False),
        ("", False),
        (None, False),
    ],
)
def test_gzip_is_taken_only_when_accepted_with_a_weight(header: str | None, takes: bool) -> None:
    """gzip (or `*`) with a weight above 0 takes gzip; q=0 refuses it, even beside `*`."""
    assert accepts_gzip(header) is takes
