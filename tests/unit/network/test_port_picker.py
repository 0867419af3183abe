"""One free-port picker (ports.resolve_host_ports) serves lifecycle too: it draws from the
ephemeral range, tests IPv4 and IPv6 for "all addresses" and never gives one port to two
mappings of a container."""

from __future__ import annotations

import socket

import pytest

from engine.network import lifecycle, ports


def _two_free_ports() -> int:
    """P such that P and P+1 are free on 127.0.0.1, 0.0.0.0 and ::."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("0.0.0.0", 0))
            p = s.getsockname()[1]
        if p < 65535 and all(ports._bind_test("", q, "tcp") for q in (p, p + 1)):
            return p
    pytest.skip("no two consecutive free ports")


def _mapping(port: int, host_ip: str = "") -> dict:
    return {"container_port": port, "host_port": 0, "host_ip": host_ip, "protocol": "tcp", "range": 1}


def test_two_mappings_of_one_container_never_get_the_same_port(monkeypatch):
    p = _two_free_ports()
    monkeypatch.setattr(ports, "_ephemeral_range", lambda: (p, p + 1))
    got = lifecycle.resolve_ports([_mapping(80, "127.0.0.1"), _mapping(81, "127.0.0.1")])
    assert sorted(m["host_port"] for m in got) == [p, p + 1]
    assert [m["container_port"] for m in got] == [80, 81]


def test_all_addresses_means_ipv6_too(monkeypatch):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    p = _two_free_ports()
    monkeypatch.setattr(ports, "_ephemeral_range", lambda: (p, p + 1))
    with socket.socket(socket.AF_INET6) as busy:  # taken on IPv6 only
        busy.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        busy.bind(("::", p))
        busy.listen(1)
        got = lifecycle.resolve_ports([_mapping(80)])
    assert got[0]["host_port"] == p + 1


def test_fixed_host_ports_are_kept():
    fixed = {"container_port": 80, "host_port": 8080, "host_ip": "", "protocol": "tcp", "range": 2}
    assert lifecycle.resolve_ports([fixed]) == [fixed]
