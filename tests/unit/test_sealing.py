"""Personal fields sealed under their owner's key (events/sealing.py, through the codec)."""

import json
from datetime import UTC, datetime
from typing import get_type_hints

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from events import (
    CommentFlagged,
    CommentPosted,
    Envelope,
    UndecodableRecord,
    decode_record,
    encode_record,
)
from events.catalog import EVENT_TYPES
from events.fields import CommentText, Name, Note
from events.sealing import (
    ERASED_TEXT,
    PERSONAL_FIELDS,
    SEALED_HEADER,
    SEALED_TEXT,
    DataKey,
    KeyMissing,
    new_data_key,
)
from threadlog.contract import DEFAULT_DIR

AT = datetime(2026, 12, 1, tzinfo=UTC)
SECRET = "Mira's unmistakable zebra-pancake theory"


def _posted(body: str = SECRET) -> Envelope:
    data = CommentPosted(
        article_id="a1", comment_id="c1", author_id="mira", body=body, author_name="Mira K."
    )
    return Envelope(id="e1", type="CommentPosted", source="/t", time=AT, data=data)


def _flag() -> Envelope:
    data = CommentFlagged(
        article_id="a1", comment_id="c1", flagger_id="olga", reason="other", note=SECRET
    )
    return Envelope(id="e2", type="CommentFlagged", source="/t", time=AT, data=data)


MIRA = DataKey("kmira", new_data_key())
OLGA = DataKey("kolga", new_data_key())


def test_sealed_record_holds_no_text_and_names_its_keys() -> None:
    """The record's value holds neither the body nor the name; ids stay readable; the
    `sealedwith` attribute names the author's key id."""
    key, value, headers = encode_record(_posted(), {"mira": MIRA})
    assert SECRET.encode() not in value
    assert b"Mira K." not in value
    assert key == b"a1"
    data = json.loads(value)
    assert data["author_id"] == "mira"
    assert data["body"]["kid"] == "kmira"
    assert dict(headers)[SEALED_HEADER] == b"kmira"


def test_a_field_is_sealed_under_the_key_of_whom_it_belongs_to() -> None:
    """A flag's note is the flagger's text: sealed under the flagger's key, not the author's."""
    _, value, headers = encode_record(_flag(), {"olga": OLGA})
    assert json.loads(value)["note"]["kid"] == "kolga"
    assert dict(headers)[SEALED_HEADER] == b"kolga"


def test_sealed_record_opens_with_the_key() -> None:
    """A reader with the key reads exactly what was posted."""
    _, value, headers = encode_record(_posted(), {"mira": MIRA})
    opened = decode_record(headers, value, {"kmira": MIRA.dek})
    assert opened == _posted()


def test_a_destroyed_key_reads_as_erased() -> None:
    """Once the key is destroyed, the body reads as the erased placeholder and the name as
    absent; the ids are still there."""
    _, value, headers = encode_record(_posted(), {"mira": MIRA})
    data = decode_record(headers, value, {"kmira": None}).data
    assert isinstance(data, CommentPosted)
    assert (data.body, data.author_name, data.author_id) == (ERASED_TEXT, None, "mira")


def test_a_reader_without_the_key_store_sees_placeholders() -> None:
    """Without access to the keys, a reader gets the ids and a sealed placeholder."""
    _, value, headers = encode_record(_posted(), {"mira": MIRA})
    data = decode_record(headers, value).data
    assert isinstance(data, CommentPosted)
    assert (data.body, data.author_name) == (SEALED_TEXT, None)


def test_a_key_missing_from_the_store_is_not_an_erasure() -> None:
    """A key the store does not hold (a restore from an older backup) raises: never erased."""
    _, value, headers = encode_record(_posted(), {"mira": MIRA})
    with pytest.raises(KeyMissing):
        decode_record(headers, value, {})


def test_a_ciphertext_moved_to_another_event_does_not_open() -> None:
    """The event id is associated data: a body copied into another event is refused."""
    _, value, headers = encode_record(_posted(), {"mira": MIRA})
    moved = [(n, b"e9" if n == "ce_id" else v) for n, v in headers]
    with pytest.raises(UndecodableRecord, match="does not open"):
        decode_record(moved, value, {"kmira": MIRA.dek})


def test_an_erased_subject_s_new_text_is_shredded_at_once() -> None:
    """Sealing for a subject whose key is destroyed uses a key nobody keeps: it reads erased."""
    _, value, headers = encode_record(_posted(), {"mira": DataKey("kmira", None)})
    assert SECRET.encode() not in value
    data = decode_record(headers, value, {"kmira": None}).data
    assert isinstance(data, CommentPosted)
    assert data.body == ERASED_TEXT


def test_every_personal_text_field_of_the_catalog_is_sealed() -> None:
    """Every field typed as a comment's text, a name or a note in events/catalog.py is listed
    as personal, except the article's byline (a published name with no subject id)."""
    personal = {(t, f) for t, fields in PERSONAL_FIELDS.items() for f, _ in fields}
    hints = {
        (name, f)
        for name, cls in EVENT_TYPES.items()
        for f, h in get_type_hints(cls, include_extras=True).items()
        if h in (CommentText, Name, Note, CommentText | None, Name | None, Note | None)
    }
    assert hints - {("ArticlePublished", "author")} <= personal
    assert hints  # the catalog has such fields: the check above cannot pass vacuously


def test_a_sealed_record_validates_against_the_schema_its_dataschema_names() -> None:
    """A consumer needs only schemas/: a sealed record names `urn:threadlog:<type>:1:sealed`,
    whose published schema (with SealedField.v1.json) its value validates against; the clear
    v1 schema refuses it; the current code still reads it as version 1."""
    _, value, headers = encode_record(_posted(), {"mira": MIRA})
    named = dict(headers)["ce_dataschema"].decode()
    assert named == "urn:threadlog:CommentPosted:1:sealed"
    folder = DEFAULT_DIR / "events"
    resources = [
        Resource.from_contents(json.loads(path.read_text())) for path in folder.glob("*.json")
    ]
    registry: Registry = Registry().with_resources((str(r.id()), r) for r in resources)
    schema = registry.contents(named)
    Draft202012Validator(schema, registry=registry).validate(json.loads(value))
    clear = registry.contents("urn:threadlog:CommentPosted:1")
    assert not Draft202012Validator(clear, registry=registry).is_valid(json.loads(value))
    assert decode_record(headers, value, {"kmira": MIRA.dek}) == _posted()
