"""Every setting, read from the environment once, with loopback defaults.

Point threadlog at your own cluster with KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL; the rest
rarely needs changing.
"""

import os
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from events import Limits
from events.contract import DEFAULT_DLQ_TOPIC, DEFAULT_TOPIC
from events.fields import Timestamp
from projections import WorkerSettings
from services.auth import AuthSettings
from services.cors import CorsPolicy, parse_origins
from services.ingest import IngestSettings
from services.notifications import NotifierSettings
from services.query import QuerySettings, StreamLimits
from services.web import WebSettings


def _default(component: type[msgspec.Struct], name: str) -> Any:
    """The default `component` declares for its field `name`. A component owns the defaults of
    what only it uses; Settings owns only what the deployment knows (where the servers, the
    schema and the topics are), so no default is written twice (test_settings_defaults.py)."""
    [field] = [f for f in msgspec.structs.fields(component) if f.name == name]
    return field.default


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """The whole configuration of one threadlog deployment."""

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    database_url: str = "postgresql://threadlog@127.0.0.1:5432/threadlog"
    database_read_url: str = _default(QuerySettings, "database_read_url")
    """A streaming replica the query service reads from (rows and the positions `?after=` waits
    for, both there); empty: it reads from DATABASE_URL."""
    pg_schema: str = "public"
    topic: str = DEFAULT_TOPIC
    dlq_topic: str = DEFAULT_DLQ_TOPIC
    topic_partitions: int = 12
    topic_replication: int = 1
    consumer_group: str = _default(WorkerSettings, "group_id")
    ingest_host: str = "127.0.0.1"
    ingest_port: int = 8001
    query_host: str = "127.0.0.1"
    query_port: int = 8002
    kafka_linger_ms: int = _default(IngestSettings, "linger_ms")
    """How long ingest's producer holds a record for others to join its batch."""
    ingest_instance_id: str = _default(IngestSettings, "instance_id")
    """Ingest's stable name in its Kafka transactional ids (default: the host's name)."""
    ingest_producers: int = _default(IngestSettings, "producers")
    """Transactional producers per ingest process, taking turns at committing the requests
    waiting (one transaction open at a time)."""
    ingest_workers: int = 1
    query_workers: int = 1
    """Processes serving each port (uvicorn workers); each keeps its own pool, page cache, Kafka
    producer and rate-limit buckets, so per-key limits apply per process."""
    max_comment_chars: int = _default(Limits, "max_comment_chars")
    max_batch_events: int = _default(Limits, "max_batch_events")
    earliest_event_time: Timestamp = _default(Limits, "earliest_time")
    """The earliest event `time` ingest accepts (RFC 3339 with an offset); lower it to import
    older history."""
    max_future_s: float = _default(Limits, "max_future_s")
    """How far past ingest's clock an event's `time` may be."""
    worker_max_batch: int = _default(WorkerSettings, "max_batch")
    worker_instance_id: str = ""
    worker_synchronous_commit: bool = _default(WorkerSettings, "synchronous_commit")
    """The worker's stable name in its group (a pod's name): restarted under it, a worker takes
    its partitions back at once instead of waiting out the session timeout and a rebalance."""
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = 8003
    """Where the worker serves /metrics and /healthz; 0 turns them off."""
    edit_window_s: float = _default(WorkerSettings, "edit_window_s")
    premoderate_all: bool = _default(WorkerSettings, "premoderate_all")
    banned_patterns: str = "[]"
    """A JSON array of regular expressions (case-insensitive) that hold a comment."""
    max_links: int = _default(WorkerSettings, "max_links")
    flag_threshold: int = _default(WorkerSettings, "flag_threshold")
    flag_limit_per_min: float = _default(IngestSettings, "flag_limit_per_min")
    """Flags one key may post a minute (bursts of as many); 0 turns the limit off. A produce key
    asserts its flaggers' ids, so this bounds how fast a leaked key can hide comments."""
    auth_refresh_s: float = _default(AuthSettings, "refresh_s")
    auth_max_stale_s: float = _default(AuthSettings, "max_stale_s")
    db_timeout_s: float = _default(AuthSettings, "db_timeout_s")
    rate_limit_per_s: float = _default(AuthSettings, "rate_per_s")
    rate_limit_burst: float = _default(AuthSettings, "burst")
    reads_require_key: bool = _default(AuthSettings, "reads_require_key")
    max_inflight_requests: int = _default(AuthSettings, "max_inflight")
    notifier_group: str = _default(NotifierSettings, "group_id")
    after_max_wait_s: float = _default(QuerySettings, "after_max_wait_s")
    """How long a read with `?after=` waits for the projection before answering 503."""
    max_after_waits: int = _default(QuerySettings, "max_after_waits")
    """Reads waiting with `?after=` at once per query process (they hold no request slot)."""
    max_page_comments: int = _default(QuerySettings, "max_page_comments")
    """Most comments a page may hold, inlined replies included: deeper levels are cut first."""
    max_streams: int = _default(StreamLimits, "max_streams")
    """Live streams one query process serves."""
    max_streams_per_key: int = _default(StreamLimits, "per_key")
    """Live streams open at once with one key (a site's backend relays its readers' streams)."""
    max_streams_per_address: int = _default(StreamLimits, "per_address")
    """Live streams open at once without a key, per client address."""
    trusted_proxies: str = ""
    """Comma-separated addresses whose X-Forwarded-For names the client (for per-address caps)."""
    live_feed_max_pending: int = _default(StreamLimits, "max_pending")
    """Changes the live feed reads ahead of the projection before it waits for the worker."""
    cors_origins: str = ""
    """Comma-separated origins (`https://news.example`), or `*`, whose scripts may call the query
    service cross-origin (CORS); empty: none. Credentials are never allowed."""
    ingest_cors_origins: str = ""
    """The same for ingest, apart: a script posting events holds a produce key; empty: none."""
    web_host: str = "127.0.0.1"
    web_port: int = 8004
    web_query_url: str = ""
    """Where the web process reaches the query service; empty: THREADLOG_QUERY_HOST/_PORT."""
    web_ingest_url: str = ""
    """Where the web process reaches ingest; empty: THREADLOG_INGEST_HOST/_PORT."""
    web_demo_key_file: str = _default(WebSettings, "demo_key_file")
    """A file holding the demo reader backend's key (scope produce); empty turns it off."""
    web_allowed_origins: str = ""
    """Comma-separated origins (`https://news.example`) besides the pages' own whose pages may
    post reader actions: a site behind a TLS proxy, whose browsers see another origin."""

    def ingest(self) -> IngestSettings:
        """What the ingest service needs."""
        return IngestSettings(
            kafka_bootstrap_servers=self.kafka_bootstrap_servers,
            topic=self.topic,
            limits=Limits(
                max_comment_chars=self.max_comment_chars,
                max_batch_events=self.max_batch_events,
                earliest_time=self.earliest_event_time,
                max_future_s=self.max_future_s,
            ),
            auth=self.auth(),
            linger_ms=self.kafka_linger_ms,
            flag_limit_per_min=self.flag_limit_per_min,
            instance_id=self.ingest_instance_id,
            producers=self.ingest_producers,
            cors=CorsPolicy(origins=parse_origins(self.ingest_cors_origins)),
        )

    def query(self) -> QuerySettings:
        """What the query service needs."""
        return QuerySettings(
            database_url=self.database_url,
            database_read_url=self.database_read_url,
            pg_schema=self.pg_schema,
            auth=self.auth(),
            topic=self.topic,
            kafka_bootstrap_servers=self.kafka_bootstrap_servers,
            after_max_wait_s=self.after_max_wait_s,
            max_after_waits=self.max_after_waits,
            max_page_comments=self.max_page_comments,
            streams=StreamLimits(
                max_streams=self.max_streams,
                per_key=self.max_streams_per_key,
                per_address=self.max_streams_per_address,
                trusted_proxies=frozenset(
                    filter(None, map(str.strip, self.trusted_proxies.split(",")))
                ),
                max_pending=self.live_feed_max_pending,
            ),
            cors=CorsPolicy(origins=parse_origins(self.cors_origins)),
        )

    def auth(self) -> AuthSettings:
        """Where both services read the API keys, and the limits they apply to each key."""
        return AuthSettings(
            database_url=self.database_url,
            pg_schema=self.pg_schema,
            refresh_s=self.auth_refresh_s,
            max_stale_s=self.auth_max_stale_s,
            db_timeout_s=self.db_timeout_s,
            rate_per_s=self.rate_limit_per_s,
            burst=self.rate_limit_burst,
            reads_require_key=self.reads_require_key,
            max_inflight=self.max_inflight_requests,
        )

    def notifier(self) -> NotifierSettings:
        """What the reply-notification subscriber needs."""
        return NotifierSettings(
            kafka_bootstrap_servers=self.kafka_bootstrap_servers,
            topic=self.topic,
            dlq_topic=self.dlq_topic,
            database_url=self.database_url,
            pg_schema=self.pg_schema,
            group_id=self.notifier_group,
            db_timeout_s=self.db_timeout_s,
        )

    def web(self) -> WebSettings:
        """What the pages' process needs."""
        return WebSettings(
            query_url=self.web_query_url or _reachable(self.query_host, self.query_port),
            ingest_url=self.web_ingest_url or _reachable(self.ingest_host, self.ingest_port),
            demo_key_file=self.web_demo_key_file,
            allowed_origins=tuple(
                origin.strip().rstrip("/")
                for origin in self.web_allowed_origins.split(",")
                if origin.strip()
            ),
        )

    def worker(self) -> WorkerSettings:
        """What the projection worker needs."""
        return WorkerSettings(
            kafka_bootstrap_servers=self.kafka_bootstrap_servers,
            topic=self.topic,
            dlq_topic=self.dlq_topic,
            database_url=self.database_url,
            pg_schema=self.pg_schema,
            group_id=self.consumer_group,
            instance_id=self.worker_instance_id or None,
            max_batch=self.worker_max_batch,
            synchronous_commit=self.worker_synchronous_commit,
            edit_window_s=self.edit_window_s,
            premoderate_all=self.premoderate_all,
            banned_patterns=tuple(msgspec.json.decode(self.banned_patterns, type=list[str])),
            max_links=self.max_links,
            flag_threshold=self.flag_threshold,
        )

    @property
    def ingest_url(self) -> str:
        """Base URL of the ingest service."""
        return f"http://{self.ingest_host}:{self.ingest_port}"

    @property
    def query_url(self) -> str:
        """Base URL of the query service."""
        return f"http://{self.query_host}:{self.query_port}"

    @property
    def web_url(self) -> str:
        """Base URL of the pages (thread, widget, console)."""
        return _reachable(self.web_host, self.web_port)


def _reachable(host: str, port: int) -> str:
    """The URL a client on this host uses for a server bound to `host`:`port`."""
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"


_SPECIAL = {
    "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    "database_url": "DATABASE_URL",
    "database_read_url": "DATABASE_READ_URL",
}
ENVIRONMENT: dict[str, str] = {
    field.name: _SPECIAL.get(field.name, f"THREADLOG_{field.name.upper()}")
    for field in msgspec.structs.fields(Settings)
}
"""Each setting's environment variable: KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL, THREADLOG_*."""


_URL_PASSWORD = re.compile(r"(?<=://)([^/@:]*):[^/@]*(?=@)")
_PARAM_PASSWORD = re.compile(r"(?<=[?&]password=)[^&]*")


def printable(settings: Settings) -> list[tuple[str, str]]:
    """Each setting's variable and value as `threadlog config` prints them: a password in a
    URL (`user:***@host`, `?password=***`) is masked, so the output can be shared."""
    shown = []
    for name, var in ENVIRONMENT.items():
        value = str(getattr(settings, name))
        if value.startswith(("postgres://", "postgresql://")):
            value = _PARAM_PASSWORD.sub("***", _URL_PASSWORD.sub(r"\1:***", value))
        shown.append((var, value))
    return shown


class ConfigError(Exception):
    """A setting in the environment has a value threadlog cannot use."""


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `environ` (default: the process environment), defaults for what is unset."""
    env = os.environ if environ is None else environ
    given = {name: env[var] for name, var in ENVIRONMENT.items() if env.get(var)}
    try:
        msgspec.json.decode(
            given.get("banned_patterns", Settings().banned_patterns), type=list[str]
        )
    except msgspec.DecodeError as error:
        var = ENVIRONMENT["banned_patterns"]
        raise ConfigError(f"{var}: expected a JSON array of strings: {error}") from error
    try:
        return msgspec.convert(given, Settings, strict=False)
    except msgspec.ValidationError as error:
        message, _, where = str(error).rpartition(" - at `$.")
        var = ENVIRONMENT.get(where.rstrip("`"), where)
        raise ConfigError(f"{var}={env.get(var)!r}: {message or error}") from error
