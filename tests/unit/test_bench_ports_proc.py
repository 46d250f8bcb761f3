"""How bench/ports.py reads /proc to name a port's holder, on a made-up /proc (#15)."""

from pathlib import Path

from bench.ports import holder

_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  ...\n"
# 48001 = 0xBB81; a LISTEN (0A) socket, inode 4242, and an ESTABLISHED (01) one on the same port.
_TCP = (
    _HEADER
    + "   0: 0100007F:BB81 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 4242\n"
    + "   1: 0100007F:BB81 0100007F:D431 01 00000000:00000000 00:00000000 00000000 1000 0 4343\n"
)


def _proc(tmp_path: Path, socket_visible: bool) -> Path:
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_text(_TCP)
    (tmp_path / "net" / "tcp6").write_text(_HEADER)
    process = tmp_path / "777"
    (process / "fd").mkdir(parents=True)
    (process / "cmdline").write_bytes(b"python\0-m\0threadlog\0ingest\0")
    (process / "fd" / "3").symlink_to("socket:[4343]")
    if socket_visible:
        (process / "fd" / "4").symlink_to("socket:[4242]")
    return tmp_path


def test_the_holder_is_the_process_with_the_listening_socket_among_its_fds(tmp_path: Path) -> None:
    """The pid whose fd links to the LISTEN socket's inode, with its command line."""
    assert holder(48001, _proc(tmp_path, True)) == "pid 777 (python -m threadlog ingest)"


def test_a_listener_whose_process_cannot_be_seen_is_held_by_an_unknown_process(
    tmp_path: Path,
) -> None:
    """Another user's process: the socket is listed, its fds are not readable."""
    assert holder(48001, _proc(tmp_path, False)) == "an unknown process"


def test_a_port_only_connected_from_is_not_held(tmp_path: Path) -> None:
    """Only LISTEN sockets count: a connection on that local port does not hold it."""
    assert holder(48002, _proc(tmp_path, True)) is None
