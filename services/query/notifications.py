"""Routes of an author's notifications: list them with the unread count, mark them read.

Mark-as-read is the query service's one write outside operator routes. It lives here rather than
in ingest because read marks are a reader's interface state, not a fact about a thread: they do
not belong in the log every consumer replays, and they change only the notifier's own table,
which the query service already reads. It needs a key with the `produce` scope (the comment
widget's backend acts for its signed-in reader; threadlog itself has no end-user accounts).
"""

from typing import Annotated

from litestar import get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from services.json_request import JsonRequest
from services.notifications.store import list_notifications, mark_read, unread_count
from services.openapi_docs import errors
from services.query.cursors import Cursor, decode_cursor, encode_cursor
from services.query.handlers import pool, write_pool
from services.query.views import MarkedRead, MarkRead, NotificationsPage, NotificationView

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Items per page, 1-200")]


@get(
    "/v1/authors/{author_id:str}/notifications",
    summary="An author's notifications",
    responses=errors({400: ["invalid_parameter", "invalid_cursor"]}),
)
async def get_notifications(
    state: State,
    author_id: FromPath[str],
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
    unread: FromQuery[bool] = False,
) -> NotificationsPage:
    """Replies to the author's comments and moderators' decisions on them, newest first (only
    unread ones with `unread=true`), with the unread count."""
    after = decode_cursor(cursor, "notifications", ("id",)) if cursor else None
    async with pool(state).acquire() as conn:
        rows = await list_notifications(
            conn,
            author_id,
            limit + 1,
            (after.time, after.keys[0]) if after else None,
            unread,
        )
        count = await unread_count(conn, author_id)
    page, more = rows[:limit], len(rows) > limit
    return NotificationsPage(
        author_id=author_id,
        unread=count,
        items=[
            NotificationView(
                id=row["event_id"],
                kind=row["kind"],
                article_id=row["article_id"],
                comment_id=row["comment_id"],
                actor_id=row["actor_id"],
                at=row["at"],
                read=row["read"],
                reply_id=row["reply_id"],
                action=row["action"],
            )
            for row in page
        ],
        next_cursor=encode_cursor(Cursor("notifications", page[-1]["at"], [page[-1]["event_id"]]))
        if more and page
        else None,
    )


@post(
    "/v1/authors/{author_id:str}/notifications/read",
    status_code=200,
    summary="Mark an author's notifications read",
    request_class=JsonRequest,
    responses=errors({400: ["malformed_json", "invalid_parameter"], 413: ["too_large"]}),
)
async def post_notifications_read(
    state: State, author_id: FromPath[str], data: JSONBody[MarkRead]
) -> MarkedRead:
    """Mark the notifications whose ids are given (or all) read; idempotent."""
    async with write_pool(state).acquire() as conn:
        marked = await mark_read(conn, author_id, data.ids)
        return MarkedRead(marked=marked, unread=await unread_count(conn, author_id))


NOTIFICATION_ROUTES = [get_notifications, post_notifications_read]
