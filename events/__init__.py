"""The threadlog event contract: event types, their envelope, and the codec. No I/O here."""

from events.catalog import (
    EVENT_TYPES,
    ArticlePublished,
    CommentFlagged,
    CommentPosted,
    Event,
    EventType,
    FlagReason,
)
from events.codec import (
    CONTENT_TYPE,
    Headers,
    decode_record,
    decode_request,
    encode_json,
    encode_record,
)
from events.envelope import Envelope
from events.limits import Limits
from events.problems import InvalidEvents, MalformedRequest, Problem, UndecodableRecord

__all__ = [
    "CONTENT_TYPE",
    "EVENT_TYPES",
    "ArticlePublished",
    "CommentFlagged",
    "CommentPosted",
    "Envelope",
    "Event",
    "EventType",
    "FlagReason",
    "Headers",
    "InvalidEvents",
    "Limits",
    "MalformedRequest",
    "Problem",
    "UndecodableRecord",
    "decode_record",
    "decode_request",
    "encode_json",
    "encode_record",
]
