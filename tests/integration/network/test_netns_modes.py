"""Network namespace modes and their lifecycle (engine/network/lifecycle.py, netns.py,
pasta.py, slirp4netns.py): rootless connectivity to a server the test runs on the host
(pasta, slirp4netns), DNS through the host's resolvers, none/host, container:X joins of
net/ipc/uts, and teardown (stop, rm -f, a SIGKILLed monitor) leaving no helper and no
namespace file."""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path

import pytest

from tests.fixtures.cli import Hull, wait_for


@pytest.fixture
def bb(hull_any: Hull, busybox_image) -> Hull:
    hull_any.load(busybox_image)
    return hull_any


@pytest.fixture
def bbr(hull_rootless: Hull, busybox_image) -> Hull:
    hull_rootless.load(busybox_image)
    return hull_rootless


class HostServer:
    """A TCP server on the host answering every connection with one line."""

    def __init__(self, host: str = "0.0.0.0") -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.token = f"hello-from-host-{self.port}"
        self.peers: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            self.peers.append(peer[0])
            with conn:
                conn.sendall(self.token.encode() + b"\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server():
    s = HostServer()
    yield s
    s.close()


def _default_gateway() -> str:
    with open("/proc/net/route") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000":
                return socket.inet_ntoa(int(fields[2], 16).to_bytes(4, "little"))
    pytest.skip("the host has no IPv4 default route")


def _host_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("198.51.100.1", 9))
        return s.getsockname()[0]


def _state(h: Hull, cid: str) -> Path:
    return h.runroot / "containers" / cid / "network.json"


def _pids_of(binary: str, needle: str) -> list[int]:
    """Live processes of `binary` whose command line mentions `needle` (our runroot)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and os.path.basename(argv[0].decode()) == binary and needle.encode() in b" ".join(argv):
            found.append(int(entry))
    return found


def _assert_clean(h: Hull, cid: str, netns: str = "") -> None:
    """No helper, namespace file or state of `cid` left; `netns`: its namespace file when
    not named by its ID (a pasta started before the container, engine/network/prestart.py)."""
    netns_dir = h.runroot / "netns"
    needles = [cid] + ([netns] if netns else [])
    wait_for(lambda: not any(_pids_of("pasta", n) or _pids_of("slirp4netns", n) for n in needles), timeout=20,
             what="the network helper gone")
    assert not (netns_dir / cid).exists() and not (netns and os.path.lexists(netns))
    assert not _state(h, cid).exists()


# ---------------------------------------------------------------- rootless connectivity
@pytest.mark.parametrize("mode", ["", "pasta", "slirp4netns"])
def test_rootless_reaches_a_server_on_the_host(bbr, server, mode):
    args = ["--network", mode] if mode else []
    # pasta maps the gateway's address to the host; slirp4netns reaches the host's own address
    target = _default_gateway() if mode in ("", "pasta") else _host_address()
    # "; true": sh stays pid 1, so timeout can kill nc (this pasta may not pass the host's FIN)
    out = bbr("run", "--rm", *args, "localhost/busybox", "sh", "-c",
              f"timeout 10 nc {target} {server.port} </dev/null; true").ok().stdout
    assert server.token in out


def test_pasta_is_the_rootless_default_and_recorded(bbr):
    cid = bbr("run", "-d", "localhost/busybox", "sleep", "60").ok().stdout.strip()
    import json

    doc = json.loads(_state(bbr, cid).read_text())
    # `run`'s pasta started before the container existed: its namespace has its own name
    assert doc["mode"] == "pasta" and doc["netns"].startswith(str(bbr.runroot / "netns" / "netns-"))
    assert _pids_of("pasta", doc["netns"]) == doc["pids"]
    # the container's interfaces are pasta's copy of the host's
    links = bbr("exec", cid, "cat", "/proc/net/dev").ok().stdout
    assert "lo:" in links and len([ln for ln in links.splitlines() if ":" in ln]) >= 2
    bbr("stop", "-t", "0", cid).ok()
    _assert_clean(bbr, cid, doc["netns"])
    # started again: a new namespace and helper
    bbr("start", cid).ok()
    assert json.loads(_state(bbr, cid).read_text())["netns"] == str(bbr.runroot / "netns" / cid)
    assert _pids_of("pasta", cid)
    bbr("rm", "-f", "-t", "0", cid).ok()
    _assert_clean(bbr, cid)


@pytest.mark.parametrize("mode", ["pasta", "slirp4netns"])
def test_names_resolve_through_the_host_resolvers(bbr, mode):
    name = "deb.debian.org"
    try:
        socket.getaddrinfo(name, 80)
    except OSError:
        pytest.skip(f"this host cannot resolve {name} itself")
    out = bbr("run", "--rm", "--network", mode, "localhost/busybox", "nslookup", name).ok().stdout
    assert "Address" in out.split(name, 1)[-1]


# ---------------------------------------------------------------- none, host
def test_network_none_has_only_loopback(bb):
    out = bb("run", "--rm", "--network", "none", "localhost/busybox", "cat", "/proc/net/dev").ok().stdout
    names = sorted(ln.split(":")[0].strip() for ln in out.splitlines() if ":" in ln)
    assert names == ["lo"]
    assert not (bb.runroot / "netns").exists() or not os.listdir(bb.runroot / "netns")


def _default_route_interface() -> str:
    with open("/proc/net/route") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000":
                return fields[0]
    pytest.skip("the host has no IPv4 default route")


@pytest.fixture
def host_dummy_link():
    """An interface this test owns on the host (other tests add and remove veths
    concurrently, so only names the test controls are stable); a veth pair: the
    kernel may have no dummy driver."""
    from pyroute2 import IPRoute

    name = f"hulltst{os.getpid() % 100000:05d}"
    with IPRoute() as ipr:
        ipr.link("add", ifname=name, kind="veth", peer=f"{name}p")
    yield name
    with IPRoute() as ipr:
        idx = ipr.link_lookup(ifname=name)
        if idx:
            ipr.link("del", index=idx[0])


def test_network_host_sees_the_hosts_interfaces(bb, host_dummy_link):
    dev = _default_route_interface()
    out = bb("run", "--rm", "--network", "host", "localhost/busybox", "sh", "-c",
             f"cat /proc/net/dev; echo ---; ip -4 -o addr show dev {dev}").ok().stdout
    links, addrs = out.split("---", 1)
    names = {ln.split(":")[0].strip() for ln in links.splitlines() if ":" in ln}
    # what is stable while other tests plug veths: loopback, the default-route
    # interface with the host's address, and the interface this test made
    assert {"lo", dev, host_dummy_link} <= names
    assert f"inet {_host_address()}/" in addrs


# ---------------------------------------------------------------- container:X
def test_container_network_shares_the_namespace(bb):
    bb("run", "-d", "--name", "x", "localhost/busybox", "sleep", "60").ok()
    mine = bb("exec", "x", "sh", "-c", "readlink /proc/self/ns/net; cat /proc/net/dev | cut -d: -f1").ok().stdout
    theirs = bb("run", "--rm", "--network", "container:x", "localhost/busybox", "sh", "-c",
                "readlink /proc/self/ns/net; cat /proc/net/dev | cut -d: -f1").ok().stdout
    assert mine == theirs
    # a dependent blocks the removal of x
    bb("create", "--name", "y", "--network", "container:x", "localhost/busybox", "true").ok()
    bb("rm", "-f", "x").assert_error(125, "has dependent containers which must be removed before it: y")
    bb("rm", "y").ok()
    bb("rm", "-f", "-t", "0", "x").ok()


def test_container_network_of_a_stopped_container_starts_it_first(bb):
    bb("create", "--name", "dep", "localhost/busybox", "sleep", "60").ok()
    out = bb("run", "--rm", "--network", "container:dep", "localhost/busybox", "true")
    out.ok()
    assert bb("inspect", "--format", "{{.State.Status}}", "dep").ok().stdout.strip() == "running"
    bb("rm", "-f", "-t", "0", "dep").ok()


def test_uts_container_shares_the_hostname(bb):
    bb("run", "-d", "--name", "u", "--hostname", "shared-name", "localhost/busybox", "sleep", "60").ok()
    out = bb("run", "--rm", "--uts", "container:u", "localhost/busybox", "hostname").ok().stdout
    assert out.strip() == "shared-name"
    bb("rm", "-f", "-t", "0", "u").ok()


def test_ipc_container_shares_sysv_ipc(hull_any: Hull, debian_image):
    h = hull_any
    image = h.load(debian_image)
    h("run", "-d", "--name", "i", image, "sh", "-c", "ipcmk -M 4096 && sleep 60").ok()
    wait_for(lambda: "4096" in h("exec", "i", "ipcs", "-m").stdout, timeout=20, what="ipcmk done")
    assert "4096" in h("run", "--rm", "--ipc", "container:i", image, "ipcs", "-m").ok().stdout
    assert "4096" not in h("run", "--rm", image, "ipcs", "-m").ok().stdout
    h("rm", "-f", "-t", "0", "i").ok()


def test_namespace_flags_bad_values(bb):
    bb("create", "--ipc", "bogus", "localhost/busybox", "true").assert_error(
        125, "unrecognized namespace mode bogus passed")
    bb("create", "--network", "container:nosuch", "localhost/busybox", "true").assert_error(
        125, 'no container with name or ID "nosuch" found')


# ---------------------------------------------------------------- teardown
@pytest.mark.parametrize("mode", ["pasta", "slirp4netns"])
def test_teardown_after_stop_rm_and_a_killed_monitor(bbr, mode):
    h = bbr
    cid = h("run", "-d", "--network", mode, "localhost/busybox", "sleep", "60").ok().stdout.strip()
    assert _pids_of(mode, cid) and (h.runroot / "netns" / cid).exists()
    h("stop", "-t", "0", cid).ok()
    _assert_clean(h, cid)
    # rm -f of a running container
    h("start", cid).ok()
    assert _pids_of(mode, cid)
    h("rm", "-f", "-t", "0", cid).ok()
    _assert_clean(h, cid)
    # SIGKILL of the monitor: the next command that looks (reconcile) cleans up
    cid = h("run", "-d", "--network", mode, "localhost/busybox", "sleep", "60").ok().stdout.strip()
    monitor = int(h("inspect", "--format", "{{.State.ConmonPid}}", cid).ok().stdout.strip())
    os.kill(monitor, signal.SIGKILL)
    wait_for(lambda: "exited" in h("ps", "-a", "--format", "{{.Status}}").ok().stdout.lower()
             or h("inspect", "--format", "{{.State.Status}}", cid).ok().stdout.strip() == "exited",
             timeout=20, what="the container seen as exited")
    h("inspect", cid).ok()
    _assert_clean(h, cid)
    h("rm", cid).ok()


def test_root_pasta_mode(hull, busybox_image, server):
    """As root pasta is only used when asked for; it reaches the host the same way."""
    hull.load(busybox_image)
    cid = hull("run", "-d", "--network", "pasta", "localhost/busybox", "sleep", "60").ok().stdout.strip()
    out = hull("exec", cid, "sh", "-c", f"timeout 10 nc {_default_gateway()} {server.port} </dev/null; true").ok()
    assert server.token in out.stdout
    hull("rm", "-f", "-t", "0", cid).ok()
    _assert_clean(hull, cid)
