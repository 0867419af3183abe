"""Named networks' datapath: a Linux bridge per network, a veth pair per attachment.

The bridges live in the "host side" network namespace: the host as root, the user's
rootless netns otherwise (engine/network/rootless_netns.py).  Every netlink call goes
through pyroute2 on a socket opened inside the namespace it acts on: a short-lived
thread joins the namespace (setns(CLONE_NEWNET) is per thread, allowed in a threaded
process, and needs no way back), opens the socket and ends; the socket stays bound to
that namespace.  No fork, no `ip`.

    ensure_bridge(network, netns)       bridge + gateway address(es) + up + firewall
    attach(ctr_netns, network, att, ifname, netns=...)   veth pair, addresses, routes
    detach(ctr_netns, ifname, ...)       removes it; the bridge goes with its last port
    setup(cfg, cid, ctr_netns, attachments) / teardown(cfg, cid, ctr_netns, state)
                                        what lifecycle.py calls for mode "bridge"

A bridge and its rules are shared by all Hull processes (and, as root, by every
store on the machine): a file lock per bridge serialises create/attach/remove.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from engine.errors import Conflict, HullError
from engine.network import firewall
from engine.store.locks import file_lock, remove_lock_file

T = TypeVar("T")
DEFAULT_NETWORK = "hull"
DEFAULT_BRIDGE = "hull0"
DEFAULT_SUBNET = "10.88.0.0/16"
ROOT_LOCK_DIR = Path("/run/lock/hull")
# An address added without duplicate address detection is usable at once (netavark
# turns DAD off too): a container's first instruction may already talk IPv6.
IFA_F_NODAD = 0x02


# -- network records: read the fields the datapath needs ------------------------------
def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


@dataclass(frozen=True)
class NetView:
    """What the datapath needs of a network record (store row, dict or Podman JSON)."""

    name: str
    bridge: str
    subnets: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]  # (subnet, gateway)
    internal: bool
    mtu: int = 0                 # -o mtu= (0: the kernel's default) for the bridge and the veths
    metric: int = 0              # -o metric=: of the default route (0: the kernel's default)
    no_default_route: bool = False

    @classmethod
    def of(cls, network: Any) -> "NetView":
        name = _get(network, "name", "")
        bridge = _get(network, "network_interface", "") or (DEFAULT_BRIDGE if name == DEFAULT_NETWORK else "")
        if not bridge:
            raise HullError(f"network {name}: no bridge interface name")
        subnets = []
        for s in _get(network, "subnets", None) or []:
            net = ipaddress.ip_network(_get(s, "subnet"), strict=False)
            gw = _get(s, "gateway", "") or str(net.network_address + 1)
            subnets.append((net, gw))
        options = _get(network, "options", None) or {}
        return cls(name, bridge, tuple(subnets), bool(_get(network, "internal", False)),
                   mtu=int(options.get("mtu") or 0), metric=int(options.get("metric") or 0),
                   no_default_route=options.get("no_default_route") == "true")

    def subnet_of(self, ip: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]:
        addr = ipaddress.ip_address(ip)
        for net, gw in self.subnets:
            if addr in net:
                return net, gw
        raise HullError(f"address {ip} is not in a subnet of network {self.name}")


# -- namespaces and netlink -----------------------------------------------------------
def in_netns(netns: str | None, fn: Callable[[], T]) -> T:
    """fn() on a thread that joined the network namespace at `netns` (None: here)."""
    if netns is None:
        return fn()
    box: dict[str, Any] = {}

    def run() -> None:
        from engine.runtime.syscalls import CLONE_NEWNET, SYSCALLS

        try:
            fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                SYSCALLS.setns(fd, CLONE_NEWNET)
            finally:
                os.close(fd)
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    t = threading.Thread(target=run, name="hull-netns")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _netlink_socket() -> int:
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC, 0)  # NETLINK_ROUTE
    return s.detach()


@contextmanager
def iproute(netns: str | None = None) -> Iterator[Any]:
    """A pyroute2 IPRoute acting on the network namespace at `netns` (None: ours)."""
    from pyroute2 import IPRoute

    ipr = IPRoute() if netns is None else IPRoute(fileno=in_netns(netns, _netlink_socket))
    try:
        yield ipr
    finally:
        ipr.close()


def _code(exc: BaseException) -> int:
    return getattr(exc, "code", 0) or 0


def _link_index(ipr: Any, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return found[0] if found else None


def _link_kind(link: Any) -> str:
    info = link.get_attr("IFLA_LINKINFO")
    return info.get_attr("IFLA_INFO_KIND") if info is not None else ""


def _lock_path(netns: str | None, bridge: str) -> Path:
    base = Path(netns).parent if netns else ROOT_LOCK_DIR
    return base / f"bridge-{bridge}.lock"


# -- bridges --------------------------------------------------------------------------
def _ensure_bridge_locked(ipr: Any, view: NetView, netns: str | None) -> int:
    idx = _link_index(ipr, view.bridge)
    if idx is None:
        try:
            ipr.link("add", ifname=view.bridge, kind="bridge", **({"mtu": view.mtu} if view.mtu else {}))
        except Exception as exc:
            if _code(exc) != errno.EEXIST:
                raise HullError(f"create bridge {view.bridge}: {exc}") from None
        idx = _link_index(ipr, view.bridge)
        if idx is None:
            raise HullError(f"create bridge {view.bridge}: it vanished")
    else:
        link = ipr.get_links(idx)[0]
        if _link_kind(link) != "bridge":
            raise Conflict(f"interface {view.bridge} already exists and is not a bridge")
    ours = {(gw, net.prefixlen) for net, gw in view.subnets}
    have = {(a.get_attr("IFA_ADDRESS"), a["prefixlen"]) for a in ipr.get_addr(index=idx)
            if a["family"] == socket.AF_INET or not a.get_attr("IFA_ADDRESS", "").startswith("fe80")}
    strangers = have - ours
    if strangers:
        # Two networks (or two stores, as root) chose the same bridge name.
        addr, plen = sorted(strangers)[0]
        raise Conflict(f"bridge {view.bridge} is in use by another network ({addr}/{plen})")
    for gw, plen in sorted(ours - have):
        try:
            ipr.addr("add", index=idx, address=gw, prefixlen=plen, **({"flags": IFA_F_NODAD} if ":" in gw else {}))
        except Exception as exc:
            if _code(exc) != errno.EEXIST:
                raise HullError(f"add address {gw}/{plen} to {view.bridge}: {exc}") from None
    ipr.link("set", index=idx, state="up")
    ipv6 = any(net.version == 6 for net, _ in view.subnets)
    if not view.internal:
        in_netns(netns, lambda: firewall.enable_forwarding(ipv6))
    firewall.add_network(view.bridge, [str(net) for net, _ in view.subnets], view.internal, netns)
    return idx


def ensure_bridge(network: Any, netns: str | None = None) -> str:
    """The network's bridge, with its gateway address(es), up, firewall rules in place.
    Idempotent; safe when several hull processes do it at once.  Returns its name."""
    view = NetView.of(network)
    with file_lock(_lock_path(netns, view.bridge)), iproute(netns) as ipr:
        _ensure_bridge_locked(ipr, view, netns)
    return view.bridge


def _bridge_ports(ipr: Any, idx: int) -> list[str]:
    return [link.get_attr("IFLA_IFNAME") for link in ipr.get_links() if link.get_attr("IFLA_MASTER") == idx]


def remove_bridge_if_unused(network: Any, netns: str | None = None) -> bool:
    """Delete the bridge and its rules when no interface is attached to it any more."""
    view = NetView.of(network)
    lock = _lock_path(netns, view.bridge)
    with file_lock(lock), iproute(netns) as ipr:
        removed = _remove_if_unused_locked(ipr, view, netns)
        if removed:
            remove_lock_file(lock)  # a waiter notices and locks the new file
        return removed


def _remove_if_unused_locked(ipr: Any, view: NetView, netns: str | None) -> bool:
    idx = _link_index(ipr, view.bridge)
    if idx is not None:
        if _bridge_ports(ipr, idx):
            return False
        try:
            ipr.link("del", index=idx)
        except Exception as exc:
            if _code(exc) != errno.ENODEV:
                raise HullError(f"remove bridge {view.bridge}: {exc}") from None
    firewall.remove_network(view.bridge, netns)
    return True


def remove_bridge(network: Any, netns: str | None = None) -> None:
    """`network rm`: the bridge (whatever is left on it) and its rules go."""
    view = NetView.of(network)
    lock = _lock_path(netns, view.bridge)
    with file_lock(lock), iproute(netns) as ipr:
        idx = _link_index(ipr, view.bridge)
        if idx is not None:
            try:
                ipr.link("del", index=idx)
            except Exception as exc:
                if _code(exc) != errno.ENODEV:
                    raise HullError(f"remove bridge {view.bridge}: {exc}") from None
        firewall.remove_network(view.bridge, netns)
        remove_lock_file(lock)


# -- veth pairs -----------------------------------------------------------------------
def _host_veth_name(ipr: Any) -> str:
    while True:
        name = "veth" + secrets.token_hex(4)
        if _link_index(ipr, name) is None:
            return name


def _configure_container_side(ifname: str, addresses: list[tuple[str, int, str | None]], metric: int = 0) -> str:
    """Inside the container's netns: lo up, the interface addressed and up, the default
    routes (`addresses`: (ip, prefix length, gateway for a default route or None))."""
    # A gratuitous ARP on link up: neighbours forget a previous owner of a reused address.
    try:
        with open(f"/proc/sys/net/ipv4/conf/{ifname}/arp_notify", "w") as f:
            f.write("1")
    except OSError:
        pass
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        lo = _link_index(ipr, "lo")
        if lo is not None:
            ipr.link("set", index=lo, state="up")
        idx = _link_index(ipr, ifname)
        if idx is None:
            raise HullError(f"interface {ifname} missing in the container's namespace")
        for ip, plen, _ in addresses:
            try:
                ipr.addr("add", index=idx, address=ip, prefixlen=plen, **({"flags": IFA_F_NODAD} if ":" in ip else {}))
            except Exception as exc:
                if _code(exc) != errno.EEXIST:
                    raise
        ipr.link("set", index=idx, state="up")
        for _, _, gateway in addresses:
            if not gateway:
                continue
            family = socket.AF_INET6 if ":" in gateway else socket.AF_INET
            try:
                ipr.route("add", dst="default", gateway=gateway, family=family, oif=idx,
                          **({"priority": metric} if metric else {}))
            except Exception as exc:
                if _code(exc) != errno.EEXIST:
                    raise
        return ipr.get_links(idx)[0].get_attr("IFLA_ADDRESS")


def _delete_link(ipr: Any, name: str) -> bool:
    idx = _link_index(ipr, name)
    if idx is None:
        return False
    try:
        ipr.link("del", index=idx)
    except Exception as exc:
        if _code(exc) != errno.ENODEV:
            raise HullError(f"remove {name}: {exc}") from None
    return True


def _delete_in_container(ifname: str) -> bool:
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        return _delete_link(ipr, ifname)


def attach(container_netns: str, network: Any, attachment: Any, ifname: str, *,
           netns: str | None = None, default_route: bool = True) -> dict[str, Any]:
    """Connect the container whose netns file is `container_netns` to `network`.

    A veth pair: the host end (veth<hex>) on the bridge in `netns` (None: here), the
    other end created directly inside the container's netns as `ifname` with the
    attachment's MAC and address; a default route via the gateway when
    `default_route` (the first network) and the network is not internal.  Returns the
    state lifecycle keeps in network.json."""
    view = NetView.of(network)
    ip = _get(attachment, "ip", "") or _get(attachment, "ip4", "")
    if not ip:
        raise HullError(f"network {view.name}: no address allocated for the container")
    net, gw = view.subnet_of(ip)
    ip6 = _get(attachment, "ip6", "") or ""
    net6, gw6 = view.subnet_of(ip6) if ip6 else (None, "")
    mac = _get(attachment, "mac", "")
    # A stale interface from an earlier failed start would make the create fail.
    in_netns(container_netns, lambda: _delete_in_container(ifname))
    cfd = os.open(container_netns, os.O_RDONLY | os.O_CLOEXEC)
    try:
        with file_lock(_lock_path(netns, view.bridge)), iproute(netns) as ipr:
            bridge_idx = _ensure_bridge_locked(ipr, view, netns)
            host_if = _host_veth_name(ipr)
            peer: dict[str, Any] = {"ifname": ifname, "net_ns_fd": cfd}
            if mac:
                peer["address"] = mac
            mtu = {"mtu": view.mtu} if view.mtu else {}
            try:
                ipr.link("add", ifname=host_if, kind="veth", peer={**peer, **mtu}, **mtu)
            except Exception as exc:
                raise HullError(f"create veth pair for network {view.name}: {exc}") from None
            try:
                hidx = _link_index(ipr, host_if)
                ipr.link("set", index=hidx, master=bridge_idx, state="up")
                routed = default_route and not view.internal and not view.no_default_route
                route_via = gw if routed else None
                addresses = [(ip, net.prefixlen, route_via)]
                if net6 is not None:
                    addresses.append((ip6, net6.prefixlen, gw6 if routed else None))
                actual_mac = in_netns(container_netns,
                                      lambda: _configure_container_side(ifname, addresses, view.metric))
            except BaseException as exc:
                try:
                    _delete_link(ipr, host_if)
                except HullError:
                    pass
                if isinstance(exc, HullError):
                    raise
                raise HullError(f"attach to network {view.name}: {exc}") from None
    finally:
        os.close(cfd)
    entry = {"network": view.name, "bridge": view.bridge, "interface": ifname,
             "host_interface": host_if, "ip": ip, "prefixlen": net.prefixlen,
             "gateway": gw, "mac": actual_mac, "default_route": bool(route_via)}
    if net6 is not None:
        entry.update(ip6=ip6, prefixlen6=net6.prefixlen, gateway6=gw6)
    return entry


def detach(container_netns: str | None, ifname: str, *, network: Any = None,
           netns: str | None = None, host_interface: str = "") -> None:
    """Remove the interface `ifname` (and so its veth peer); with `network`, its bridge
    goes too when this was the last port.  Idempotent."""
    if container_netns and os.path.exists(container_netns):
        try:
            in_netns(container_netns, lambda: _delete_in_container(ifname))
        except OSError:
            pass  # the namespace is gone: the kernel removed the pair with it
    if host_interface:
        with iproute(netns) as ipr:
            _delete_link(ipr, host_interface)
    if network is not None:
        remove_bridge_if_unused(network, netns)


# -- a container's networks (called by lifecycle.py for mode "bridge") ---------------
# Root's default network mode ("") is bridge on `hull` (lifecycle.default_mode reads this).
DEFAULT_READY = True


def _host_netns(cfg: Any, cid: str) -> str | None:
    if not cfg.rootless:
        return None
    from engine.network import rootless_netns

    return rootless_netns.acquire(cfg, cid)


def _dns_register(cfg: Any, c: Any, net: Any, att: Any) -> None:
    if not _get(net, "dns_enabled", False):
        return
    from engine.network import dns

    subnets = [str(_get(s, "subnet")) for s in _get(net, "subnets", None) or []]
    gateways = [str(_get(s, "gateway")) for s in _get(net, "subnets", None) or [] if _get(s, "gateway")]
    ips = [a.split("/", 1)[0] for a in (att.ip, getattr(att, "ip6", "")) if a]
    dns.register(cfg, net.name, c.id, c.name, list(att.aliases or []), ips, gateways, subnets)


def _dns_unregister(cfg: Any, network: str, cid: str) -> None:
    try:
        from engine.network import dns

        dns.unregister(cfg, network, cid)
    except (ImportError, HullError, OSError):
        pass


def _plug(cfg: Any, store: Any, c: Any, netns_path: str, att: Any, host_ns: str | None,
          default_route: bool) -> dict[str, Any]:
    net = store.networks.get(att.network_id)
    entry = attach(netns_path, net, att, att.interface_name, netns=host_ns, default_route=default_route)
    entry["internal"] = bool(_get(net, "internal", False))
    try:
        _dns_register(cfg, c, net, att)
    except BaseException:
        _unplug(cfg, c.id, netns_path, entry, host_ns)
        raise
    return entry


def _unplug(cfg: Any, cid: str, netns_path: str | None, entry: dict[str, Any], host_ns: str | None) -> None:
    _dns_unregister(cfg, entry["network"], cid)
    detach(netns_path, entry["interface"], netns=host_ns, host_interface=entry.get("host_interface", ""),
           network={"name": entry["network"], "network_interface": entry["bridge"]})


def setup(cfg: Any, store: Any, c: Any, netns_path: str) -> dict[str, Any]:
    """Plug the container (netns file `netns_path`) into each network it is attached
    to, eth0 first; returns what lifecycle merges into network.json."""
    host_ns = _host_netns(cfg, c.id)
    done: list[dict[str, Any]] = []
    try:
        for att in store.networks.of_container(c.id):
            # the first network that gives one has the default route (-o no_default_route skips one)
            done.append(_plug(cfg, store, c, netns_path, att, host_ns,
                              default_route=not any(e["default_route"] for e in done)))
    except BaseException:
        for entry in reversed(done):
            try:
                _unplug(cfg, c.id, netns_path, entry, host_ns)
            except HullError:
                pass
        if cfg.rootless:
            from engine.network import rootless_netns

            rootless_netns.release(cfg, c.id)
        raise
    return {"host_netns": host_ns or "", "attachments": done, "ips": [e["ip"] for e in done]}


def teardown(cfg: Any, store: Any, c: Any, doc: dict[str, Any]) -> None:
    """Undo setup from network.json: veths, DNS records, unused bridges, and (rootless)
    this container's use of the rootless netns.  Idempotent, best effort per piece."""
    cid = c if isinstance(c, str) else c.id
    host_ns = doc.get("host_netns") or None
    error: BaseException | None = None
    for entry in reversed(doc.get("attachments") or []):
        try:
            _unplug(cfg, cid, doc.get("netns"), entry, host_ns)
        except (HullError, OSError) as exc:
            error = error or exc
    if cfg.rootless:
        from engine.network import rootless_netns

        rootless_netns.release(cfg, cid)
    if error is not None:
        raise error


def connect_running(cfg: Any, store: Any, c: Any, att: Any, doc: dict[str, Any] | None) -> dict[str, Any]:
    """`network connect` on a running container: plug `att` in; returns the new doc."""
    if not doc or doc.get("mode") != "bridge" or not doc.get("netns"):
        raise HullError(f"container {c.id} is not running on a bridge network: cannot connect it")
    entries = list(doc.get("attachments") or [])
    host_ns = doc.get("host_netns") or None
    entry = _plug(cfg, store, c, doc["netns"], att, host_ns,
                  default_route=not any(e.get("default_route") for e in entries))
    return {**doc, "attachments": entries + [entry], "ips": [e["ip"] for e in entries + [entry]]}


def disconnect_running(cfg: Any, store: Any, c: Any, att: Any, doc: dict[str, Any] | None) -> dict[str, Any]:
    """`network disconnect` on a running container: unplug `att`; returns the new doc."""
    if not doc:
        return doc or {}
    name = att.network_name or store.networks.get(att.network_id).name
    keep, gone = [], []
    for e in doc.get("attachments") or []:
        (gone if e["network"] == name else keep).append(e)
    for entry in gone:
        _unplug(cfg, c.id, doc.get("netns"), entry, doc.get("host_netns") or None)
    return {**doc, "attachments": keep, "ips": [e["ip"] for e in keep]}
