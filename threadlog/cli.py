"""The `threadlog` command: run a service or the worker, create topics and tables, run the demo."""

import argparse
import asyncio
import gc
import signal
import sys
from collections.abc import Callable, Sequence

import asyncpg
import structlog
import uvicorn
from litestar import Litestar

from eventlog.connection import KafkaSecurityError
from projections import Worker
from projections.metrics import render as render_metrics
from projections.metrics import serve_metrics
from projections.store import migrate
from projections.versions import ProjectionVersionMismatch
from services.auth import migrate as migrate_keys
from services.ingest import create_app as create_ingest_app
from services.ingest.coalesced_writes import CoalescingHttpToolsProtocol
from services.notifications import migrate as migrate_notifications
from services.query import create_app as create_query_app
from services.web import create_app as create_web_app
from subject_keys import migrate_key_store
from threadlog import (
    contract,
    erasure,
    import_cmd,
    installation_secret,
    keys,
    logs,
    notifier,
    ops,
    seal_topic,
)
from threadlog.demo import run_demo
from threadlog.export import command as export
from threadlog.settings import ConfigError, Settings, from_env, printable
from threadlog.topics import ensure_topics

log = structlog.get_logger("threadlog")


async def _init(settings: Settings) -> None:
    created = await ensure_topics(settings)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate(conn, settings.pg_schema)
        await migrate_keys(conn, settings.pg_schema)
        await migrate_notifications(conn, settings.pg_schema)
        await installation_secret.migrate(conn, settings.pg_schema)
        await migrate_key_store(conn, settings.key_store_schema)
    finally:
        await conn.close()
    print(f"topics created: {', '.join(created) or 'none (all existed)'}; schema ready")


def _settle_heap() -> None:
    """Move what start-up allocated (modules, classes, settings) out of the collector's sight
    and collect the young generation less often. A worker allocates a few objects per event and
    drops them with the batch; with the defaults the cyclic collector took about a third of its
    CPU time (#15: 37 against 25 µs per event decoding and folding 100,000 events)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


async def _worker(settings: Settings) -> None:
    worker = Worker(settings.worker())
    _settle_heap()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.request_stop)
    port = settings.worker_metrics_port
    try:
        async with worker:
            metrics = None
            if port:
                try:
                    metrics = await serve_metrics(
                        settings.worker_metrics_host,
                        port,
                        lambda: render_metrics(worker.stats, settings.topic),
                    )
                except OSError as error:  # a second worker on one host: apply, unobserved
                    log.warning("no /metrics: port in use", port=port, error=str(error))
            census = asyncio.create_task(worker.count_dead_letters()) if metrics else None
            await worker.run()
            if census is not None:
                await census
            if metrics is not None:
                metrics.close()
    except ProjectionVersionMismatch as error:
        sys.exit(f"threadlog worker: {error}")


def ingest_app() -> Litestar:
    """The ingest app as configured by the environment (uvicorn's factory, in each process)."""
    logs.configure()
    app = create_ingest_app(from_env().ingest())
    # What the process made to start lives as long as it does: out of the collector's sight
    # (gc.freeze), and collections of the young rarer, since a request's objects die young.
    gc.freeze()
    gc.set_threshold(7_000, 10, 10)
    return app


def query_app() -> Litestar:
    """The query app as configured by the environment (uvicorn's factory, in each process)."""
    logs.configure()
    return create_query_app(from_env().query())


def web_app() -> Litestar:
    """The pages and the widget as configured by the environment (uvicorn's factory)."""
    logs.configure()
    return create_web_app(from_env().web())


def _serve(
    factory: Callable[[], Litestar],
    host: str,
    port: int,
    workers: int,
    http: type[asyncio.Protocol] | str = "httptools",
) -> None:
    uvicorn.run(
        f"{__name__}:{factory.__name__}",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        loop="uvloop",
        http=http,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        # No client address is read from X-Forwarded-For: limits are per key, not per address.
        proxy_headers=False,
    )


def _config(settings: Settings) -> None:
    for var, value in printable(settings):
        print(f"{var}={value}")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `threadlog` console script."""
    parser = argparse.ArgumentParser(prog="threadlog", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init", help="create the Kafka topics and the Postgres tables if missing")
    commands.add_parser("ingest", help="run the ingest service (POST /v1/events)")
    commands.add_parser("query", help="run the query service (threads, timelines)")
    commands.add_parser("worker", help="run the projection worker")
    commands.add_parser("web", help="run the pages: the live thread, its widget, the console")
    commands.add_parser(
        "demo", help="post the demo thread and print it as the query service serves it"
    )
    commands.add_parser("config", help="print the effective configuration and its variables")
    keys.add_parser(commands)
    contract.add_parser(commands)
    ops.add_parser(commands)
    notifier.add_parser(commands)
    import_cmd.add_parser(commands)
    export.add_parser(commands)
    erasure.add_parser(commands)
    seal_topic.add_parser(commands)
    args = parser.parse_args(argv)
    try:
        settings = from_env()
    except ConfigError as error:
        sys.exit(f"threadlog: bad configuration: {error}")
    logs.configure()
    try:
        _run(args, settings)
    except KafkaSecurityError as error:
        sys.exit(f"threadlog {args.command}: {error}")


def _run(args: argparse.Namespace, settings: Settings) -> None:
    match args.command:
        case "init":
            asyncio.run(_init(settings))
        case "ingest":
            # A 202 is two writes in uvicorn; one here (services/ingest/coalesced_writes.py).
            _serve(
                ingest_app,
                settings.ingest_host,
                settings.ingest_port,
                settings.ingest_workers,
                http=CoalescingHttpToolsProtocol,
            )
        case "query":
            _serve(query_app, settings.query_host, settings.query_port, settings.query_workers)
        case "web":
            _serve(web_app, settings.web_host, settings.web_port, 1)
        case "worker":
            import uvloop

            uvloop.run(_worker(settings))
        case "demo":
            keys.send_key_from_env()
            run_demo(settings)
        case "config":
            _config(settings)
        case "keys":
            keys.run(settings, args)
        case "schema":
            contract.run(args)
        case command if command in ops.COMMANDS:
            ops.run(settings, args)
        case "notifier":
            notifier.run(settings, args)
        case "import":
            import_cmd.run(settings, args)
        case "export":
            export.run(settings, args)
        case erasure.COMMAND:
            erasure.run(settings, args)
        case seal_topic.COMMAND:
            seal_topic.run(settings, args)
