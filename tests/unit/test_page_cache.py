"""The page cache's rules: when a page is served again, revalidated, replaced or dropped."""

import gzip

from services.query.page_cache import PageCache


def test_a_page_is_current_only_at_the_generation_it_was_checked_at() -> None:
    cache = PageCache()
    cache.put("k", b"{}", version=7, generation=1)
    assert cache.current("k", 1) is not None
    assert cache.current("k", 2) is None, "a batch applied since: the page must be checked"
    assert cache.still("k", 7, 2) is not None, "same version: the page holds"
    assert cache.current("k", 2) is not None, "and is current at the new generation"
    assert cache.still("k", 8, 3) is None, "the article changed: the page must be rebuilt"
    assert (cache.hits, cache.revalidated, cache.misses) == (2, 1, 1)


def test_the_least_recently_used_pages_go_first_past_either_bound() -> None:
    cache = PageCache(max_entries=2, max_bytes=10)
    cache.put("a", b"1234", 1, 0)
    cache.put("b", b"1234", 1, 0)
    assert cache.current("a", 0) is not None  # a is now the most recently used
    cache.put("c", b"1234", 1, 0)
    assert cache.current("b", 0) is None
    assert len(cache) == 2
    cache.put("d", b"123456789", 1, 0)
    assert len(cache) == 1
    assert cache.current("d", 0) is not None


def test_a_response_is_gzipped_on_request_and_304_for_the_etag_held() -> None:
    body = b'{"comments": [' + b'{"body": "agree"},' * 200 + b"{}]}"
    page = PageCache().put(("art", "oldest"), body, version=0x2A, generation=0)
    assert page.etag.startswith('W/"2a-')
    plain = page.response({})
    assert plain.content == body
    assert plain.status_code == 200
    zipped = page.response({"accept-encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert isinstance(zipped.content, bytes)
    assert gzip.decompress(zipped.content) == body
    held, other = {"if-none-match": page.etag}, {"if-none-match": 'W/"other"'}
    assert page.response({"accept-encoding": "gzip"} | held).status_code == 304
    assert page.response({"accept-encoding": "gzip"} | other).status_code == 200


def test_a_page_without_version_holds_one_generation_under_this_process_etag() -> None:
    one, other = PageCache(), PageCache()
    page = one.put(("timeline", "ann"), b"[]", None, generation=3)
    assert one.current(("timeline", "ann"), 3) is page
    assert one.still(("timeline", "ann"), 3, 4) is None, "no version to revalidate by"
    assert page.etag != other.put(("timeline", "ann"), b"[]", None, generation=3).etag


def test_the_gzip_copy_counts_against_the_bound() -> None:
    cache = PageCache(max_bytes=4000)
    body = b'{"comments": [' + b'{"body": "agree"},' * 100 + b"{}]}"
    first = cache.put("a", body, 1, 0)
    cache.put("b", body, 1, 0)
    assert cache.bytes == 2 * len(body)
    first.response({"accept-encoding": "gzip"})
    assert first.gzipped is not None
    assert cache.bytes == 2 * len(body) + len(first.gzipped)
    cache.put("c", body, 1, 0)  # past 4,000 bytes: the least recently used go
    assert cache.current("a", 0) is None
    assert cache.bytes <= 4000
