"""A Kafka broker with a SASL_SSL listener and a PostgreSQL that speaks TLS only, each of the
test's own (own ports, own data under a temporary folder), with certificates made here.

The broker runs the same jars deploy/bin/kafka-up runs (deploy/kafka/pom.xml, resolved by
`mvn`, at any Kafka version) from the same server.properties template, with the listeners
replaced; PostgreSQL is initdb'd from the machine's binaries as deploy/bin/pg-up does. The
shared servers (9092, 5432) are never touched.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from eventlog.connection import KafkaConnection, client_args

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
STATE = Path(os.environ.get("THREADLOG_STATE_DIR") or REPO / ".state")  # as deploy/lib/common.sh

BROKER_USER, BROKER_PASSWORD = "broker", "broker-secret"
SCRAM_USER, SCRAM_PASSWORD = "alice", "alice-secret"
PLAIN_USER, PLAIN_PASSWORD = "plain-user", "plain-secret"
PG_PASSWORD = "threadlog-secret"


def pinned_kafka_version() -> str:
    """The version deploy/kafka/pom.xml pins (what `make up` runs)."""
    text = (DEPLOY / "kafka" / "pom.xml").read_text()
    return text.split("<kafka.version>", 1)[1].split("</kafka.version>", 1)[0]


def free_port() -> int:
    """A port nothing listens on now (the servers bind it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run(*command: str | Path, cwd: Path | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{done.stdout}{done.stderr}")


# --- certificates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate it signed, and an
    unrelated CA (the wrong one)."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def _ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    _run(
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-noenc", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return cert, key


def _leaf(folder: Path, name: str, ca: tuple[Path, Path], usage: str) -> tuple[Path, Path]:
    key, csr, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.pem"
    ext = folder / f"{name}.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        f"extendedKeyUsage={usage}\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "authorityKeyIdentifier=keyid\n"
        "basicConstraints=CA:FALSE\n"
    )
    _run(
        "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc",
        "-keyout", key, "-out", csr, "-subj", f"/CN={name}",
    )  # fmt: skip
    _run(
        "openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
        "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext,
    )  # fmt: skip
    return cert, key


def make_pki(folder: Path) -> Pki:
    """Certificates for one test module (EC keys: made in milliseconds)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = _ca(folder, "test-ca")
    other, _ = _ca(folder, "other-ca")
    server = _leaf(folder, "server", ca, "serverAuth,clientAuth")
    client = _leaf(folder, "client", ca, "clientAuth")
    return Pki(ca[0], server[0], server[1], client[0], client[1], other)


# --- Kafka ------------------------------------------------------------------------------------


def kafka_lib(version: str) -> Path:
    """The broker's jars at `version`: the ones `make up` resolved when it runs that version,
    else resolved by mvn from deploy/kafka/pom.xml (once per version, from Maven Central)."""
    resolved = STATE / "kafka" / "lib" / ".resolved"
    if resolved.exists() and resolved.read_text().split()[1:2] == [version]:
        return resolved.parent
    lib = STATE / "kafka-versions" / version
    if (lib / ".resolved").exists():
        return lib
    partial = lib.with_name(f"{version}.tmp")
    shutil.rmtree(partial, ignore_errors=True)
    _run(
        "mvn", "-q", "-B", "-f", DEPLOY / "kafka" / "pom.xml", f"-Dkafka.version={version}",
        "dependency:copy-dependencies", f"-DoutputDirectory={partial}",
    )  # fmt: skip
    shutil.rmtree(lib, ignore_errors=True)
    partial.rename(lib)
    (lib / ".resolved").write_text(f"kafka_2.13 {version}")
    return lib


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    java = f"{home}/bin/java" if home else shutil.which("java")
    if not java:
        raise RuntimeError("no java found: run deploy/bin/ensure-system or set JAVA_HOME")
    return java


def _broker_properties(folder: Path, port: int, controller: int, pki: Pki) -> str:
    """deploy/'s template, its listeners replaced by SASL_SSL (later keys win in Java's
    Properties): SCRAM-SHA-512 and PLAIN, TLS with client certificates required."""
    keystore = folder / "server-keystore.pem"
    keystore.write_text(pki.server_key.read_text() + pki.server_cert.read_text())
    template = (DEPLOY / "kafka" / "server.properties.in").read_text()
    base = (
        template.replace("@KAFKA_PORT@", str(port))
        .replace("@KAFKA_CONTROLLER_PORT@", str(controller))
        .replace("@KAFKA_DATA_DIR@", str(folder / "data"))
    )
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
    plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
    return base + "\n".join(
        [
            "",
            f"listeners=SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            f"advertised.listeners=SASL_SSL://127.0.0.1:{port}",
            "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=SASL_SSL",
            "sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN",
            "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
            f"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={scram} required "
            f'username="{BROKER_USER}" password="{BROKER_PASSWORD}";',
            f"listener.name.sasl_ssl.plain.sasl.jaas.config={plain} required "
            f'username="{BROKER_USER}" password="{BROKER_PASSWORD}" '
            f'user_{BROKER_USER}="{BROKER_PASSWORD}" user_{PLAIN_USER}="{PLAIN_PASSWORD}";',
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={keystore}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={pki.ca}",
            # A SASL_SSL listener asks for client certificates only when told by its prefix.
            "listener.name.sasl_ssl.ssl.client.auth=required",
            "",
        ]
    )


class SecuredKafka:
    """One KRaft broker (combined mode) whose only client listener is SASL_SSL."""

    def __init__(self, folder: Path, pki: Pki, version: str) -> None:
        self.folder, self.pki, self.version = folder, pki, version
        self.port, self.controller_port = free_port(), free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._started = 0.0
        self.logs = folder / "logs"

    def connection(self, **changes: str) -> KafkaConnection:
        """How a client that holds the right certificates and SCRAM password connects."""
        fields = {
            "bootstrap_servers": f"127.0.0.1:{self.port}",
            "security_protocol": "SASL_SSL",
            "ssl_cafile": str(self.pki.ca),
            "ssl_certfile": str(self.pki.client_cert),
            "ssl_keyfile": str(self.pki.client_key),
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_username": SCRAM_USER,
            "sasl_password": SCRAM_PASSWORD,
        }
        return KafkaConnection(**(fields | changes))  # type: ignore[arg-type]  # Literal fields

    def launch(self) -> None:
        """Format the storage with the SCRAM users and start the broker (it takes a while to
        be ready: `ready`)."""
        self._started = time.monotonic()
        lib, java = kafka_lib(self.version), _java()
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "server.properties"
        config.write_text(
            _broker_properties(self.folder, self.port, self.controller_port, self.pki)
        )
        self.logs = self.folder / "logs"
        self.logs.mkdir(exist_ok=True)
        jvm = [
            java, "-Xms128m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.logs}",
            f"-Dlog4j2.configurationFile={DEPLOY / 'kafka' / 'log4j2.properties'}",
            "-cp", f"{lib}/*",
        ]  # fmt: skip
        users = [(BROKER_USER, BROKER_PASSWORD), (SCRAM_USER, SCRAM_PASSWORD)]
        scram = [f"SCRAM-SHA-512=[name={user},password={password}]" for user, password in users]
        _run(
            *jvm, "kafka.tools.StorageTool", "format", "--config", config,
            f"--cluster-id={secrets.token_urlsafe(16)[:22]}",
            *[arg for user in scram for arg in ("--add-scram", user)],
        )  # fmt: skip
        with (self.logs / "kafka.out").open("ab") as out:
            self._process = subprocess.Popen(
                [*jvm, "kafka.Kafka", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    async def ready(self, timeout_s: float = 180.0) -> float:
        """Wait until a client with the right credentials sees the broker registered; the
        seconds since `launch`."""
        assert self._process is not None, "launch() first"
        deadline = time.monotonic() + timeout_s
        while not await self._registered():
            if self._process.poll() is not None:
                raise RuntimeError(f"Kafka {self.version} exited; see {self.logs}/server.log")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Kafka {self.version} not ready in {timeout_s:g} s; {self.logs}"
                )
            await asyncio.sleep(0.5)
        return time.monotonic() - self._started

    async def _registered(self) -> bool:
        admin = AIOKafkaAdminClient(**client_args(self.connection()), request_timeout_ms=3000)
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
            return bool(cluster["brokers"])
        except Exception:  # starting: any failure means not yet
            return False
        finally:
            await admin.close()

    def stop(self) -> None:
        """Stop the broker we started (by its pid), and wait for it."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_bindir() -> Path:
    """As deploy/lib/common.sh's find_pg_bindir: pg_config's, Debian's newest, then PATH."""
    candidates = []
    with_config = shutil.which("pg_config")
    if with_config:
        done = subprocess.run([with_config, "--bindir"], capture_output=True, text=True)
        candidates.append(Path(done.stdout.strip()))
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        candidates.append(Path(pg_ctl).parent)
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "postgres", "psql")):
            return folder
    raise RuntimeError("no PostgreSQL binaries found: run deploy/bin/ensure-system")


class SecuredPostgres:
    """A PostgreSQL of the test's own that accepts TCP connections over TLS only
    (`hostssl`, SCRAM passwords); the role `threadlog` owns the database `threadlog`."""

    def __init__(self, pki: Pki) -> None:
        # initdb and postgres refuse root: as root they run as `postgres` (as deploy/ does),
        # which cannot enter pytest's 0700 temporary folders; hence a folder of our own.
        self.folder = Path(tempfile.mkdtemp(prefix="threadlog-tls-pg-", dir="/var/tmp"))
        self.pki, self.port = pki, free_port()
        self._bin = _pg_bindir()
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        """The DSN, verifying the server's certificate (the CA is added by settings)."""
        return (
            f"postgresql://threadlog:{PG_PASSWORD}@127.0.0.1:{self.port}/threadlog"
            "?sslmode=verify-full"
        )

    def _pg(self, tool: str, *args: str | Path) -> None:
        _run(*self._as, self._bin / tool, *args)

    def start(self) -> float:
        """initdb, TLS on, start; the seconds that took."""
        started = time.monotonic()
        data = self.folder / "data"
        for name, source in (
            ("server.pem", self.pki.server_cert),
            ("server.key", self.pki.server_key),
        ):
            shutil.copy(source, self.folder / name)
            (self.folder / name).chmod(0o600)
        if self._as:
            shutil.chown(self.folder, "postgres")
            for name in ("server.pem", "server.key"):
                shutil.chown(self.folder / name, "postgres")
        self._pg(
            "initdb", "-D", data, "--username=postgres", "--auth-local=trust",
            "--auth-host=reject", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        conf = data / "postgresql.conf"
        conf.write_text(
            conf.read_text()
            + f"""
listen_addresses = '127.0.0.1'
port = {self.port}
unix_socket_directories = '{self.folder}'
ssl = on
ssl_cert_file = '{self.folder / "server.pem"}'
ssl_key_file = '{self.folder / "server.key"}'
password_encryption = 'scram-sha-256'
fsync = off
max_connections = 50
"""
        )
        # TLS or nothing over TCP: a plaintext client finds no pg_hba entry.
        (data / "pg_hba.conf").write_text(
            "local all postgres trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n"
        )
        self._pg(
            "pg_ctl", "start", "-D", data, "-l", self.folder / "postgres.log", "-w", "-t", "60"
        )
        psql = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.folder), "-p", str(self.port)]
        self._pg(
            "psql", *psql, "-U", "postgres", "-d", "postgres",
            "-c", f"create role threadlog login password '{PG_PASSWORD}'",
            "-c", "create database threadlog owner threadlog",
        )  # fmt: skip
        return time.monotonic() - started

    def stop(self) -> None:
        """Stop our server (pg_ctl finds it by its data folder) and remove its files."""
        data = self.folder / "data"
        if (data / "postmaster.pid").exists():
            self._pg("pg_ctl", "stop", "-D", data, "-m", "immediate", "-w", "-t", "30")
        shutil.rmtree(self.folder, ignore_errors=True)
