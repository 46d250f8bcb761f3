"""POST /demo/actions: the demo's stand-in for a site's own backend, which holds a key.

A site that embeds the thread has readers it knows (signed in); its backend turns a reader's
post, reply, vote or flag into an event and posts it to ingest with the site's key. The demo has
no accounts: the browser says which reader it is (an id it made and keeps), and this endpoint
adds the key from THREADLOG_WEB_DEMO_KEY_FILE, so no key ever reaches the browser. It is off
when that file is not configured; a real site replaces it with its own.
"""

import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from litestar import Response, post
from litestar.datastructures import State
from litestar.params import JSONBody

from events.catalog import FlagReason, Vote
from events.fields import Id, Name, Note
from services.errors import ApiError
from services.json_request import JsonRequest
from services.web.same_origin import json_from_the_pages
from services.web.upstream import client, send

Body = Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)]


class _Action(msgspec.Struct, frozen=True, kw_only=True, tag_field="action"):
    article_id: Id
    reader_id: Id


class PostComment(_Action, frozen=True, kw_only=True, tag="post"):
    """A new comment, or a reply when `parent_id` is given."""

    reader_name: Name
    body: Body
    parent_id: Id | None = None


class VoteComment(_Action, frozen=True, kw_only=True, tag="vote"):
    """An up or down vote, or `none` to take one back."""

    comment_id: Id
    vote: Vote


class FlagComment(_Action, frozen=True, kw_only=True, tag="flag"):
    """A report to the moderators."""

    comment_id: Id
    reason: FlagReason
    note: Note | None = None


ReaderAction = PostComment | VoteComment | FlagComment


class ActionTaken(msgspec.Struct, frozen=True, kw_only=True):
    """What ingest made of the action: the event and where it is in the log."""

    event_id: str
    position: str
    """Pass as `?after=` to a read that must show the action."""
    comment_id: str | None = None


def event_for(action: ReaderAction) -> tuple[dict[str, Any], str | None]:
    """The envelope a site's backend posts for the action, and the new comment's id."""
    data: dict[str, Any] = {"article_id": action.article_id}
    new_id = None
    kind: Literal["CommentPosted", "CommentVoted", "CommentFlagged"]
    match action:
        case PostComment():
            kind = "CommentPosted"
            new_id = f"w-{uuid.uuid4().hex[:20]}"
            data |= {
                "comment_id": new_id,
                "author_id": action.reader_id,
                "author_name": action.reader_name,
                "body": action.body,
            }
            if action.parent_id:
                data["parent_id"] = action.parent_id
        case VoteComment():
            kind = "CommentVoted"
            data |= {"comment_id": action.comment_id, "voter_id": action.reader_id}
            data["vote"] = action.vote
        case FlagComment():
            kind = "CommentFlagged"
            data |= {
                "comment_id": action.comment_id,
                "flagger_id": action.reader_id,
                "reason": action.reason,
            }
            if action.note:
                data["note"] = action.note
    event = {"id": f"web-{uuid.uuid4().hex}", "type": kind, "source": "/demo/web", "data": data}
    return event, new_id


def _demo_key(state: State) -> str:
    path = state.settings.demo_key_file
    # Read on every action: `make demo` writes the file after this process started.
    key = Path(path).read_text().strip() if path and Path(path).is_file() else ""
    if not key:
        raise ApiError(
            503,
            "demo_backend_off",
            "The demo reader backend has no key: set THREADLOG_WEB_DEMO_KEY_FILE to a file"
            " holding a key with scope produce (`make demo` writes .state/demo-key).",
        )
    return key


@post(
    "/demo/actions",
    status_code=202,
    include_in_schema=False,
    request_class=JsonRequest,
    guards=[json_from_the_pages],
)
async def take_action(state: State, data: JSONBody[ReaderAction]) -> Response[Any]:
    """Post the reader's action to ingest with the demo key; answer with its position."""
    event, comment_id = event_for(data)
    upstream = await send(
        state,
        client(state).build_request(
            "POST",
            f"{state.settings.ingest_url}/v1/events",
            json=event,
            headers={"authorization": f"Bearer {_demo_key(state)}"},
        ),
    )
    if upstream.status_code != 202:
        # Ingest's own error (its shape, code and message) tells the reader what to fix.
        return Response(
            upstream.content, status_code=upstream.status_code, media_type="application/json"
        )
    accepted = upstream.json()["accepted"][0]
    return Response(
        ActionTaken(event_id=event["id"], position=accepted["position"], comment_id=comment_id),
        status_code=202,
    )


READER_ROUTES = [take_action]
