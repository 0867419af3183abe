"""engine/network/ipam.py: address, subnet and MAC choice, and Podman's refusals."""

from __future__ import annotations

import ipaddress

import pytest

from engine.errors import Conflict, InvalidArgument
from engine.network import ipam


def _subnet(text: str, **kw) -> dict:
    return ipam.make_subnet(text, **kw)


def test_make_subnet_masks_and_defaults_gateway():
    assert _subnet("10.99.0.5/24") == {"subnet": "10.99.0.0/24", "gateway": "10.99.0.1"}
    assert _subnet("10.99.0.0/24", gateway="10.99.0.254")["gateway"] == "10.99.0.254"


def test_make_subnet_refusals():
    with pytest.raises(InvalidArgument, match="gateway 10.98.0.1 not in subnet 10.99.0.0/24"):
        _subnet("10.99.0.0/24", gateway="10.98.0.1")
    with pytest.raises(Conflict, match="subnet 10.99.0.0/24 is already used on the host or by another config"):
        _subnet("10.99.0.0/24", used=[ipaddress.ip_network("10.99.0.0/16")])
    with pytest.raises(InvalidArgument, match="invalid CIDR address"):
        _subnet("10.99.0.0/33")
    with pytest.raises(InvalidArgument, match="lease range start ip 10.1.0.1 not in subnet"):
        _subnet("10.99.0.0/24", ip_range="10.1.0.0/25")


def test_lease_range_as_podman_prints_it():
    net = ipaddress.ip_network("10.99.1.0/24")
    assert ipam.lease_range(net, "10.99.1.128/26") == {"start_ip": "10.99.1.129", "end_ip": "10.99.1.191"}
    # a range reaching the subnet's end stops before its broadcast address
    assert ipam.lease_range(net, "10.99.1.128/25") == {"start_ip": "10.99.1.129", "end_ip": "10.99.1.254"}
    assert ipam.lease_range(net, "10.99.1.10-10.99.1.20") == {"start_ip": "10.99.1.10", "end_ip": "10.99.1.20"}


def test_auto_subnet_skips_used_and_host_routes():
    used = [ipaddress.ip_network("10.89.0.0/24"), ipaddress.ip_network("10.89.1.128/25")]
    assert ipam.auto_subnet(used) == "10.89.2.0/24"
    assert ipam.auto_subnet([]) == "10.89.0.0/24"
    assert ipam.auto_subnet([ipaddress.ip_network("10.89.0.7/32")]) == "10.89.1.0/24"
    with pytest.raises(Conflict, match="could not find free subnet"):
        ipam.auto_subnet([ipaddress.ip_network("10.89.0.0/16")])


def test_host_subnets_reads_this_namespace():
    nets = ipam.host_subnets()
    assert ipaddress.ip_network("0.0.0.0/0") not in nets and ipaddress.ip_network("::/0") not in nets
    # IPv6 routes too, but not link-local or multicast ones
    assert not any(n.version == 6 and (n.is_link_local or n.is_multicast) for n in nets)
    with open("/proc/net/ipv6_route") as f:
        routed6 = {ipaddress.IPv6Network((bytes.fromhex(ln.split()[0]), int(ln.split()[1], 16)))
                   for ln in f if ln.split()[9] != "lo" and int(ln.split()[1], 16)}
    assert {n for n in routed6 if not n.is_link_local and not n.is_multicast} <= set(nets)


def test_pick_lowest_free_not_gateway():
    subnets = [_subnet("10.5.0.0/29")]  # .1 gateway, .2-.6 for containers, .7 broadcast
    assert ipam.pick_address(subnets, set(), "n")[0] == "10.5.0.2"
    assert ipam.pick_address(subnets, {"10.5.0.2", "10.5.0.3"}, "n")[0] == "10.5.0.4"
    assert ipam.pick_address(subnets, {"10.5.0.2", "10.5.0.4"}, "n")[0] == "10.5.0.3"
    with pytest.raises(Conflict, match="failed to find free IP in range: 10.5.0.1 - 10.5.0.6"):
        ipam.pick_address(subnets, {f"10.5.0.{i}" for i in range(2, 7)}, "n")
    # a gateway that is not .1 frees .1 and is itself skipped
    other = [_subnet("10.6.0.0/29", gateway="10.6.0.2")]
    assert ipam.pick_address(other, {"10.6.0.1"}, "n")[0] == "10.6.0.3"


def test_pick_inside_lease_range():
    subnets = [_subnet("10.7.0.0/24", ip_range="10.7.0.128/30")]  # .129 .. .131
    assert ipam.pick_address(subnets, set(), "n")[0] == "10.7.0.129"
    assert ipam.pick_address(subnets, {"10.7.0.129", "10.7.0.130"}, "n")[0] == "10.7.0.131"
    with pytest.raises(Conflict):
        ipam.pick_address(subnets, {"10.7.0.129", "10.7.0.130", "10.7.0.131"}, "n")


def test_static_addresses():
    subnets = [_subnet("10.8.0.0/24")]
    assert ipam.check_static("10.8.0.77", subnets, {}, "n")[0] == "10.8.0.77"
    with pytest.raises(Conflict, match="requested ip address 10.8.0.77 is already allocated to container ID abc"):
        ipam.check_static("10.8.0.77", subnets, {"10.8.0.77": "abc"}, "n")
    with pytest.raises(InvalidArgument, match="requested static ip 10.9.0.1 not in any subnet on network n"):
        ipam.check_static("10.9.0.1", subnets, {}, "n")
    for reserved in ("10.8.0.0", "10.8.0.1", "10.8.0.255"):
        with pytest.raises(Conflict):
            ipam.check_static(reserved, subnets, {}, "n")


def test_mac_addresses():
    for _ in range(200):
        mac = ipam.random_mac()
        first = int(mac[:2], 16)
        assert first & 0x02 and not first & 0x01, mac
        assert ipam.parse_mac(mac) == mac
    assert ipam.parse_mac("92-D0-C6-0A-29-33") == "92:d0:c6:0a:29:33"
    with pytest.raises(InvalidArgument, match="invalid MAC address"):
        ipam.parse_mac("92:d0:c6:0a:29")
    with pytest.raises(InvalidArgument, match="multicast"):
        ipam.parse_mac("01:00:5e:00:00:01")


def test_ipv6_addresses_skip_the_subnet_router_and_gateway():
    subnets = [_subnet("10.99.0.0/24"), _subnet("fd10::/64")]
    assert ipam.pick_address(subnets, set(), "n", version=6) == ("fd10::2", subnets[1])
    assert ipam.pick_address(subnets, {"fd10::2", "fd10::3"}, "n", version=6)[0] == "fd10::4"
    assert ipam.pick_address(subnets, {"10.99.0.2"}, "n")[0] == "10.99.0.3"  # IPv4 unchanged
    ranged = [_subnet("fd10::/64", ip_range="fd10::100/120")]
    assert ipam.pick_address(ranged, set(), "n", version=6)[0] == "fd10::101"
    with pytest.raises(Conflict, match="failed to find free IP"):
        ipam.pick_address([_subnet("10.99.0.0/24")], set(), "n", version=6)


def test_ipv6_static_checks():
    subnets = [_subnet("10.99.0.0/24"), _subnet("fd10::/64")]
    assert ipam.check_static("fd10::99", subnets, {}, "n") == ("fd10::99", subnets[1])
    for reserved in ("fd10::", "fd10::1"):
        with pytest.raises(Conflict, match=f"requested ip address {reserved} is reserved on network n"):
            ipam.check_static(reserved, subnets, {}, "n")
    with pytest.raises(Conflict, match="already allocated to container ID abc"):
        ipam.check_static("fd10::99", subnets, {"fd10::99": "abc"}, "n")
    with pytest.raises(InvalidArgument, match="not in any subnet on network n"):
        ipam.check_static("fd11::5", subnets, {}, "n")


def test_auto_ipv6_subnet_is_a_random_ula_64_avoiding_used_ones():
    seen = {ipam.auto_subnet6([]) for _ in range(20)}
    assert len(seen) == 20  # random, not sequential (RFC 4193)
    for text in seen:
        net = ipaddress.ip_network(text)
        assert net.prefixlen == 64 and net.subnet_of(ipaddress.ip_network("fd00::/8"))
    # only the half of fd00::/8 that is not used can be handed out
    used = [ipaddress.ip_network("fd00::/9")]
    for _ in range(20):
        assert not ipaddress.ip_network(ipam.auto_subnet6(used)).overlaps(used[0])
    with pytest.raises(Conflict):
        ipam.auto_subnet6([ipaddress.ip_network("fd00::/8")])
