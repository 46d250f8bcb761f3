"""The chart's KEK and dead-letter retention, as `helm template` renders them (skipped without
helm; `make deploy-check` installs it and runs this)."""

import base64
from typing import Any

from tests.unit.test_deploy_settings import _rendered

DAY_MS = 86_400_000


def _secrets(docs: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {
        doc["metadata"]["name"]: doc.get("stringData", {})
        for doc in docs
        if doc["kind"] == "Secret" and "THREADLOG_KEK" in doc.get("stringData", {})
    }


def test_every_container_reads_one_kek_of_32_bytes_kept_past_an_uninstall() -> None:
    """Made once when secrets.kek is empty: the init hook's Secret and the chart's hold the
    same one (two would leave data keys no other process can unwrap), and the chart's Secret
    outlives the release."""
    docs = _rendered([])
    secrets = _secrets(docs)
    assert set(secrets) == {"threadlog", "threadlog-init"}
    [kek] = {data["THREADLOG_KEK"] for data in secrets.values()}
    assert len(base64.b64decode(kek)) == 32
    [chart] = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == "threadlog"]
    assert chart["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_with_cloudnative_pg_the_secret_holds_the_kek_and_the_dlq_expires() -> None:
    """With the chart's own PostgreSQL the URL comes from CloudNativePG's Secret, and the
    chart's holds the KEK alone; the Strimzi dead-letter topic keeps letters
    THREADLOG_DLQ_RETENTION_DAYS (30), the erasure horizon."""
    docs = _rendered(["ci/every-option-values.yaml"])
    for data in _secrets(docs).values():
        assert set(data) == {"THREADLOG_KEK"}
    [dlq] = [
        d for d in docs if d["kind"] == "KafkaTopic" and d["metadata"]["name"].endswith("-dlq")
    ]
    assert dlq["spec"]["config"]["retention.ms"] == str(30 * DAY_MS)
