"""IPAM: which address, MAC and subnet a network or a container gets.

Pure functions over `ipaddress`; the store calls them inside its write transaction
(BEGIN IMMEDIATE), so the addresses they see as taken are all there are and two
concurrent creates can never be handed the same one.  Wording of the errors is
Podman's (common/libnetwork).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable

from engine.errors import Conflict, InvalidArgument

IPv4Net = ipaddress.IPv4Network | ipaddress.IPv6Network
# Podman: the default network, then 10.89.0.0/24, 10.89.1.0/24, ... for `network create`
DEFAULT_SUBNET = "10.88.0.0/16"
AUTO_POOL = ipaddress.ip_network("10.89.0.0/16")
AUTO_PREFIX = 24
# --ipv6 without a v6 subnet: a random ULA /64 (fd + 56 random bits), as libnetwork's
# getRandomIPv6Subnet (RFC 4193: random, not sequential)
ULA_POOL = ipaddress.ip_network("fd00::/8")


def parse_subnet(text: str) -> IPv4Net:
    """"10.99.0.5/24" -> 10.99.0.0/24 (Podman masks the host bits away)."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise InvalidArgument(f'invalid CIDR address: {text}') from None


def parse_ip(text: str, what: str = "IP address") -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise InvalidArgument(f"{text} is not an {what}") from None


def first_host(net: IPv4Net) -> str:
    return str(net.network_address + 1)


def lease_range(subnet: IPv4Net, ip_range: str) -> dict[str, str]:
    """--ip-range CIDR (or START-END) -> {start_ip, end_ip} inside `subnet`, as Podman prints it."""
    if "-" in ip_range:
        start_text, _, end_text = ip_range.partition("-")
        start, end = parse_ip(start_text), parse_ip(end_text)
    else:
        rng = parse_subnet(ip_range)
        start = rng.network_address + 1 if rng.num_addresses > 1 else rng.network_address
        end = rng.broadcast_address
        if end == subnet.broadcast_address and rng.num_addresses > 1:
            end = end - 1
    for ip, which in ((start, "start"), (end, "end")):
        if ip not in subnet:
            raise InvalidArgument(f"lease range {which} ip {ip} not in subnet {subnet}")
    if int(start) > int(end):
        raise InvalidArgument(f"lease range end ip {end} is before start ip {start}")
    return {"start_ip": str(start), "end_ip": str(end)}


def make_subnet(subnet: str, gateway: str = "", ip_range: str = "",
                used: Iterable[IPv4Net] = ()) -> dict:
    """One entry of a network's `subnets`, checked as Podman's ValidateSubnet does."""
    net = parse_subnet(subnet)
    for other in used:
        if other.version == net.version and net.overlaps(other):
            raise Conflict(f"subnet {net} is already used on the host or by another config")
    if gateway:
        gw = parse_ip(gateway, "IP address")
        if gw not in net:
            raise InvalidArgument(f"gateway {gw} not in subnet {net}")
    else:
        gw = net.network_address + 1
    entry: dict = {"subnet": str(net), "gateway": str(gw)}
    if ip_range:
        entry["lease_range"] = lease_range(net, ip_range)
    return entry


def auto_subnet(used: Iterable[IPv4Net]) -> str:
    """The first free 10.89.N.0/24 (Podman's default_subnet_pools order)."""
    used = [u for u in used if u.version == 4]
    for candidate in AUTO_POOL.subnets(new_prefix=AUTO_PREFIX):
        if not any(candidate.overlaps(u) for u in used):
            return str(candidate)
    raise Conflict("could not find free subnet from subnet pools")


def auto_subnet6(used: Iterable[IPv4Net]) -> str:
    """A random fdXX:XXXX:XXXX:XXXX::/64 that overlaps none of `used`."""
    used = [u for u in used if u.version == 6]
    for _ in range(10000):
        prefix = b"\xfd" + os.urandom(7) + bytes(8)
        candidate = ipaddress.IPv6Network((prefix, 64))
        if not any(candidate.overlaps(u) for u in used):
            return str(candidate)
    raise Conflict("failed to get random ipv6 subnet")


def host_subnets() -> list[IPv4Net]:
    """Subnets the host already routes (IPv4 routes other than the default route, and the
    addresses of its interfaces): a new network must not shadow them (Podman checks the same).
    Read from /proc, so it sees the network namespace this process is in."""
    out: list[IPv4Net] = []
    try:
        with open("/proc/net/route") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        lines = []
    for line in lines:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            dest = ipaddress.IPv4Address(int(fields[1], 16).to_bytes(4, "little"))
            mask = ipaddress.IPv4Address(int(fields[7], 16).to_bytes(4, "little"))
            net = ipaddress.IPv4Network(f"{dest}/{mask}", strict=False)
        except ValueError:
            continue
        if net.prefixlen:  # the default route covers everything: not a conflict
            out.append(net)
    try:
        with open("/proc/net/fib_trie") as f:
            text = f.read()
    except OSError:
        text = ""
    # "/32 host LOCAL" leaves name the interface addresses
    prev = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("/32 host LOCAL") and prev:
            try:
                addr = ipaddress.IPv4Address(prev)
            except ValueError:
                continue
            if not addr.is_loopback:
                out.append(ipaddress.IPv4Network(f"{addr}/32"))
        elif stripped.startswith("|--"):
            prev = stripped[3:].strip()
    return out + _host_subnets6()


def _host_subnets6() -> list[IPv4Net]:
    """IPv6 routes of this namespace other than the default, link-local, multicast and
    local ones (/proc/net/ipv6_route: dest, prefix length, ..., flags, device)."""
    out: list[IPv4Net] = []
    try:
        with open("/proc/net/ipv6_route") as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        fields = line.split()
        if len(fields) < 10 or fields[9] == "lo":
            continue
        try:
            net = ipaddress.IPv6Network((bytes.fromhex(fields[0]), int(fields[1], 16)), strict=False)
        except ValueError:
            continue
        if net.prefixlen and not (net.is_link_local or net.is_multicast):
            out.append(net)
    return out


def candidates(entry: dict) -> tuple[int, int]:
    """[first, last] (as ints) of the addresses containers may get from a subnet entry."""
    net = ipaddress.ip_network(entry["subnet"])
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4 and net.prefixlen < 31:
        first, last = first + 1, last - 1  # not the network or broadcast address
    elif net.version == 6 and net.prefixlen < 127:
        first += 1  # not the subnet-router anycast address
    rng = entry.get("lease_range") or {}
    if rng.get("start_ip"):
        first = max(first, int(ipaddress.ip_address(rng["start_ip"])))
    if rng.get("end_ip"):
        last = min(last, int(ipaddress.ip_address(rng["end_ip"])))
    return first, last


def pick_address(subnets: list[dict], taken: set[str], network_name: str, version: int = 4) -> tuple[str, dict]:
    """The lowest address of the network's first subnet of that IP version with room that
    no attachment holds and that is not its gateway: (address, the subnet entry)."""
    taken_ints = {int(ipaddress.ip_address(t)) for t in taken if t}
    subnets = [e for e in subnets if ipaddress.ip_network(e["subnet"]).version == version]
    for entry in subnets:
        first, last = candidates(entry)
        gateway = int(ipaddress.ip_address(entry["gateway"])) if entry.get("gateway") else -1
        n = first
        while n <= last:
            if n not in taken_ints and n != gateway:
                return str(ipaddress.ip_address(n)), entry
            n += 1
    ranges = ", ".join(f"{ipaddress.ip_address(a)} - {ipaddress.ip_address(b)}"
                       for a, b in (candidates(e) for e in subnets))
    raise Conflict(f"IPAM error: failed to find free IP in range: {ranges} (network {network_name})")


def check_static(ip_text: str, subnets: list[dict], holders: dict[str, str], network_name: str) -> tuple[str, dict]:
    """A requested --ip: inside one of the network's subnets, not its gateway or network/
    broadcast address, not held by another container (`holders`: ip -> container id)."""
    ip = parse_ip(ip_text, "ip address")
    for entry in subnets:
        net = ipaddress.ip_network(entry["subnet"])
        if ip.version != net.version or ip not in net:
            continue
        if str(ip) in holders:
            raise Conflict(f"IPAM error: requested ip address {ip} is already allocated to container ID "
                           f"{holders[str(ip)]}")
        first, last = candidates({"subnet": entry["subnet"]})  # a static address may be outside the range
        if entry.get("gateway") == str(ip) or not first <= int(ip) <= last:
            raise Conflict(f"IPAM error: requested ip address {ip} is reserved on network {network_name}")
        return str(ip), entry
    raise InvalidArgument(f"IPAM error: requested static ip {ip} not in any subnet on network {network_name}")


def random_mac() -> str:
    """A locally administered unicast MAC (bit 1 of the first byte set, bit 0 clear)."""
    b = bytearray(os.urandom(6))
    b[0] = (b[0] & 0xFC) | 0x02
    return ":".join(f"{x:02x}" for x in b)


def parse_mac(text: str) -> str:
    parts = text.strip().lower().replace("-", ":").split(":")
    if len(parts) != 6 or not all(len(p) == 2 and all(c in "0123456789abcdef" for c in p) for p in parts):
        raise InvalidArgument(f"invalid MAC address {text}")
    if int(parts[0], 16) & 1:
        raise InvalidArgument(f"invalid MAC address {text}: a multicast address cannot be a container's")
    return ":".join(parts)
