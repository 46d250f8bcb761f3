"""The query service's routes: each takes typed, bounded parameters and calls one read."""

from typing import Annotated, Any, assert_never, get_args

import asyncpg
import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.types import ExceptionHandlersMap

from projections.threads import queries
from services.errors import ApiError, ErrorDetail, answered_as
from services.openapi_docs import NOT_MODIFIED, errors
from services.query.page_bounds import PageShape, bounded
from services.query.page_cache import PageCache
from services.query.read_errors import (
    AmbiguousCommentId,
    CommentNotFound,
    InvalidCursor,
    ReadError,
)
from services.query.reads import (
    QueueStatus,
    Sort,
    read_comment,
    read_counts,
    read_event,
    read_queue,
    read_replies,
    read_thread,
    read_timeline,
)
from services.query.views import (
    CommentPage,
    Counts,
    EventStatus,
    QueuePage,
    RepliesPage,
    ThreadPage,
    TimelinePage,
)

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Items per page, 1-200")]
PerLevel = Annotated[
    int, QueryParameter(ge=0, le=20, description="Replies inlined under each comment, 0-20")
]
Depth = Annotated[int, QueryParameter(ge=0, le=10, description="Levels of replies inlined, 0-10")]
Cursor = FromQuery[str | None]
MAX_COUNT_IDS = 100
_PAGE_PARAMETERS = ["invalid_parameter", "invalid_cursor"]
"""What a paged read answers 400 with: a parameter out of range, or a cursor it did not issue."""


def pool(state: State) -> "asyncpg.Pool[Any]":
    """The pool every read takes its connection from, made at startup: the replica's when
    DATABASE_READ_URL is set (the positions `?after=` waits for are read there too)."""
    made: asyncpg.Pool[Any] = state.pool
    return made


def write_pool(state: State) -> "asyncpg.Pool[Any]":
    """The primary's pool, for the query service's few writes (a hot standby refuses them)."""
    made: asyncpg.Pool[Any] = state.write_pool
    return made


def _shape(state: State, limit: int, replies: int, depth: int) -> PageShape:
    # Cut before the cache key is made: parameters asking the same page share one entry.
    max_comments: int = state.settings.max_page_comments
    return bounded(limit, replies, depth, max_comments)


def as_api_error(error: ReadError) -> ApiError:
    """The HTTP answer to a read's domain error: the query service's one mapping."""
    match error:
        case InvalidCursor():
            return ApiError(
                400,
                "invalid_cursor",
                f"The cursor {error.why}; pass the next_cursor of the previous page unchanged,"
                " or omit it.",
                [ErrorDetail(field="cursor", message=f"Cursor {error.why}")],
            )
        case CommentNotFound():
            return ApiError(404, "comment_not_found", f"No comment {error.comment_id!r} is served.")
        case AmbiguousCommentId():
            return ApiError(
                409,
                "ambiguous_comment_id",
                f"Comment id {error.comment_id!r} is used in several articles; add ?article_id=.",
            )
        case _:
            assert_never(error)


READ_ERROR_HANDLERS: ExceptionHandlersMap = {
    kind: answered_as(as_api_error) for kind in get_args(ReadError)
}
"""Registered beside services.errors.EXCEPTION_HANDLERS: every read error in the shared shape."""


def _no_article(article_id: str) -> ApiError:
    return ApiError(
        404,
        "article_not_found",
        f"No article {article_id!r} has been published (or the worker has not applied it yet).",
    )


@get(
    "/v1/articles/{article_id:str}/thread",
    summary="A page of an article's comment thread",
    responses={
        200: ResponseSpec(
            ThreadPage, generate_examples=False, description="The page (ETag; gzip on request)"
        ),
        304: NOT_MODIFIED,
        **errors({400: _PAGE_PARAMETERS, 404: ["article_not_found"]}),
    },
)
async def get_thread(
    state: State,
    request: Request[Any, Any, Any],
    article_id: FromPath[str],
    sort: FromQuery[Sort] = "oldest",
    limit: Limit = 50,
    cursor: Cursor = None,
    replies: PerLevel = 5,
    depth: Depth = 3,
) -> Response[bytes]:
    """Top-level comments by limit and cursor (featured first under `top`), each with its first
    `replies` replies per level, `depth` levels down; the rest through the replies endpoint.
    Served from the page cache while the article is unchanged; `If-None-Match` gets a 304."""
    cache: PageCache = state.page_cache
    shape = _shape(state, limit, replies, depth)
    key = (article_id, sort, cursor, *shape)
    generation: int = state.positions.generation
    page = cache.current(key, generation)
    if page is None:
        async with pool(state).acquire() as conn:
            version = await conn.fetchval(queries.THREAD_VERSION, article_id)
            if version is None:
                raise _no_article(article_id)
            page = cache.still(key, version, generation)
            if page is None:
                built = await read_thread(
                    conn, article_id, sort, limit, cursor, shape.per_level, shape.depth
                )
                if built is None:
                    raise _no_article(article_id)
                page = cache.put(key, msgspec.json.encode(built), version, generation)
    return page.response(request.headers)


@get(
    "/v1/comments/{comment_id:str}",
    summary="A comment's permalink",
    responses=errors(
        {400: ["invalid_parameter"], 404: ["comment_not_found"], 409: ["ambiguous_comment_id"]}
    ),
)
async def get_comment(
    state: State,
    comment_id: FromPath[str],
    article_id: FromQuery[str | None] = None,
    replies: PerLevel = 5,
    depth: Depth = 3,
) -> CommentPage:
    """One comment with its first replies and its edit history; `article_id` disambiguates a
    comment id used in several articles."""
    shape = _shape(state, 1, replies, depth)
    async with pool(state).acquire() as conn:
        return await read_comment(conn, comment_id, article_id, shape.per_level, shape.depth)


@get(
    "/v1/comments/{comment_id:str}/replies",
    summary="A page of a comment's replies",
    responses=errors(
        {400: _PAGE_PARAMETERS, 404: ["comment_not_found"], 409: ["ambiguous_comment_id"]}
    ),
)
async def get_replies(
    state: State,
    comment_id: FromPath[str],
    article_id: FromQuery[str | None] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    replies: PerLevel = 5,
    depth: Depth = 2,
) -> RepliesPage:
    """Direct replies oldest first, from the start or after a comment's `replies_cursor`."""
    shape = _shape(state, limit, replies, depth)
    async with pool(state).acquire() as conn:
        return await read_replies(
            conn, comment_id, article_id, limit, cursor, shape.per_level, shape.depth
        )


@get(
    "/v1/authors/{author_id:str}/timeline",
    summary="An author's comments, newest first",
    responses={
        200: ResponseSpec(
            TimelinePage, generate_examples=False, description="The page (ETag; gzip on request)"
        ),
        304: NOT_MODIFIED,
        **errors({400: _PAGE_PARAMETERS}),
    },
)
async def get_timeline(
    state: State,
    request: Request[Any, Any, Any],
    author_id: FromPath[str],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response[bytes]:
    """Every served comment of the author across articles, keyset-paginated. An author spans
    articles, so no one version covers a timeline: its page is cached only until the projection
    applies its next batch."""
    cache: PageCache = state.page_cache
    key = ("timeline", author_id, limit, cursor)
    generation: int = state.positions.generation
    page = cache.current(key, generation)
    if page is None:
        async with pool(state).acquire() as conn:
            built = await read_timeline(conn, author_id, limit, cursor)
        page = cache.put(key, msgspec.json.encode(built), None, generation)
    return page.response(request.headers)


@get(
    "/v1/counts",
    summary="Comment counts for a list of articles",
    responses=errors({400: ["invalid_parameter"]}),
)
async def get_counts(state: State, article_id: FromQuery[list[str]]) -> Counts:
    """Visible comments of each `article_id` given (repeat the parameter, up to 100)."""
    if len(article_id) > MAX_COUNT_IDS:
        raise ApiError(
            400,
            "invalid_parameter",
            f"At most {MAX_COUNT_IDS} article ids per request; split the list.",
            [ErrorDetail(field="article_id", message=f"Expected at most {MAX_COUNT_IDS} values")],
        )
    async with pool(state).acquire() as conn:
        return await read_counts(conn, list(dict.fromkeys(article_id)))


@get("/v1/events/{event_id:str}", summary="What became of an event")
async def get_event(state: State, event_id: FromPath[str]) -> EventStatus:
    """pending (not applied yet; also for ids never posted), applied, rejected with a reason, or
    dead_lettered (its record was parked: the reason says why; a redrive decides it anew)."""
    async with pool(state).acquire() as conn:
        return await read_event(conn, event_id)


@get(
    "/v1/moderation/queue",
    summary="Comments waiting for a moderator",
    responses=errors({400: _PAGE_PARAMETERS}),
)
async def get_queue(
    state: State,
    status: FromQuery[QueueStatus] = "pending",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> QueuePage:
    """Held (pending) or flagged comments, most flagged and oldest first, with the reasons."""
    async with pool(state).acquire() as conn:
        return await read_queue(conn, status, limit, cursor)


ROUTES = [get_thread, get_comment, get_replies, get_timeline, get_counts, get_event, get_queue]
"""Every route of the query service but health."""
