"""The pages: the live thread (a page of its own and an embeddable widget) and the moderation
console, built on the public query and ingest APIs."""

from services.web.app import WebSettings, create_app

__all__ = ["WebSettings", "create_app"]
