"""Published ports (-p, -P, --expose, `hull port`, inspect's Ports, ps's PORTS), root and
rootless.  The traffic tests publish busybox httpd (and a UDP echo) on 127.0.0.1:<free
port> and talk to it from the host with Python sockets: through pasta in the rootless
default mode, through Hull's forwarder (engine/network/portforward.py) on bridge
networks (root's default `hull`; rootless `--network hull`, bridge in the rootless netns).
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.fixtures.cli import Hull, wait_for

SERVE = "mkdir -p /www && echo {tag} > /www/index.html && exec httpd -f -p {port} -h /www"
# busybox has no UDP server applet here (nc without -u, no dnsd): perl-base of the debian image
UDP_ECHO = ("perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalPort => {port}, Proto => \"udp\") "
            "or die; while ($s->recv($d, 65535)) {{ $s->send($d) }}'")


@pytest.fixture
def bb(hull_any: Hull, busybox_image) -> Hull:
    hull_any.load(busybox_image)
    return hull_any


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def http_get(port: int, host: str = "127.0.0.1", timeout: float = 30.0) -> str:
    """GET / until the server answers (the container may still be starting)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=5) as s:
                s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            if data:
                return data.decode(errors="replace")
            last = "empty reply"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise AssertionError(f"no answer on {host}:{port}: {last}")


def _open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=5).close()
        return True
    except OSError:
        return False


def host_address() -> str:
    """The host's own non-loopback address (pasta of this Debian loses UDP replies on
    the loopback splice path; the tap path works), else 127.0.0.1."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("203.0.113.1", 9))  # a UDP connect sends nothing: the route picks the source
            return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"


def inspect(h: Hull, name: str) -> dict:
    return json.loads(h("inspect", name).ok().stdout)[0]


# ----------------------------------------------------------------------- no traffic
def test_bad_publish_values_are_refused(bb):
    for value, message in [
        ("8080-8081:80", "host and container port ranges have different lengths: 2 vs 1"),
        ("80/foo", 'unrecognized protocol "foo" in port mapping'),
        ("1.2.3:80:80", 'cannot parse "1.2.3" as an IP address'),
        ("70000", "parsing container port: port numbers must be between 1 and 65535 (inclusive), got 70000"),
    ]:
        res = bb("create", "-p", value, "localhost/busybox", "true")
        assert res.assert_error(125) == f"Error: {message}"
    res = bb("create", "-p", "8080-8082:80-82", "-p", "8081:90", "localhost/busybox", "true")
    assert res.assert_error(125) == "Error: conflicting port mappings for host port 8081 (protocol tcp)"
    assert bb("ps", "-aq").ok().stdout.strip() == ""  # nothing left half-made


def test_created_container_inspect_and_ps(bb):
    bb("create", "--name", "web", "-p", "127.0.0.1:8080:80", "-p", "8081:81", "-p", "9000-9001:90-91/udp",
       "-p", "53", "--expose", "7000", "localhost/busybox", "true").ok()
    doc = inspect(bb, "web")
    assert doc["HostConfig"]["PortBindings"] == {
        "53/tcp": [{"HostIp": "", "HostPort": ""}],
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
        "81/tcp": [{"HostIp": "", "HostPort": "8081"}],
        "90/udp": [{"HostIp": "", "HostPort": "9000"}],
        "91/udp": [{"HostIp": "", "HostPort": "9001"}],
    }
    assert doc["NetworkSettings"]["Ports"] == {**doc["HostConfig"]["PortBindings"], "7000/tcp": None}
    assert doc["HostConfig"]["PublishAllPorts"] is False
    ports = bb("ps", "-a", "--format", "{{.Ports}}").ok().stdout.strip()
    assert ports == "0.0.0.0:8081->81/tcp, 53/tcp, 0.0.0.0:9000-9001->90-91/udp, 127.0.0.1:8080->80/tcp"
    # not running: `hull port` shows nothing, as Podman
    assert bb("port", "web").ok().stdout == ""


def test_publish_all_with_an_image_that_exposes(bb):
    bb("create", "--name", "base", "localhost/busybox", "true").ok()
    bb("commit", "-c", "EXPOSE 80", "-c", "EXPOSE 53/udp", "base", "localhost/exposing").ok()
    bb("create", "--name", "all", "-P", "-p", "8080:80", "localhost/exposing", "true").ok()
    doc = inspect(bb, "all")
    assert doc["HostConfig"]["PublishAllPorts"] is True
    # 80 was published explicitly; 53/udp gets a port chosen at start
    assert doc["HostConfig"]["PortBindings"] == {"53/udp": [{"HostIp": "", "HostPort": ""}],
                                                 "80/tcp": [{"HostIp": "", "HostPort": "8080"}]}
    # without -P the image's EXPOSE publishes nothing
    bb("create", "--name", "none", "localhost/exposing", "true").ok()
    assert inspect(bb, "none")["HostConfig"]["PortBindings"] == {}


def test_network_none_discards_ports_with_podmans_warning(bb):
    res = bb("create", "--network", "none", "-p", "8080:80", "localhost/busybox", "true").ok()
    assert ("Port mappings have been discarded as one of the Host, Container, Pod, and None network modes "
            "are in use") in res.stderr
    assert inspect(bb, res.stdout.strip())["HostConfig"]["PortBindings"] == {}


# ----------------------------------------------------------------------- traffic
def _modes(h: Hull) -> list[list[str]]:
    """The network modes to publish through: the default, and rootless also a bridge."""
    return [[], ["--network", "hull"]] if h.rootless else [[]]


def test_httpd_published_on_loopback_is_fetched_from_the_host(bb):
    for args in _modes(bb):
        port = free_port()
        name = "web" + str(port)
        bb("run", "-d", "--name", name, *args, "-p", f"127.0.0.1:{port}:8080", "localhost/busybox",
           "sh", "-c", SERVE.format(tag=f"hello-{port}", port=8080)).ok()
        assert f"hello-{port}" in http_get(port)
        assert bb("port", name).ok().stdout == f"8080/tcp -> 127.0.0.1:{port}\n"
        assert bb("port", name, "8080").ok().stdout == f"127.0.0.1:{port}\n"
        assert bb("port", name, "8080/tcp").ok().stdout == f"127.0.0.1:{port}\n"
        bb("port", name, "81").assert_error(125, 'failed to find published port "81"')
        assert inspect(bb, name)["NetworkSettings"]["Ports"] == {
            "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
        assert f"127.0.0.1:{port}->8080/tcp" in bb("ps", "--format", "{{.Names}} {{.Ports}}").ok().stdout
        # only the address asked for: another local address has nothing on that port
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.2", port), timeout=5).close()
        bb("rm", "-f", "-t", "0", name).ok()
        wait_for(lambda: not _open(port), timeout=10, what=f"127.0.0.1:{port} closed after rm")


def test_random_host_port_chosen_at_start(bb):
    for args in _modes(bb):
        name = "rnd" + str(free_port())
        bb("run", "-d", "--name", name, *args, "-p", "127.0.0.1::8080", "localhost/busybox",
           "sh", "-c", SERVE.format(tag="random-port", port=8080)).ok()
        line = bb("port", name, "8080").ok().stdout.strip()
        assert line.startswith("127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        assert port > 0
        assert "random-port" in http_get(port)
        assert bb("port", "-a").ok().stdout.count(f"8080/tcp -> 127.0.0.1:{port}") == 1
        bb("rm", "-f", "-t", "0", name).ok()


def test_udp_port(hull_any, debian_image):
    bb = hull_any
    bb.load(debian_image)
    for args in _modes(bb):
        addr = host_address()
        port = free_port(socket.SOCK_DGRAM, addr)
        name = "udp" + str(port)
        bb("run", "-d", "--name", name, *args, "-p", f"{addr}:{port}:5353/udp", "localhost/debian:bookworm",
           "sh", "-c", UDP_ECHO.format(port=5353)).ok()
        # retry until the server is up (a fresh client each time: no flow state carried over)
        got = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not got:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(1.0)
                s.sendto(b"ping-udp\n", (addr, port))
                try:
                    got = s.recvfrom(1024)[0]
                except OSError:
                    pass
        assert got == b"ping-udp\n"
        assert bb("port", name).ok().stdout == f"5353/udp -> {addr}:{port}\n"
        bb("rm", "-f", "-t", "0", name).ok()


def test_port_in_use_fails_the_start(bb):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        for args in _modes(bb):
            res = bb("run", "-d", *args, "-p", f"127.0.0.1:{port}:80", "localhost/busybox", "sleep", "60")
            assert res.returncode != 0
            assert "address already in use" in res.stderr.lower()
    finally:
        busy.close()
