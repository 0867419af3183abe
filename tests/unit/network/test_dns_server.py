"""The DNS responder (engine/network/dns_server.py) over real UDP and TCP sockets on
loopback: records files as register() writes them, a fake upstream resolver run by the
test, garbage packets.  Two networks: `front` served on 127.0.0.1, `back` on 127.0.0.2."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dnslib import QTYPE, RCODE, RR, A, DNSRecord

ROOT = Path(__file__).resolve().parents[3]
WEB = "0123456789ab" + "c" * 52
DB = "fedcba987654" + "d" * 52


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 and 127.0.0.2."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                for host in ("127.0.0.1", "127.0.0.2"):
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                        u.bind((host, port))
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t2:
                    t2.bind(("127.0.0.2", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


def write_records(directory: Path, network: str, gateway: str, containers: dict) -> None:
    doc = {"network": network, "gateways": [gateway], "subnets": ["127.0.0.0/8", "10.89.0.0/24"],
           "containers": containers}
    tmp = directory / f".{network}.tmp"
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, directory / network)


class Upstream:
    """A fake upstream resolver on UDP+TCP: example.org A 192.0.2.7; counts queries."""

    def __init__(self) -> None:
        self.port = free_port()
        self.queries: list[str] = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(4)
        self.silent = False
        for target in (self._serve_udp, self._serve_tcp):
            threading.Thread(target=target, daemon=True).start()

    def answer(self, data: bytes) -> bytes:
        q = DNSRecord.parse(data)
        self.queries.append(str(q.q.qname))
        r = q.reply()
        if str(q.q.qname).lower() == "example.org." and q.q.qtype == QTYPE.A:
            r.add_answer(RR(q.q.qname, QTYPE.A, rdata=A("192.0.2.7"), ttl=30))
        else:
            r.header.rcode = RCODE.NXDOMAIN
        return r.pack()

    def _serve_udp(self) -> None:
        while True:
            try:
                data, addr = self.udp.recvfrom(4096)
            except OSError:
                return
            if not self.silent:
                self.udp.sendto(self.answer(data), addr)

    def _serve_tcp(self) -> None:
        while True:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            with conn:
                n = struct.unpack("!H", conn.recv(2))[0]
                data = b""
                while len(data) < n:
                    data += conn.recv(n - len(data))
                out = self.answer(data)
                conn.sendall(struct.pack("!H", len(out)) + out)

    def close(self) -> None:
        self.udp.close()
        self.tcp.close()


@pytest.fixture
def upstream():
    u = Upstream()
    yield u
    u.close()


@pytest.fixture
def responder(tmp_path, upstream):
    """The responder as a process, serving `front` (127.0.0.1) and `back` (127.0.0.2)."""
    directory = tmp_path / "dns"
    directory.mkdir()
    write_records(directory, "front", "127.0.0.1", {
        WEB: {"name": "web", "aliases": ["www", "Frontend"], "ips": ["10.89.0.2", "fd00::2"]}})
    write_records(directory, "back", "127.0.0.2", {
        DB: {"name": "db", "aliases": ["database"], "ips": ["10.89.1.2"]}})
    port = free_port()
    r, w = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.network.dns_server", "--dir", str(directory), "--port", str(port),
         "--pidfile", str(directory / "dns.pid"), "--lockfile", str(directory / "dns.lock"),
         "--upstream", f"127.0.0.1:{upstream.port}", "--ready-fd", str(w)],
        pass_fds=(w,), cwd=ROOT, stderr=subprocess.PIPE)
    os.close(w)
    assert os.read(r, 1) == b"1", proc.stderr.read() if proc.poll() is not None else "not ready"
    os.close(r)
    proc.port = port
    proc.dir = directory
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    proc.stderr.close()


def ask(port: int, name: str, qtype: str = "A", server: str = "127.0.0.1", tcp: bool = False) -> DNSRecord:
    return DNSRecord.parse(DNSRecord.question(name, qtype).send(server, port, tcp=tcp, timeout=5))


def addresses(reply: DNSRecord) -> list[str]:
    return sorted(str(rr.rdata) for rr in reply.rr)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_names_aliases_ids_case(responder, tcp):
    port = responder.port
    for name in ("web", "www", "frontend", "WEB", "Www.Dns.Podman.", "web.dns.podman", WEB[:12]):
        reply = ask(port, name, tcp=tcp)
        assert reply.header.rcode == RCODE.NOERROR and addresses(reply) == ["10.89.0.2"], name
        assert reply.header.aa == 1 and reply.header.id != 0
    assert addresses(ask(port, "db", server="127.0.0.2", tcp=tcp)) == ["10.89.1.2"]


def test_aaaa_and_other_types(responder):
    port = responder.port
    assert addresses(ask(port, "web", "AAAA")) == ["fd00::2"]
    nodata = ask(port, "db", "AAAA", server="127.0.0.2")  # known name, no IPv6: NODATA
    assert nodata.header.rcode == RCODE.NOERROR and nodata.rr == []
    mx = ask(port, "web", "MX")
    assert mx.header.rcode == RCODE.NOERROR and mx.rr == []


def test_ptr(responder):
    port = responder.port
    reply = ask(port, "2.0.89.10.in-addr.arpa", "PTR")
    assert [str(rr.rdata) for rr in reply.rr] == ["web.", "www.", "Frontend."]
    v6 = ask(port, "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", "PTR")
    assert str(v6.rr[0].rdata) == "web."
    # an address of our subnet nobody holds: NXDOMAIN without asking upstream
    assert ask(port, "99.0.89.10.in-addr.arpa", "PTR").header.rcode == RCODE.NXDOMAIN


def test_other_networks_names_are_nxdomain(responder, upstream):
    port = responder.port
    for name in ("db", "database", "db.dns.podman", DB[:12]):
        assert ask(port, name).header.rcode == RCODE.NXDOMAIN, name           # asked on front
    for name in ("web", "www"):
        assert ask(port, name, server="127.0.0.2").header.rcode == RCODE.NXDOMAIN, name  # on back
    assert ask(port, "nobody.dns.podman").header.rcode == RCODE.NXDOMAIN
    assert upstream.queries == []  # none of that leaked upstream
    # PTR of the other network's address is not answered from its records
    assert ask(port, "2.1.89.10.in-addr.arpa", "PTR").rr == []


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_forwarding(responder, upstream, tcp):
    reply = ask(responder.port, "example.org", tcp=tcp)
    assert addresses(reply) == ["192.0.2.7"]
    assert ask(responder.port, "nothing.example", tcp=tcp).header.rcode == RCODE.NXDOMAIN
    assert "example.org." in upstream.queries and "nothing.example." in upstream.queries


def test_forwarding_timeout_is_servfail(responder, upstream, monkeypatch):
    upstream.silent = True
    reply = DNSRecord.parse(DNSRecord.question("example.org").send("127.0.0.1", responder.port, timeout=15))
    assert reply.header.rcode == RCODE.SERVFAIL
    # still serving after that
    assert addresses(ask(responder.port, "web")) == ["10.89.0.2"]


def test_malformed_packets(responder):
    port = responder.port
    rnd = random.Random(4)
    garbage = [b"\xff" * 11, b"\x00\x01" + b"\x01\x00" + b"\x00\x01" * 4,
               # one question whose name is a compression pointer to itself
               b"\x00\x02\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01",
               # a question cut short, a label longer than the packet
               b"\x00\x03\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03we",
               b"\x00\x04\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3fabc\x00\x00\x01\x00\x01"]
    for i in range(5, 300):
        body = bytes(rnd.getrandbits(8) for _ in range(10 + rnd.randrange(400)))
        garbage.append(struct.pack("!H", i) + body)  # the id says which packet a reply answers
    sent = {g[:2]: g for g in garbage if len(g) >= 12}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"", ("127.0.0.1", port))
    s.sendto(b"\x00", ("127.0.0.1", port))
    for data in garbage:
        s.sendto(data, ("127.0.0.1", port))
    s.settimeout(2)
    replies = 0
    while True:
        try:
            answer = s.recv(65535)
        except TimeoutError:
            break
        replies += 1
        assert answer[:2] in sent
        assert len(answer) <= len(sent[answer[:2]])  # never more than was sent: no amplification
    assert replies > 0  # FORMERR for the parseable headers
    # a response packet (QR=1) is never answered (no loops between responders)
    response = DNSRecord.question("web").reply().pack()
    s.sendto(response, ("127.0.0.1", port))
    s.settimeout(1)
    with pytest.raises(TimeoutError):
        s.recv(4096)
    s.close()
    # TCP garbage: a length prefix promising more than arrives, then a close
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"\x01\x00" + os.urandom(20))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(struct.pack("!H", 20) + os.urandom(20))
        c.recv(100)
    assert responder.poll() is None
    assert addresses(ask(port, "web")) == ["10.89.0.2"]
    assert addresses(ask(port, "web", tcp=True)) == ["10.89.0.2"]


def test_big_answer_is_truncated_over_udp(responder):
    many = {f"{i:012x}" + "e" * 52: {"name": f"r{i}", "aliases": ["many"], "ips": [f"10.89.0.{10 + i}"]}
            for i in range(60)}
    write_records(responder.dir, "front", "127.0.0.1", many)
    os.kill(responder.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        reply = ask(responder.port, "many")
        if reply.header.tc or reply.rr:
            break
        time.sleep(0.1)
    query = DNSRecord.question("many").pack()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(query, ("127.0.0.1", responder.port))
        answer = s.recv(65535)
    assert len(answer) <= 512 and DNSRecord.parse(answer).header.tc == 1
    assert len(ask(responder.port, "many", tcp=True).rr) == 60  # the whole set over TCP


def test_reload_and_exit_when_idle(responder):
    port = responder.port
    write_records(responder.dir, "front", "127.0.0.1", {
        WEB: {"name": "web2", "aliases": [], "ips": ["10.89.0.3"]}})
    os.kill(responder.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while ask(port, "web2").rr == [] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert addresses(ask(port, "web2")) == ["10.89.0.3"]
    assert ask(port, "web").header.rcode != RCODE.NOERROR or ask(port, "web").rr == []
    # the mtime poll picks up a change without a signal
    write_records(responder.dir, "back", "127.0.0.2", {
        DB: {"name": "db", "aliases": ["store"], "ips": ["10.89.1.2"]}})
    deadline = time.monotonic() + 10
    while ask(port, "store", server="127.0.0.2").rr == [] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert addresses(ask(port, "store", server="127.0.0.2")) == ["10.89.1.2"]
    # a network without records is no longer served; none left: the responder exits
    (responder.dir / "back").unlink()
    (responder.dir / "front").unlink()
    os.kill(responder.pid, signal.SIGHUP)
    assert responder.wait(timeout=10) == 0
    assert not (responder.dir / "dns.pid").exists()


def test_clients_outside_the_subnets_are_ignored(tmp_path):
    from engine.network.dns_server import NetworkRecords, Responder

    directory = tmp_path
    write_records(directory, "front", "127.0.0.1", {WEB: {"name": "web", "aliases": [], "ips": ["10.89.0.2"]}})
    doc = json.loads((directory / "front").read_text())
    doc["subnets"] = ["10.89.0.0/24"]
    (directory / "front").write_text(json.dumps(doc))
    r = Responder(directory, [("127.0.0.1", 9)], "/nonexistent", [])
    r.reload()
    query = DNSRecord.question("web").pack()
    assert r.handle("front", query, False, "192.0.2.1") is None
    assert DNSRecord.parse(r.handle("front", query, False, "10.89.0.5")).rr
    assert isinstance(r.networks["front"], NetworkRecords)
