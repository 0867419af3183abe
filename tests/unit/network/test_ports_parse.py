"""-p / --expose parsing and create-time normalisation (engine/network/ports.py); the
error strings are Podman 4.3's (checked against `podman create -p ...`)."""

from __future__ import annotations

import socket

import pytest

from engine.errors import InvalidArgument
from engine.network import ports
from engine.spec.options import PortMapping as PM


@pytest.mark.parametrize("text, want", [
    ("80", [PM(80)]),
    ("8080:80", [PM(80, 8080)]),
    ("127.0.0.1:8080:80", [PM(80, 8080, "127.0.0.1")]),
    ("127.0.0.1::80", [PM(80, 0, "127.0.0.1")]),
    ("0.0.0.0:8080:80", [PM(80, 8080)]),
    (":80", [PM(80)]),
    ("[::1]:8080:80", [PM(80, 8080, "::1")]),
    ("[::]:8080:80/udp", [PM(80, 8080, "::", "udp")]),
    ("8080-8081:80-81", [PM(80, 8080, range=2)]),
    ("80-82", [PM(80, range=3)]),
    ("80/udp", [PM(80, protocol="udp")]),
    ("80/SCTP", [PM(80, protocol="sctp")]),
    ("65535", [PM(65535)]),
    ("80,81/udp", [PM(80), PM(81, protocol="udp")]),
    ("", []),
])
def test_parse_publish(text: str, want: list[PM]) -> None:
    assert ports.parse_publish(text) == want


@pytest.mark.parametrize("text, error", [
    ("8080-8081:80", "host and container port ranges have different lengths: 2 vs 1"),
    ("8080:80-81", "host and container port ranges have different lengths: 1 vs 2"),
    ("80/foo", 'unrecognized protocol "foo" in port mapping'),
    ("80/tcp/udp", "invalid port format - protocol can only be specified once"),
    ("0:80", "parsing host port: port numbers must be between 1 and 65535 (inclusive), got 0"),
    ("abc", 'parsing container port: invalid port number: strconv.Atoi: parsing "abc": invalid syntax'),
    ("70000", "parsing container port: port numbers must be between 1 and 65535 (inclusive), got 70000"),
    ("0", "parsing container port: port numbers must be between 1 and 65535 (inclusive), got 0"),
    ("a:b:c:d", "invalid port format - format is [[hostIP:]hostPort:]containerPort"),
    ("::1:8080:80", "invalid port format - format is [[hostIP:]hostPort:]containerPort"),
    ("1.2.3:80:80", 'cannot parse "1.2.3" as an IP address'),
    ("x:8080:80", 'cannot parse "x" as an IP address'),
    ("[::1]:80", "invalid port format - must provide host and destination port if specifying an IP"),
    ("[::1]", "invalid port format - IPv6 address must be followed by a colon (':')"),
    ("[::1]8080:80", "invalid port format - IPv6 address must be followed by a colon (':')"),
    ("::1]:8080:80", "invalid port format - IPv6 addresses must be enclosed by []"),
    ("[::1]:1:2:3", "invalid port format - when v6 address specified, must be [ipv6]:hostPort:ctrPort"),
    ("80-79", "parsing container port: the end port of a range must be higher than the start port - 79 is not higher than 80"),
    ("80-", "parsing container port: must provide ending number for port range"),
    ("-80", "parsing container port: port numbers cannot be negative"),
    ("80-81-82", "parsing container port: invalid port format - port ranges are formatted as startPort-stopPort"),
    ("80/", "must provide a non-empty protocol to publish"),
    ("127.0.0.1:80", 'parsing host port: invalid port number: strconv.Atoi: parsing "127.0.0.1": invalid syntax'),
    ("8080:", "must provide a non-empty container port to publish"),
    (":8080:80", "must provide a non-empty container host IP to publish"),
    ("80-65536", "parsing container port: port numbers must be between 1 and 65535 (inclusive), got 65536"),
    ("80/tcp,udp", 'parsing container port: invalid port number: strconv.Atoi: parsing "udp": invalid syntax'),
])
def test_parse_publish_errors(text: str, error: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        ports.parse_publish(text)
    assert str(info.value) == error
    assert info.value.exit_code == 125


def test_parse_expose() -> None:
    assert ports.parse_expose("80") == ["80/tcp"]
    assert ports.parse_expose("80-82/udp") == ["80/udp", "81/udp", "82/udp"]
    with pytest.raises(InvalidArgument, match='^invalid range format for --expose: abc: strconv.ParseUint: parsing "abc"'):
        ports.parse_expose("abc")
    with pytest.raises(InvalidArgument, match='unrecognized protocol "foo"'):
        ports.parse_expose("80/foo")
    with pytest.raises(InvalidArgument, match=r"^port numbers must be between 1 and 65535 \(inclusive\), got 0$"):
        ports.parse_expose("0")


def _all(*texts: str) -> list[PM]:
    return [m for t in texts for m in ports.parse_publish(t)]


def test_final_joins_ranges_and_drops_duplicates() -> None:
    got = ports.final_mappings(_all("8080:80", "8081:81", "8080:80", "127.0.0.1::82/udp", "83-84", "84"))
    assert got == [PM(80, 8080, range=2), PM(83, 0, range=2), PM(82, 0, "127.0.0.1", "udp")]
    assert ports.ports_text(got) == "0.0.0.0:8080-8081->80-81/tcp, 83-84/tcp, 82/udp"


def test_final_same_host_port_other_protocol_or_address_is_fine() -> None:
    got = ports.final_mappings(_all("8080:80/udp", "8080:80", "127.0.0.1:9000:90", "127.0.0.2:9000:90"))
    assert [(m.host_ip, m.host_port, m.protocol) for m in got] == [
        ("", 8080, "tcp"), ("", 8080, "udp"), ("127.0.0.1", 9000, "tcp"), ("127.0.0.2", 9000, "tcp")]


@pytest.mark.parametrize("texts, port", [
    (("8080-8082:80-82", "8081:90"), 8081),
    (("8080:80", "8080:81"), 8080),       # Podman lets this through to fail at start
    (("9000-9001:80-81", "9001:80"), 9001),
])
def test_final_conflicts(texts: tuple[str, ...], port: int) -> None:
    with pytest.raises(InvalidArgument, match=rf"^conflicting port mappings for host port {port} \(protocol tcp\)$"):
        ports.final_mappings(_all(*texts))


def test_publish_all_adds_exposed_ports_not_published() -> None:
    exposed = ports.exposed_ports({"config": {"ExposedPorts": {"80/tcp": {}, "53/udp": {}, "443": {}}}},
                                  ["9000/tcp"])
    assert exposed == [(53, "udp"), (80, "tcp"), (443, "tcp"), (9000, "tcp")]
    got = ports.final_mappings(_all("8080:80"), exposed, publish_all=True)
    assert got == [PM(80, 8080), PM(53, protocol="udp"), PM(443), PM(9000)]
    assert ports.final_mappings(_all("8080:80"), exposed, publish_all=False) == [PM(80, 8080)]


def test_resolve_host_ports_picks_free_distinct_ports() -> None:
    got = ports.resolve_host_ports([PM(80, host_ip="127.0.0.1"), PM(81, range=3, host_ip="127.0.0.1"),
                                    PM(53, protocol="udp"), PM(90, 9090)])
    assert got[3] == PM(90, 9090)
    assert all(m.host_port for m in got)
    tcp = [got[0].host_port] + [got[1].host_port + i for i in range(3)]
    assert len(set(tcp)) == 4
    for p in tcp:  # they were free: bind them now
        with socket.socket() as s:
            s.bind(("127.0.0.1", p))


def test_resolve_refuses_when_nothing_is_free(monkeypatch) -> None:
    monkeypatch.setattr(ports, "_bind_test", lambda *a: False)
    with pytest.raises(Exception, match="^failed to find an open port to expose container port 80 on the host$"):
        ports.resolve_host_ports([PM(80)], tries=3)


def test_pasta_args() -> None:
    assert ports.pasta_args([]) == ["-t", "none", "-u", "none"]
    assert ports.pasta_args([PM(80, 8080, "127.0.0.1"), PM(53, 5353, protocol="udp"), PM(80, 9000, range=2),
                             PM(81, 8081, "::1")]) == [
        "-t", "127.0.0.1/8080-8080:80-80", "-t", "9000-9001:80-81", "-t", "::1/8081-8081:81-81",
        "-u", "5353-5353:53-53"]
    assert ports.pasta_args([PM(80, 8080, protocol="udp")]) == ["-t", "none", "-u", "8080-8080:80-80"]
    with pytest.raises(Exception, match="^can't forward protocol: sctp$"):
        ports.pasta_args([PM(80, 8080, protocol="sctp")])


def test_inspect_and_ps_shapes() -> None:
    resolved = [PM(80, 8080, range=2), PM(53, 5353, "127.0.0.1", "udp"), PM(80, 9000, "::1")]
    assert ports.ports_doc(resolved, [(99, "tcp"), (80, "tcp")]) == {
        "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "::1", "HostPort": "9000"}],
        "81/tcp": [{"HostIp": "", "HostPort": "8081"}],
        "99/tcp": None,
    }
    assert ports.ports_text(resolved) == \
        "0.0.0.0:8080-8081->80-81/tcp, 127.0.0.1:5353->53/udp, [::1]:9000->80/tcp"
    assert ports.ports_doc([PM(80)]) == {"80/tcp": [{"HostIp": "", "HostPort": ""}]}


def test_recorded_state_round_trip(tmp_path) -> None:
    assert ports.published(tmp_path, {}) is None
    ports.record(tmp_path, [PM(80, 8080)])
    assert ports.published(tmp_path, {}) == [PM(80, 8080)]
    # lifecycle's network.json wins when it records the ports
    (tmp_path / "network.json").write_text('{"ports": [{"container_port": 80, "host_port": 9999}]}')
    assert ports.published(tmp_path, {}) == [PM(80, 9999)]
    ports.forget(tmp_path)
    (tmp_path / "network.json").unlink()
    assert ports.published(tmp_path, {}) is None
