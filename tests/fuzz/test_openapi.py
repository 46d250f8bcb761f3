"""schemathesis against both services' OpenAPI documents: whatever it sends, in or out of the
schema, no answer is a 5xx and every 4xx is in the shared error shape.

`make test` runs THREADLOG_FUZZ_EXAMPLES (default 25) cases per endpoint and generation mode;
`make fuzz` runs many more.
"""

from typing import Any

import pytest
import requests
import schemathesis

from services.ingest import create_app as create_ingest_app
from services.query import create_app as create_query_app
from tests.fuzz.conftest import FUZZ_SETTINGS, TALLY, Running, check
from threadlog.settings import from_env

pytestmark = pytest.mark.integration


# The documents are read from apps built in this process (building one connects to nothing), so
# that the endpoints are known when tests are collected; the requests go to real processes.
ingest_schema = schemathesis.openapi.from_dict(
    create_ingest_app(from_env().ingest()).openapi_schema.to_schema()
)
query_schema = schemathesis.openapi.from_dict(
    create_query_app(from_env().query()).openapi_schema.to_schema()
)
_session = requests.Session()


def call(case: Any, base_url: str, key: str) -> None:
    """Send the case with the admin key (so it gets past the guard) and check the answer.

    Sent through requests directly, streaming: an event stream that was opened is only checked
    for its status (it never ends), every other answer is read whole.
    """
    request = case.as_transport_kwargs(
        base_url=base_url, headers={"Authorization": f"Bearer {key}"}
    )
    with _session.request(**request, stream=True, timeout=(5, 30)) as response:
        streaming = response.headers.get("content-type", "").startswith("text/event-stream")
        content = b"" if streaming and response.status_code < 400 else response.content
    documented = case.method.upper() == case.operation.method.upper()
    endpoint = f"{case.method} {case.path}" if documented else "undocumented methods"
    TALLY[(endpoint, response.status_code)] += 1
    check(response.status_code, content, f"{case.method} {case.formatted_path} query={case.query}")


@ingest_schema.parametrize()
@FUZZ_SETTINGS
def test_ingest_never_answers_5xx_and_errors_keep_their_shape(case: Any, running: Running) -> None:
    """Generated event requests, valid and invalid: 202, or a 4xx in the shared shape."""
    call(case, running.ingest_url, running.key)


@query_schema.parametrize()
@FUZZ_SETTINGS
def test_query_never_answers_5xx_and_errors_keep_their_shape(case: Any, running: Running) -> None:
    """Generated reads, with parameters in and out of range: 200, or a 4xx in the shared shape."""
    call(case, running.query_url, running.key)
