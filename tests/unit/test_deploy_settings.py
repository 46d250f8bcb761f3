"""Every deployment file carries exactly the settings of the README's configuration table.

The table is the reference: it names every variable threadlog reads (threadlog/settings.py's
ENVIRONMENT, and the log variables), and the compose file, the plain Kubernetes manifests and the
Helm chart each pass exactly those, no fewer (a setting an operator cannot find) and no more (a
name threadlog ignores, say after a rename). Rows about the scripts that start local servers
(`deploy/bin/...`) are not deployment settings. The chart is read as values.yaml and, where helm
is installed (`make deploy-check` installs it), as `helm template` renders it.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no stubs installed; PyYAML comes with litestar

from threadlog.settings import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
COMPOSE = ROOT / "deploy" / "compose.yaml"
K8S = ROOT / "deploy" / "k8s"
CHART = ROOT / "deploy" / "helm" / "threadlog"
IMAGE = "ghcr.io/threadlog/threadlog"
API_VERSIONS = [
    f"--api-versions={api}"
    for api in ("kafka.strimzi.io/v1", "postgresql.cnpg.io/v1", "keda.sh/v1alpha1")
]
"""What a cluster with the operators serves: the chart refuses its objects without them."""

CREDENTIALS = {
    "DATABASE_URL",
    "DATABASE_READ_URL",
    "THREADLOG_KEK",
    "THREADLOG_KAFKA_SASL_PASSWORD",
}
"""Settings that are credentials: in a Secret, never in a ConfigMap."""

PER_PROCESS = {
    "THREADLOG_KAFKA_SECURITY_PROTOCOL",
    "THREADLOG_KAFKA_SASL_MECHANISM",
    "THREADLOG_KAFKA_SASL_USERNAME",
    "THREADLOG_KAFKA_SASL_PASSWORD",
    "THREADLOG_KAFKA_SSL_CAFILE",
    "DATABASE_READ_URL",
}
"""Settings the chart's templates set per process (each its own Kafka user, the query its
replica), from `kafkaAuth` and `database`, rather than in the shared `settings`; unset when
those are off."""


def _configuration_rows() -> list[tuple[list[str], str]]:
    """Each row of the README's configuration table: its variables and its meaning."""
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first, *rest = line.strip("|").split("|")
        names: list[str] = []
        for token in re.findall(r"`([A-Z_]+)`", first):
            # `THREADLOG_INGEST_HOST` / `_PORT` is THREADLOG_INGEST_PORT.
            names.append(names[-1].rsplit("_", 1)[0] + token if token.startswith("_") else token)
        rows.append((names, "|".join(rest)))
    return rows


def _table() -> set[str]:
    """The deployment settings of the table: every row but the local servers' scripts'."""
    rows = _configuration_rows()
    assert len(rows) > 30, "the README's configuration table was not found"
    return {name for names, meaning in rows if "deploy/bin/" not in meaning for name in names}


def _compare(where: str, carried: set[str]) -> None:
    table = _table()
    assert carried == table, (
        f"{where} differs from the README's configuration table: "
        f"missing {sorted(table - carried)}, not in the table {sorted(carried - table)}"
    )


def test_the_table_names_every_setting_threadlog_reads() -> None:
    """A variable threadlog reads but the table leaves out could be set nowhere by a reader of
    the README, and the deployment files would not be checked for it."""
    missing = set(ENVIRONMENT.values()) - _table()
    assert not missing, f"add rows to the README's configuration table for {sorted(missing)}"


def _compose_environment() -> set[str]:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    ours = [s for s in services.values() if str(s.get("image", "")).startswith(IMAGE)]
    assert len(ours) >= 6, "compose's threadlog services were not found"
    return {name for service in ours for name in service.get("environment", {})}


def test_compose_carries_exactly_the_table() -> None:
    """deploy/compose.yaml's threadlog services together set every setting of the table."""
    _compare("deploy/compose.yaml", _compose_environment())


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_kubernetes_manifests_carry_exactly_the_table() -> None:
    """deploy/k8s: the ConfigMap holds every setting but the credentials, the Secret those."""
    [config] = _documents(K8S / "configmap.yaml")
    [secret] = _documents(K8S / "secret.yaml")
    assert not CREDENTIALS & set(config["data"]), "a credential in the ConfigMap"
    assert set(secret["stringData"]) == CREDENTIALS
    _compare("deploy/k8s/configmap.yaml and secret.yaml", set(config["data"]) | CREDENTIALS)


def test_chart_values_carry_exactly_the_table() -> None:
    """The chart's `settings` (its ConfigMap) hold every setting but the credentials, and its
    Secret template holds those."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    settings = set(values["settings"])
    assert not CREDENTIALS & settings, "a credential in the chart's settings"
    assert not PER_PROCESS & settings, "a per-process setting in the chart's shared settings"
    secret = (CHART / "templates" / "secret.yaml").read_text()
    assert set(re.findall(r"^  ([A-Z_]+):", secret, re.MULTILINE)) == CREDENTIALS - PER_PROCESS
    _compare("the chart's values.yaml settings", settings | CREDENTIALS | PER_PROCESS)


def test_the_templates_set_exactly_the_per_process_settings() -> None:
    """The names the chart's templates set per process are settings threadlog reads: a rename in
    settings.py cannot leave the chart passing a name nobody reads."""
    templates = "\n".join(p.read_text() for p in (CHART / "templates").rglob("*") if p.is_file())
    used = set(re.findall(r"\b(THREADLOG_KAFKA_[A-Z_]+|DATABASE_READ_URL)\b", templates))
    assert used == PER_PROCESS, f"set per process by the chart: {sorted(used)}"
    assert set(ENVIRONMENT.values()) >= PER_PROCESS


def _helm() -> str | None:
    """`make deploy-check`'s helm (THREADLOG_HELM), the one it builds, or one on the PATH."""
    tool = ROOT / ".state" / "tools" / "bin" / "helm"
    return os.environ.get("THREADLOG_HELM") or (
        str(tool) if tool.exists() else shutil.which("helm")
    )


def _rendered(values: list[str]) -> list[dict[str, Any]]:
    helm = _helm()
    if helm is None:
        if os.environ.get("THREADLOG_REQUIRE_HELM"):
            pytest.fail("helm is not installed: `make deploy-check` installs it")
        pytest.skip("helm is not installed (`make deploy-check` installs it and runs this)")
    args = [helm, "template", "threadlog", str(CHART), "--namespace", "threadlog"]
    args += ["--kube-version", "1.37.0", *API_VERSIONS]
    for name in values:
        args += ["-f", str(CHART / name)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.mark.parametrize("values", [[], ["values-production.yaml"]], ids=["default", "production"])
def test_rendered_chart_gives_every_container_exactly_the_table(values: list[str]) -> None:
    """Each threadlog container, as `helm template` renders it, gets every setting of the table
    from its ConfigMap, its Secret (or CloudNativePG's) and its own env, and nothing else."""
    docs = _rendered(values)
    data = {
        (doc["kind"], doc["metadata"]["name"]): {**doc.get("data", {}), **doc.get("stringData", {})}
        for doc in docs
        if doc["kind"] in ("ConfigMap", "Secret")
    }
    pods = [doc["spec"]["template"]["spec"] for doc in docs if doc["kind"] in ("Deployment", "Job")]
    containers = [c for pod in pods for c in pod["containers"] if c["image"].startswith(IMAGE)]
    assert len(containers) == 6, "ingest, query, web, worker, notifier and init"
    for container in containers:
        carried = {env["name"] for env in container.get("env", [])}
        for source in container["envFrom"]:
            kind, ref = next(iter(source.items()))
            carried |= set(data[("ConfigMap" if kind == "configMapRef" else "Secret", ref["name"])])
        # The per-process settings are set only where kafkaAuth or a replica is on.
        _compare(f"{container['name']}'s environment", carried | PER_PROCESS)
