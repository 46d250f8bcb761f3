"""Pages and modules as the web process serves them: each representation made once (its bytes,
its gzip copy, its ETag) and answered by RFC 9110's rules: 304 when the client holds it, gzip
when it takes gzip."""

import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from litestar import Response

from services.conditional import accepts_gzip, none_match

STATIC = files("services.web") / "static"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


@dataclass(frozen=True)
class Asset:
    """One representation: its bytes, its gzip copy (None when gzip would not be smaller), its
    media type and a weak ETag (weak: the plain and the gzip bytes share it)."""

    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str

    @classmethod
    def of(cls, body: bytes, media_type: str) -> "Asset":
        """Compress and tag `body` once."""
        zipped = gzip.compress(body, compresslevel=9, mtime=0)
        digest = hashlib.sha256(body).hexdigest()[:20]
        return cls(body, zipped if len(zipped) < len(body) else None, media_type, f'W/"{digest}"')

    def response(
        self, request_headers: Mapping[str, str], headers: Mapping[str, str] | None = None
    ) -> Response[bytes]:
        """The answer to a GET with `request_headers`: 304, gzip or plain, each with the ETag."""
        # no-cache: a browser keeps the module but asks again, and gets a 304 while it holds.
        out = {"ETag": self.etag, "Vary": "Accept-Encoding", "Cache-Control": "no-cache"}
        out.update(headers or {})
        if none_match(request_headers.get("if-none-match"), self.etag):
            return Response(b"", status_code=304, headers=out)
        if self.gzipped is not None and accepts_gzip(request_headers.get("accept-encoding")):
            out["Content-Encoding"] = "gzip"
            return Response(self.gzipped, media_type=self.media_type, headers=out)
        return Response(self.body, media_type=self.media_type, headers=out)


@cache
def static_assets() -> dict[str, Asset]:
    """Every file of services/web/static by name, read and compressed on the first call (the
    app makes it at start); the files never change while the process runs."""
    return {
        entry.name: Asset.of(entry.read_bytes(), MEDIA_TYPES.get(f".{ext}", "text/plain"))
        for entry in STATIC.iterdir()
        if entry.is_file() and (ext := entry.name.rpartition(".")[2])
    }
