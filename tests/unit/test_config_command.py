"""`threadlog config` prints the effective configuration without its secrets, and the pages'
allowed origins are read from one comma-separated variable."""

import pytest

from threadlog.cli import main
from threadlog.settings import from_env


@pytest.fixture(autouse=True)
def _logs_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """`main` configures logging onto the stdout it finds, here the capture that closes after
    the test: later tests' log lines would then fail. The command's output is all we read."""
    monkeypatch.setattr("threadlog.logs.configure", lambda: None)


def test_config_masks_the_database_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The password in DATABASE_URL is printed as `***`; user, host and database stay visible,
    so the output can be pasted into an issue."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:s3cr%40t@db.internal:5433/threadlog")
    main(["config"])
    out = capsys.readouterr().out
    assert "s3cr" not in out
    assert "DATABASE_URL=postgresql://app:***@db.internal:5433/threadlog\n" in out


def test_config_prints_a_url_without_a_password_as_it_is(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing to hide: the URL is printed unchanged (a `?password=` parameter is masked too)."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://threadlog@127.0.0.1:5432/threadlog")
    main(["config"])
    assert "DATABASE_URL=postgresql://threadlog@127.0.0.1:5432/threadlog\n" in (
        capsys.readouterr().out
    )
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db?sslmode=require&password=hunter2")
    main(["config"])
    out = capsys.readouterr().out
    assert "hunter2" not in out
    assert "DATABASE_URL=postgresql://u@h/db?sslmode=require&password=***\n" in out


def test_allowed_origins_are_a_comma_separated_list() -> None:
    """THREADLOG_WEB_ALLOWED_ORIGINS reaches the pages as origins, spaces and a trailing slash
    dropped (a browser's Origin header never has one)."""
    settings = from_env(
        {"THREADLOG_WEB_ALLOWED_ORIGINS": "https://news.example/, http://localhost:3000"}
    )
    assert settings.web().allowed_origins == ("https://news.example", "http://localhost:3000")
    assert from_env({}).web().allowed_origins == ()
