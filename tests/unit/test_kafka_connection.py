"""Kafka and PostgreSQL security settings: what is refused at start, what every client is built
with, and what `threadlog config` may show."""

import ssl
from pathlib import Path
from urllib.parse import quote

import pytest

from eventlog.connection import KafkaConnection, client_args
from threadlog.settings import ConfigError, from_env, printable

_SCRAM = {
    "THREADLOG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "THREADLOG_KAFKA_SASL_USERNAME": "alice",
    "THREADLOG_KAFKA_SASL_PASSWORD": "s3cret",
}


def test_plain_over_plaintext_is_refused() -> None:
    """SASL PLAIN without TLS would send the password in clear: refused, naming the fix."""
    with pytest.raises(ConfigError, match=r"PLAIN over SASL_PLAINTEXT .*use security protocol"):
        from_env(
            _SCRAM
            | {
                "THREADLOG_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "THREADLOG_KAFKA_SASL_MECHANISM": "PLAIN",
            }
        )


def test_plain_over_tls_and_scram_over_plaintext_are_accepted() -> None:
    """PLAIN is fine inside TLS; SCRAM never sends the password, so SASL_PLAINTEXT may carry it."""
    assert (
        from_env(_SCRAM | {"THREADLOG_KAFKA_SASL_MECHANISM": "PLAIN"}).kafka().sasl_mechanism
        == "PLAIN"
    )
    plaintext = from_env(_SCRAM | {"THREADLOG_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT"})
    assert plaintext.kafka().security_protocol == "SASL_PLAINTEXT"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"THREADLOG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},
            "SASL_SSL needs a SASL username and password",
        ),
        (
            {"THREADLOG_KAFKA_SSL_CAFILE": "/ca.pem"},
            "THREADLOG_KAFKA_SSL_CAFILE set, but THREADLOG_KAFKA_SECURITY_PROTOCOL=PLAINTEXT",
        ),
        (
            {"THREADLOG_KAFKA_SASL_USERNAME": "alice"},
            "THREADLOG_KAFKA_SASL_USERNAME set, but THREADLOG_KAFKA_SECURITY_PROTOCOL",
        ),
        (
            {"THREADLOG_KAFKA_SECURITY_PROTOCOL": "SSL", "THREADLOG_KAFKA_SSL_KEYFILE": "/k.pem"},
            "THREADLOG_KAFKA_SSL_KEYFILE needs THREADLOG_KAFKA_SSL_CERTFILE",
        ),
        ({"THREADLOG_KAFKA_SECURITY_PROTOCOL": "TLS"}, "THREADLOG_KAFKA_SECURITY_PROTOCOL='TLS'"),
    ],
)
def test_inconsistent_kafka_security_is_refused(environ: dict[str, str], message: str) -> None:
    """A setting the chosen protocol would ignore means the protocol was forgotten: refused
    at start instead of connecting in plain text."""
    with pytest.raises(ConfigError, match=message):
        from_env(environ)


def test_a_missing_certificate_file_is_named(tmp_path: Path) -> None:
    """A TLS file that is not there is refused at start, naming its variable."""
    missing = str(tmp_path / "ca.pem")
    with pytest.raises(ConfigError, match=f"THREADLOG_KAFKA_SSL_CAFILE={missing}: no such file"):
        from_env(_SCRAM | {"THREADLOG_KAFKA_SSL_CAFILE": missing})
    with pytest.raises(ConfigError, match=f"THREADLOG_DATABASE_CA_FILE={missing}: no such file"):
        from_env({"THREADLOG_DATABASE_CA_FILE": missing})


def test_every_client_gets_tls_that_verifies_and_its_sasl_credentials() -> None:
    """SASL_SSL builds a verifying TLS context (certificate and host name) and SCRAM arguments;
    PLAINTEXT builds neither."""
    args = client_args(
        KafkaConnection(
            bootstrap_servers="k:9093",
            security_protocol="SASL_SSL",
            sasl_username="alice",
            sasl_password="s3cret",
        )
    )
    context = args["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert args["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (args["sasl_plain_username"], args["sasl_plain_password"]) == ("alice", "s3cret")
    assert client_args("k:9092") == {
        "bootstrap_servers": "k:9092",
        "security_protocol": "PLAINTEXT",
    }


def test_config_masks_the_kafka_password() -> None:
    """`threadlog config` shows that a SASL password is set, never the password."""
    shown = dict(printable(from_env(_SCRAM)))
    assert shown["THREADLOG_KAFKA_SASL_PASSWORD"] == "***"
    assert shown["THREADLOG_KAFKA_SASL_USERNAME"] == "alice"


def test_database_ca_file_reaches_every_connection_through_the_url(tmp_path: Path) -> None:
    """THREADLOG_DATABASE_CA_FILE becomes the URL's sslrootcert, with verify-full unless the
    URL chose a mode, so every pool and connection made from DATABASE_URL verifies with it."""
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    url = from_env(
        {"DATABASE_URL": "postgresql://u:p@db:5432/t", "THREADLOG_DATABASE_CA_FILE": str(ca)}
    ).database_url
    assert (
        url
        == f"postgresql://u:p@db:5432/t?sslrootcert={quote(str(ca), safe='')}&sslmode=verify-full"
    )
    chosen = from_env(
        {
            "DATABASE_URL": "postgresql://db/t?sslmode=verify-ca&sslrootcert=/mine.pem",
            "THREADLOG_DATABASE_CA_FILE": str(ca),
        }
    ).database_url
    assert chosen == "postgresql://db/t?sslmode=verify-ca&sslrootcert=%2Fmine.pem"
