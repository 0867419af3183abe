"""Docker's volume routes: list, create, inspect, remove, prune."""

from __future__ import annotations

from typing import Any

from engine.api import context
from engine.api.http import Request
from engine.api.params import filters
from engine.api.responses import send_removal
from engine.api.router import route
from engine.errors import InvalidArgument


def volume_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """Docker's Volume from the services' (Podman's) inspect document."""
    return {"Name": doc["Name"], "Driver": doc["Driver"], "Mountpoint": doc["Mountpoint"],
            "CreatedAt": doc["CreatedAt"], "Labels": dict(doc.get("Labels") or {}), "Scope": "local",
            "Options": dict(doc.get("Options") or {})}


@route("GET", "/volumes")
def list_volumes(request: Request) -> None:
    from engine.services.volumes import list_volumes as list_

    docs = list_(context.config(), filters(request))
    request.send_json({"Volumes": [volume_doc(d) for d in docs], "Warnings": []})


def create_options(body: Any) -> Any:
    from engine.services.volumes import CreateOptions

    if not isinstance(body, dict):
        raise InvalidArgument("volume create: the body must be a JSON object")
    return CreateOptions(name=body.get("Name") or None, driver=body.get("Driver") or "local",
                         labels=dict(body.get("Labels") or {}), options=dict(body.get("DriverOpts") or {}),
                         ignore=True)


@route("POST", "/volumes/create")
def create_volume(request: Request) -> None:
    from engine.services.volumes import create, inspect

    cfg = context.config()
    name = create(cfg, create_options(request.json()))
    request.send_json(volume_doc(inspect(cfg, [name])[0]), 201)


@route("GET", "/volumes/{name}")
def inspect_volume(request: Request, name: str) -> None:
    from engine.services.volumes import inspect

    request.send_json(volume_doc(inspect(context.config(), [name])[0]))


@route("DELETE", "/volumes/{name}")
def remove_volume(request: Request, name: str) -> None:
    from engine.services.volumes import remove

    send_removal(request, remove(context.config(), [name], force=request.flag("force")))


@route("POST", "/volumes/prune")
def prune_volumes(request: Request) -> None:
    """Docker (API 1.42+) prunes only anonymous volumes unless `all=true` is a filter."""
    from engine.services.volumes import prune

    found = filters(request)
    prune_all = any(v.lower() in ("true", "1") for v in found.pop("all", []))
    if not prune_all:
        found["anonymous"] = ["true"]
    removed = prune(context.config(), found)
    request.send_json({"VolumesDeleted": [n for n, _ in removed],
                       "SpaceReclaimed": sum(s for _, s in removed)})
