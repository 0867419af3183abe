"""Docker's network routes: list, inspect, create, remove, connect, disconnect, prune."""

from __future__ import annotations

from typing import Any

from engine.api import context
from engine.api.http import Request
from engine.api.params import filters
from engine.api.responses import send_removal
from engine.api.router import route
from engine.errors import Conflict, HullError, InvalidArgument


def network_doc(store: Any, net: Any) -> dict[str, Any]:
    """Docker's Network for a store network."""
    from engine.services.common import rfc3339

    containers: dict[str, Any] = {}
    for a in store.networks.on_network(net.id):
        try:
            name = store.containers.get(a.container_id).name
        except HullError:
            continue
        containers[a.container_id] = {"Name": name, "EndpointID": "", "MacAddress": a.mac,
                                      "IPv4Address": f"{a.ip}/{a.prefix_len}" if a.ip else "",
                                      "IPv6Address": f"{a.ip6}/{a.prefix_len6}" if a.ip6 else ""}
    config = []
    for s in net.subnets:
        entry = {"Subnet": s.get("subnet", ""), "Gateway": s.get("gateway", "")}
        lease = s.get("lease_range") or {}
        if lease.get("start_ip"):
            entry["IPRange"] = f"{lease.get('start_ip')}-{lease.get('end_ip', '')}"
        config.append(entry)
    # Only the options the user gave, as dockerd: docker-compose compares them with the
    # project's driver_opts and refuses to reuse a network whose options differ.
    options = dict(net.options)
    if "mtu" in options:  # stored under netavark's name; compose compares Docker's
        options.setdefault("com.docker.network.driver.mtu", options["mtu"])
    return {
        "Name": net.name, "Id": net.id, "Created": rfc3339(net.created), "Scope": "local", "Driver": net.driver,
        "EnableIPv6": net.ipv6_enabled, "IPAM": {"Driver": "default", "Options": {}, "Config": config},
        "Internal": net.internal, "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""},
        "ConfigOnly": False, "Containers": containers, "Options": options, "Labels": dict(net.labels),
    }


@route("GET", "/networks")
def list_networks(request: Request) -> None:
    from engine.services.common import open_store
    from engine.services.networks import list_networks as list_

    cfg = context.config()
    found = filters(request)
    found.pop("type", None)  # Docker's custom/builtin: every Hull network is a bridge
    store = open_store(cfg)
    request.send_json([network_doc(store, n) for n in list_(cfg, found)])


@route("GET", "/networks/{name}")
def inspect_network(request: Request, name: str) -> None:
    from engine.services.common import open_store

    store = open_store(context.config())
    request.send_json(network_doc(store, store.networks.lookup(name)))


def create_args(body: Any) -> dict[str, Any]:
    """Docker's NetworkCreateRequest -> networks.create's keyword arguments."""
    if not isinstance(body, dict):
        raise InvalidArgument("network create: the body must be a JSON object")
    name = body.get("Name")
    if not name or not isinstance(name, str):
        raise InvalidArgument("network name is required")
    ipam = body.get("IPAM") or {}
    configs = [c for c in ipam.get("Config") or [] if isinstance(c, dict) and c.get("Subnet")]
    return {  # each IPAM config is one subnet (IPv4 or IPv6) with its own gateway and range
        "name": name,
        "subnet": [c["Subnet"] for c in configs],
        "gateway": [c.get("Gateway") or "" for c in configs],
        "ip_range": [c.get("IPRange") or "" for c in configs],
        "internal": bool(body.get("Internal")),
        "labels": dict(body.get("Labels") or {}),
        "options": dict(body.get("Options") or {}),
        "driver": body.get("Driver") or "bridge",
        "ipv6": bool(body.get("EnableIPv6")),
    }


@route("POST", "/networks/create")
def create_network(request: Request) -> None:
    from engine.services.common import open_store
    from engine.services.networks import create

    cfg = context.config()
    args = create_args(request.json(required=True))
    if open_store(cfg).networks.exists(args["name"]):
        raise Conflict(f"network with name {args['name']} already exists")
    net = create(cfg, **args)
    request.send_json({"Id": net.id, "Warning": ""}, 201)


@route("DELETE", "/networks/{name}")
def remove_network(request: Request, name: str) -> None:
    from engine.services.networks import remove

    send_removal(request, remove(context.config(), [name], force=request.flag("force")))


@route("POST", "/networks/{name}/connect")
def connect_network(request: Request, name: str) -> None:
    from engine.services.networks import connect

    body = request.json(required=True)
    container = body.get("Container") if isinstance(body, dict) else None
    if not container:
        raise InvalidArgument("container is required")
    endpoint = body.get("EndpointConfig") or {}
    ipam = endpoint.get("IPAMConfig") or {}
    connect(context.config(), name, container, aliases=list(endpoint.get("Aliases") or []),
            ip=ipam.get("IPv4Address") or "", mac=endpoint.get("MacAddress") or "",
            ip6=ipam.get("IPv6Address") or "")
    request.send_empty(200)


@route("POST", "/networks/{name}/disconnect")
def disconnect_network(request: Request, name: str) -> None:
    from engine.services.networks import disconnect

    body = request.json(required=True)
    container = body.get("Container") if isinstance(body, dict) else None
    if not container:
        raise InvalidArgument("container is required")
    disconnect(context.config(), name, container, force=bool(body.get("Force")))
    request.send_empty(200)


@route("POST", "/networks/prune")
def prune_networks(request: Request) -> None:
    from engine.services.networks import prune

    removed = prune(context.config(), filters(request))
    request.send_json({"NetworksDeleted": removed})
