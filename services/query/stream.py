"""GET /v1/articles/{article_id}/stream: a thread's comment changes as Server-Sent Events.

Events: `comment` (data: the comment exactly as GET /v1/comments/{id} serves it, without
replies), `removed` (data: {"comment_id"}; a read no longer shows it: held or rejected), and
`reset` (the stream cannot prove it can replay what was missed from the Last-Event-ID sent:
reload the thread; its id is where to resume from). Each change's SSE id is its log position, so
a reconnecting EventSource resumes after Last-Event-ID, and the same token works as `?after=` on
any read.
"""

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Request, get
from litestar.datastructures import State
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from eventlog.position import BadPosition, Position, parse_positions
from events.fields import ID_PATTERN
from services.auth import ApiKey
from services.errors import ApiError, ErrorDetail
from services.openapi_docs import STREAM_RESPONSES
from services.query.handlers import pool
from services.query.live_feed import LiveFeed
from services.query.stream_limits import OpenStreams, Reservation, client_address

_ID = re.compile(ID_PATTERN)
_MAX_ID_CHARS = 128


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
                pool(state),
                state.positions,
                settings.kafka,
                settings.topic,
                max_pending=settings.streams.max_pending,
            )
            await feed.start()
            state.live_feed = feed
        return feed


def _resume_from(last_event_id: str | None) -> Position | str | None:
    """The position to resume after; an id that is no single position is passed on as it is,
    to be answered with `reset` (an EventSource cannot act on a 400, only on events)."""
    if not last_event_id:
        return None
    try:
        positions = parse_positions(last_event_id)
    except BadPosition:
        return last_event_id
    return positions[0] if len(positions) == 1 else last_event_id


def _check_article_id(article_id: str) -> None:
    # An id no event can carry never has a change: refuse it rather than hold a stream on it.
    if len(article_id) > _MAX_ID_CHARS or not _ID.fullmatch(article_id):
        raise ApiError(
            400,
            "invalid_parameter",
            f"article_id: expected 1-{_MAX_ID_CHARS} characters of [A-Za-z0-9._:-].",
            [ErrorDetail(field="article_id", message="not an id an event can carry")],
        )


def _reserve(state: State, request: Request[Any, Any, Any]) -> Reservation:
    streams: OpenStreams = state.open_streams
    key: ApiKey | None = request.state.get("api_key")
    if key is not None:
        return streams.take(f"key:{key.name}", keyed=True)
    peer = request.client.host if request.client else None
    address = client_address(
        peer, request.headers.get("x-forwarded-for"), streams.limits.trusted_proxies
    )
    return streams.take(f"address:{address}", keyed=False)


async def _released(
    messages: AsyncIterator[ServerSentEventMessage], reservation: Reservation
) -> AsyncIterator[ServerSentEventMessage]:
    try:
        async for message in messages:
            yield message
    finally:
        reservation.release()


@get(
    "/v1/articles/{article_id:str}/stream",
    summary="Live changes of a thread (Server-Sent Events)",
    responses=STREAM_RESPONSES,
    # A stream lasts as long as the reader stays; it is admitted like any read (key, URL, rate)
    # but bounded by its own caps (stream_limits) rather than the request slots.
    opt={"inflight_exempt": True},
)
async def get_stream(
    state: State,
    request: Request[Any, Any, Any],
    article_id: Annotated[
        str, Parameter(pattern=ID_PATTERN, min_length=1, max_length=_MAX_ID_CHARS)
    ],
    last_event_id: Annotated[
        str | None,
        HeaderParameter(
            name="Last-Event-ID",
            required=False,
            description="resume after it: a position `partition:offset` this stream sent; any"
            " other value (malformed, past the log's end, too old) answers `event: reset` first",
            max_length=4096,
            examples=[Example(value="3:1042")],
        ),
    ] = None,
) -> ServerSentEvent:
    """New, edited, deleted and moderated comments of the thread, once a read shows them.
    429 `too_many_streams` when this key (or address, without a key) has its cap of streams
    open, 503 when the process has."""
    _check_article_id(article_id)
    resume = _resume_from(last_event_id)
    reservation = _reserve(state, request)
    try:
        feed = await live_feed(state)
    except BaseException:
        reservation.release()
        raise
    messages = _released(feed.follow(article_id, resume), reservation)
    reservation.tie_to(messages)
    return ServerSentEvent(
        messages, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
