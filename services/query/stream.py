"""GET /v1/articles/{article_id}/stream: a thread's comment changes as Server-Sent Events.

Events: `comment` (data: the comment exactly as GET /v1/comments/{id} serves it, without
replies), `removed` (data: {"comment_id"}; a read no longer shows it: held or rejected), and
`reset` (the stream cannot replay what was missed: reload the thread). Each change's SSE id is
its log position, so a reconnecting EventSource resumes after Last-Event-ID, and the same token
works as `?after=` on any read.
"""

import asyncio
from typing import Annotated

from litestar import get
from litestar.datastructures import State
from litestar.params import FromPath, HeaderParameter
from litestar.response import ServerSentEvent

from events.position import BadPosition, Position, parse_positions
from services.errors import ApiError, ErrorDetail
from services.query.handlers import pool
from services.query.live_feed import LiveFeed

MAX_STREAMS = 5_000
"""Open streams per process; past it 503, so that one process's memory stays bounded."""


async def live_feed(state: State) -> LiveFeed:
    """The process's feed, started by the first stream."""
    starting: asyncio.Lock | None = state.get("live_feed_starting")
    if starting is None:
        starting = state.live_feed_starting = asyncio.Lock()
    async with starting:
        feed: LiveFeed | None = state.get("live_feed")
        if feed is None:
            settings = state.settings
            feed = LiveFeed(
                pool(state), state.positions, settings.kafka_bootstrap_servers, settings.topic
            )
            await feed.start()
            state.live_feed = feed
        return feed


def _resume_from(last_event_id: str | None) -> Position | None:
    if not last_event_id:
        return None
    try:
        positions = parse_positions(last_event_id)
    except BadPosition as error:
        raise ApiError(
            400,
            "invalid_parameter",
            f"Last-Event-ID: {error}; send back the id of the last event received.",
            [ErrorDetail(field="Last-Event-ID", message=str(error))],
        ) from error
    if len(positions) != 1:
        raise ApiError(400, "invalid_parameter", "Last-Event-ID holds exactly one position.")
    return positions[0]


@get(
    "/v1/articles/{article_id:str}/stream",
    summary="Live changes of a thread (Server-Sent Events)",
    # A stream lasts as long as the reader stays; it has its own bound instead (MAX_STREAMS).
    opt={"inflight_exempt": True},
)
async def get_stream(
    state: State,
    article_id: FromPath[str],
    last_event_id: Annotated[
        str | None,
        HeaderParameter(name="Last-Event-ID", required=False, description="resume after it"),
    ] = None,
) -> ServerSentEvent:
    """New, edited, deleted and moderated comments of the thread, once a read shows them."""
    resume = _resume_from(last_event_id)
    feed = await live_feed(state)
    if feed.streams >= MAX_STREAMS:
        raise ApiError(
            503,
            "too_many_streams",
            f"This process already serves {MAX_STREAMS} streams; retry on another.",
            headers={"Retry-After": "5"},
        )
    return ServerSentEvent(
        feed.follow(article_id, resume),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
