"""A canonical digest of a projection's rows: equal rows, equal digest, on any machine.

It hashes the `Snapshot` (every table as sorted, UTC-normalized tuples), so two copies (live and
rebuilt, or two deployments) compare with one line, and a digest of the pure fold compares too.
"""

import hashlib

import msgspec

from projections.snapshot import Snapshot

_encoder = msgspec.json.Encoder(order="sorted")


def digest(snapshot: Snapshot) -> str:
    """`sha256:<hex>` over the tables in name order, each row as JSON (timestamps RFC 3339)."""
    h = hashlib.sha256()
    for table in sorted(snapshot):
        h.update(table.encode() + b"\n")
        for row in snapshot[table]:
            h.update(_encoder.encode(row) + b"\n")
    return f"sha256:{h.hexdigest()}"


def differences(actual: Snapshot, expected: Snapshot, *, limit: int = 3) -> list[str]:
    """One line per table that differs: rows only in `actual`, only in `expected`, examples."""
    lines = []
    for table in sorted(set(actual) | set(expected)):
        have, want = set(actual.get(table, [])), set(expected.get(table, []))
        extra, missing = sorted(have - want, key=str), sorted(want - have, key=str)
        if extra or missing:
            lines.append(
                f"{table}: {len(extra)} row(s) not in the fold, {len(missing)} missing;"
                f" e.g. extra {extra[:limit]}, missing {missing[:limit]}"
            )
    return lines
