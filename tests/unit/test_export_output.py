"""Where `threadlog export --output FILE` writes: never a file that looks whole but is not."""

from pathlib import Path

import pytest

from threadlog.export.command import output_to


def test_a_finished_export_replaces_the_file(tmp_path: Path) -> None:
    """The lines go to FILE.partial, renamed to FILE (over an older export) once written."""
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"older\n")
    with output_to(path) as out:
        out.write(b"line\n")
        assert not path.read_bytes().startswith(b"line")
    assert path.read_bytes() == b"line\n"
    assert not (tmp_path / "log.jsonl.partial").exists()


def _interrupted(path: Path) -> None:
    with output_to(path) as out:
        out.write(b"line\n")
        raise KeyboardInterrupt


def test_an_export_that_fails_halfway_leaves_no_file(tmp_path: Path) -> None:
    """An export interrupted after some lines leaves neither FILE nor its partial copy."""
    path = tmp_path / "log.jsonl"
    with pytest.raises(KeyboardInterrupt):
        _interrupted(path)
    assert list(tmp_path.iterdir()) == []
