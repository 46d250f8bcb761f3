"""The import benchmark's export: written once per seed and size, then reused."""

from pathlib import Path

from bench.import_disqus import export_file


def test_the_export_is_written_once_per_seed_and_size_and_reused(tmp_path: Path) -> None:
    """A second run reuses the file (no minute spent regenerating 400 MB); another seed or
    size is another file; a file left half written by a stopped run is never taken as whole."""
    first = export_file(0.05, 16, tmp_path)
    written = first.stat().st_mtime_ns
    assert first.stat().st_size >= 0.05 * 1024 * 1024
    assert export_file(0.05, 16, tmp_path) == first
    assert first.stat().st_mtime_ns == written
    assert export_file(0.05, 17, tmp_path) != first
    assert export_file(0.06, 16, tmp_path) != first
    assert not list(tmp_path.glob("*.partial"))
