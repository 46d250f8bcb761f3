"""The published contract: generated files up to date, every published version still readable."""

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from events import EVENT_TYPES, UndecodableRecord, decode_record, encode_json
from events.contract import schema_path
from events.upcast import RawData, UnknownVersion, dataschema, upcast, version_of
from threadlog.contract import DEFAULT_DIR, stale_files

SAMPLES = sorted((DEFAULT_DIR / "samples").glob("*.json"))


def _record(path: Path) -> tuple[list[tuple[str, bytes]], bytes]:
    sample: dict[str, Any] = json.loads(path.read_text())
    headers = [(name, value.encode()) for name, value in sample["headers"].items()]
    return headers, json.dumps(sample["value"]).encode()


def test_checked_in_schemas_match_the_code() -> None:
    """Changing an event's Struct without running `threadlog schema` fails the build."""
    assert stale_files(DEFAULT_DIR) == [], "run `threadlog schema` and commit schemas/"


def test_a_sample_of_every_published_version_is_checked_in() -> None:
    """Every version 1..current of every type has a sample record, so none can become unreadable
    unnoticed."""
    found = {path.name.split(".v")[0] + ".v" + path.name.split(".v")[1][0] for path in SAMPLES}
    wanted = {
        f"{name}.v{version}"
        for name, cls in EVENT_TYPES.items()
        for version in range(1, cls.VERSION + 1)
    }
    assert wanted <= found


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name)
def test_every_sample_decodes_to_the_current_version(path: Path) -> None:
    """Records of every version ever published decode, with the current code, to typed events;
    a current-version sample decodes to exactly its value."""
    headers, value = _record(path)
    envelope = decode_record(headers, value)
    cls = EVENT_TYPES[envelope.type]
    assert isinstance(envelope.data, cls)
    if dict(headers).get("ce_dataschema") == dataschema(envelope.type).encode():
        assert json.loads(encode_json(envelope.data)) == json.loads(value)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name)
def test_every_sample_validates_against_its_checked_in_schema(path: Path) -> None:
    """A consumer needs only schemas/: each sample's value validates against the JSON Schema of
    the version its record names (version 1 when it names none)."""
    sample = json.loads(path.read_text())
    type_ = sample["headers"]["ce_type"]
    version = version_of(type_, sample["headers"].get("ce_dataschema"))
    schema = json.loads((DEFAULT_DIR / schema_path(type_, version)).read_text())
    jsonschema.validate(sample["value"], schema)


def test_records_without_a_dataschema_are_version_1() -> None:
    """Records written before the version header existed are read as version 1."""
    assert version_of("CommentPosted", None) == 1
    assert version_of("CommentPosted", "urn:threadlog:CommentPosted:1") == 1


def test_a_newer_version_than_the_code_is_undecodable() -> None:
    """A consumer older than the record refuses it (to the dead letters) instead of guessing."""
    headers, value = _record(DEFAULT_DIR / "samples" / "CommentPosted.v1.json")
    newer = [
        (name, b"urn:threadlog:CommentPosted:2" if name == "ce_dataschema" else raw)
        for name, raw in headers
    ]
    with pytest.raises(UndecodableRecord, match="newer than this code reads"):
        decode_record(newer, value)
    with pytest.raises(UnknownVersion):
        version_of("CommentPosted", "urn:threadlog:CommentVoted:1")


def test_upcasters_run_in_order_from_the_record_version_to_the_current() -> None:
    """An old record goes through each step n -> n+1, once, in order; a missing step is an error
    rather than a silent pass-through."""

    def v1_to_v2(data: RawData) -> RawData:
        return {"body": data["text"], "steps": ["1->2"]}

    def v2_to_v3(data: RawData) -> RawData:
        return {**data, "steps": [*data["steps"], "2->3"]}

    steps = {("CommentPosted", 1): v1_to_v2, ("CommentPosted", 2): v2_to_v3}
    assert upcast("CommentPosted", 1, {"text": "hi"}, to=3, upcasters=steps) == {
        "body": "hi",
        "steps": ["1->2", "2->3"],
    }
    assert upcast("CommentPosted", 2, {"steps": []}, to=3, upcasters=steps) == {"steps": ["2->3"]}
    with pytest.raises(UnknownVersion, match="no upcaster for CommentPosted from version 2"):
        upcast("CommentPosted", 1, {"text": "hi"}, to=3, upcasters={("CommentPosted", 1): v1_to_v2})
