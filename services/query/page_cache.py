"""Thread pages kept encoded, gzipped once, and served again until their article changes.

A viral story is read thousands of times a second and written a few times: each read rebuilding
the page (a recursive query of hundreds of rows, then JSON) is the cost that bounded reads. A page
is stored with the article's `version` (the id of the last transaction that changed its thread)
and the positions generation it was checked at. While no batch has been applied since, a hit costs
no query at all; after one, one indexed lookup of the version tells whether the page still holds
(most batches touch other articles). The version is read before the page, so a page is never
labelled newer than it is. `?after=` waits for the positions first, so it still reads its write.
Reading from a replica, the positions, the versions and the pages all come from it, so this
holds there too.

Bounded by entries and by bytes (gzip copies counted), least recently used first out, so memory
stays flat once the cache is full.
"""

import gzip
import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from litestar import Response

from services.http_semantics import none_match

_GZIP_MIN_BYTES = 1024


@dataclass
class CachedPage:
    """One encoded page and what it was built from."""

    body: bytes
    version: int | None
    generation: int
    etag: str
    gzipped: bytes | None = None
    grew: Callable[[int], None] | None = None
    """Told the size of the gzip copy once made, so the cache's bound counts it too."""

    @property
    def size(self) -> int:
        """Bytes held: the body and its gzip copy."""
        return len(self.body) + len(self.gzipped or b"")

    def response(self, request_headers: Mapping[str, str]) -> Response[bytes]:
        """The page as a response to a request with these headers: 304 when the client holds it
        (`If-None-Match`), gzip when it takes gzip (`Accept-Encoding`)."""
        headers = {"ETag": self.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
        if none_match(request_headers.get("if-none-match"), self.etag):
            return Response(b"", status_code=304, headers=headers)
        gzip_ok = "gzip" in request_headers.get("accept-encoding", "")
        if gzip_ok and len(self.body) >= _GZIP_MIN_BYTES:
            if self.gzipped is None:
                self.gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
                if self.grew is not None:
                    self.grew(len(self.gzipped))
            headers["Content-Encoding"] = "gzip"
            return Response(
                self.gzipped, status_code=200, media_type="application/json", headers=headers
            )
        return Response(self.body, status_code=200, media_type="application/json", headers=headers)


class PageCache:
    """Pages by request key, least recently used dropped first past `max_entries` or `max_bytes`."""

    def __init__(self, max_entries: int = 4096, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._pages: OrderedDict[Hashable, CachedPage] = OrderedDict()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        # Names this process in the ETags of pages versioned by its own generation counter.
        self._process = secrets.token_hex(4)
        self.hits = 0
        self.revalidated = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._pages)

    def current(self, key: Hashable, generation: int) -> CachedPage | None:
        """The page if nothing was applied since it was last checked."""
        page = self._pages.get(key)
        if page is None or page.generation != generation:
            return None
        self._pages.move_to_end(key)
        self.hits += 1
        return page

    def still(self, key: Hashable, version: int, generation: int) -> CachedPage | None:
        """The page if its article is still at `version`, now checked at `generation`."""
        page = self._pages.get(key)
        if page is None or page.version is None or page.version != version:
            return None
        page.generation = max(page.generation, generation)
        self._pages.move_to_end(key)
        self.revalidated += 1
        return page

    def put(self, key: Hashable, body: bytes, version: int | None, generation: int) -> CachedPage:
        """Keep a freshly built page (replacing an older one under the same key). A page with no
        `version` holds only until the next generation, and its ETag is this process's alone."""
        self.misses += 1
        digest = hashlib.blake2b(repr(key).encode(), digest_size=6).hexdigest()
        tag = f"{version:x}" if version is not None else f"{self._process}.{generation:x}"
        page = CachedPage(body, version, generation, f'W/"{tag}-{digest}"', grew=self._grow)
        old = self._pages.pop(key, None)
        if old is not None:
            old.grew = None
            self._bytes -= old.size
        self._pages[key] = page
        self._grow(len(body))
        return page

    @property
    def bytes(self) -> int:
        """Bytes held by every page, gzip copies included."""
        return self._bytes

    def _grow(self, size: int) -> None:
        self._bytes += size
        while self._pages and (
            len(self._pages) > self._max_entries or self._bytes > self._max_bytes
        ):
            _, dropped = self._pages.popitem(last=False)
            dropped.grew = None  # a page still being served must not count against us again
            self._bytes -= dropped.size
