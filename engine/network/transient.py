"""A network for a container that has no state-DB row: a build's RUN step.

lifecycle.py works on Container records (options, network.json in the container's
run directory, IPAM attachments).  A RUN step's lean container has none of these,
so this module sets up and tears down the same pieces from a mode alone:
`{runroot}/netns/<name>` (netns.py) with pasta, or slirp4netns, attached to it.

    doc = setup(cfg, name, mode)   # {"mode", "netns", "pids", "helper", "gateway", "dns"}
    ... the runtime joins doc["netns"] ...
    teardown(cfg, doc)             # helpers killed and waited for, netns removed

Modes: "pasta", "slirp4netns", and "bridge" (a named network: `RUN --network=NAME`,
`hull build --network NAME`; "bridge" alone is the default network).  RUN's default
(`build_mode(cfg)`) is pasta, else slirp4netns, root too: the same host connectivity
(outbound traffic, host.containers.internal) without an address on a network.

A named network: the step has no container row, so its address is a reservation
(engine/network/reservations.py; as root also a host-wide lease) held by this process
under the name `name`; its veth is plugged into the network's bridge (bridge.attach:
the host side, or the rootless netns where the user's bridges live, which the step
uses under `name` like a container), resolv.conf names the network's DNS responder
when the network has DNS, so other containers resolve by name.  teardown unplugs the
veth and gives the address back.
"""

from __future__ import annotations

import secrets
from typing import Any

from engine.errors import HullError, InvalidArgument

MODES = ("pasta", "slirp4netns")


def build_mode(cfg: Any) -> str:
    """RUN's default network: pasta when installed, else slirp4netns (root too)."""
    from engine.network import pasta, slirp4netns

    if pasta.available():
        return "pasta"
    if slirp4netns.available():
        return "slirp4netns"
    raise HullError("could not find pasta or slirp4netns for the build's network: use --network host or none")


KEYWORDS = ("host", "none", "default", "private", *MODES)


def check_mode(network: str) -> None:
    """RUN's network: a keyword, "bridge" or a network's name (looked up at setup)."""
    if not network or ":" in network or "/" in network:
        raise InvalidArgument(f"unsupported RUN --network {network!r} "
                              "(host, none, private, pasta, slirp4netns, bridge or a network's name)")


def setup(cfg: Any, name: str, mode: str, store: Any = None, network: str = "") -> dict:
    """A netns file `name` with `mode`'s helper (bridge: plugged into `network` of
    `store`); torn down here when a step fails."""
    from engine.network import netns
    from engine.network.lifecycle import _default_gateway

    if mode not in (*MODES, "bridge"):
        raise InvalidArgument(f"unsupported network mode {mode!r} for a build step")
    net = None
    if mode == "bridge":  # before any file: an unknown network leaves nothing behind
        net = store.networks.ensure_default() if network in ("", "bridge") else store.networks.lookup(network)
    path = str(netns.create(cfg, name))
    doc: dict = {"mode": mode, "name": name, "netns": path, "pids": [], "helper": mode}
    try:
        run = netns.netns_dir(cfg)
        if net is not None:
            _plug(cfg, store, net, doc)
        elif mode == "pasta":
            from engine.network import pasta

            doc["pids"].append(pasta.start(path, [], [], run / f"{name}.pasta.pid", cfg.rootless))
            doc.update(gateway=_default_gateway(), dns=[pasta.DNS_FORWARD])
        else:
            from engine.network import slirp4netns

            sopts = slirp4netns.parse_options("")
            api = run / f"{secrets.token_hex(8)}.sock"  # a unix path has 108 bytes at most
            doc["api_socket"] = str(api)
            doc["pids"].append(slirp4netns.start(path, sopts, api, run / f"{name}.slirp4netns.log"))
            net = slirp4netns.addresses(sopts)
            from engine.network.lifecycle import _host_address

            doc.update(gateway=_host_address(), dns=[net["dns"]])
    except BaseException:
        teardown(cfg, doc)
        raise
    return doc


def _plug(cfg: Any, store: Any, net: Any, doc: dict) -> None:
    """The step's address on `net` and its veth on the network's bridge (see the module doc)."""
    from engine.network import bridge, reservations

    doc.update(helper="", store=store, network=net.name, network_id=net.id)
    doc["reserved"] = reservations.reserve(store, net.id, doc["name"])
    host_ns = None
    if cfg.rootless:
        from engine.network import rootless_netns

        host_ns = rootless_netns.acquire(cfg, doc["name"])
        doc["rootless_netns"] = True
    doc["host_netns"] = host_ns
    doc["attachment"] = bridge.attach(doc["netns"], net, doc["reserved"], "eth0", netns=host_ns)
    gateways = [g for g in net.gateways if ":" not in g]
    if net.dns_enabled:
        from engine.network import dns

        # registered like a container (as Podman's build containers are): the responder runs
        # while the step does, and answers the other containers' names
        dns.register(cfg, net.name, doc["name"], doc["name"], [], [doc["reserved"]["ip"]],
                     list(net.gateways), [str(s.get("subnet")) for s in net.subnets])
        doc["dns_registered"] = True
        doc.update(dns=list(net.gateways), search=["dns.podman"])
    else:
        doc.update(dns=[], search=[])
    from engine.network.hostsfiles import host_default_gateway, host_local_ip

    # host.containers.internal: rootless, pasta in the rootless netns maps the host's
    # default gateway to the host; as root the bridge's gateway is the host
    doc["gateway"] = (host_default_gateway() or host_local_ip()) if cfg.rootless else (gateways[:1] or [""])[0]
    doc["address"] = doc["reserved"]["ip"]


def _unplug(cfg: Any, doc: dict) -> None:
    from engine.network import bridge, reservations

    store = doc.get("store")
    att = doc.get("attachment")
    if doc.get("dns_registered"):
        from engine.network import dns

        try:
            dns.unregister(cfg, doc["network"], doc["name"])
        except (HullError, OSError):
            pass
    if att:
        try:
            bridge.detach(doc["netns"], att["interface"], netns=doc.get("host_netns"),
                          host_interface=att.get("host_interface", ""),
                          network={"name": att["network"], "network_interface": att["bridge"]})
        except (HullError, OSError):
            pass
    if doc.get("rootless_netns"):
        from engine.network import rootless_netns

        rootless_netns.release(cfg, doc["name"])
    if doc.get("reserved") and store is not None:
        reservations.release(store, doc["network_id"], doc["reserved"]["ip"], doc["name"])


def teardown(cfg: Any, doc: dict) -> None:
    """Idempotent: helpers gone (their pid still theirs), files removed, netns unmounted."""
    import os

    from engine.network import netns
    from engine.network.lifecycle import _kill_helper

    if doc.get("mode") == "bridge":
        _unplug(cfg, doc)

    for pid in doc.get("pids") or []:
        _kill_helper(int(pid), doc.get("helper") or "")
    run = netns.netns_dir(cfg)
    for leftover in (doc.get("api_socket"), run / f"{doc['name']}.pasta.pid", run / f"{doc['name']}.slirp4netns.log"):
        if leftover:
            try:
                os.unlink(leftover)
            except OSError:
                pass
    try:
        netns.remove(cfg, doc["name"])
    except (HullError, OSError):
        pass


__all__ = ["KEYWORDS", "MODES", "build_mode", "check_mode", "setup", "teardown"]
