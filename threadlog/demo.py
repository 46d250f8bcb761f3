"""`threadlog demo`: post the demo thread through the ingest API and print it as served."""

import json
import textwrap
import time
import urllib.error
import urllib.request
from typing import Any

from threadlog.demo_thread import ARTICLE_ID, demo_events
from threadlog.settings import Settings


def _call(method: str, url: str, body: object | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def post_demo(settings: Settings) -> list[dict[str, Any]]:
    """Post the demo events in one request; return the ingest service's `accepted` list."""
    status, answer = _call("POST", f"{settings.ingest_url}/v1/events", demo_events())
    if status != 202:
        raise SystemExit(f"ingest at {settings.ingest_url} answered {status}: {answer}")
    accepted: list[dict[str, Any]] = answer["accepted"]
    return accepted


def wait_for_thread(settings: Settings, comments: int, flags: int, timeout_s: float) -> Any:
    """Poll the query service until the thread shows `comments` comments and `flags` flags."""
    url = f"{settings.query_url}/v1/articles/{ARTICLE_ID}/thread?limit=200"
    deadline = time.monotonic() + timeout_s
    thread: Any = None
    while time.monotonic() < deadline:
        status, thread = _call("GET", url)
        if status == 200:
            flagged = sum(c["flag_count"] for c in thread["comments"])
            if thread["article"]["comment_count"] >= comments and flagged >= flags:
                return thread
        time.sleep(0.1)
    raise SystemExit(
        f"the query service did not show the demo thread within {timeout_s:g} s (last: {thread});"
        " is the worker running? See .state/logs/worker.log"
    )


def render(thread: Any) -> str:
    """The thread as text: the article, then each comment with its replies indented."""
    article = thread["article"]
    lines = [
        article["title"],
        f"published {article['published_at'][:10]} · {article['comment_count']} comments",
        "",
    ]

    def add(comment: Any, depth: int) -> None:
        pad = "    " * depth
        flags = f" · flagged {comment['flag_count']}x" if comment["flag_count"] else ""
        when = comment["posted_at"][:16].replace("T", " ")
        lines.append(f"{pad}{comment['author_name'] or comment['author_id']} · {when}{flags}")
        lines.extend(
            textwrap.wrap(
                comment["body"], 92, initial_indent=pad + "  ", subsequent_indent=pad + "  "
            )
        )
        lines.append("")
        for reply in comment["replies"]:
            add(reply, depth + 1)

    for comment in thread["comments"]:
        add(comment, 0)
    return "\n".join(lines)


def run_demo(settings: Settings) -> None:
    """Post the demo thread, wait until it is served, print it and the URLs to try."""
    started = time.monotonic()
    accepted = post_demo(settings)
    thread = wait_for_thread(settings, comments=6, flags=3, timeout_s=60)
    elapsed = time.monotonic() - started
    print(render(thread))
    print(f"{len(accepted)} events appended and served in {elapsed:.2f} s. Try:")
    print(f"  curl -s {settings.query_url}/v1/articles/{ARTICLE_ID}/thread")
    print(f"  curl -s {settings.query_url}/v1/authors/jjohannes/timeline")
    print(f"  OpenAPI: {settings.ingest_url}/schema  {settings.query_url}/schema")
