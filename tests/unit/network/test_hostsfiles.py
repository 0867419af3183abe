"""resolv.conf and hosts contents (engine/network/hostsfiles.py) against Podman 5's rules,
and the records/launcher API of engine/network/dns.py with a real responder process
(root: it serves in this netns, on loopback addresses and a free port)."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest
from dnslib import DNSRecord

from engine.config import EngineConfig
from engine.errors import InvalidArgument
from engine.network import dns
from engine.network.hostsfiles import NetView, hosts_file, resolv_conf, write_in_place
from engine.spec.options import ContainerOptions

HOST_RESOLV = "search corp.example\nnameserver 127.0.0.53\nnameserver 10.1.1.1\nnameserver fd00::53\noptions edns0\n"


@pytest.fixture
def host_resolv(tmp_path):
    path = tmp_path / "resolv.conf"
    path.write_text(HOST_RESOLV)
    return str(path)


def test_dns_network_uses_only_the_gateway(host_resolv):
    view = NetView(mode="bridge", dns_servers=["10.89.0.1"], search=["dns.podman"], ipv6=False)
    assert resolv_conf(ContainerOptions(network="bridge"), host_resolv, view) == (
        "search dns.podman corp.example\nnameserver 10.89.0.1\noptions edns0\n")


def test_network_without_dns_uses_the_host_servers(host_resolv):
    view = NetView(mode="bridge", ipv6=False)
    # loopback servers dropped (unreachable from a netns), IPv6 ones too without IPv6
    assert resolv_conf(ContainerOptions(network="bridge"), host_resolv, view) == (
        "search corp.example\nnameserver 10.1.1.1\noptions edns0\n")


def test_pasta_forwarder_first_then_the_host(host_resolv):
    view = NetView(mode="pasta", forwarders=["169.254.0.1"])
    assert resolv_conf(ContainerOptions(network="pasta"), host_resolv, view) == (
        "search corp.example\nnameserver 169.254.0.1\nnameserver 10.1.1.1\nnameserver fd00::53\n"
        "options edns0\n")


def test_flags_replace(host_resolv):
    view = NetView(mode="bridge", dns_servers=["10.89.0.1"], search=["dns.podman"])
    opts = ContainerOptions(network="bridge", dns=["192.0.2.1"], dns_search=["a.test"], dns_options=["ndots:1"])
    assert resolv_conf(opts, host_resolv, view) == "search a.test\nnameserver 192.0.2.1\noptions ndots:1\n"
    opts = ContainerOptions(network="bridge", dns_search=["."])
    assert "search" not in resolv_conf(opts, host_resolv, view)


def test_host_network_keeps_loopback(host_resolv):
    text = resolv_conf(ContainerOptions(network="host"), host_resolv, NetView(mode="host"))
    assert "nameserver 127.0.0.53" in text


def test_only_loopback_falls_back_to_public(tmp_path):
    path = tmp_path / "resolv.conf"
    path.write_text("nameserver 127.0.0.1\n")
    text = resolv_conf(ContainerOptions(network="none"), str(path), NetView(mode="none"))
    assert text == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"


def test_hosts_order_and_names(tmp_path):
    base = tmp_path / "hosts"
    base.write_text("127.0.0.1 localhost\n# comment\n10.0.0.5 buildhost # trailing\n10.0.0.6\n")
    view = NetView(mode="bridge", addresses=["10.89.0.7"], host_ip="10.89.0.1")
    opts = ContainerOptions(network="bridge", add_hosts=["gw:host-gateway", "a;b:192.0.2.4", "v6:fd00::9",
                                                         "localhost:192.0.2.99"])
    assert hosts_file(opts, "abc123", "web", str(base), view).splitlines() == [
        "10.89.0.1\tgw", "192.0.2.4\ta b", "fd00::9\tv6", "192.0.2.99\tlocalhost",  # --add-host first
        "127.0.0.1\tlocalhost", "10.0.0.5\tbuildhost",                            # the base file
        "10.89.0.1\thost.containers.internal host.docker.internal",               # localhost taken
        "10.89.0.7\tabc123 web"]


def test_hosts_hostname_equal_to_name_and_user_override(tmp_path):
    base = tmp_path / "hosts"
    base.write_text("")
    view = NetView(mode="bridge", addresses=["10.89.0.7"])
    text = hosts_file(ContainerOptions(add_hosts=["web:192.0.2.1"]), "web", "web", str(base), view)
    assert "10.89.0.7" not in text and "192.0.2.1\tweb" in text  # the user's entry wins
    assert "::1\tlocalhost" in text and "host.containers.internal" not in text


def test_host_gateway_needs_an_address(tmp_path):
    with pytest.raises(InvalidArgument, match="host-gateway"):
        hosts_file(ContainerOptions(network="none", add_hosts=["x:host-gateway"]), "h", "n", "/dev/null",
                   NetView(mode="none"))
    with pytest.raises(InvalidArgument, match="invalid IP address in add-host"):
        hosts_file(ContainerOptions(add_hosts=["x:1.2.3"]), "h", "n", "/dev/null", NetView())
    with pytest.raises(InvalidArgument, match="hostname in host entry"):
        hosts_file(ContainerOptions(add_hosts=[":1.2.3.4"]), "h", "n", "/dev/null", NetView())


def test_rewrite_keeps_the_inode(tmp_path):
    path = tmp_path / "resolv.conf"
    path.write_text("nameserver 192.0.2.1\nsearch a long line that will be shorter afterwards\n")
    ino = path.stat().st_ino
    write_in_place(path, "nameserver 10.89.0.1\n")
    assert path.stat().st_ino == ino and path.read_text() == "nameserver 10.89.0.1\n"


# ---------------------------------------------------------------- dns.py API
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.bind(("127.0.0.3", 0))
        port = u.getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        t.bind(("127.0.0.3", port))
    return port


@pytest.mark.skipif(os.geteuid() != 0, reason="the rootful launcher (rootless needs the rootless netns)")
def test_register_starts_serves_and_stops(tmp_path, monkeypatch):
    cfg = EngineConfig(root=tmp_path / "root", runroot=tmp_path / "run", rootless=False)
    port = _free_port()
    monkeypatch.setattr(dns, "PORT", port)
    cid = "ab" * 32
    dns.register(cfg, "net.one", cid, "svc", ["alias1", "svc"], ["10.99.0.2/24"],
                 gateways=["127.0.0.3"], subnets=["127.0.0.0/8"])
    pid = dns.running_pid(cfg)
    assert pid
    try:
        doc = json.loads((dns.records_dir(cfg) / "net%2Eone").read_text())
        assert doc["containers"][cid] == {"name": "svc", "aliases": ["alias1"], "ips": ["10.99.0.2"]}

        def a(name: str) -> list[str]:
            reply = DNSRecord.parse(DNSRecord.question(name).send("127.0.0.3", port, timeout=5))
            return [str(rr.rdata) for rr in reply.rr]

        assert a("svc") == ["10.99.0.2"] and a("alias1") == ["10.99.0.2"]
        # a second container: the running responder is told, not a new one started
        dns.register(cfg, "net.one", "cd" * 32, "other", [], ["10.99.0.3"])
        assert dns.running_pid(cfg) == pid
        deadline = time.monotonic() + 10
        while a("other") == [] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert a("other") == ["10.99.0.3"]
        dns.unregister(cfg, "net.one", "cd" * 32)
        dns.unregister(cfg, "net.one", "cd" * 32)  # idempotent
        dns.stop_if_idle(cfg)  # not idle: svc is left
        assert dns.running_pid(cfg) == pid
        dns.unregister(cfg, "net.one", cid)
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(f"/proc/{pid}")  # exits when no network has records
        assert dns.running_pid(cfg) == 0
        assert not (dns.records_dir(cfg) / "net%2Eone").exists()
    finally:
        if os.path.exists(f"/proc/{pid}"):
            os.kill(pid, 9)
