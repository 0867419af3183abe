"""/volumes/: size and users; create, remove, prune; read-only file browsing."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from console import flash, volume_files
from console.engine_access import engine_cfg, error_text, or_404, run_action, store_exists
from engine.errors import HullError, InvalidArgument


def _volume_users(cfg) -> dict[str, list[tuple[str, str]]]:
    """volume name -> [(container id, name)], from the containers' mounts."""
    from engine.services.common import open_store

    store = open_store(cfg)
    out: dict[str, list[tuple[str, str]]] = {}
    for v in store.volumes.list():
        users = []
        for cid in store.volumes.users(v.name):
            try:
                users.append((cid, store.containers.get(cid).name))
            except HullError:
                users.append((cid, cid[:12]))
        out[v.name] = users
    return out


@require_GET
def volume_list(request: HttpRequest) -> HttpResponse:
    from engine.services import volumes

    cfg = engine_cfg()
    rows, note = [], ""
    if store_exists(cfg):
        try:
            users = _volume_users(cfg)
            for doc in volumes.list_volumes(cfg):
                rows.append({"name": doc["Name"], "driver": doc["Driver"], "created": doc["CreatedAt"],
                             "labels": doc["Labels"], "anonymous": doc["Anonymous"],
                             "size": volumes._size(doc["Mountpoint"]), "users": users.get(doc["Name"], [])})
        except HullError as err:
            note = f"The volumes could not be read: {error_text(err)}"
    return render(request, "console/volumes/list.html", {"volumes": rows, "note": note})


def _labels(text: str) -> dict[str, str]:
    from engine.spec import parse

    return parse.parse_key_values([l.strip() for l in text.splitlines() if l.strip()], "--label")


@require_POST
def create(request: HttpRequest) -> HttpResponse:
    from engine.services import volumes

    cfg = engine_cfg()
    name = request.POST.get("name", "").strip() or None
    run_action(request, lambda: "Created volume " + volumes.create(
        cfg, volumes.CreateOptions(name=name, labels=_labels(request.POST.get("labels", "")))) + ".")
    return HttpResponseRedirect(reverse("volumes"))


@require_POST
def prune(request: HttpRequest) -> HttpResponse:
    from engine.services import volumes

    cfg = engine_cfg()

    def go() -> str:
        removed = volumes.prune(cfg)
        return f"Removed {len(removed)} unused volume{'s' if len(removed) != 1 else ''}."

    run_action(request, go)
    return HttpResponseRedirect(reverse("volumes"))


def _inspect_or_404(cfg, name: str) -> dict:
    from engine.services import volumes

    if not store_exists(cfg):
        raise Http404("no such volume")
    return or_404(volumes.inspect, cfg, [name])[0]


@require_POST
def remove(request: HttpRequest, name: str) -> HttpResponse:
    from engine.services import volumes

    cfg = engine_cfg()
    doc = _inspect_or_404(cfg, name)

    def rm() -> str:
        report = volumes.remove(cfg, [doc["Name"]], force=request.POST.get("force") == "on")
        if report.errors:
            raise report.errors[0]
        return f"Removed volume {doc['Name']}."

    run_action(request, rm)
    return HttpResponseRedirect(reverse("volumes"))


def _crumbs(path: str) -> list[tuple[str, str]]:
    parts = [p for p in path.split("/") if p]
    return [(p, "/" + "/".join(parts[: i + 1])) for i, p in enumerate(parts)]


@require_GET
def browse(request: HttpRequest, name: str) -> HttpResponse:
    """A directory listing, a text view of a file, or (?download=1) the file itself."""
    cfg = engine_cfg()
    doc = _inspect_or_404(cfg, name)
    root = doc["Mountpoint"]
    path = volume_files.clean(request.GET.get("path", "/"))
    try:
        kind = volume_files.stat_path(root, path)
    except HullError:
        raise Http404("no such file") from None
    context = {"volume": doc, "path": path, "crumbs": _crumbs(path), "entries": None, "file": None}
    try:
        if kind == "dir":
            context["entries"] = volume_files.list_dir(root, path)
        elif kind == "file":
            if request.GET.get("download") == "1":
                return _download(root, path)
            context["file"] = volume_files.view_file(root, path)
        else:
            raise InvalidArgument(f"{path} is not a regular file or directory")
    except HullError as err:
        flash.error(request, error_text(err))
        parent = path.rsplit("/", 1)[0] or "/"
        if parent == path:
            return HttpResponseRedirect(reverse("volumes"))
        return HttpResponseRedirect(reverse("volume_browse", args=[doc["Name"]]) + "?" + _query(parent))
    return render(request, "console/volumes/browse.html", context)


def _query(path: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"path": path})


def _download(root: str, path: str) -> HttpResponse:
    data, size = volume_files.read_file(root, path, volume_files.MAX_DOWNLOAD + 1)
    if size > volume_files.MAX_DOWNLOAD:
        raise InvalidArgument(f"{path} is larger than {volume_files.MAX_DOWNLOAD >> 20} MiB: copy it with hull cp")
    from urllib.parse import quote

    response = HttpResponse(data, content_type="application/octet-stream")
    filename = path.rsplit("/", 1)[-1] or "file"
    # RFC 6266: an ASCII fallback plus the exact name, both quoted: no header injection.
    ascii_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)
    response.headers["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return response
