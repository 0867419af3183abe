"""libpod's volume, network and secret routes: Podman 5's documents, which are the
services' own inspect documents (engine/services/volumes.py, networks.py, secrets.py)."""

from __future__ import annotations

import json
from typing import Any

from engine.api import context
from engine.api.http import Request
from engine.api.params import filters
from engine.api.responses import send_exists, send_removal
from engine.api.router import route
from engine.errors import InvalidArgument, NetworkNotFound, NotFound, VolumeNotFound


# ---------------------------------------------------------------- volumes
@route("POST", "/volumes/create", libpod=True)
def create_volume(request: Request) -> None:
    from engine.services.volumes import CreateOptions, create, inspect

    body = request.json()
    if not isinstance(body, dict):
        raise InvalidArgument("the body must be a JSON object")
    cfg = context.config()
    name = create(cfg, CreateOptions(name=body.get("Name") or None, driver=body.get("Driver") or "local",
                                     labels=dict(body.get("Labels") or {}),
                                     options=dict(body.get("Options") or {}),
                                     ignore=bool(body.get("IgnoreIfExists"))))
    request.send_json(inspect(cfg, [name])[0], 201)


@route("GET", "/volumes/json", libpod=True)
def list_volumes(request: Request) -> None:
    from engine.services.volumes import list_volumes as ls

    request.send_json(ls(context.config(), filters(request)))


@route("GET", "/volumes/{name}/json", libpod=True)
def inspect_volume(request: Request, name: str) -> None:
    from engine.services.volumes import inspect

    request.send_json(inspect(context.config(), [name])[0])


@route("GET", "/volumes/{name}/exists", libpod=True)
def volume_exists(request: Request, name: str) -> None:
    from engine.services.volumes import exists

    send_exists(request, exists(context.config(), name),
                VolumeNotFound(f"no volume with name {name!r} found: no such volume"))


@route("DELETE", "/volumes/{name}", libpod=True)
def remove_volume(request: Request, name: str) -> None:
    from engine.services.volumes import remove

    send_removal(request, remove(context.config(), [name], force=request.flag("force")))


@route("POST", "/volumes/prune", libpod=True)
def prune_volumes(request: Request) -> None:
    from engine.services.volumes import prune

    request.send_json([{"Id": n, "Size": s, "Err": None} for n, s in prune(context.config(), filters(request))])


# ---------------------------------------------------------------- networks
@route("POST", "/networks/create", libpod=True)
def create_network(request: Request) -> None:
    """Podman 5's network JSON in, the created network's JSON out."""
    from engine.services.common import open_store
    from engine.services.networks import create, inspect_doc

    body = request.json(required=True)
    if not isinstance(body, dict):
        raise InvalidArgument("the body must be a JSON object")
    subnets = body.get("subnets") or []
    lease = [s.get("lease_range") or {} for s in subnets]
    cfg = context.config()
    net = create(cfg, name=body.get("name") or None, subnet=[s.get("subnet", "") for s in subnets],
                 gateway=[s.get("gateway") or "" for s in subnets],
                 ip_range=[f"{r['start_ip']}-{r.get('end_ip', '')}" if r.get("start_ip") else "" for r in lease],
                 internal=bool(body.get("internal")), labels=dict(body.get("labels") or {}),
                 options=dict(body.get("options") or {}), disable_dns=body.get("dns_enabled") is False,
                 driver=body.get("driver") or "bridge", ipv6=bool(body.get("ipv6_enabled")),
                 interface_name=body.get("network_interface") or "",
                 ignore=request.flag("ignoreIfExists"))
    request.send_json(inspect_doc(open_store(cfg), net))


@route("GET", "/networks/json", libpod=True)
def list_networks(request: Request) -> None:
    from engine.services.common import open_store
    from engine.services.networks import inspect_doc, list_networks as ls

    cfg = context.config()
    store = open_store(cfg)
    request.send_json([inspect_doc(store, n, with_containers=False) for n in ls(cfg, filters(request))])


@route("GET", "/networks/{name}", libpod=True)
@route("GET", "/networks/{name}/json", libpod=True)
def inspect_network(request: Request, name: str) -> None:
    from engine.services.networks import inspect

    request.send_json(inspect(context.config(), [name])[0])


@route("GET", "/networks/{name}/exists", libpod=True)
def network_exists(request: Request, name: str) -> None:
    from engine.services.networks import exists

    send_exists(request, exists(context.config(), name),
                NetworkNotFound(f"unable to find network with name or ID {name}: network not found"))


@route("DELETE", "/networks/{name}", libpod=True)
def remove_network(request: Request, name: str) -> None:
    from engine.services.networks import remove

    report = remove(context.config(), [name], force=request.flag("force"), timeout=request.int_arg("timeout"))
    send_removal(request, report, [{"Name": name, "Err": None}])


@route("POST", "/networks/{name}/connect", libpod=True)
def connect_network(request: Request, name: str) -> None:
    from engine.services.networks import connect

    body = request.json(required=True)
    container = body.get("container") or body.get("Container")
    if not container:
        raise InvalidArgument("container is required")
    opts = body.get("network_options") or body.get("EndpointConfig") or {}
    ips = opts.get("static_ips") or []
    connect(context.config(), name, container, aliases=list(opts.get("aliases") or opts.get("Aliases") or []),
            ip=ips[0] if ips else "", mac=opts.get("static_mac") or "",
            interface_name=opts.get("interface_name") or "")
    request.send_empty(200)


@route("POST", "/networks/{name}/disconnect", libpod=True)
def disconnect_network(request: Request, name: str) -> None:
    from engine.services.networks import disconnect

    body = request.json(required=True)
    container = body.get("Container") or body.get("container")
    if not container:
        raise InvalidArgument("container is required")
    disconnect(context.config(), name, container, force=bool(body.get("Force")))
    request.send_empty(200)


@route("POST", "/networks/prune", libpod=True)
def prune_networks(request: Request) -> None:
    from engine.services.networks import prune

    request.send_json([{"Name": n, "Err": None} for n in prune(context.config(), filters(request))])


# ---------------------------------------------------------------- secrets
@route("POST", "/secrets/create", libpod=True)
def create_secret(request: Request) -> None:
    from engine.services.secrets import CreateOptions, create

    name = request.arg("name") or ""
    if not name:
        raise InvalidArgument("secret name is required")
    labels = _labels(request)
    data = request.body(limit=512 << 10)
    sid = create(context.config(), name, data, CreateOptions(
        driver=request.arg("driver") or "file", labels=labels, replace=request.flag("replace")))
    request.send_json({"ID": sid})


def _labels(request: Request) -> dict[str, str]:
    raw = request.arg("labels")
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except ValueError:
        raise InvalidArgument("labels must be a JSON object") from None
    if not isinstance(doc, dict):
        raise InvalidArgument("labels must be a JSON object")
    return {str(k): str(v) for k, v in doc.items()}


@route("GET", "/secrets/json", libpod=True)
def list_secrets(request: Request) -> None:
    from engine.services.secrets import list_secrets as ls

    request.send_json(ls(context.config(), filters(request)))


@route("GET", "/secrets/{name}/json", libpod=True)
def inspect_secret(request: Request, name: str) -> None:
    from engine.services.secrets import inspect

    doc: dict[str, Any] = inspect(context.config(), [name])[0]
    if request.flag("showsecret"):
        from engine.services.common import open_store

        store = open_store(context.config())
        data = getattr(store.secrets, "data", None)
        if data is not None:
            doc["SecretData"] = data(name).decode("utf-8", "replace")
    request.send_json(doc)


@route("GET", "/secrets/{name}/exists", libpod=True)
def secret_exists(request: Request, name: str) -> None:
    from engine.services.secrets import exists

    send_exists(request, exists(context.config(), name), NotFound(f"{name}: no such secret"))


@route("DELETE", "/secrets/{name}", libpod=True)
def remove_secret(request: Request, name: str) -> None:
    from engine.services.secrets import remove

    send_removal(request, remove(context.config(), [name], all=request.flag("all")))


# ---------------------------------------------------------------- system
@route("GET", "/system/df", libpod=True)
def system_df(request: Request) -> None:
    from engine.api.system_df import libpod_df_doc

    request.send_json(libpod_df_doc(context.config()))
