"""RFC 9110's rules for a response built from bytes in hand: does the client already hold it
(`If-None-Match`), and does it take gzip (`Accept-Encoding`)?"""


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when `If-None-Match` names `etag` or is `*`: the client holds the representation,
    so the answer to a GET is 304. If-None-Match compares weakly (RFC 9110 13.1.2 and 13.1.3):
    `W/"x"` and `"x"` match each other."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == ours for tag in if_none_match.split(","))


def _weights(accept_encoding: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0  # an unreadable weight does not make a coding acceptable
        if coding:
            weights[coding.lower()] = q
    return weights


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when `Accept-Encoding` takes gzip: named with a weight above 0, or `*` above 0 with
    gzip not refused by name (RFC 9110 12.5.3)."""
    if not accept_encoding:
        return False
    weights = _weights(accept_encoding)
    if "gzip" in weights:
        return weights["gzip"] > 0
    if "x-gzip" in weights:
        return weights["x-gzip"] > 0
    return weights.get("*", 0.0) > 0
