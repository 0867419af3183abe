"""The port forwarder process (engine/network/portforward.py), relaying between sockets
the test makes on the loopback: the forwarder listens on one 127.0.0.1 port and relays
to a server of the test on another (in a real container the target is the container's
bridge address)."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from engine.errors import CannotInvoke
from engine.network.portforward import forwarder_pid, start_forwarder, stop_forwarder
from engine.spec.options import PortMapping


class Cfg:
    def __init__(self, runroot: Path) -> None:
        self.runroot = runroot
        self.rootless = False


CID = "c" * 64


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TcpServer:
    """Accepts connections; `handler(conn)` runs in a thread per connection."""

    def __init__(self, handler) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.errors: list[BaseException] = []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            with conn:
                self.handler(conn)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)

    def close(self) -> None:
        self.sock.close()


def echo(conn: socket.socket) -> None:
    while data := conn.recv(65536):
        conn.sendall(data)


@pytest.fixture
def cfg(tmp_path: Path) -> Cfg:
    return Cfg(tmp_path)


@pytest.fixture
def forwarder(cfg: Cfg):
    started: list[int] = []

    def start(mappings: list[PortMapping], target: str = "127.0.0.1", **kw) -> int:
        pid = start_forwarder(cfg, CID, mappings, target, None, **kw)
        started.append(pid)
        return pid

    yield start
    stop_forwarder(cfg, CID)
    for pid in started:
        assert not os.path.exists(f"/proc/{pid}") or _zombie(pid), "forwarder still running after stop"


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return s


def recv_exact(s: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(1 << 20, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def test_tcp_echo_and_detached(cfg, forwarder) -> None:
    srv = TcpServer(echo)
    host = free_port()
    pid = forwarder([PortMapping(container_port=srv.port, host_port=host, host_ip="127.0.0.1")])
    assert forwarder_pid(cfg, CID) == pid
    # detached: not our child, a session of its own
    assert os.getsid(pid) != os.getsid(0)
    with open(f"/proc/{pid}/stat") as fh:
        assert int(fh.read().rsplit(")", 1)[1].split()[1]) != os.getpid()  # ppid: not ours
    with connect(host) as c:
        for msg in (b"hello", b"x" * 100_000, b"end"):
            c.sendall(msg)
            assert recv_exact(c, len(msg)) == msg
    # several clients at once
    clients = [connect(host) for _ in range(5)]
    for i, c in enumerate(clients):
        c.sendall(f"client {i}".encode())
    for i, c in enumerate(clients):
        assert recv_exact(c, len(f"client {i}")) == f"client {i}".encode()
        c.close()
    assert not srv.errors
    srv.close()


def test_tcp_half_close(cfg, forwarder) -> None:
    """The client shuts down writing; the server sees EOF, then answers; the client
    reads the answer and then EOF."""
    def upper_after_eof(conn: socket.socket) -> None:
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
        conn.sendall(data.upper())
        conn.shutdown(socket.SHUT_WR)

    srv = TcpServer(upper_after_eof)
    host = free_port()
    forwarder([PortMapping(container_port=srv.port, host_port=host, host_ip="127.0.0.1")])
    with connect(host) as c:
        c.sendall(b"half closed")
        c.shutdown(socket.SHUT_WR)
        assert recv_exact(c, 11) == b"HALF CLOSED"
        assert c.recv(10) == b""
    assert not srv.errors


def test_tcp_large_transfer_both_ways(cfg, forwarder) -> None:
    """64 MiB each way at once: backpressure must keep the forwarder's buffers bounded
    and lose nothing."""
    size = 64 << 20
    payload = os.urandom(1 << 20)
    got: dict[str, str] = {}

    def sink_and_source(conn: socket.socket) -> None:
        h = hashlib.sha256()
        sender = threading.Thread(target=lambda: [conn.sendall(payload) for _ in range(size // len(payload))]
                                  + [conn.shutdown(socket.SHUT_WR)])
        sender.start()
        n = 0
        while chunk := conn.recv(1 << 20):
            h.update(chunk)
            n += len(chunk)
        sender.join()
        got["server"] = f"{n}:{h.hexdigest()}"

    srv = TcpServer(sink_and_source)
    host = free_port()
    pid = forwarder([PortMapping(container_port=srv.port, host_port=host, host_ip="127.0.0.1")])
    want = hashlib.sha256(payload * (size // len(payload))).hexdigest()
    with connect(host) as c:
        def send_all() -> None:
            for _ in range(size // len(payload)):
                c.sendall(payload)
            c.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send_all)
        sender.start()
        h, n = hashlib.sha256(), 0
        while chunk := c.recv(1 << 20):
            h.update(chunk)
            n += len(chunk)
        sender.join()
    assert (n, h.hexdigest()) == (size, want)
    deadline = time.monotonic() + 20
    while "server" not in got and time.monotonic() < deadline:
        time.sleep(0.05)
    assert got.get("server") == f"{size}:{want}"
    # bounded memory: two 1 MiB buffers per connection, not the 64 MiB that went through
    with open(f"/proc/{pid}/status") as fh:
        rss_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    assert rss_kb < 60_000
    assert not srv.errors


def test_tcp_no_fd_leak(cfg, forwarder) -> None:
    srv = TcpServer(echo)
    host = free_port()
    pid = forwarder([PortMapping(container_port=srv.port, host_port=host, host_ip="127.0.0.1")])
    before = len(os.listdir(f"/proc/{pid}/fd"))
    for _ in range(30):
        with connect(host) as c:
            c.sendall(b"ping")
            assert recv_exact(c, 4) == b"ping"
    deadline = time.monotonic() + 20
    while len(os.listdir(f"/proc/{pid}/fd")) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(os.listdir(f"/proc/{pid}/fd")) == before


def test_tcp_refused_upstream_resets_client(cfg, forwarder) -> None:
    host, dead = free_port(), free_port()
    forwarder([PortMapping(container_port=dead, host_port=host, host_ip="127.0.0.1")])
    # nothing listens on the container side: the client is reset (during or after connect)
    try:
        with connect(host) as c:
            c.settimeout(20)
            data = c.recv(10)
    except ConnectionResetError:
        data = b""
    assert data == b""


def test_udp_per_client_flows_and_idle_timeout(cfg, forwarder) -> None:
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(20)
    peers: list = []

    def serve() -> None:
        while True:
            try:
                data, addr = srv.recvfrom(65535)
            except OSError:
                return
            peers.append(addr)
            srv.sendto(data + b" back", addr)

    threading.Thread(target=serve, daemon=True).start()
    host = free_port(socket.SOCK_DGRAM)
    pid = forwarder([PortMapping(container_port=srv.getsockname()[1], host_port=host, host_ip="127.0.0.1",
                                 protocol="udp")], udp_timeout=1.0)
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (a, b):
        s.settimeout(20)
    a.sendto(b"from a", ("127.0.0.1", host))
    b.sendto(b"from b", ("127.0.0.1", host))
    assert a.recvfrom(100)[0] == b"from a back"
    assert b.recvfrom(100)[0] == b"from b back"
    a.sendto(b"again", ("127.0.0.1", host))
    assert a.recvfrom(100)[0] == b"again back"
    # one upstream socket per client: the server saw two source addresses
    assert len(set(peers)) == 2
    fds_busy = len(os.listdir(f"/proc/{pid}/fd"))
    deadline = time.monotonic() + 20  # idle flows go away after udp_timeout
    while len(os.listdir(f"/proc/{pid}/fd")) > fds_busy - 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(os.listdir(f"/proc/{pid}/fd")) == fds_busy - 2
    a.sendto(b"after idle", ("127.0.0.1", host))
    assert a.recvfrom(100)[0] == b"after idle back"
    a.close()
    b.close()
    srv.close()


def test_only_the_asked_address_listens(cfg, forwarder) -> None:
    srv = TcpServer(echo)
    host = free_port()
    forwarder([PortMapping(container_port=srv.port, host_port=host, host_ip="127.0.0.1")])
    with connect(host) as c:
        c.sendall(b"ok")
        assert recv_exact(c, 2) == b"ok"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", host), timeout=5).close()
    srv.close()


def test_port_in_use_is_refused_with_podmans_words(cfg, forwarder) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    with pytest.raises(CannotInvoke, match=rf"^listen tcp 127\.0\.0\.1:{port}: bind: address already in use$"):
        forwarder([PortMapping(container_port=80, host_port=port, host_ip="127.0.0.1")])
    busy.close()
    assert forwarder_pid(cfg, CID) is None


def test_range_and_stop_is_idempotent(cfg, forwarder) -> None:
    servers = [TcpServer(echo) for _ in range(2)]
    # a range needs consecutive container ports: find two consecutive free ones
    base = free_port()
    forwarder([PortMapping(container_port=servers[0].port, host_port=base, host_ip="127.0.0.1"),
               PortMapping(container_port=servers[1].port, host_port=base + 1, host_ip="127.0.0.1")])
    for i in range(2):
        with connect(base + i) as c:
            c.sendall(b"r")
            assert recv_exact(c, 1) == b"r"
    stop_forwarder(cfg, CID)
    stop_forwarder(cfg, CID)
    with pytest.raises(OSError):
        connect(base).close()
