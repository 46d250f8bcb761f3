"""The query service: serves the threads and timelines read models over HTTP."""

from services.query.app import QuerySettings, create_app
from services.query.stream_limits import StreamLimits

__all__ = ["QuerySettings", "StreamLimits", "create_app"]
