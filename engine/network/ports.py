"""Published ports (-p, -P, --expose): parsing, normalisation, host-port choice, and
the shapes other pieces need (pasta's -t/-u, inspect's Ports, ps's PORTS column).

Flow: the CLI parses `-p` text with `parse_publish` (Podman's wording, exit 125); at
create `final_mappings` merges them with -P's exposed ports, refuses conflicts and
joins consecutive ports into ranges the way Podman's ParsePortMapping does (so `ps`
prints "0.0.0.0:8080-8081->80-81/tcp" for `-p 8080:80 -p 8081:81`).  Host port 0
stays 0 in the stored options; `resolve_host_ports` picks free ports at start (a
bind test) and lifecycle records the result in {runroot}/containers/<id>/network.json
under "ports" (`published` reads it back).
"""

from __future__ import annotations

import json
import os
import re

TYPE_CHECKING = False  # typing, ipaddress, socket load only where needed: ps reads this module
if TYPE_CHECKING:
    from typing import Any, Iterable

from engine.errors import HullError, InvalidArgument
from engine.record import Record  # Record.replace(opts): ContainerOptions has a `replace` field (--replace)
from engine.spec.options import PortMapping

PROTOCOLS = ("tcp", "udp", "sctp")
STATE_FILE = "network.json"      # written by engine/network/lifecycle.py
OWN_FILE = "ports.json"          # ours, used until lifecycle records "ports"


# -- -p text --------------------------------------------------------------------------
def _port(text: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(f'invalid port number: strconv.Atoi: parsing "{text}": invalid syntax')
    num = int(text)
    if not 1 <= num <= 65535:
        raise ValueError(f"port numbers must be between 1 and 65535 (inclusive), got {num}")
    return num


def _range(text: str) -> tuple[int, int]:
    """"80" -> (80, 1); "80-82" -> (80, 3)."""
    parts = text.split("-")
    if len(parts) > 2:
        raise ValueError("invalid port format - port ranges are formatted as startPort-stopPort")
    if parts[0] == "":
        raise ValueError("port numbers cannot be negative")
    start = _port(parts[0])
    if len(parts) == 1:
        return start, 1
    if parts[1] == "":
        raise ValueError("must provide ending number for port range")
    end = _port(parts[1])
    if end <= start:
        raise ValueError(f"the end port of a range must be higher than the start port - {end} is not higher than {start}")
    return start, end - start + 1


def _check_protocol(text: str) -> list[str]:
    out: list[str] = []
    for p in text.split(","):
        p = p.lower() or "tcp"
        if p not in PROTOCOLS:
            raise InvalidArgument(f'unrecognized protocol "{p}" in port mapping')
        if p not in out:
            out.append(p)
    return out


def parse_publish(text: str) -> list[PortMapping]:
    """One -p value: [ip:][hostPort:]containerPort[/proto]; Podman's StringSlice splits
    on commas first, so "80,81" is two mappings.  Errors are InvalidArgument (125)."""
    out: list[PortMapping] = []
    for item in (text.split(",") if text else []):
        out.extend(_parse_one(item))
    return out


def _parse_one(text: str) -> list[PortMapping]:
    proto: str | None = None
    pieces = text.split("/")
    if len(pieces) == 2:
        proto = pieces[1]
    elif len(pieces) > 2:
        raise InvalidArgument("invalid port format - protocol can only be specified once")
    rest = pieces[0]
    host_ip: str | None = None
    host_port: str | None = None
    v6 = rest.split("]")
    have_v6 = len(v6) == 2
    if len(v6) > 2:
        raise InvalidArgument("invalid port format - at most one IPv6 address can be specified in a --publish")
    if have_v6:
        if not v6[0].startswith("["):
            raise InvalidArgument("invalid port format - IPv6 addresses must be enclosed by []")
        if not v6[1].startswith(":"):
            raise InvalidArgument("invalid port format - IPv6 address must be followed by a colon (':')")
        host_ip, rest = v6[0][1:], v6[1][1:]
    parts = rest.split(":")
    if len(parts) == 1:
        if have_v6:
            raise InvalidArgument("invalid port format - must provide host and destination port if specifying an IP")
        ctr = parts[0]
    elif len(parts) == 2:
        host_port, ctr = parts
    elif len(parts) == 3:
        if have_v6:
            raise InvalidArgument("invalid port format - when v6 address specified, must be [ipv6]:hostPort:ctrPort")
        host_ip, host_port, ctr = parts
    else:
        raise InvalidArgument("invalid port format - format is [[hostIP:]hostPort:]containerPort")
    if ctr == "":
        raise InvalidArgument("must provide a non-empty container port to publish")
    try:
        cstart, clen = _range(ctr)
    except ValueError as exc:
        raise InvalidArgument(f"parsing container port: {exc}") from None
    if proto is not None and proto == "":
        raise InvalidArgument("must provide a non-empty protocol to publish")
    protocols = _check_protocol(proto or "tcp")
    ip = ""
    if host_ip is not None:
        if host_ip == "":
            raise InvalidArgument("must provide a non-empty container host IP to publish")
        if host_ip != "0.0.0.0":
            import ipaddress

            try:
                ip = str(ipaddress.ip_address(host_ip))
            except ValueError:
                raise InvalidArgument(f'cannot parse "{host_ip}" as an IP address') from None
    hstart = 0
    if host_port:
        try:
            hstart, hlen = _range(host_port)
        except ValueError as exc:
            raise InvalidArgument(f"parsing host port: {exc}") from None
        if hlen != clen:
            raise InvalidArgument(f"host and container port ranges have different lengths: {hlen} vs {clen}")
    if cstart + clen - 1 > 65535 or hstart + clen - 1 > 65535:
        raise InvalidArgument("port range exceeds maximum allowable port number")
    return [PortMapping(container_port=cstart, host_port=hstart, host_ip=ip, protocol=p, range=clen)
            for p in protocols]


def parse_expose(text: str) -> list[str]:
    """One --expose value (PORT[-END][/proto]) -> ["80/tcp", "81/tcp"]."""
    port, _, proto = text.partition("/")
    protocols = _check_protocol(proto or "tcp")
    first, _, last = port.partition("-")
    try:
        start = int(first)
        end = int(last) if last else start
    except ValueError:
        bad = first if not first.isdigit() else last
        raise InvalidArgument(f'invalid range format for --expose: {text}: strconv.ParseUint: '
                              f'parsing "{bad}": invalid syntax') from None
    for n in (start, end):
        if not 1 <= n <= 65535:
            raise InvalidArgument(f"port numbers must be between 1 and 65535 (inclusive), got {n}")
    if end < start:
        raise InvalidArgument(f"invalid range format for --expose: {text}: the end port of a range "
                              f"must be higher than the start port")
    return [f"{n}/{p}" for n in range(start, end + 1) for p in protocols]


def exposed_ports(image_config: dict | None, expose: Iterable[str]) -> list[tuple[int, str]]:
    """The image's ExposedPorts plus --expose, as sorted unique (port, proto)."""
    keys = list(((image_config or {}).get("config") or {}).get("ExposedPorts") or {}) + list(expose)
    out: set[tuple[int, str]] = set()
    for key in keys:
        num, _, proto = str(key).partition("/")
        try:
            n = int(num)
        except ValueError:
            continue
        if 1 <= n <= 65535:
            out.add((n, (proto or "tcp").lower()))
    return sorted(out)


# -- normalisation at create --------------------------------------------------------------
def final_mappings(publish: list[PortMapping], exposed: list[tuple[int, str]] = (),
                   publish_all: bool = False) -> list[PortMapping]:
    """Podman's ParsePortMapping: per (host IP, protocol) sort by host port, join
    consecutive mappings into ranges, refuse overlapping host ports that point at
    different container ports, drop exact duplicates; host-port-0 mappings are joined
    by container port.  With -P, every exposed port not published yet gets a random
    host port (0 here: chosen at start).  Order: host IP, protocol, fixed before random."""
    groups: dict[tuple[str, str], list[PortMapping]] = {}
    for m in publish:
        if m.protocol not in PROTOCOLS:
            raise InvalidArgument(f'unrecognized protocol "{m.protocol}" in port mapping')
        groups.setdefault((m.host_ip, m.protocol), []).append(m)
    out: list[PortMapping] = []
    used_ctr: dict[str, set[int]] = {}
    order = {p: i for i, p in enumerate(PROTOCOLS)}
    for (ip, proto), items in sorted(groups.items(), key=lambda kv: (kv[0][0], order[kv[0][1]])):
        fixed = sorted((m for m in items if m.host_port), key=lambda m: (m.host_port, m.container_port))
        joined: list[PortMapping] = []
        for m in fixed:
            prev = joined[-1] if joined else None
            if prev is not None and prev.host_port + prev.range >= m.host_port:
                diff = m.host_port - prev.host_port
                if diff == m.container_port - prev.container_port:  # same offset: one range
                    prev.range = max(prev.range, m.range + diff)
                    continue
                # Podman compares with ">" and so lets `-p 8080:80 -p 8080:81` through to
                # fail at start; one host port cannot serve two container ports: refuse now.
                if prev.host_port + prev.range - 1 >= m.host_port:
                    raise InvalidArgument(f"conflicting port mappings for host port {m.host_port} (protocol {proto})")
            joined.append(m.replace())
        randoms = sorted((m for m in items if not m.host_port), key=lambda m: m.container_port)
        for m in randoms:
            prev = joined[-1] if joined and not joined[-1].host_port else None
            if prev is not None and prev.container_port + prev.range >= m.container_port:
                prev.range = max(prev.range, m.container_port - prev.container_port + m.range)
                continue
            joined.append(m.replace())
        for m in joined:
            used_ctr.setdefault(proto, set()).update(range(m.container_port, m.container_port + m.range))
        out += joined
    if publish_all:
        for port, proto in exposed:
            if proto not in PROTOCOLS:
                raise InvalidArgument(f'validating protocols for exposed port {port}: unrecognized protocol "{proto}" in port mapping')
            if port not in used_ctr.get(proto, set()):
                out.append(PortMapping(container_port=port, protocol=proto))
                used_ctr.setdefault(proto, set()).add(port)
    return out


# -- host ports at start ------------------------------------------------------------------
def _bind_test(ip: str, port: int, proto: str) -> bool:
    """Can `port` be bound on `ip`?  "" (all addresses) asks IPv4 and IPv6 both: the
    forwarder listens dual-stack there."""
    import errno
    import socket

    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    tries = [(socket.AF_INET6 if ":" in ip else socket.AF_INET, ip)] if ip else \
        [(socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")]
    for family, addr in tries:
        try:
            with socket.socket(family, kind) as s:
                if kind == socket.SOCK_STREAM:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6 and not ip:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((addr, port))
        except OSError as exc:
            if not ip and family == socket.AF_INET6 and exc.errno in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL):
                continue  # no IPv6 on this host
            return False
    return True


def resolve_host_ports(mappings: list[PortMapping], tries: int = 64) -> list[PortMapping]:
    """Copies of `mappings` with every host port 0 replaced by free ones (a bind test of
    each port of the range on the asked address, in the caller's network namespace),
    from the ephemeral range as Podman's GetRandomPort; ports already chosen for this
    container are not chosen twice."""
    taken: set[tuple[str, int]] = {(m.protocol, m.host_port + i) for m in mappings if m.host_port
                                   for i in range(m.range)}
    import random

    lo, hi = _ephemeral_range()
    out: list[PortMapping] = []
    for m in mappings:
        if m.host_port:
            out.append(m.replace())
            continue
        proto = "tcp" if m.protocol == "sctp" else m.protocol
        for _ in range(tries):
            base = random.randint(lo, hi - m.range + 1)
            ports = range(base, base + m.range)
            if any((m.protocol, p) in taken for p in ports):
                continue
            if all(_bind_test(m.host_ip, p, proto) for p in ports):
                taken.update((m.protocol, p) for p in ports)
                out.append(m.replace(host_port=base))
                break
        else:
            extra = f"with range {m.range} " if m.range > 1 else ""
            raise HullError(f"failed to find an open port to expose container port {m.container_port} {extra}on the host")
    return out


def _ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
            lo, hi = (int(x) for x in fh.read().split()[:2])
            if 1024 <= lo < hi <= 65535:
                return lo, hi
    except (OSError, ValueError):
        pass
    return 32768, 60999


# -- consumers ------------------------------------------------------------------------------
def pasta_args(mappings: list[PortMapping]) -> list[str]:
    """pasta's port options for resolved mappings: "-t [ip/]h-h2:c-c2" per TCP mapping,
    "-u ..." per UDP one, and "-t none"/"-u none" when a protocol has none (pasta's
    default is "auto", which would forward ports nobody asked for).  SCTP cannot be
    forwarded by pasta (Podman's wording)."""
    args: dict[str, list[str]] = {"tcp": [], "udp": []}
    for m in mappings:
        if m.protocol not in args:
            raise HullError(f"can't forward protocol: {m.protocol}")
        if not m.host_port:
            raise HullError(f"host port for container port {m.container_port} not chosen yet")
        addr = f"{m.host_ip}/" if m.host_ip else ""
        spec = (f"{addr}{m.host_port}-{m.host_port + m.range - 1}:"
                f"{m.container_port}-{m.container_port + m.range - 1}")
        args[m.protocol] += ["-t" if m.protocol == "tcp" else "-u", spec]
    return (args["tcp"] or ["-t", "none"]) + (args["udp"] or ["-u", "none"])


def expand(mappings: Iterable[PortMapping]) -> list[PortMapping]:
    """One mapping per port (ranges unrolled), for inspect and `hull port`."""
    return [PortMapping(container_port=m.container_port + i, host_port=(m.host_port + i) if m.host_port else 0,
                        host_ip=m.host_ip, protocol=m.protocol)
            for m in mappings for i in range(max(1, m.range))]


def ports_doc(mappings: Iterable[PortMapping], exposed: Iterable[tuple[int, str]] = ()) -> dict[str, Any]:
    """Docker/Podman's {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}; exposed ports
    that are not published map to null (as Podman prints them)."""
    doc: dict[str, Any] = {}
    for m in expand(mappings):
        doc.setdefault(f"{m.container_port}/{m.protocol}", []).append(
            {"HostIp": m.host_ip, "HostPort": str(m.host_port) if m.host_port else ""})
    for port, proto in exposed:
        doc.setdefault(f"{port}/{proto}", None)
    return dict(sorted(doc.items(), key=lambda kv: _key_order(kv[0])))


def _key_order(key: str) -> tuple[int, str]:
    num, _, proto = key.partition("/")
    return (int(num) if num.isdigit() else 0, proto)


def ports_text(mappings: Iterable[PortMapping]) -> str:
    """ps's PORTS: "0.0.0.0:8080-8081->80-81/tcp, 127.0.0.1:9000->90/udp"; a port not
    chosen yet (container not started) as "80/tcp"."""
    parts = []
    for m in mappings:
        ip = m.host_ip or "0.0.0.0"
        ip = f"[{ip}]" if ":" in ip else ip
        if not m.host_port:
            ctr = f"{m.container_port}-{m.container_port + m.range - 1}" if m.range > 1 else str(m.container_port)
            parts.append(f"{ctr}/{m.protocol}")
        elif m.range > 1:
            parts.append(f"{ip}:{m.host_port}-{m.host_port + m.range - 1}->"
                         f"{m.container_port}-{m.container_port + m.range - 1}/{m.protocol}")
        else:
            parts.append(f"{ip}:{m.host_port}->{m.container_port}/{m.protocol}")
    return ", ".join(parts)


# -- the container's recorded state ---------------------------------------------------------
def from_dicts(items: Iterable[dict]) -> list[PortMapping]:
    out = []
    for d in items or ():
        out.append(PortMapping(container_port=int(d.get("container_port", 0)), host_port=int(d.get("host_port") or 0),
                               host_ip=str(d.get("host_ip") or ""), protocol=str(d.get("protocol") or "tcp"),
                               range=int(d.get("range") or 1)))
    return out


def requested(options: dict | None) -> list[PortMapping]:
    """The mappings of the stored options (host port 0 = chosen at start)."""
    return from_dicts((options or {}).get("publish") or [])


def published(run_dir: str | os.PathLike, options: dict | None) -> list[PortMapping] | None:
    """The mappings in force for a started container: network.json's "ports" (lifecycle),
    else our own ports.json; None when neither is there (not started, or torn down)."""
    for name in (STATE_FILE, OWN_FILE):
        try:
            with open(os.path.join(run_dir, name), "rb") as fh:
                doc = json.loads(fh.read())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("ports"), list):
            return from_dicts(doc["ports"])
    return None


def record(run_dir: str | os.PathLike, mappings: list[PortMapping]) -> None:
    """Write our ports.json (atomically); lifecycle may put the same list in network.json."""
    path = os.path.join(run_dir, OWN_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump({"ports": [m.as_dict() for m in mappings]}, fh)
    os.replace(tmp, path)


def forget(run_dir: str | os.PathLike) -> None:
    try:
        os.unlink(os.path.join(run_dir, OWN_FILE))
    except FileNotFoundError:
        pass


def to_dicts(mappings: Iterable[PortMapping]) -> list[dict]:
    return [m.as_dict() for m in mappings]


DISCARDED = "Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use"


def final_publish(opts: Any, image_config: dict | None) -> tuple[Any, list[str]]:
    """Create's step for ContainerOptions: -p joined and checked, -P's exposed ports
    added (host port 0, chosen at start), --expose normalised; modes without a network
    of their own drop the mappings with Podman's warning."""
    if not (opts.publish or opts.publish_all):
        return opts, []
    if opts.network in ("none", "host", "container", "private"):
        return Record.replace(opts, publish=[], publish_all=False), ([DISCARDED] if opts.publish else [])
    exposed = exposed_ports(image_config, opts.expose) if opts.publish_all else []
    return Record.replace(opts, publish=final_mappings(opts.publish, exposed, opts.publish_all)), []


def inspect_fields(run_dir: str | os.PathLike, options: dict | None, running: bool,
                   image_exposed: Iterable[str] = ()) -> dict[str, Any]:
    """inspect's NetworkSettings.Ports, HostConfig.PortBindings and PublishAllPorts: the
    host ports in force while running (network.json), the requested ones otherwise
    (HostPort "" when chosen at start); the image's EXPOSE and --expose'd ports not
    published map to null (as Podman and Docker show them)."""
    options = options or {}
    want = requested(options)
    live = published(run_dir, options) if running else None
    exposed = []
    for e in [*image_exposed, *(options.get("expose") or [])]:
        num, _, proto = str(e).partition("/")
        if num.isdigit():
            exposed.append((int(num), proto or "tcp"))
    return {"Ports": ports_doc(live if live is not None else want, exposed),
            "PortBindings": ports_doc(live if live is not None else want),
            "PublishAllPorts": bool(options.get("publish_all"))}
