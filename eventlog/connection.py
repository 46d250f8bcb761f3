"""How every Kafka client of ours connects: the servers, TLS and SASL, built in one place.

Every producer, consumer and admin client takes its connection arguments from `client_args`,
so a cluster that wants TLS (a CA file, optionally a client certificate) or SASL (SCRAM-SHA-512,
or PLAIN over TLS) is spoken to the same way by ingest, the worker, the notifier, the live feed,
the command line and `subscribe()`. A plain string is shorthand for servers over PLAINTEXT.

aiokafka reports every failed bootstrap as "Unable to bootstrap", whether the broker is down
(worth retrying) or refused our certificate or password (never worth it). `start` tells the
two apart by opening one connection itself, so a misconfigured client fails at start with a
message that says what to fix instead of retrying forever.
"""

import asyncio
import ssl
from contextlib import suppress
from typing import Any, Literal, Protocol

import msgspec
from aiokafka.conn import create_conn
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from aiokafka.helpers import create_ssl_context

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]

_TLS = ("SSL", "SASL_SSL")
_SASL = ("SASL_PLAINTEXT", "SASL_SSL")


class KafkaSecurityError(Exception):
    """Kafka refused our TLS handshake or our credentials: retrying cannot help."""


class KafkaConnection(msgspec.Struct, frozen=True, kw_only=True):
    """Where Kafka is and how to prove who we are to it."""

    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    ssl_cafile: str = ""
    """The CA that signed the brokers' certificates; empty: the system's CAs."""
    ssl_certfile: str = ""
    """Our client certificate (PEM), for brokers that ask for one (mutual TLS)."""
    ssl_keyfile: str = ""
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: str = ""

    def __post_init__(self) -> None:
        # Refused when built, so a bad combination stops the process at start (settings).
        if self.security_protocol in _SASL:
            if not (self.sasl_username and self.sasl_password):
                raise ValueError(f"{self.security_protocol} needs a SASL username and password")
            if self.sasl_mechanism == "PLAIN" and not self.uses_tls:
                raise ValueError(
                    "SASL PLAIN over SASL_PLAINTEXT would send the password in clear text: "
                    "use security protocol SASL_SSL, or the SCRAM-SHA-512 mechanism"
                )

    @property
    def uses_tls(self) -> bool:
        """Whether the connection is encrypted (SSL or SASL_SSL)."""
        return self.security_protocol in _TLS

    @property
    def uses_sasl(self) -> bool:
        """Whether the client authenticates with SASL (SASL_SSL or SASL_PLAINTEXT)."""
        return self.security_protocol in _SASL


Kafka = str | KafkaConnection
"""A connection, or bootstrap servers alone (PLAINTEXT)."""


def connection(kafka: Kafka) -> KafkaConnection:
    """`kafka` as a full connection (a string is servers over PLAINTEXT)."""
    return KafkaConnection(bootstrap_servers=kafka) if isinstance(kafka, str) else kafka


def servers(kafka: Kafka) -> str:
    """The bootstrap servers, for messages (never the credentials)."""
    return connection(kafka).bootstrap_servers


def client_args(kafka: Kafka) -> dict[str, Any]:
    """The keyword arguments every aiokafka producer, consumer and admin client is built with."""
    conn = connection(kafka)
    args: dict[str, Any] = {
        "bootstrap_servers": conn.bootstrap_servers,
        "security_protocol": conn.security_protocol,
    }
    if conn.uses_tls:
        # create_default_context underneath: certificate and host name are verified.
        args["ssl_context"] = create_ssl_context(
            cafile=conn.ssl_cafile or None,
            certfile=conn.ssl_certfile or None,
            keyfile=conn.ssl_keyfile or None,
        )
    if conn.uses_sasl:
        args["sasl_mechanism"] = conn.sasl_mechanism
        args["sasl_plain_username"] = conn.sasl_username
        args["sasl_plain_password"] = conn.sasl_password
    return args


class _Client(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


async def start_client(client: _Client, kafka: Kafka, timeout_s: float = 5.0) -> None:
    """Start `client`; if Kafka refuses our TLS or credentials, stop it and raise
    KafkaSecurityError saying what to fix. Any other failure is raised as aiokafka raised it
    (an unreachable broker is worth retrying)."""
    try:
        await client.start()
    except KafkaConnectionError:
        problem = await refusal(kafka, timeout_s)
        if problem is None:
            raise
        with suppress(Exception):
            await client.stop()
        raise KafkaSecurityError(problem) from None


async def check(kafka: Kafka, timeout_s: float = 5.0) -> None:
    """Raise KafkaSecurityError when Kafka refuses our TLS or credentials; return when it
    accepts us or does not answer (a client retries that). For a process's start."""
    problem = await refusal(kafka, timeout_s)
    if problem is not None:
        raise KafkaSecurityError(problem)


async def refusal(kafka: Kafka, timeout_s: float = 5.0) -> str | None:
    """Why the first answering bootstrap server refuses us (TLS or SASL), or None when it
    accepts us or none answers."""
    conn = connection(kafka)
    if conn.security_protocol == "PLAINTEXT":
        return None  # nothing to refuse
    args = client_args(conn)
    del args["bootstrap_servers"]
    for address in conn.bootstrap_servers.split(","):
        host, _, port = address.strip().rpartition(":")
        where = f"Kafka at {host}:{port}"
        try:
            opened = await asyncio.wait_for(
                create_conn(host, int(port), request_timeout_ms=int(timeout_s * 1000), **args),
                timeout_s,
            )
        except ssl.SSLCertVerificationError as error:
            return (
                f"{where}: TLS certificate not trusted ({error.verify_message}); "
                f"THREADLOG_KAFKA_SSL_CAFILE={conn.ssl_cafile or '(system CAs)'} must hold the "
                f"CA that signed the broker's certificate, and that certificate must name {host}"
            )
        except ssl.SSLError as error:
            return (
                f"{where}: TLS handshake failed ({error.reason or error}); is the listener "
                f"{conn.security_protocol}, and is the client certificate one it accepts?"
            )
        except SaslAuthenticationFailed as error:
            return (
                f"{where} refused the {conn.sasl_mechanism} credentials of user "
                f"{conn.sasl_username!r} ({error}); check THREADLOG_KAFKA_SASL_USERNAME and "
                "THREADLOG_KAFKA_SASL_PASSWORD"
            )
        except UnsupportedSaslMechanismError as error:
            return f"{where}: {error}; set THREADLOG_KAFKA_SASL_MECHANISM to one it enables"
        except (OSError, KafkaError, TimeoutError) as error:
            slow = isinstance(error, TimeoutError | KafkaTimeoutError)
            if not slow and await _listening(host, int(port), timeout_s):
                # It accepts connections and hangs up on ours: under TLS 1.3 a broker that
                # requires a client certificate says so only by closing.
                return (
                    f"{where} closed our connection while we set up {conn.security_protocol} "
                    f"({error!r}): does the listener require a client certificate "
                    "(THREADLOG_KAFKA_SSL_CERTFILE, THREADLOG_KAFKA_SSL_KEYFILE), or speak "
                    "another security protocol than THREADLOG_KAFKA_SECURITY_PROTOCOL?"
                )
            continue  # down or unreachable: not a refusal, the caller may retry
        opened.close()
        return None
    return None


async def _listening(host: str, port: int, timeout_s: float) -> bool:
    """Whether a TCP connection to `host`:`port` opens (the broker is up, whatever it speaks)."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with suppress(OSError):
        await writer.wait_closed()
    return True
