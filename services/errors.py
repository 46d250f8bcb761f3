"""One error shape for every failure of both services, and the handlers that produce it.

    {"error": {"code": "invalid_events", "message": "...",
               "details": [{"index", "field", "message"}]}}

`code` is stable and machine-readable; `message` says what to do; `details` name the fields.
"""

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from events import Problem

log = structlog.get_logger("threadlog.http")


class ErrorDetail(msgspec.Struct, frozen=True, omit_defaults=True):
    """One thing wrong: the field at fault and, for a batch of events, which event."""

    field: str
    message: str
    index: int | None = None


class ErrorBody(msgspec.Struct, frozen=True):
    """The `error` object of every error response."""

    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorResponse(msgspec.Struct, frozen=True):
    """The body of every error response."""

    error: ErrorBody


class ApiError(Exception):
    """A failure to report to the client as it is, with its status and stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[ErrorDetail] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}


def details_from_problems(problems: list[Problem]) -> list[ErrorDetail]:
    """The event codec's problems, as error details."""
    return [ErrorDetail(field=p.field, message=p.message, index=p.index) for p in problems]


def _respond(error: ApiError) -> Response[ErrorResponse]:
    body = ErrorResponse(ErrorBody(code=error.code, message=error.message, details=error.details))
    return Response(body, status_code=error.status, headers=error.headers)


def _api_error(_: Request[Any, Any, Any], error: ApiError) -> Response[ErrorResponse]:
    return _respond(error)


E = TypeVar("E", bound=Exception)


def answered_as(
    to_api_error: Callable[[E], ApiError],
) -> Callable[[Request[Any, Any, Any], E], Response[ErrorResponse]]:
    """An exception handler that answers a domain error as `to_api_error` maps it: a service
    registers one for its domain errors, so nothing below its handlers has to speak HTTP."""

    def handler(_: Request[Any, Any, Any], error: E) -> Response[ErrorResponse]:
        return _respond(to_api_error(error))

    return handler


def _validation(_: Request[Any, Any, Any], error: ValidationException) -> Response[ErrorResponse]:
    details = [
        ErrorDetail(field=str(item.get("key", "$")), message=str(item.get("message", "invalid")))
        for item in (error.extra if isinstance(error.extra, list) else [])
        if isinstance(item, dict)
    ]
    return _respond(
        ApiError(400, "invalid_parameter", "A request parameter is invalid; see details", details)
    )


_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}


def _http(_: Request[Any, Any, Any], error: HTTPException) -> Response[ErrorResponse]:
    code = _CODES.get(error.status_code, "http_error")
    return _respond(ApiError(error.status_code, code, error.detail, headers=error.headers))


def _unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[ErrorResponse]:
    log.exception("unhandled error", path=request.url.path, error_type=type(error).__name__)
    return _respond(
        ApiError(500, "internal", "An unexpected error occurred; it has been logged. Retry later.")
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ApiError: _api_error,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _unexpected,
}
"""Every service registers these, so that no failure escapes the shared shape."""
