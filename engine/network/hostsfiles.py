"""A container's /etc/resolv.conf and /etc/hosts, written as Podman 5 writes them.

resolv.conf (libpod generateResolvConf + common/libnetwork/resolvconf):
  nameservers  --dns replaces everything; else the DNS servers of the container's
               DNS-enabled networks (their gateways: the responder forwards the rest)
               and nothing else; else pasta's/slirp4netns's DNS forwarder followed by
               the host's; else the host's.  The host's loopback servers are dropped
               outside the host netns (a lone systemd-resolved stub is looked through);
               none left: 8.8.8.8, 8.8.4.4.
  search       --dns-search replaces (`.` = none); else `dns.podman` when a network
               serves names, followed by the host's.
  options      --dns-option replaces the host's.
hosts (common/libnetwork/etchosts):
  --add-host entries first (host-gateway = the host.containers.internal address), then
  the host's /etc/hosts (Podman's default base_hosts_file), then what is not named yet
  of: localhost (127.0.0.1, ::1), host.containers.internal + host.docker.internal, the
  container's addresses with its hostname and name.

Both are generated at create (addresses known from IPAM for named networks, none yet
for pasta/slirp4netns) and again at start by write_network_files(), called by
engine/network/lifecycle.py setup() once the datapath is up.  They are rewritten in
place (same inode): a running container's bind mount keeps seeing them.
"""

from __future__ import annotations

import os

from engine.errors import InvalidArgument
from engine.record import Factory, Record

TYPE_CHECKING = False  # typing costs milliseconds on every create/start
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

DNS_SEARCH_DOMAIN = "dns.podman"
FALLBACK_NAMESERVERS = ("8.8.8.8", "8.8.4.4")
HOST_NAMES = ("host.containers.internal", "host.docker.internal")
SYSTEMD_RESOLVED_STUB = "127.0.0.53"


class NetView(Record):
    """What the two files need to know about a container's network."""

    mode: str = "private"                 # the option's network mode
    addresses: list[str] = Factory(list)        # the container's own
    dns_servers: list[str] = Factory(list)      # DNS-enabled networks' gateways
    search: list[str] = Factory(list)           # [dns.podman] when they serve names
    forwarders: list[str] = Factory(list)       # pasta/slirp4netns DNS
    host_ip: str = ""                     # host.containers.internal, "" = no entry
    ipv6: bool = True                     # False: IPv6 nameservers are dropped


# ---------------------------------------------------------------- resolv.conf
def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(1 << 20).splitlines()
    except OSError:
        return []


def _host_resolv(host_file: str, host_netns: bool) -> list[str]:
    lines = _read_lines(host_file)
    if not host_netns:
        servers = [ln.split()[1] for ln in lines if ln.split()[:1] == ["nameserver"] and len(ln.split()) > 1]
        if servers == [SYSTEMD_RESOLVED_STUB]:  # the stub cannot be reached from a netns
            real = _read_lines("/run/systemd/resolve/resolv.conf")
            lines = real or lines
        elif servers == ["127.0.0.1"]:
            lines = _read_lines("/run/NetworkManager/no-stub-resolv.conf") or lines
    return lines


def _field(lines: list[str], key: str) -> list[str]:
    out: list[str] = []
    for ln in lines:
        words = ln.split()
        if words[:1] == [key]:
            if key == "nameserver":
                out += words[1:2]
            elif key == "search":
                out = words[1:]  # the last search line wins (resolv.conf(5))
            else:
                out += words[1:]
    return out


def _usable(server: str, host_netns: bool, ipv6: bool) -> bool:
    import ipaddress

    try:
        addr = ipaddress.ip_address(server.split("%", 1)[0])
    except ValueError:
        return False
    if host_netns:
        return True
    if addr.is_loopback:
        return False
    return ipv6 or addr.version == 4


def resolv_conf(opts: Any, host_file: str = "/etc/resolv.conf", view: NetView | None = None) -> str:
    view = view or NetView(mode=opts.network)
    host_netns = view.mode == "host"
    lines = _host_resolv(host_file, host_netns)
    host_servers = [s for s in _field(lines, "nameserver") if _usable(s, host_netns, view.ipv6)]
    if not host_servers and not host_netns:
        host_servers = list(FALLBACK_NAMESERVERS)
    if opts.dns:
        servers = list(opts.dns)
    elif view.dns_servers:
        servers = list(view.dns_servers)  # the responder forwards what it does not know
    else:
        servers = list(view.forwarders) + host_servers
    if opts.dns_search:
        search = [] if "." in opts.dns_search else list(opts.dns_search)
    else:
        search = list(view.search) + _field(lines, "search")
    options = list(opts.dns_options) if opts.dns_options else _field(lines, "options")
    out = []
    if search:
        out.append("search " + " ".join(dict.fromkeys(search)))
    out += [f"nameserver {s}" for s in dict.fromkeys(servers)]
    if options:
        out.append("options " + " ".join(options))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- hosts
def parse_add_host(entry: str) -> tuple[list[str], str]:
    """--add-host host[;host...]:ip (the ip may be IPv6, so split at the first colon;
    host=ip as Docker also accepts).  ip may be `host-gateway`."""
    host, _, addr = entry.partition("=") if "=" in entry else entry.partition(":")
    if not host:
        raise InvalidArgument(f'hostname in host entry "{entry}" is empty')
    if not addr:
        raise InvalidArgument(f'IP address in host entry "{entry}" is empty')
    addr = addr.strip("[]")
    if addr != "host-gateway":
        import ipaddress

        try:
            ipaddress.ip_address(addr)
        except ValueError:
            raise InvalidArgument(f'invalid IP address in add-host: "{addr}"') from None
    return [h for h in host.split(";") if h], addr


def hosts_file(opts: Any, hostname: str, name: str, host_file: str = "/etc/hosts",
               view: NetView | None = None) -> str:
    view = view or NetView(mode=opts.network)
    entries: list[tuple[str, list[str]]] = []
    for item in opts.add_hosts:
        hosts, addr = parse_add_host(item)
        if addr == "host-gateway":
            if not view.host_ip:
                raise InvalidArgument("unable to replace \"host-gateway\" of host entry "
                                      f"\"{item}\": host containers internal IP address is empty")
            addr = view.host_ip
        entries.append((addr, hosts))
    for ln in _read_lines(host_file):
        words = ln.split("#", 1)[0].split()
        if len(words) >= 2:
            entries.append((words[0], words[1:]))
    names = [hostname] if hostname == name else [hostname, name]
    own = [(a, names) for a in view.addresses]
    if not own and view.mode in ("none", "private"):
        own = [("127.0.0.1", names)]
    extra = [("127.0.0.1", ["localhost"]), ("::1", ["localhost"])]
    if view.host_ip:
        extra.append((view.host_ip, list(HOST_NAMES)))
    taken = {n for _, ns in entries for n in ns}
    out = [f"{a}\t{' '.join(ns)}" for a, ns in entries]
    for addr, ns in extra + own:
        free = [n for n in ns if n not in taken]
        if free:
            out.append(f"{addr}\t{' '.join(free)}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- the view
def host_local_ip() -> str:
    """The host's address on its default route (Podman's GetLocalIP), without sending."""
    import socket  # here: `run` imports this module before it hands its monitor the container

    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                addr = s.getsockname()[0]
            if not addr.startswith("127.") and addr != "::1":
                return addr
        except OSError:
            continue
    return ""


def host_default_gateway() -> str:
    try:
        with open("/proc/net/route") as fh:
            for line in fh.readlines()[1:]:
                f = line.split()
                if len(f) > 3 and f[1] == "00000000" and int(f[3], 16) & 2:
                    import _socket

                    return _socket.inet_ntoa(bytes.fromhex(f[2])[::-1])
    except (OSError, ValueError):
        pass
    return ""


def _mode(cfg: Any, opts: Any) -> str:
    """The mode as lifecycle.py decides it ("" = the user's default)."""
    if opts.network:
        return opts.network
    from engine.network.lifecycle import default_mode

    return default_mode(cfg)


def build_view(cfg: Any, store: Any, c: Any, opts: Any, state: dict | None = None, _depth: int = 0) -> NetView:
    """NetView from the options, the network store (addresses known since create) and,
    at start, the datapath's state (network.json contents).  container:X sees X's network."""
    state = state or {}
    mode = state.get("mode") or _mode(cfg, opts)
    if mode == "container" and _depth < 8:
        joined = _joined(store, opts.network_arg)
        if joined is not None:
            from engine.network.lifecycle import state as net_state

            other, other_opts = joined
            return build_view(cfg, store, other, other_opts, net_state(cfg, other.id), _depth + 1)
    view = NetView(mode=mode)
    if mode == "bridge":
        _bridge_view(cfg, store, c, view, state)
    elif mode == "pasta":
        from engine.network import pasta

        # --config-net copies the host's address into the namespace
        view.addresses = _state_ips(state) or [a for a in [host_local_ip()] if a]
        view.forwarders = list(state.get("dns") or [pasta.DNS_FORWARD])
        # pasta keeps the default gateway mapped to the host (see pasta.py)
        view.host_ip = state.get("gateway") or host_default_gateway() or host_local_ip()
    elif mode == "slirp4netns":
        from engine.network import slirp4netns

        options = slirp4netns.parse_options(opts.network_arg or "") if opts.network_arg else {}
        addrs = slirp4netns.addresses(options)
        view.addresses = _state_ips(state) or [addrs["ip"]]
        view.forwarders = list(state.get("dns") or [addrs["dns"]])
        view.host_ip = addrs["gateway"] if options.get("allow_host_loopback") == "true" else host_local_ip()
        view.ipv6 = options.get("enable_ipv6") == "true"
    elif mode == "host":
        view.host_ip = host_local_ip()
    return view


def _joined(store: Any, target: str) -> tuple[Any, Any] | None:
    """The container whose network namespace `--network container:<target>` joins."""
    from engine.errors import ContainerNotFound
    from engine.spec.options import ContainerOptions

    if not target or store is None:
        return None
    try:
        other = store.containers.get(target)
    except ContainerNotFound:
        return None
    return other, ContainerOptions.from_dict(other.options)


def _state_ips(state: dict) -> list[str]:
    """network.json "addresses": [{"ip", "prefix"}] (or plain strings)."""
    out = []
    for a in state.get("addresses") or []:
        ip = a.get("ip") if isinstance(a, dict) else a
        if ip:
            out.append(str(ip).split("/", 1)[0])
    return out


def _bridge_view(cfg: Any, store: Any, c: Any, view: NetView, state: dict | None = None) -> None:
    networks = store.networks
    v6 = False
    atts = networks.of_container(c.id)
    if state and state.get("attachments") is not None:  # the datapath's word (a disconnect
        plugged = {a.get("network") for a in state["attachments"]}  # drops the row after)
        atts = [a for a in atts if a.network_name in plugged]
    for att in atts:
        net = networks.get(att.network_id)
        for ip in (att.ip.split("/", 1)[0], getattr(att, "ip6", "")):  # dual-stack: both
            if ip:
                view.addresses.append(ip)
                v6 = v6 or ":" in ip
        if net.dns_enabled:
            view.dns_servers += [g for g in net.gateways if g not in view.dns_servers]
        if not view.host_ip and not getattr(cfg, "rootless", False):
            view.host_ip = next((g for g in net.gateways if ":" not in g), "")
    if view.dns_servers:
        view.search = [DNS_SEARCH_DOMAIN]
    view.ipv6 = v6
    if getattr(cfg, "rootless", False):
        # bridges live in the rootless netns, reached through pasta there, which maps
        # the host's default gateway address to the host
        view.host_ip = host_default_gateway() or host_local_ip()
    elif not view.host_ip:
        view.host_ip = host_local_ip()


# ---------------------------------------------------------------- writing
def write_in_place(path: Path, text: str) -> None:
    """Rewrite keeping the inode (a running container has it bind-mounted)."""
    data = text.encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
    finally:
        os.close(fd)


def write_network_files(cfg: Any, store: Any, c: Any, state: dict | None = None) -> None:
    """Regenerate the container's resolv.conf and hosts (unless --no-hosts) with what the
    datapath knows now.  lifecycle.setup() calls it after the network is up, before the
    monitor starts; `network connect/disconnect` may call it for a running container."""
    from engine.spec.options import ContainerOptions

    opts = ContainerOptions.from_dict(c.options)
    if (opts.network or "") == "ns":
        return  # a foreign netns: files as made at create
    view = build_view(cfg, store, c, opts, state)
    userdata = store.containers.userdata(c.id)
    resolv, base_hosts = resolv_conf(opts, view=view), "/etc/hosts"
    if opts.network == "container":
        # Podman: the joined container's files (copied at each start: our --add-host
        # entries first, then its hosts, then our names on its addresses)
        joined = _joined(store, opts.network_arg)
        other = store.containers.userdata(joined[0].id) if joined is not None else None
        if other is not None and os.path.exists(other / "resolv.conf"):
            with open(other / "resolv.conf", encoding="utf-8", errors="replace") as fh:
                resolv = fh.read()
        if other is not None and os.path.exists(other / "hosts"):
            base_hosts = str(other / "hosts")
    write_in_place(userdata / "resolv.conf", resolv)
    if not opts.no_hosts:
        hostname = _hostname(userdata, c)
        write_in_place(userdata / "hosts", hosts_file(opts, hostname, c.name, host_file=base_hosts, view=view))


def _hostname(userdata: Path, c: Any) -> str:
    try:
        return (userdata / "hostname").read_text().strip() or c.id[:12]
    except OSError:
        return c.id[:12]
