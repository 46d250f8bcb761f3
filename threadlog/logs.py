"""structlog set up once per process: readable lines on a terminal, JSON lines elsewhere."""

import logging
import os
import sys

import structlog


def configure(level: str | None = None, fmt: str | None = None) -> None:
    """Configure structlog and route stdlib logging (aiokafka, uvicorn) through the same output.

    `fmt` is "json", "console" or None (console on a terminal, JSON otherwise); defaults come from
    THREADLOG_LOG_FORMAT and THREADLOG_LOG_LEVEL.
    """
    level = (level or os.environ.get("THREADLOG_LOG_LEVEL") or "info").upper()
    fmt = (
        fmt
        or os.environ.get("THREADLOG_LOG_FORMAT")
        or ("console" if sys.stderr.isatty() else "json")
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiokafka logs every reconnect attempt at ERROR; one line a minute is enough for us.
    logging.getLogger("aiokafka").setLevel(max(logging.getLevelName(level), logging.WARNING))
