"""libpod's manifest list routes (podman-py's `client.manifests`), over
engine/services/manifests.py.  Podman 5's shapes: create and modify answer
`{"Id": list id}` (modify adds the images it touched), push `{"Id": digest}`,
json the list document, delete rmi's report."""

from __future__ import annotations

from typing import Any

from engine.api import context
from engine.api.http import Request
from engine.api.params import registry_creds
from engine.api.responses import send_exists
from engine.api.router import route
from engine.errors import ImageNotFound, InvalidArgument


def _registry(request: Request, target: str) -> Any:
    from engine.services.image_registry import RegistryOptions

    tls = request.arg("tlsVerify")
    return RegistryOptions(tls_verify=None if tls is None else request.flag("tlsVerify"),
                           creds=registry_creds(request, target.removeprefix("docker://").split("/", 1)[0]))


def _annotations(body: dict[str, Any]) -> dict[str, str]:
    """`annotations` (a map) or podman-py's `annotation` (a map, or Podman's list of k=v)."""
    from engine.services.manifests import parse_annotations

    out: dict[str, str] = {}
    for key in ("annotation", "annotations"):
        value = body.get(key)
        if isinstance(value, dict):
            out.update({str(k): str(v) for k, v in value.items()})
        elif isinstance(value, list):
            out.update(parse_annotations([str(v) for v in value]))
    return out


@route("POST", "/manifests/{name:path}/registry/{destination:path}", libpod=True)
def push_manifest(request: Request, name: str, destination: str) -> None:
    from engine.services.manifests import PushOptions, push

    dest = request.arg("destination") or destination
    digest = push(context.config(), name, dest, PushOptions(
        all=request.flag("all", True), rm=request.flag("rm"), format=request.arg("format") or "",
        registry=_registry(request, dest), progress=lambda line: None))
    request.send_json({"Id": digest})


@route("GET", "/manifests/{name:path}/json", libpod=True)
def inspect_manifest(request: Request, name: str) -> None:
    from engine.services.manifests import inspect

    request.send_json(inspect(context.config(), name, _registry(request, name)))


@route("GET", "/manifests/{name:path}/exists", libpod=True)
def manifest_exists(request: Request, name: str) -> None:
    from engine.services.manifests import exists

    send_exists(request, exists(context.config(), name), ImageNotFound(f"{name}: image not known"))


@route("POST", "/manifests/{name:path}", libpod=True)
def create_manifest(request: Request, name: str) -> None:
    from engine.services.manifests import CreateOptions, create

    if name == "create":  # the older /manifests/create?name=...
        name = request.arg("name") or ""
    if not name:
        raise InvalidArgument("a manifest list name is required")
    body = request.json() or {}
    if not isinstance(body, dict):
        raise InvalidArgument("the body must be a JSON object")
    images = [i for value in request.args("images") for i in value.split(",") if i]
    list_id = create(context.config(), name, images, CreateOptions(
        all=request.flag("all"), amend=request.flag("amend"), annotations=_annotations(body),
        registry=_registry(request, images[0] if images else "")))
    request.send_json({"Id": list_id}, 201)


@route("PUT", "/manifests/{name:path}", libpod=True)
def modify_manifest(request: Request, name: str) -> None:
    from engine.services import manifests as svc

    body = request.json(required=True)
    if not isinstance(body, dict):
        raise InvalidArgument("the body must be a JSON object")
    operation = str(body.get("operation") or "").lower()
    images = [str(i) for i in body.get("images") or []]
    entry = svc.EntryOptions(annotations=_annotations(body), arch=body.get("arch") or "", os=body.get("os") or "",
                             variant=body.get("variant") or "", features=list(body.get("features") or []),
                             os_version=body.get("os_version") or "")
    cfg = context.config()
    list_id = ""
    if operation == "update":
        for image in images:
            list_id = svc.add(cfg, name, image, svc.AddOptions(all=bool(body.get("all")), entry=entry,
                                                               registry=_registry(request, image)))
    elif operation == "remove":
        for image in images:
            list_id = svc.remove_entry(cfg, name, image)
    elif operation == "annotate":
        for image in images or [""]:
            list_id = svc.annotate(cfg, name, image, entry, index=not images or bool(body.get("index")))
    else:
        raise InvalidArgument(f"{operation!r} is not a valid operation: use update, remove or annotate")
    if not list_id:  # nothing to do: still answer for the list, as Podman does
        list_id = svc.list_id(cfg, name)
    request.send_json({"Id": list_id, "images": images, "files": None, "errors": None})


@route("DELETE", "/manifests/{name:path}", libpod=True)
def remove_manifest(request: Request, name: str) -> None:
    from engine.services.manifests import remove_lists

    report = remove_lists(context.config(), [name])
    if report.errors:
        raise report.errors[0]
    request.send_json({"Deleted": report.deleted, "Untagged": report.untagged, "Errors": [], "ExitCode": 0})
