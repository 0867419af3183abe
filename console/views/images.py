"""/images/ and /images/<name or id>/: list with size, age and users; pull (in the
background), remove, prune, tag, push; details and history."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from console import flash, jobs
from console.engine_access import engine_cfg, error_text, or_404, run_action, store_exists
from engine.errors import HullError

IMAGE_ACTIONS = ("tag", "untag", "push", "remove")


def _users(cfg) -> dict[str, list[tuple[str, str]]]:
    """image hex id -> [(container id, name)]."""
    from engine.services import container_list

    users: dict[str, list[tuple[str, str]]] = {}
    for c in container_list.list_containers(cfg, container_list.ListOptions(all=True)):
        users.setdefault(c.image_id, []).append((c.id, c.names[0] if c.names else c.id[:12]))
    return users


@require_GET
def image_list(request: HttpRequest) -> HttpResponse:
    from engine.services import images

    cfg = engine_cfg()
    rows, note = [], ""
    if store_exists(cfg):
        try:
            users = _users(cfg)
            for i in images.list_images(cfg, images.ListOptions()):
                hex_id = i.id.split(":")[-1]
                rows.append({"id": hex_id, "names": i.names, "size": i.size, "created": i.created,
                             "users": users.get(hex_id, []),
                             "search": " ".join([hex_id[:12], *i.names]).lower()})
        except HullError as err:
            note = f"The images could not be read: {error_text(err)}"
    return render(request, "console/images/list.html", {
        "images": rows, "note": note, "jobs": jobs.recent(), "total_size": sum(r["size"] for r in rows)})


@require_POST
def pull(request: HttpRequest) -> HttpResponse:
    from engine.services import image_registry

    cfg = engine_cfg()
    reference = request.POST.get("reference", "").strip()
    if not reference:
        flash.error(request, "Type the name of an image to pull, e.g. docker.io/library/alpine:latest.")
        return HttpResponseRedirect(reverse("images"))
    opts = image_registry.PullOptions(tls_verify=False if request.POST.get("insecure") == "on" else None)
    try:
        from engine.oci.reference import parse_reference

        parse_reference(reference)  # a bad name is refused now, not in the background
    except HullError as err:
        flash.error(request, error_text(err))
        return HttpResponseRedirect(reverse("images"))
    jobs.start(f"Pull {reference}", lambda: f"Pulled {reference} ({image_registry.pull(cfg, reference, opts)[:12]}).")
    flash.info(request, f"Pulling {reference}: it shows in the list when it is done.")
    return HttpResponseRedirect(reverse("images"))


@require_POST
def prune(request: HttpRequest) -> HttpResponse:
    from engine.services import images

    cfg = engine_cfg()
    every = request.POST.get("all") == "on"

    def go() -> str:
        removed = images.prune(cfg, images.PruneOptions(all=every))
        return f"Removed {len(removed)} unused image{'s' if len(removed) != 1 else ''}."

    run_action(request, go)
    return HttpResponseRedirect(reverse("images"))


def inspect_or_404(cfg, ref: str) -> dict:
    from engine.services import image_inspect

    if not store_exists(cfg):
        raise Http404("no such image")
    return or_404(image_inspect.inspect, cfg, ref)


@require_GET
def detail(request: HttpRequest, ref: str) -> HttpResponse:
    from engine.services import image_inspect

    cfg = engine_cfg()
    doc = inspect_or_404(cfg, ref)
    try:
        history = image_inspect.history(cfg, doc["Id"])
    except HullError:
        history = []
    try:
        browse_url: str | None = reverse("image_browse", args=[doc["Id"]])
    except NoReverseMatch:
        browse_url = None  # the image browser is not part of this build yet
    config = doc.get("Config") or {}
    return render(request, "console/images/detail.html", {
        "img": doc, "id": doc["Id"], "history": history, "config": config,
        "labels": doc.get("Labels") or {}, "users": _users(cfg).get(doc["Id"], []),
        "browse_url": browse_url, "name": (doc.get("RepoTags") or [doc["Id"][:12]])[0],
    })


@require_POST
def action(request: HttpRequest, ref: str, verb: str) -> HttpResponse:
    from engine.services import image_registry, images

    if verb not in IMAGE_ACTIONS:
        raise Http404("no such action")
    cfg = engine_cfg()
    doc = inspect_or_404(cfg, ref)
    iid = doc["Id"]
    shown = (doc.get("RepoTags") or [iid[:12]])[0]
    page = reverse("image", args=[iid])
    if verb == "tag":
        target = request.POST.get("target", "").strip()
        run_action(request, lambda: images.tag(cfg, iid, [target]) and f"Tagged {shown} as {target}."
                   if target else _need("a new name, e.g. localhost/myimage:v2"))
    elif verb == "untag":
        name = request.POST.get("name", "")
        run_action(request, lambda: images.untag(cfg, iid, [name]) and f"Removed the name {name}.")
    elif verb == "push":
        destination = request.POST.get("destination", "").strip() or None
        source = request.POST.get("source", "").strip() or (doc.get("RepoTags") or [iid])[0]
        opts = image_registry.PushOptions(tls_verify=False if request.POST.get("insecure") == "on" else None)
        jobs.start(f"Push {destination or source}",
                   lambda: f"Pushed {destination or source} ({image_registry.push(cfg, source, destination, opts)}).")
        flash.info(request, f"Pushing {destination or source}: the result shows on the Images page.")
    else:
        def rm() -> str:
            report = images.remove(cfg, [iid], images.RemoveOptions(force=request.POST.get("force") == "on"))
            if report.errors:
                raise report.errors[0]
            return f"Removed image {shown}."
        if run_action(request, rm):
            return HttpResponseRedirect(reverse("images"))
    return HttpResponseRedirect(page)


def _need(what: str) -> str:
    from engine.errors import InvalidArgument

    raise InvalidArgument(f"type {what}")
