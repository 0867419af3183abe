"""libpod's image routes (/libpod/images/...), as podman-py 5.x calls them."""

from __future__ import annotations

from typing import Any

from engine.api import context
from engine.api.docker_images import Progress, _PULL_VERBS, summary_doc
from engine.api.http import Request
from engine.api.params import BodyReader, StreamWriter, filters, registry_creds
from engine.api.responses import send_exists
from engine.api.router import route
from engine.errors import HullError, ImageNotFound, InvalidArgument


def libpod_summary(store: Any, image: Any) -> dict[str, Any]:
    """Podman 5's ImageSummary: Docker's plus Names, Digest, Dangling, ReadOnly; Id without sha256:."""
    doc = summary_doc(store, image)
    doc["Id"] = doc["Id"].removeprefix("sha256:")
    doc.update({"Names": list(image.names), "Digest": image.digest or "", "Dangling": not image.names,
                "ReadOnly": False, "History": list(image.names), "Arch": "", "Os": "linux"})
    return doc


@route("GET", "/images/json", libpod=True)
def list_images(request: Request) -> None:
    from engine.services.common import open_store
    from engine.services.images import ListOptions, list_images as list_

    cfg = context.config()
    summaries = list_(cfg, ListOptions(all=request.flag("all"), filters=filters(request)))
    store = open_store(cfg)
    by_id = {i.id.removeprefix("sha256:"): i for i in store.images.list()}
    request.send_json([libpod_summary(store, by_id[s.id.removeprefix("sha256:")]) for s in summaries
                       if s.id.removeprefix("sha256:") in by_id])


@route("GET", "/images/{name:path}/json", libpod=True)
def inspect_image(request: Request, name: str) -> None:
    from engine.services.image_inspect import inspect

    request.send_json(inspect(context.config(), name))


@route("GET", "/images/{name:path}/exists", libpod=True)
def image_exists(request: Request, name: str) -> None:
    from engine.services.images import exists

    send_exists(request, exists(context.config(), name), ImageNotFound(f"{name}: image not known"))


@route("GET", "/images/{name:path}/history", libpod=True)
def image_history(request: Request, name: str) -> None:
    from engine.services.image_inspect import history

    request.send_json([{"id": e.id, "created": int(e.created), "createdBy": e.created_by, "tags": e.tags or None,
                        "size": e.size, "comment": e.comment} for e in history(context.config(), name)])


@route("GET", "/images/{name:path}/tree", libpod=True)
def image_tree(request: Request, name: str) -> None:
    from engine.services.image_inspect import tree

    t = tree(context.config(), name, request.flag("whatrequires"))
    lines = [f"Image ID: {t.id[:12]}", f"Tags:     {t.names}", f"Size:     {t.size}", "Image Layers"]
    for i, layer in enumerate(t.layers):
        top = f" Top Layer of: {layer.top_of}" if layer.top_of else ""
        lines.append(f"{'└── ' if i == len(t.layers) - 1 else '├── '}ID: {layer.id.partition(':')[2][:12]} "
                     f"Size: {layer.size}{top}")
    request.send_json({"Tree": "\n".join(lines) + "\n"})


@route("POST", "/images/{name:path}/tag", libpod=True)
def tag_image(request: Request, name: str) -> None:
    from engine.services.images import tag

    repo = request.arg("repo") or ""
    if not repo:
        raise InvalidArgument("repo is required")
    tag(context.config(), name, [f"{repo}:{request.arg('tag') or 'latest'}"])
    request.send_empty(201)


@route("POST", "/images/{name:path}/untag", libpod=True)
def untag_image(request: Request, name: str) -> None:
    from engine.services.images import untag

    repo = request.arg("repo")
    names = [f"{repo}:{request.arg('tag') or 'latest'}"] if repo else []
    untag(context.config(), name, names)
    request.send_empty(201)


def _remove(request: Request, names: list[str], all_: bool) -> None:
    from engine.services.images import RemoveOptions, remove

    report = remove(context.config(), names, RemoveOptions(force=request.flag("force"), all=all_,
                                                           ignore=request.flag("ignore")))
    if report.errors and not report.deleted and not report.untagged and len(names) == 1:
        raise report.errors[0]
    request.send_json({"Deleted": report.deleted, "Untagged": report.untagged,
                       "Errors": [str(e) for e in report.errors], "ExitCode": report.exit_code})


@route("DELETE", "/images/{name:path}", libpod=True)
def remove_image(request: Request, name: str) -> None:
    _remove(request, [name], False)


@route("DELETE", "/images/remove", libpod=True)
def remove_images(request: Request) -> None:
    names = request.args("images")
    _remove(request, names, request.flag("all"))


@route("POST", "/images/prune", libpod=True)
def prune_images(request: Request) -> None:
    from engine.services.common import open_store
    from engine.services.images import PruneOptions, prune

    cfg = context.config()
    sizes = {i.id.removeprefix("sha256:"): int(i.size or 0) for i in open_store(cfg).images.list()}
    found = filters(request)
    deleted = prune(cfg, PruneOptions(all=request.flag("all"), filters=found))
    request.send_json([{"Id": d, "Size": sizes.get(d, 0)} for d in deleted])


@route("POST", "/images/pull", libpod=True)
def pull_image(request: Request) -> None:
    """Podman's stream: {"stream": text} lines, then {"images": [id], "id": id};
    compatMode=true gives dockerd's progress lines instead, ending the same way."""
    from engine.oci.reference import parse_reference
    from engine.services.image_registry import PullOptions, pull

    reference = request.arg("reference") or ""
    if not reference:
        raise InvalidArgument("reference is required")
    if reference.startswith("docker://"):
        reference = reference[len("docker://"):]
    parse_reference(reference)
    tls = request.arg("tlsVerify")
    creds = registry_creds(request, reference.split("/", 1)[0])
    platform = "/".join(p for p in (request.arg("OS"), request.arg("Arch"), request.arg("Variant")) if p) or None
    if platform and "/" not in platform:
        platform = None
    progress = Progress(request)
    compat = request.flag("compatMode")
    quiet = request.flag("quiet")
    if not compat and not quiet:
        progress.write({"stream": f"Trying to pull {reference}...\n"})

    def report(event: Any) -> None:
        if compat:
            progress.layer(event, _PULL_VERBS)
        elif not quiet and event.kind == "blob" and event.status in ("done", "exists"):
            word = "Copying blob" if event.status == "done" else "Copying blob"
            suffix = "" if event.status == "done" else " skipped: already exists"
            progress.write({"stream": f"{word} {event.digest.partition(':')[2][:12]}{suffix}\n"})

    try:
        image_id = pull(context.config(), reference, PullOptions(
            creds=creds, platform=platform, progress=report,
            tls_verify=None if tls is None else request.flag("tlsVerify")))
    except HullError as err:
        if progress.stream is None:
            raise
        progress.write({"error": str(err)})
        progress.close()
        return
    if not compat and not quiet:
        progress.write({"stream": "Writing manifest to image destination\n"})
        progress.write({"stream": image_id + "\n"})
    progress.write({"images": [image_id], "id": image_id})
    progress.close()


@route("POST", "/images/{name:path}/push", libpod=True)
def push_image(request: Request, name: str) -> None:
    from engine.services.image_registry import PushOptions, push

    destination = request.arg("destination") or None
    tls = request.arg("tlsVerify")
    target = destination or name
    creds = registry_creds(request, target.split("/", 1)[0])
    progress = Progress(request)

    def report(event: Any) -> None:
        if event.kind == "blob" and event.status in ("done", "exists", "mounted"):
            progress.write({"stream": f"Copying blob {event.digest.partition(':')[2][:12]}\n"})

    try:
        digest = push(context.config(), name, destination, PushOptions(
            creds=creds, progress=report, tls_verify=None if tls is None else request.flag("tlsVerify"),
            format=request.arg("format") or None))
    except HullError as err:
        if progress.stream is None:
            raise
        progress.write({"error": str(err)})
        progress.close()
        return
    progress.write({"stream": "Writing manifest to image destination\n"})
    progress.write({"manifestdigest": digest})
    progress.close()


@route("POST", "/images/load", libpod=True)
def load_images(request: Request) -> None:
    from engine.services.image_archive import load

    result = load(context.config(), BodyReader(request))
    request.send_json({"Names": result.names or ["sha256:" + i for i in result.ids]})


@route("GET", "/images/export", libpod=True)
def export_images(request: Request) -> None:
    from engine.services.image_archive import SaveOptions, save

    names = request.args("references")
    fmt = request.arg("format") or "docker-archive"
    stream = request.stream(content_type="application/x-tar")
    out = StreamWriter(stream)
    save(context.config(), names, out, SaveOptions(format=fmt, multi_image=len(names) > 1))
    out.flush()
    stream.close()


@route("GET", "/images/{name:path}/get", libpod=True)
def get_image(request: Request, name: str) -> None:
    from engine.services.common import open_store
    from engine.services.image_archive import SaveOptions, save
    from engine.services.images import find_image

    cfg = context.config()
    find_image(open_store(cfg), name)
    stream = request.stream(content_type="application/x-tar")
    out = StreamWriter(stream)
    save(cfg, [name], out, SaveOptions(format=request.arg("format") or "docker-archive"))
    out.flush()
    stream.close()


@route("GET", "/images/search", libpod=True)
def search_images(request: Request) -> None:
    from engine.api.image_search import search

    term = request.arg("term") or ""
    if not term:
        raise InvalidArgument("term is required")
    found = search(context.config(), term, request.int_arg("limit", 25) or 25, filters(request))
    request.send_json([{"Index": r["name"].split("/", 1)[0] if "/" in r["name"] else "docker.io",
                        "Name": r["name"], "Description": r["description"], "Stars": r["star_count"],
                        "Official": "[OK]" if r["is_official"] else "",
                        "Automated": "[OK]" if r["is_automated"] else "", "Tag": ""} for r in found])
