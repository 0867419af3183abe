"""Docker's image routes: list, create (pull or import), inspect, history, tag,
push, remove, prune, search, get (save) and load.  Progress streams are dockerd's
chunked JSON lines, so the docker CLI and docker-py render them unchanged."""

from __future__ import annotations

import threading
import time
import contextlib
from typing import Any, Callable, Iterator

from engine.api import context
from engine.api.http import Request, Stream
from engine.api.params import BodyReader, StreamWriter, error_line, filters, registry_creds
from engine.api.router import route
from engine.errors import HullError, ImageNotFound, InvalidArgument, RegistryError


# ---------------------------------------------------------------- shapes
def _repo_digests(names: list[str], digest: str) -> list[str]:
    from engine.services.images import _split_name

    if not digest:
        return []
    return sorted({f"{_split_name(n)[0]}@{digest}" for n in names})


def summary_doc(store: Any, image: Any, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Docker's ImageSummary for a store image."""
    from engine.services.common import full_id, image_config, parse_time

    if labels is None:
        labels = (image_config(store, image).get("config") or {}).get("Labels") or {}
    size = int(image.size or 0)
    return {
        "Id": full_id(image.id),
        "ParentId": "",
        "RepoTags": list(image.names),
        "RepoDigests": _repo_digests(list(image.names), image.digest or ""),
        "Created": int(parse_time(image.created) or parse_time(getattr(image, "stored", 0))),
        "Size": size,
        "SharedSize": -1,
        "VirtualSize": size,
        "Labels": dict(labels),
        "Containers": len(store.containers.using_image(image.id)),
    }


def inspect_doc(name: str) -> dict[str, Any]:
    """Docker's ImageInspect, from the services' (Podman's) inspect document."""
    from engine.services.image_inspect import inspect

    doc = inspect(context.config(), name)
    config = dict(doc.get("Config") or {})
    return {
        "Id": "sha256:" + doc["Id"],
        "RepoTags": doc["RepoTags"],
        "RepoDigests": doc["RepoDigests"] or _repo_digests(doc["RepoTags"], doc.get("Digest") or ""),
        "Parent": "",
        "Comment": doc.get("Comment") or "",
        "Created": doc["Created"],
        "Container": "",
        "ContainerConfig": {},
        "DockerVersion": doc.get("Version") or "",
        "Author": doc.get("Author") or "",
        "Config": config,
        "Architecture": doc.get("Architecture") or "",
        "Variant": "",
        "Os": doc.get("Os") or "linux",
        "OsVersion": "",
        "Size": doc["Size"],
        "VirtualSize": doc["Size"],
        "GraphDriver": {"Name": "overlay", "Data": doc["GraphDriver"]["Data"] or {}},
        "RootFS": doc["RootFS"],
        "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
    }


def docker_reference(text: str, tag: str | None = None) -> str:
    """fromImage + tag -> a full reference; short names are Docker Hub's, as dockerd has them."""
    from engine.oci.reference import is_fully_qualified

    if not text:
        raise InvalidArgument("image name is required")
    if tag:
        text = f"{text}@{tag}" if ":" in tag and tag.split(":", 1)[0].startswith("sha") else f"{text}:{tag}"
    if not is_fully_qualified(text):
        text = "docker.io/" + (text if "/" in text.split(":", 1)[0].split("@", 1)[0] else "library/" + text)
    return text


@contextlib.contextmanager
def no_such_image(name: str) -> Iterator[None]:
    """Podman's "image not known" -> dockerd's wording, which docker-py and the CLI match on."""
    try:
        yield
    except ImageNotFound as err:
        if isinstance(err, RegistryError):
            raise
        raise ImageNotFound(f"No such image: {name}") from None


# ---------------------------------------------------------------- list / inspect / history
@route("GET", "/images/json")
def list_images(request: Request) -> None:
    from engine.services.common import open_store
    from engine.services.images import ListOptions, list_images as list_

    found = filters(request)
    if "reference" not in found and request.arg("filter"):
        found["reference"] = [request.arg("filter") or ""]
    cfg = context.config()
    summaries = list_(cfg, ListOptions(all=request.flag("all"), filters=found, with_labels=True))
    store = open_store(cfg)
    by_id = {i.id: i for i in store.images.list()}
    out = []
    for s in summaries:
        image = by_id.get(s.id) or by_id.get(s.id.removeprefix("sha256:"))
        if image is not None:
            out.append(summary_doc(store, image, s.labels))
    request.send_json(out)


@route("GET", "/images/{name:path}/json")
def inspect_image(request: Request, name: str) -> None:
    with no_such_image(name):
        request.send_json(inspect_doc(name))


@route("GET", "/images/{name:path}/history")
def image_history(request: Request, name: str) -> None:
    from engine.services.image_inspect import history

    out = []
    with no_such_image(name):
        entries = history(context.config(), name)
    for e in entries:
        out.append({"Id": e.id if e.id == "<missing>" else "sha256:" + e.id, "Created": int(e.created),
                    "CreatedBy": e.created_by, "Tags": list(e.tags), "Size": e.size, "Comment": e.comment})
    request.send_json(out)


# ---------------------------------------------------------------- tag / remove / prune
@route("POST", "/images/{name:path}/tag")
def tag_image(request: Request, name: str) -> None:
    from engine.services.images import tag

    repo = request.arg("repo") or ""
    if not repo:
        raise InvalidArgument("repository name must have at least one component")
    with no_such_image(name):
        tag(context.config(), name, [f"{repo}:{request.arg('tag') or 'latest'}"])
    request.send_empty(201)


@route("DELETE", "/images/{name:path}")
def remove_image(request: Request, name: str) -> None:
    from engine.services.images import RemoveOptions, remove

    report = remove(context.config(), [name], RemoveOptions(force=request.flag("force")))
    if report.errors:
        with no_such_image(name):
            raise report.errors[0]
    out: list[dict[str, str]] = [{"Untagged": n} for n in report.untagged]
    out += [{"Deleted": "sha256:" + d} for d in report.deleted]
    request.send_json(out)


@route("POST", "/images/prune")
def prune_images(request: Request) -> None:
    from engine.services.common import open_store
    from engine.services.images import PruneOptions, prune

    cfg = context.config()
    found = filters(request)
    dangling = found.pop("dangling", ["true"])
    prune_all = any(v.lower() in ("false", "0") for v in dangling)
    sizes = {i.id.removeprefix("sha256:"): int(i.size or 0) for i in open_store(cfg).images.list()}
    deleted = prune(cfg, PruneOptions(all=prune_all, filters=found))
    request.send_json({"ImagesDeleted": [{"Deleted": "sha256:" + d} for d in deleted],
                       "SpaceReclaimed": sum(sizes.get(d, 0) for d in deleted)})


# ---------------------------------------------------------------- pull / import
class Progress:
    """Registry progress events -> dockerd's per-layer JSON lines.  The pull's
    download threads report too: writes are serialised, and the stream (the
    response head) starts with the first line, so an early failure can still
    be answered with a proper HTTP status."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.stream: Stream | None = None
        self.lock = threading.Lock()
        self.last: dict[str, float] = {}

    def write(self, doc: dict[str, Any]) -> None:
        with self.lock:
            if self.stream is None:
                self.stream = self.request.stream()
            self.stream.write_json(doc)

    def layer(self, event: Any, verbs: dict[str, str]) -> None:
        if event.kind != "blob":
            return
        short = event.digest.partition(":")[2][:12]
        if event.status in ("downloading", "uploading"):
            now = time.monotonic()
            if now - self.last.get(short, 0) < 0.1 and event.done < event.total:
                return  # dockerd throttles too: one line per layer per 100 ms
            self.last[short] = now
            self.write({"status": verbs[event.status], "id": short,
                        "progressDetail": {"current": event.done, "total": event.total},
                        "progress": f"{event.done}/{event.total}"})
        elif event.status in verbs:
            self.write({"status": verbs[event.status], "id": short, "progressDetail": {}})

    def fail(self, message: str) -> None:
        self.write(error_line(message))

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


_PULL_VERBS = {"downloading": "Downloading", "exists": "Already exists", "done": "Download complete",
               "extracting": "Pull complete"}
_PUSH_VERBS = {"uploading": "Pushing", "exists": "Layer already exists", "mounted": "Mounted from another repository",
               "done": "Pushed"}


def pull_streamed(request: Request, reference: str, creds: str | None, platform: str | None,
                  on_event: Callable[[Progress, Any], None] | None = None) -> tuple[Progress, str | None]:
    """Pull with dockerd's progress lines; returns (progress, image ID or None on failure)."""
    from engine.services.common import open_store
    from engine.services.images import find_image
    from engine.services.image_registry import PullOptions, pull

    cfg = context.config()
    store = open_store(cfg)
    try:
        before = find_image(store, reference).id
    except HullError:
        before = None
    progress = Progress(request)
    repo, _, tag = reference.rpartition(":") if "@" not in reference else (reference.partition("@")[0], "", "")
    progress.write({"status": f"Pulling from {repo.split('/', 1)[1] if '/' in repo else repo}",
                    "id": tag or reference.partition("@")[2]})

    def report(event: Any) -> None:
        (on_event or (lambda p, e: p.layer(e, _PULL_VERBS)))(progress, event)

    try:
        image_id = pull(cfg, reference, PullOptions(creds=creds, platform=platform or None, progress=report))
    except HullError as err:
        progress.fail(str(err))
        return progress, None
    image = find_image(open_store(cfg), image_id)
    if image.digest:
        progress.write({"status": f"Digest: {image.digest}"})
    word = "Image is up to date for" if before == image.id else "Downloaded newer image for"
    progress.write({"status": f"Status: {word} {reference}"})
    return progress, image_id


@route("POST", "/images/create")
def create_image(request: Request) -> None:
    if request.arg("fromSrc") is not None:
        return _import(request)
    from_image = request.arg("fromImage") or ""
    if not from_image:
        raise InvalidArgument("fromImage or fromSrc is required")
    reference = docker_reference(from_image, request.arg("tag") or "latest")
    from engine.oci.reference import parse_reference

    parse_reference(reference)  # a bad name is a 400 before the stream starts
    progress, _ = pull_streamed(request, reference, registry_creds(request, reference.split("/", 1)[0]),
                                request.arg("platform"))
    progress.close()


def _import(request: Request) -> None:
    """`fromSrc=-`: the body is the tarball; `fromSrc=URL`: downloaded first (dockerd and Podman)."""
    from engine.services.image_archive import ImportOptions, import_, import_url

    source = request.arg("fromSrc") or ""
    repo = request.arg("repo") or ""
    reference = f"{repo}:{request.arg('tag') or 'latest'}" if repo else None
    platform = (request.arg("platform") or "").split("/")
    opts = ImportOptions(
        reference=reference, changes=request.args("changes"), message=request.arg("message") or "",
        os=platform[0] or None if platform[0] else None, arch=platform[1] if len(platform) > 1 else None)
    if source == "-":
        image_id = import_(context.config(), BodyReader(request), opts)
    else:
        image_id = import_url(context.config(), source, opts)
    stream = request.stream()
    stream.write_json({"status": "sha256:" + image_id, "progressDetail": {}})
    stream.close()


# ---------------------------------------------------------------- push
@route("POST", "/images/{name:path}/push")
def push_image(request: Request, name: str) -> None:
    from engine.services.common import open_store
    from engine.services.images import find_image
    from engine.services.image_registry import PushOptions, push

    cfg = context.config()
    tag = request.arg("tag") or ""
    target = f"{name}:{tag}" if tag else name
    image = find_image(open_store(cfg), target)  # 404 before the stream
    registry = target.split("/", 1)[0]
    progress = Progress(request)
    progress.write({"status": f"The push refers to repository [{target.rpartition(':')[0] if tag else name}]"})
    try:
        digest = push(cfg, target, None if target in image.names else _qualified(target, image.names),
                      PushOptions(creds=registry_creds(request, registry),
                                  progress=lambda e: progress.layer(e, _PUSH_VERBS)))
    except HullError as err:
        progress.fail(str(err))
        progress.close()
        return
    shown_tag = tag or "latest"
    try:
        size = len(open_store(cfg).blobs.read_bytes(digest, 4 << 20))
    except (HullError, OSError):
        size = 0
    progress.write({"status": f"{shown_tag}: digest: {digest} size: {size}"})
    progress.write({"progressDetail": {}, "aux": {"Tag": shown_tag, "Digest": digest, "Size": size}})
    progress.close()


def _qualified(target: str, names: list[str]) -> str:
    """The image's own full name for a short target (push busybox:1 -> docker.io/library/busybox:1)."""
    for n in names:
        if n.endswith("/" + target):
            return n
    return target


# ---------------------------------------------------------------- search
@route("GET", "/images/search")
def search_images(request: Request) -> None:
    from engine.api.image_search import search

    term = request.arg("term") or ""
    if not term:
        raise InvalidArgument("term is required")
    request.send_json(search(context.config(), term, request.int_arg("limit", 25) or 25, filters(request)))


# ---------------------------------------------------------------- save / load
def _save(request: Request, names: list[str]) -> None:
    from engine.services.common import open_store
    from engine.services.image_archive import SaveOptions, save
    from engine.services.images import find_image

    cfg = context.config()
    if not names:
        raise InvalidArgument("no image names given")
    store = open_store(cfg)
    for n in names:
        find_image(store, n)  # 404 before the stream starts
    stream = request.stream(content_type="application/x-tar")
    out = StreamWriter(stream)
    try:
        save(cfg, names, out, SaveOptions(format="docker-archive", multi_image=len(names) > 1))
        out.flush()
    finally:
        stream.close()


@route("GET", "/images/get")
def save_images(request: Request) -> None:
    names = [n for v in request.args("names") for n in v.split(",") if n]
    _save(request, names)


@route("GET", "/images/{name:path}/get")
def save_image(request: Request, name: str) -> None:
    _save(request, [name])


@route("POST", "/images/load")
def load_images(request: Request) -> None:
    from engine.services.image_archive import load

    result = load(context.config(), BodyReader(request))
    stream = request.stream()
    for n in result.names:
        stream.write_json({"stream": f"Loaded image: {n}\n"})
    if not result.names:
        for i in result.ids:
            stream.write_json({"stream": f"Loaded image ID: sha256:{i}\n"})
    stream.close()
