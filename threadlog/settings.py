"""Every setting, read from the environment once, with loopback defaults.

Point threadlog at your own cluster with KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL; the rest
rarely needs changing.
"""

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec

from eventlog.connection import KafkaConnection, SaslMechanism, SecurityProtocol
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
from subject_keys import KeyStoreSettings


def _default(component: type[msgspec.Struct], name: str) -> Any:
    """The default `component` declares for its field `name`. A component owns the defaults of
    what only it uses; Settings owns only what the deployment knows (where the servers, the
    schema and the topics are), so no default is written twice (test_settings_defaults.py)."""
    [field] = [f for f in msgspec.structs.fields(component) if f.name == name]
    return field.default


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """The whole configuration of one threadlog deployment."""

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: SecurityProtocol = _default(KafkaConnection, "security_protocol")
    """PLAINTEXT, SSL (TLS), SASL_SSL (TLS and SASL) or SASL_PLAINTEXT (SASL only)."""
    kafka_ssl_cafile: str = _default(KafkaConnection, "ssl_cafile")
    """The CA (PEM) that signed the brokers' certificates; empty: the system's CAs."""
    kafka_ssl_certfile: str = _default(KafkaConnection, "ssl_certfile")
    """A client certificate (PEM) for brokers that require one (mutual TLS)."""
    kafka_ssl_keyfile: str = _default(KafkaConnection, "ssl_keyfile")
    """The client certificate's private key (PEM), unless the certificate file holds it."""
    kafka_sasl_mechanism: SaslMechanism = _default(KafkaConnection, "sasl_mechanism")
    """SCRAM-SHA-512 (or -256), or PLAIN, which is refused unless over TLS (SASL_SSL)."""
    kafka_sasl_username: str = _default(KafkaConnection, "sasl_username")
    kafka_sasl_password: str = _default(KafkaConnection, "sasl_password")
    database_url: str = "postgresql://threadlog@127.0.0.1:5432/threadlog"
    """Takes libpq's TLS parameters, which asyncpg reads: `?sslmode=verify-full` (or
    require, verify-ca), `sslrootcert=`, `sslcert=`, `sslkey=`."""
    database_ca_file: str = ""
    """The CA (PEM) that signed PostgreSQL's certificate; from_env adds it to DATABASE_URL as
    `sslrootcert` (unless the URL names one), so every pool and connection verifies with it."""
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
    dlq_retention_days: float = 30.0
    """How long the dead-letter topic keeps a parked record (`threadlog init` sets it): a
    record parked in clear leaves within this erasure horizon. Redrive or export before."""
    encrypt_personal_data: bool = _default(KeyStoreSettings, "seal")
    """Seal personal fields (bodies, names, notes) under their owner's key at ingest, so that
    erasing a person is deleting a key (README, Security: Erasure). Off: events are appended in
    clear, and erasure cannot reach the log; readers still open what was sealed before."""
    key_store_schema: str = _default(KeyStoreSettings, "schema")
    """The PostgreSQL schema of the data keys, apart from the read models' (its own grants)."""
    kek: str = _default(KeyStoreSettings, "kek")
    """The key-encrypting key, 32 bytes in base64; empty: read (or create) `kek_file`."""
    kek_file: str = _default(KeyStoreSettings, "kek_file")
    key_cache_ttl_s: float = _default(KeyStoreSettings, "ttl_s")
    """How long a process keeps a live data key: how long an erased key may linger in memory."""
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

    def kafka(self) -> KafkaConnection:
        """How every Kafka client of every process connects (eventlog/connection.py)."""
        return KafkaConnection(
            bootstrap_servers=self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            ssl_cafile=self.kafka_ssl_cafile,
            ssl_certfile=self.kafka_ssl_certfile,
            ssl_keyfile=self.kafka_ssl_keyfile,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password,
        )

    def ingest(self) -> IngestSettings:
        """What the ingest service needs."""
        return IngestSettings(
            kafka=self.kafka(),
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
            key_store=self.key_store(),
        )

    def query(self) -> QuerySettings:
        """What the query service needs."""
        return QuerySettings(
            database_url=self.database_url,
            database_read_url=self.database_read_url,
            pg_schema=self.pg_schema,
            auth=self.auth(),
            topic=self.topic,
            kafka=self.kafka(),
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

    def key_store(self) -> KeyStoreSettings:
        """Where every process finds the data keys and the KEK that wraps them."""
        return KeyStoreSettings(
            database_url=self.database_url,
            schema=self.key_store_schema,
            kek=self.kek,
            kek_file=self.kek_file,
            seal=self.encrypt_personal_data,
            ttl_s=self.key_cache_ttl_s,
            timeout_s=self.db_timeout_s,
        )

    def notifier(self) -> NotifierSettings:
        """What the reply-notification subscriber needs."""
        return NotifierSettings(
            kafka=self.kafka(),
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
            kafka=self.kafka(),
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
            key_store=self.key_store(),
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
        if name == "kafka_sasl_password" and value:
            value = "***"
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
        settings = msgspec.convert(given, Settings, strict=False)
    except msgspec.ValidationError as error:
        message, _, where = str(error).rpartition(" - at `$.")
        var = ENVIRONMENT.get(where.rstrip("`"), where)
        raise ConfigError(f"{var}={env.get(var)!r}: {message or error}") from error
    try:
        kafka = settings.kafka()
    except ValueError as error:
        shown = ", ".join(f"{var}={env[var]}" for var in _KAFKA_SHOWN if env.get(var))
        raise ConfigError(f"{shown or 'Kafka security settings'}: {error}") from error
    _refuse_unused(kafka, given)
    if settings.database_ca_file:
        return msgspec.structs.replace(
            settings, database_url=with_ca_file(settings.database_url, settings.database_ca_file)
        )
    return settings


_KAFKA_SHOWN = ("THREADLOG_KAFKA_SECURITY_PROTOCOL", "THREADLOG_KAFKA_SASL_MECHANISM")
"""The Kafka security variables a ConfigError may quote (no credentials or paths)."""

_TLS_ONLY = ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")
_SASL_ONLY = ("kafka_sasl_username", "kafka_sasl_password")


def _refuse_unused(kafka: KafkaConnection, given: Mapping[str, str]) -> None:
    """A TLS file or SASL credential set for a protocol that does not use it means the
    protocol was forgotten: refuse rather than connect in plain text."""
    unused = [name for name in _TLS_ONLY if name in given and not kafka.uses_tls] + [
        name for name in _SASL_ONLY if name in given and not kafka.uses_sasl
    ]
    if unused:
        names = ", ".join(ENVIRONMENT[name] for name in unused)
        raise ConfigError(
            f"{names} set, but THREADLOG_KAFKA_SECURITY_PROTOCOL={kafka.security_protocol} does "
            "not use them: set it to SASL_SSL (or SSL for TLS alone, SASL_PLAINTEXT for SASL alone)"
        )
    if "kafka_ssl_keyfile" in given and "kafka_ssl_certfile" not in given:
        raise ConfigError(
            "THREADLOG_KAFKA_SSL_KEYFILE needs THREADLOG_KAFKA_SSL_CERTFILE, its certificate"
        )
    for name in (*_TLS_ONLY, "database_ca_file"):
        if name in given and not os.path.isfile(given[name]):
            raise ConfigError(f"{ENVIRONMENT[name]}={given[name]}: no such file")


def with_ca_file(database_url: str, ca_file: str) -> str:
    """`database_url` with `sslrootcert=ca_file` unless it names a root certificate already,
    and `sslmode=verify-full` unless it names a mode: a CA file is given to be verified with."""
    parts = urlsplit(database_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    names = {name for name, _ in query}
    if "sslrootcert" not in names:
        query.append(("sslrootcert", ca_file))
    if "sslmode" not in names:
        query.append(("sslmode", "verify-full"))
    return urlunsplit(parts._replace(query=urlencode(query)))
