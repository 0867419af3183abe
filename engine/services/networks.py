"""Network services: Podman's `network` verbs over the records in engine/store/networks.py,
and the calls container create/rm/inspect make (allocate_for_container,
release_for_container, container_networks).

Records only: bridges, veths and DNS responders are the datapath's
(engine/network/lifecycle.py, bridge.py, dns.py), which reads the attachments
recorded here.  For a running container, connect/disconnect also ask the datapath
to plug or unplug the interface (`lifecycle.connect_running/disconnect_running`,
when that module has them).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs milliseconds on every create/run/pod create
if TYPE_CHECKING:
    from typing import Any

from engine.config import EngineConfig
from engine.errors import Conflict, HullError, InUse, InvalidArgument, NetworkNotFound
from engine.services.common import enter_userns, open_store, rfc3339
from engine.services.events import emit
from engine.services.removal import RemovalReport, remove_users

LIST_FILTERS = ("name", "id", "driver", "label", "label!", "until", "dangling")
PRUNE_FILTERS = ("label", "label!", "until")


class RemoveReport(RemovalReport):
    """Podman's network rm: 1 when every name was unknown, 2 in use, else 125."""

    NOT_FOUND = NetworkNotFound
    IN_USE = (InUse,)


def _event(cfg: EngineConfig, action: str, net: Any, container: Any = None) -> None:
    """Podman's network events: create/remove carry the network's ID and name;
    connect/disconnect the container's ID and name, with the network as an attribute
    (libpod's newNetworkEvent)."""
    if container is None:
        emit(cfg, "network", action, id=net.id, name=net.name)
    else:
        emit(cfg, "network", action, id=container.id, name=container.name, attributes={"network": net.name})


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if v]


# ---------------------------------------------------------------- create
def create(cfg: EngineConfig, name: str | None = None, subnet: str | list[str] | None = None,
           gateway: str | list[str] | None = None, ip_range: str | list[str] | None = None,
           internal: bool = False, labels: dict[str, str] | None = None, options: dict[str, str] | None = None,
           disable_dns: bool = False, driver: str = "bridge", ipv6: bool = False, ignore: bool = False,
           interface_name: str = "") -> Any:
    """`network create`: the new (or, with `ignore`, the existing) store Network.  Several
    subnets pair up with gateways and ranges in order, as Podman's repeated flags do (an
    empty gateway or range in a list keeps its place: the API's per-subnet configs)."""
    subnets = _as_list(subnet)
    gateways = [gateway] if isinstance(gateway, str) else list(gateway or [])
    ranges = [ip_range] if isinstance(ip_range, str) else list(ip_range or [])
    if (any(gateways) or any(ranges)) and not subnets:
        raise InvalidArgument("cannot set gateway or range without subnet")
    if len(gateways) > len(subnets) or len(ranges) > len(subnets):
        raise InvalidArgument("cannot set more gateways or ranges than subnets")
    driver = driver or "bridge"
    if driver != "bridge":
        raise InvalidArgument(f"unsupported driver {driver}: invalid argument")
    requests = [{"subnet": s, "gateway": gateways[i] if i < len(gateways) else "",
                 "ip_range": ranges[i] if i < len(ranges) else ""} for i, s in enumerate(subnets)]
    for req in requests:
        if ":" in req["subnet"]:
            ipv6 = True  # a v6 subnet makes the network dual-stack (Podman)
    options = bridge_options(options or {}, ipv6)
    bridge = interface_name or options.pop("com.docker.network.bridge.name", "")
    if bridge:
        import re

        if len(bridge) > 15 or not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", bridge):
            raise InvalidArgument(f"bridge name {bridge} invalid: at most 15 of [a-zA-Z0-9_.-]: invalid argument")
    store = open_store(cfg)
    existed = ignore and name is not None and store.networks.exists(name)
    net = store.networks.create(name, subnets=requests, driver=driver, internal=internal,
                                dns_enabled=not disable_dns, ipv6_enabled=ipv6, labels=labels or {},
                                options=options, interface_name=bridge, ignore_existing=ignore)
    if not existed:
        _event(cfg, "create", net)
    return net


_BOOL = {"true": "true", "1": "true", "false": "false", "0": "false"}


def bridge_options(options: dict[str, str], ipv6: bool) -> dict[str, str]:
    """`-o` options of a bridge network, checked and normalised as netavark takes them:
    mtu (also Docker's com.docker.network.driver.mtu, which compose sends), metric,
    no_default_route, isolate; Docker's com.docker.network.bridge.name is kept for the
    caller (the bridge's name).  Anything else is refused rather than recorded and ignored."""
    out: dict[str, str] = {}
    for key, value in options.items():
        value = str(value).strip()
        if key in ("mtu", "com.docker.network.driver.mtu"):
            if not value.isdigit() or (int(value) and not 68 <= int(value) <= 65535):
                raise InvalidArgument(f'invalid mtu value "{value}": an integer from 68 to 65535 (0: default)')
            if ipv6 and 0 < int(value) < 1280:
                raise InvalidArgument(f"mtu {value} is too small for IPv6 (at least 1280)")
            out["mtu"] = str(int(value))
        elif key == "metric":
            if not value.isdigit():
                raise InvalidArgument(f'invalid metric value "{value}": must be an unsigned integer')
            out[key] = str(int(value))
        elif key == "no_default_route":
            if value.lower() not in _BOOL:
                raise InvalidArgument(f'invalid no_default_route value "{value}": must be true or false')
            out[key] = _BOOL[value.lower()]
        elif key == "isolate":
            # Hull's networks never route to each other (firewall.py), which is what netavark's
            # isolate=true|strict adds; the value is recorded as given.
            if value.lower() not in ("true", "false", "strict", "1", "0"):
                raise InvalidArgument(f'invalid isolate value "{value}": must be true, false or strict')
            out[key] = _BOOL.get(value.lower(), value.lower())
        elif key == "vlan":
            raise InvalidArgument("unsupported bridge network option vlan: VLAN-tagged bridges are not supported "
                                  "by hull")
        elif key == "com.docker.network.bridge.name":
            out[key] = value
        else:
            raise InvalidArgument(f"unsupported bridge network option {key}")
    return out


# ---------------------------------------------------------------- inspect / list
def inspect_doc(store: Any, net: Any, with_containers: bool = True) -> dict:
    """Podman 5's `network inspect` document (omitempty fields left out as Podman does)."""
    doc: dict[str, Any] = {
        "name": net.name,
        "id": net.id,
        "driver": net.driver,
        "network_interface": net.network_interface,
        "created": rfc3339_nano(net.created),
        "subnets": [dict(s) for s in net.subnets],
        "ipv6_enabled": net.ipv6_enabled,
        "internal": net.internal,
        "dns_enabled": net.dns_enabled,
    }
    if net.labels:
        doc["labels"] = dict(net.labels)
    if net.options:
        doc["options"] = dict(net.options)
    doc["ipam_options"] = {"driver": "host-local"}
    if with_containers:
        doc["containers"] = _containers_of(store, net)
    return doc


def rfc3339_nano(ts: float) -> str:
    """Podman prints a network's `created` with nanoseconds; we keep microseconds."""
    return rfc3339(ts)


def _containers_of(store: Any, net: Any) -> dict:
    out: dict[str, Any] = {}
    for a in store.networks.on_network(net.id):
        try:
            name = store.containers.get(a.container_id).name
        except HullError:
            continue
        subnets = [{"ipnet": f"{a.ip}/{a.prefix_len}", "gateway": a.gateway}]
        if a.ip6:
            subnets.append({"ipnet": f"{a.ip6}/{a.prefix_len6}", "gateway": a.gateway6})
        out[a.container_id] = {"name": name, "interfaces": {a.interface_name: {
            "subnets": subnets, "mac_address": a.mac}}}
    return out


def inspect(cfg: EngineConfig, names: list[str]) -> list[dict]:
    store = open_store(cfg)
    return [inspect_doc(store, store.networks.lookup(n)) for n in names]


def exists(cfg: EngineConfig, name: str) -> bool:
    return open_store(cfg).networks.exists(name)


def _label(labels: dict[str, str], spec: str) -> bool:
    key, eq, value = spec.partition("=")
    return key in labels and (not eq or labels[key] == value)


def _match(store: Any, net: Any, key: str, value: str) -> bool:
    import re

    if key == "name":
        try:
            return re.search(value, net.name) is not None
        except re.error:
            return value in net.name
    if key == "id":
        return net.id.startswith(value)
    if key == "driver":
        return net.driver == value
    if key == "label":
        return _label(net.labels, value)
    if key == "label!":
        return not _label(net.labels, value)
    if key == "until":
        from engine.services.images import _parse_until

        return net.created < _parse_until(value)
    if key == "dangling":
        if value.lower() not in ("true", "false", "1", "0"):
            raise InvalidArgument(f'invalid dangling filter value "{value}"')
        return (not store.networks.users(net.id)) == (value.lower() in ("true", "1"))
    raise InvalidArgument(f'invalid filter "{key}"')


def _filtered(store: Any, nets: list[Any], filters: dict[str, list[str]], allowed: tuple[str, ...]) -> list[Any]:
    for key in filters:
        if key not in allowed:
            raise InvalidArgument(f'invalid filter "{key}"')
    # label filters must all match; values of any other key are alternatives (Podman)
    return [n for n in nets
            if all((all if k in ("label", "label!") else any)(_match(store, n, k, v) for v in vals)
                   for k, vals in filters.items())]


def list_networks(cfg: EngineConfig, filters: dict[str, list[str]] | None = None) -> list[Any]:
    """`network ls`: store Networks, by name."""
    store = open_store(cfg)
    return _filtered(store, store.networks.list(), filters or {}, LIST_FILTERS)


# ---------------------------------------------------------------- rm / prune
def remove(cfg: EngineConfig, names: list[str], force: bool = False, timeout: int | None = None) -> RemoveReport:
    """`network rm`; with force the containers using the network are removed first
    (stopped if running), as Podman's `-f`."""
    if force:
        enter_userns(cfg)
    store = open_store(cfg)

    def remove_one(text: str) -> str:
        net = store.networks.lookup(text)
        if net.is_default:
            raise Conflict(f"default network {net.name} cannot be removed")
        users = store.networks.users(net.id)
        if users and force:
            remove_users(cfg, users, timeout)
        store.networks.remove(net.id)
        _event(cfg, "remove", net)
        return text

    return RemoveReport().remove_each(names, remove_one)


def prune(cfg: EngineConfig, filters: dict[str, list[str]] | None = None) -> list[str]:
    """Remove the networks no container is attached to (never the default one)."""
    store = open_store(cfg)
    removed = []
    for net in _filtered(store, store.networks.list(), filters or {}, PRUNE_FILTERS):
        if net.is_default or store.networks.users(net.id):
            continue
        try:
            store.networks.remove(net.id)
        except HullError:
            continue  # a container joined meanwhile
        _event(cfg, "remove", net)
        removed.append(net.name)
    return removed


def reload(cfg: EngineConfig, names: list[str]) -> list[str]:
    """`network reload`: Hull keeps no firewall rules a firewall reload could flush that
    start does not set again, so there is nothing to redo; returns the container IDs."""
    store = open_store(cfg)
    return [store.containers.lookup(n).id for n in names]


# ---------------------------------------------------------------- containers
def allocate_for_container(store: Any, container_id: str, networks: dict[str, Any]) -> list[Any]:
    """At create: an address on each named network (`networks`: name -> options
    NetworkAttachment), in the order given (eth0, eth1, ...).  A name that does not
    exist is Podman's "unable to find network" error; the caller undoes the create."""
    out = []
    for name, att in networks.items():
        net = store.networks.lookup(name)
        out.append(store.networks.attach(
            net.id, container_id, ip=getattr(att, "ip", "") or "", mac=getattr(att, "mac", "") or "",
            aliases=list(getattr(att, "aliases", None) or []),
            interface_name=getattr(att, "interface_name", "") or "", ip6=getattr(att, "ip6", "") or ""))
    return out


def release_for_container(store: Any, container_id: str) -> int:
    """At removal: free the container's addresses (the row's deletion does it too)."""
    return store.networks.detach_all(container_id)


def container_networks(store: Any, container_id: str) -> list[Any]:
    """The container's attachments (eth0 first), for inspect and the datapath."""
    return store.networks.of_container(container_id)


def _lifecycle(name: str) -> Any:
    try:
        from engine.network import lifecycle
    except ImportError:
        return None
    return getattr(lifecycle, name, None)


def _network_mode(container: Any) -> str:
    return (container.options or {}).get("network") or ""


def connect(cfg: EngineConfig, network: str, container: str, aliases: list[str] | None = None,
            ip: str = "", mac: str = "", interface_name: str = "", ip6: str = "") -> Any:
    """`network connect`: record the attachment; plug it in if the container runs."""
    enter_userns(cfg)
    store = open_store(cfg)
    c = store.containers.lookup(container)
    net = store.networks.lookup(network)
    mode = _network_mode(c)
    if mode not in ("bridge",) and not (mode == "" and store.networks.of_container(c.id)):
        raise InvalidArgument(f'"{mode or "default"}" is not supported: invalid network mode')
    if any(a.network_id == net.id for a in store.networks.of_container(c.id)):
        raise Conflict(f'container {c.id} is already connected to network "{net.name}": '
                       "network is already connected")
    import ipaddress

    for text, version in ((ip, 4), (ip6, 6)):
        try:
            if text and ipaddress.ip_address(text).version != version:
                raise ValueError
        except ValueError:
            raise InvalidArgument(f"{text} is not an IPv{version} address") from None
    att = store.networks.attach(net.id, c.id, ip=ip, mac=mac, aliases=list(aliases or []),
                                interface_name=interface_name, ip6=ip6)
    _record_in_options(store, c, net.name, att, add=True)
    if c.state.active:
        plug = _lifecycle("connect_running")
        if plug is not None:
            try:
                plug(cfg, store, store.containers.get(c.id), att)
            except BaseException:
                store.networks.detach(net.id, c.id)
                _record_in_options(store, c, net.name, att, add=False)
                raise
    _event(cfg, "connect", net, c)
    return att


def disconnect(cfg: EngineConfig, network: str, container: str, force: bool = False) -> None:
    """`network disconnect`: unplug (if running) and free the address."""
    enter_userns(cfg)
    store = open_store(cfg)
    c = store.containers.lookup(container)
    net = store.networks.lookup(network)
    try:
        att = store.networks.attachment(net.id, c.id)
    except NetworkNotFound:
        raise NetworkNotFound(f"container {c.id} is not connected to network {net.name}: "
                              "network not found") from None
    if c.state.active:
        unplug = _lifecycle("disconnect_running")
        if unplug is not None:
            try:
                unplug(cfg, store, c, att)
            except HullError:
                if not force:
                    raise
    store.networks.detach(net.id, c.id)
    _record_in_options(store, c, net.name, att, add=False)
    _event(cfg, "disconnect", net, c)


def _record_in_options(store: Any, c: Any, name: str, att: Any, add: bool) -> None:
    """Keep the container's stored options.networks in step with its attachments."""
    current = store.containers.get(c.id)
    options = dict(current.options or {})
    networks = dict(options.get("networks") or {})
    if add:
        networks[name] = {"aliases": list(att.aliases), "ip": "", "ip6": "", "mac": "",
                          "interface_name": att.interface_name}
        if not options.get("network"):
            options["network"] = "bridge"
    else:
        networks.pop(name, None)
    options["networks"] = networks
    store.containers.update(c.id, options=options)


def networks_at_create(cfg: EngineConfig, opts: Any) -> dict[str, Any]:
    """The named networks a new container joins: those of --network for bridge mode
    (`bridge` alone = the default network), the default network when the user's default
    mode ("") is bridge, else none.  --ip/--network-alias/--mac-address without a bridge
    network are Podman's "invalid config" error."""
    mode = opts.network
    if mode == "":
        try:
            from engine.network.lifecycle import default_mode
        except ImportError:
            mode = "private"
        else:
            mode = default_mode(cfg)
        if opts.networks and mode != "bridge":
            raise InvalidArgument("invalid config provided: networks and static ip/mac address can only be "
                                  "used with Bridge mode networking")
    if mode != "bridge":
        return {}
    if not opts.networks:
        from engine.spec.options import NetworkAttachment
        from engine.store.networks import DEFAULT_NETWORK

        opts.networks = {DEFAULT_NETWORK: NetworkAttachment()}
    return opts.networks


def attach_at_create(cfg: EngineConfig, store: Any, container_id: str, opts: Any) -> list[Any]:
    """container create: allocate the addresses (IPAM) of every network it joins."""
    wanted = networks_at_create(cfg, opts)
    return allocate_for_container(store, container_id, wanted) if wanted else []


# ---------------------------------------------------------------- container inspect
def network_mode(cfg: EngineConfig, options: dict) -> str:
    """HostConfig.NetworkMode as Podman shows it (bridge, none, host, container:ID,
    ns:PATH, pasta, slirp4netns); "" resolves to the user's default mode."""
    mode = options.get("network") or ""
    if not mode:
        try:
            from engine.network.lifecycle import default_mode
        except ImportError:
            return "private"
        mode = default_mode(cfg)
    if mode in ("container", "ns"):
        return f"{mode}:{options.get('network_arg') or ''}"
    return mode


def inspect_settings(store: Any, c: Any) -> dict:
    """NetworkSettings' per-network part for `hull inspect` of a container: Networks
    {name: {IPAddress, IPPrefixLen, Gateway, MacAddress, Aliases, NetworkID, ...}}, and
    the top-level address fields when the default network is the only one (as Podman).
    Addresses show while the container runs (Podman reads them from the live netns)."""
    attachments = store.networks.of_container(c.id)
    if not attachments:
        return {}
    live = bool(getattr(c.state, "active", False))
    networks: dict[str, Any] = {}
    for a in attachments:
        basic = {
            "EndpointID": "", "Gateway": a.gateway if live else "", "IPAddress": a.ip if live else "",
            "IPPrefixLen": a.prefix_len if live else 0, "IPv6Gateway": a.gateway6 if live else "",
            "GlobalIPv6Address": a.ip6 if live else "", "GlobalIPv6PrefixLen": a.prefix_len6 if live else 0,
            "MacAddress": a.mac if live else "",
        }
        networks[a.network_name] = {**basic, "NetworkID": a.network_id, "DriverOpts": None, "IPAMConfig": None,
                                    "Links": None, "Aliases": [c.id[:12]] + list(a.aliases)}
    out: dict[str, Any] = {"Networks": networks}
    from engine.store.networks import DEFAULT_NETWORK

    if len(attachments) == 1 and attachments[0].network_name == DEFAULT_NETWORK:
        only = networks[DEFAULT_NETWORK]
        out.update({k: only[k] for k in ("EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway",
                                         "GlobalIPv6Address", "GlobalIPv6PrefixLen", "MacAddress")})
    return out
