"""An export opens sealed records: clear text, no `sealedwith`, the version's own `dataschema`,
and an erased person's fields as the worker reads them, never ciphertext."""

from datetime import UTC, datetime

import msgspec
import pytest

from events import CommentPosted, Envelope, decode_record, encode_record
from events.sealing import ERASED_TEXT, DataKey, KeyMissing, new_data_key
from importers.threadlog_format import record_line
from threadlog.export.log_order import in_clear

AT = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
POSTED = Envelope(
    id="post-1",
    type="CommentPosted",
    source="/widget",
    time=AT,
    recordedtime=AT,
    data=CommentPosted(
        article_id="a1", comment_id="c1", author_id="mira", author_name="Mira", body="hello"
    ),
)
KEY = DataKey("k1", new_data_key())


def test_a_sealed_record_is_exported_as_the_clear_record_ingest_would_have_written() -> None:
    """Opened with its key, a sealed record's headers and value are those of the same event
    encoded in clear: the line is what an installation without sealing would export."""
    _, sealed_value, sealed_headers = encode_record(POSTED, {"mira": KEY})
    assert b"hello" not in sealed_value
    headers, value = in_clear(sealed_headers, sealed_value, {"k1": KEY.dek})
    _, clear_value, clear_headers = encode_record(POSTED)
    assert headers == clear_headers
    assert msgspec.json.decode(value) == msgspec.json.decode(clear_value)
    assert b"sealedwith" not in record_line(headers, value)


def test_an_erased_person_s_fields_are_exported_as_the_placeholder() -> None:
    """A destroyed key: the body reads `[erased]`, the name is absent, and no ciphertext is
    left in the line; the event still decodes."""
    _, sealed_value, sealed_headers = encode_record(POSTED, {"mira": KEY})
    headers, value = in_clear(sealed_headers, sealed_value, {"k1": None})
    line = record_line(headers, value)
    assert b'"enc"' not in line
    assert b"Mira" not in line
    data = decode_record(headers, value).data
    assert isinstance(data, CommentPosted)
    assert (data.body, data.author_name) == (ERASED_TEXT, None)


def test_a_record_in_clear_is_exported_as_it_is() -> None:
    """A record written with sealing off keeps its headers and value byte for byte."""
    _, value, headers = encode_record(POSTED)
    assert in_clear(headers, value, {}) == (headers, value)


def test_a_key_the_store_does_not_hold_is_not_read_as_erased() -> None:
    """Missing is not erased: the record is refused (the export counts and skips it)."""
    _, sealed_value, sealed_headers = encode_record(POSTED, {"mira": KEY})
    with pytest.raises(KeyMissing):
        in_clear(sealed_headers, sealed_value, {})
