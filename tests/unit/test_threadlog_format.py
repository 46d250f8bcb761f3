"""threadlog's export format: a record as a line and back, and every way a line can be wrong."""

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from events import CommentPosted, Envelope, decode_record, encode_record
from events.sealing import DataKey, new_data_key
from importers import threadlog_format
from importers.source import SourceProblem
from importers.threadlog_format import read_envelopes, record_line
from threadlog.contract import DEFAULT_DIR

SAMPLES = sorted((DEFAULT_DIR / "samples").glob("*.json"))
AT = datetime(2026, 12, 1, 21, 0, 0, 123456, tzinfo=UTC)


def _sample(path: Path) -> tuple[list[tuple[str, bytes]], bytes]:
    sample: dict[str, Any] = json.loads(path.read_text())
    headers = [(name, value.encode()) for name, value in sample["headers"].items()]
    return headers, json.dumps(sample["value"]).encode()


def _posted(number: int, **changes: Any) -> Envelope:
    envelope = Envelope(
        id=f"post-{number}",
        type="CommentPosted",
        source="/widget",
        time=datetime(2019, 6, 16, 10, number, tzinfo=UTC),
        recordedtime=AT,
        data=CommentPosted(
            article_id="a1", comment_id=f"c{number}", author_id="mira", body=f"text {number}"
        ),
    )
    return msgspec.structs.replace(envelope, **changes)


def _line(envelope: Envelope, extra: list[tuple[str, bytes]] | None = None) -> bytes:
    _, value, headers = encode_record(envelope)
    return record_line(headers + (extra or []), value)


def _read(path: Path) -> list[Envelope | SourceProblem]:
    return list(read_envelopes(path))


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_every_published_record_reads_back_as_the_log_decodes_it(
    path: Path, tmp_path: Path
) -> None:
    """A record of every published version, exported and read back, is the envelope the worker
    decodes from it (the old version upcast where it is read, as on Kafka)."""
    headers, value = _sample(path)
    file = tmp_path / "export.jsonl"
    file.write_bytes(record_line(headers, value))
    assert _read(file) == [decode_record(headers, value)]


def test_a_line_keeps_every_attribute_as_the_record_holds_it(tmp_path: Path) -> None:
    """ids, times (their text), recordedtime and extension attributes (the import mark, the
    key that posted) are copied into the line as they are, and come back as the same envelope,
    import mark included."""
    envelope = _posted(
        1, time=datetime.fromisoformat("2019-06-16T12:49:00+02:00"), importedfrom="disqus"
    )
    line = _line(envelope, [("ce_producerkey", b"cms")])
    fields = json.loads(line)
    assert fields["id"] == "post-1"
    assert fields["time"] == "2019-06-16T12:49:00+02:00"
    assert fields["recordedtime"] == "2026-12-01T21:00:00.123456+00:00"
    assert fields["producerkey"] == "cms"
    assert fields["importedfrom"] == "disqus"
    assert fields["datacontenttype"] == "application/json"
    assert fields["data"]["body"] == "text 1"
    assert line.count(b"\n") == 1
    assert line.endswith(b"\n")
    file = tmp_path / "export.jsonl"
    file.write_bytes(line)
    assert _read(file) == [envelope]


def test_pretty_printed_data_stays_on_one_line(tmp_path: Path) -> None:
    """A producer's record whose value holds newlines still makes one line."""
    _, value, headers = encode_record(_posted(1))
    pretty = msgspec.json.format(value, indent=2)
    assert b"\n" in pretty
    line = record_line(headers, pretty)
    assert line.count(b"\n") == 1
    file = tmp_path / "export.jsonl"
    file.write_bytes(line)
    assert _read(file) == [_posted(1)]


def test_a_bad_line_is_reported_by_number_and_the_rest_is_read(tmp_path: Path) -> None:
    """Lines that are not events are skipped with a problem naming the line; blank lines are
    nothing; the lines around them are read."""
    invalid = json.loads(_line(_posted(3)))
    invalid["data"]["body"] = ""
    not_string = json.loads(_line(_posted(4)))
    not_string["producerkey"] = 7
    no_data = json.loads(_line(_posted(5)))
    del no_data["data"]
    file = tmp_path / "export.jsonl"
    file.write_bytes(
        _line(_posted(1))
        + b"{not json\n"
        + b"\n"
        + json.dumps(invalid).encode()
        + b"\n"
        + json.dumps(not_string).encode()
        + b"\n"
        + json.dumps(no_data).encode()
        + b"\n"
        + b'{"Bad Name": "x", "data": {}}\n'
        + _line(_posted(2))
    )
    found = _read(file)
    assert found[0] == _posted(1)
    assert found[-1] == _posted(2)
    problems = found[1:-1]
    assert all(isinstance(p, SourceProblem) and not p.fatal for p in problems)
    assert [(p.where, p.code) for p in problems if isinstance(p, SourceProblem)] == [
        ("line 2", "malformed_line"),
        ("line 4", "invalid_event"),
        ("line 5", "bad_attribute"),
        ("line 6", "missing_data"),
        ("line 7", "bad_attribute"),
    ]
    assert isinstance(problems[1], SourceProblem)
    assert "data.body" in problems[1].detail


def test_a_truncated_last_line_is_fatal_and_names_the_line(tmp_path: Path) -> None:
    """An export cut short mid-line ends the read with a fatal problem naming that line, after
    every complete line before it."""
    file = tmp_path / "export.jsonl"
    file.write_bytes(_line(_posted(1)) + _line(_posted(2)) + _line(_posted(3))[:40])
    found = _read(file)
    assert found[:2] == [_posted(1), _posted(2)]
    last = found[2]
    assert isinstance(last, SourceProblem)
    assert (last.where, last.code, last.fatal) == ("line 3", "truncated_file", True)
    assert len(found) == 3


def test_a_last_line_without_its_newline_is_still_read(tmp_path: Path) -> None:
    """A complete last line that only lacks the final newline is an event, not a truncation."""
    file = tmp_path / "export.jsonl"
    file.write_bytes(_line(_posted(1)) + _line(_posted(2)).rstrip(b"\n"))
    assert _read(file) == [_posted(1), _posted(2)]


def test_a_gzipped_export_is_read_and_a_cut_one_reported(tmp_path: Path) -> None:
    """`threadlog export | gzip` imports too; a gzipped file that ends early is fatal."""
    whole = gzip.compress(_line(_posted(1)) + _line(_posted(2)))
    file = tmp_path / "export.jsonl.gz"
    file.write_bytes(whole)
    assert _read(file) == [_posted(1), _posted(2)]
    file.write_bytes(whole[:-12])
    found = _read(file)
    last = found[-1]
    assert isinstance(last, SourceProblem)
    assert (last.code, last.fatal) == ("truncated_file", True)


def test_an_overlong_line_is_skipped_without_being_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line longer than any event can be is refused (read in pieces, never whole)."""
    monkeypatch.setattr(threadlog_format, "MAX_LINE_BYTES", 64)
    file = tmp_path / "export.jsonl"
    file.write_bytes(b"x" * 500 + b"\n" + b"\n")
    [problem] = _read(file)
    assert isinstance(problem, SourceProblem)
    assert (problem.where, problem.code, problem.fatal) == ("line 1", "line_too_long", False)


def test_a_line_still_sealed_stops_the_import_naming_it(tmp_path: Path) -> None:
    """A line whose data is sealed under the exporting installation's keys (an export by an
    older version) is fatal: importing it would append `[sealed]` in place of the text."""
    keys = {"mira": DataKey("k1", new_data_key())}
    _, value, headers = encode_record(_posted(2), keys)
    file = tmp_path / "export.jsonl"
    file.write_bytes(_line(_posted(1)) + record_line(headers, value) + _line(_posted(3)))
    found = _read(file)
    assert found[0] == _posted(1)
    [problem] = found[1:]
    assert isinstance(problem, SourceProblem)
    assert (problem.where, problem.code, problem.fatal) == ("line 2", "sealed_line", True)
