"""PostgreSQL failures a service's background task rides out: log, wait, try again."""

import asyncpg

PG_TRANSIENT = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    # What a connection cut mid-query by a PostgreSQL restart may raise.
    asyncpg.InternalClientError,
)
"""A restart, a network cut, a timeout, or a statement refused: none ends the process."""
