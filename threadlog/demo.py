"""`threadlog demo`: post the demo thread through the ingest API and print it as served."""

import json
import os
import textwrap
import time
import urllib.error
import urllib.request
from typing import Any

from threadlog.demo_thread import ARTICLE_ID, HELD_COMMENT, LAST_EVENT_ID, demo_events
from threadlog.settings import Settings


def _call(method: str, url: str, body: object | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json"}
    if key := os.environ.get("THREADLOG_API_KEY"):
        headers["authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def post_demo(settings: Settings) -> list[dict[str, Any]]:
    """Post the demo events in one request; return the ingest service's `accepted` list."""
    # A key made a moment ago reaches a running service with its next key refresh: retry a 401
    # for a little longer than that period before giving up.
    deadline = time.monotonic() + settings.auth_refresh_s + 3
    while True:
        status, answer = _call("POST", f"{settings.ingest_url}/v1/events", demo_events())
        if status != 401 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if status != 202:
        raise SystemExit(f"ingest at {settings.ingest_url} answered {status}: {answer}")
    accepted: list[dict[str, Any]] = answer["accepted"]
    return accepted


def wait_for_thread(settings: Settings, timeout_s: float) -> Any:
    """Poll until the worker decided the demo's last event, then read the thread as served."""
    deadline = time.monotonic() + timeout_s
    status: Any = None
    while time.monotonic() < deadline:
        code, status = _call("GET", f"{settings.query_url}/v1/events/{LAST_EVENT_ID}")
        if code == 200 and status["status"] != "pending":
            code, thread = _call(
                "GET", f"{settings.query_url}/v1/articles/{ARTICLE_ID}/thread?limit=200"
            )
            if code == 200:
                return thread
        time.sleep(0.1)
    raise SystemExit(
        f"the worker did not apply the demo thread within {timeout_s:g} s (last: {status});"
        " is it running? See .state/logs/worker.log"
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
        who = comment["author_name"] or comment["author_id"] or "[deleted]"
        lines.append(f"{pad}{who} · {when}{flags}")
        text = comment["body"] if comment["body"] is not None else "(this comment was deleted)"
        lines.extend(
            textwrap.wrap(text, 92, initial_indent=pad + "  ", subsequent_indent=pad + "  ")
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
    thread = wait_for_thread(settings, timeout_s=60)
    elapsed = time.monotonic() - started
    print(render(thread))
    shown = {c["comment_id"] for c in thread["comments"]}
    if HELD_COMMENT not in shown:
        print(
            f"Held for moderation: comment {HELD_COMMENT} (Huffhorny) was flagged by three readers"
            " and left the thread; a moderator sees it in GET /v1/moderation/queue.\n"
        )
    print(f"{len(accepted)} events appended and served in {elapsed:.2f} s. Try:")
    print(f"  curl -s {settings.query_url}/v1/articles/{ARTICLE_ID}/thread")
    print(f"  curl -s {settings.query_url}/v1/authors/jjohannes/timeline")
    print(f"  OpenAPI: {settings.ingest_url}/schema  {settings.query_url}/schema")
