"""The query service: serves the threads and timelines read models over HTTP."""

from services.query.app import QuerySettings, create_app

__all__ = ["QuerySettings", "create_app"]
