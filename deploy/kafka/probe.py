#!/usr/bin/env python3
"""Kafka readiness probe, standard library only (no venv needed).

    probe.py HOST:PORT[,HOST:PORT...] [--timeout SECONDS] [--pid PID] [--quiet]

A broker is "ready" when it answers a real Metadata request that lists at least one
broker. An open port is not enough: a KRaft broker accepts connections before it has
caught up with the metadata log and been unfenced, and until then CreateTopics fails
with "only 0 broker(s) are registered". Fenced brokers are left out of Metadata
responses, so a non-empty broker list means clients can create topics and produce.

Retries until --timeout (default: one attempt). Gives up early when --pid is given and
that process has exited (the broker died). Exit 0 when ready, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import time

API_METADATA = 3
API_VERSIONS = 18
CLIENT_ID = b"threadlog-probe"
# Metadata v1..v8 are the non-flexible encodings this probe knows how to write and read.
METADATA_VERSIONS = range(8, 0, -1)


class ProbeError(Exception):
    pass


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ProbeError("connection closed by the server")
        buf += chunk
    return bytes(buf)


def _call(sock: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> bytes:
    # Request header v1: api_key, api_version, correlation_id, client_id (int16-length string).
    header = struct.pack(">hhih", api_key, version, corr, len(CLIENT_ID)) + CLIENT_ID
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    resp = _recv_exact(sock, size)
    (got_corr,) = struct.unpack_from(">i", resp, 0)
    if got_corr != corr:
        raise ProbeError(f"correlation id mismatch ({got_corr} != {corr})")
    return resp[4:]


def _metadata_range(sock: socket.socket) -> tuple[int, int]:
    # ApiVersions v0 is answered by every broker version (and on a version mismatch the
    # broker still replies in the v0 layout), so it is the safe first request.
    body = _call(sock, API_VERSIONS, 0, 1, b"")
    (error,) = struct.unpack_from(">h", body, 0)
    (count,) = struct.unpack_from(">i", body, 2)
    if error not in (0, 35):  # 35 = UNSUPPORTED_VERSION, still carries the version list
        raise ProbeError(f"ApiVersions error code {error}")
    for i in range(count):
        key, lo, hi = struct.unpack_from(">hhh", body, 6 + 6 * i)
        if key == API_METADATA:
            return lo, hi
    raise ProbeError("broker does not list the Metadata API")


def _metadata_body(version: int) -> bytes:
    body = struct.pack(">i", 0)  # an empty topic list: brokers only, no topic metadata
    if version >= 4:
        body += b"\x00"  # allow_auto_topic_creation
    if version >= 8:
        body += b"\x00\x00"  # include cluster / topic authorized operations
    return body


def _read_string(buf: bytes, off: int) -> tuple[str | None, int]:
    (n,) = struct.unpack_from(">h", buf, off)
    off += 2
    if n < 0:
        return None, off
    return buf[off : off + n].decode(), off + n


def probe_once(host: str, port: int, timeout: float) -> str:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        lo, hi = _metadata_range(sock)
        version = next((v for v in METADATA_VERSIONS if lo <= v <= hi), None)
        if version is None:
            raise ProbeError(f"no Metadata version in 1..8 (broker supports {lo}..{hi})")
        body = _call(sock, API_METADATA, version, 2, _metadata_body(version))
        off = 4 if version >= 3 else 0  # throttle_time_ms
        (count,) = struct.unpack_from(">i", body, off)
        off += 4
        brokers = []
        for _ in range(count):
            (node_id,) = struct.unpack_from(">i", body, off)
            bhost, off = _read_string(body, off + 4)
            (bport,) = struct.unpack_from(">i", body, off)
            _rack, off = _read_string(body, off + 4)
            brokers.append(f"{node_id}@{bhost}:{bport}")
        if not brokers:
            raise ProbeError("answers, but no broker is registered and unfenced yet")
        return f"{len(brokers)} broker(s) {','.join(brokers)} (Metadata v{version})"


def _parse_servers(spec: str) -> list[tuple[str, int]]:
    servers = []
    for item in spec.split(","):
        item = item.strip()
        if "://" in item:
            item = item.split("://", 1)[1]
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep:
            host, port = item, "9092"
        servers.append((host.strip("[]"), int(port)))
    if not servers:
        raise SystemExit(f"probe.py: no bootstrap servers in {spec!r}")
    return servers


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("servers")
    parser.add_argument("--timeout", type=float, default=0.0)
    parser.add_argument("--pid", type=int)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()

    servers = _parse_servers(args.servers)
    deadline = time.monotonic() + args.timeout
    last_error = "not tried"
    while True:
        for host, port in servers:
            try:
                info = probe_once(host, port, timeout=2.0)
            except (OSError, ProbeError, struct.error) as exc:
                last_error = f"{host}:{port}: {exc}"
                continue
            if not args.quiet:
                print(f"kafka {host}:{port} ready: {info}")
            return 0
        if args.pid is not None and not _alive(args.pid):
            last_error += f" (process {args.pid} has exited)"
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    if not args.quiet:
        print(f"kafka not ready: {last_error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
