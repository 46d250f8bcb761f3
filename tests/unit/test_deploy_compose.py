"""deploy/compose.yaml exposes nothing beyond this host and ships no default password."""

import re
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # no stubs installed; PyYAML comes with litestar

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_published_ports_are_bound_to_loopback() -> None:
    """Every published port (the APIs, the pages, the worker's /metrics) is bound to 127.0.0.1:
    reaching them from elsewhere is a reverse proxy's decision, with TLS, not a default."""
    published = {name: service.get("ports", []) for name, service in _compose()["services"].items()}
    assert any(published.values())
    for name, ports in published.items():
        for port in ports:
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_the_database_password_must_come_from_the_environment() -> None:
    """POSTGRES_PASSWORD has no default: compose refuses to start without it (`${VAR:?...}`)."""
    text = COMPOSE.read_text()
    uses = re.findall(r"\$\{POSTGRES_PASSWORD([^}]*)\}", text)
    assert len(uses) >= 2
    for use in uses:
        assert use.startswith(":?"), f"POSTGRES_PASSWORD{use} has a default"
    postgres = _compose()["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_the_demo_service_posts_with_a_produce_key() -> None:
    """Ingest refuses writes without a key, so compose's demo makes the demo key (scope produce,
    as `make demo` does) and posts with it; before, it posted with none and got 401."""
    demo = _compose()["services"]["demo"]
    assert demo["entrypoint"] == ["sh", "-c"]
    [script] = demo["command"]
    making, posting = script.split(" && ")
    assert making == "threadlog keys demo /tmp/demo-key"
    # Compose turns `$$` into `$`, so the shell reads the key the first command wrote.
    assert posting == 'THREADLOG_API_KEY="$$(cat /tmp/demo-key)" threadlog demo'
