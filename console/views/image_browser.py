"""`/images/<name or id>/browse/`: an image's layers and their files, in the browser (dive's view).

Query: `layer=N` (default: the top one), `mode=layer|merged`, `path=/dir` (the
directory listed), `changes=1` (merged: only what layer N changed), `q=text`
(paths containing it, anywhere), `file=/path` (show that file of layer N: text
inline, anything else as a download), `download=1`.

The layers are read by engine/services/image_layers.py straight from their
stored blobs (never extracted); a few images stay parsed in memory, so moving
between layers and folders costs no re-reading.  Every name is rendered by the
template engine (autoescaped): a file called `<img src=x onerror=...>` is text.
"""

from __future__ import annotations

import posixpath
import threading
from collections import OrderedDict
from typing import Any, AsyncIterator, Iterator
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from engine.config import EngineConfig
from engine.errors import HullError, NotFound

CACHE_SIZE = 3
TEXT_LIMIT = 512 * 1024
SEARCH_LIMIT = 500
INEFFICIENT_SHOWN = 25

_cache: OrderedDict[tuple[str, str], Any] = OrderedDict()
_lock = threading.Lock()


def image_files(cfg: EngineConfig, ref: str) -> Any:
    """The parsed image (cached by root and image ID); Http404 for an unknown image."""
    from engine.services.common import open_store
    from engine.services.image_layers import ImageFiles
    from engine.services.images import find_image

    if not cfg.db_path.exists():
        raise Http404("no such image")
    try:
        image_id = find_image(open_store(cfg), ref).id
    except HullError:
        raise Http404("no such image") from None
    key = (str(cfg.root), image_id)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        files = ImageFiles(cfg, image_id)  # under the lock: two tabs do not parse the same image twice
        _cache[key] = files
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return files


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _clean_path(value: str | None) -> str:
    if not value:
        return "/"
    return posixpath.normpath("/" + value.lstrip("/"))


def _crumbs(path: str) -> list[tuple[str, str]]:
    out = [("/", "/")]
    at = ""
    for part in [p for p in path.split("/") if p]:
        at += "/" + part
        out.append((part, at))
    return out


def _row(row: Any, sizes: dict[str, int]) -> dict[str, Any]:
    info = row.info
    return {
        "path": info.path, "name": posixpath.basename(info.path) or "/", "kind": info.kind,
        "status": row.status, "below": row.below, "layer": row.layer, "mode": info.mode_text,
        "owner": f"{info.uid}:{info.gid}", "link": info.link,
        "size": sizes.get(info.path, 0) if info.kind == "dir" else info.size,
    }


@require_GET
def browse(request: HttpRequest, ref: str) -> HttpResponse:
    from engine.services import image_layers

    cfg = EngineConfig()
    try:
        files = image_files(cfg, ref)
    except HullError as err:
        return render(request, "console/images/browse.html", {"error": str(err).splitlines()[0], "ref": ref},
                      status=200)
    top = len(files.layers) - 1
    index = min(max(_int(request.GET.get("layer"), top), 0), top) if files.layers else 0
    mode = "merged" if request.GET.get("mode") == "merged" else "layer"
    changes_only = request.GET.get("changes") == "1"
    path = _clean_path(request.GET.get("path"))
    query = (request.GET.get("q") or "").strip()
    wanted = request.GET.get("file")

    if wanted is not None and files.layers:
        return _file(request, files, index, _clean_path(wanted), request.GET.get("download") == "1")

    rows = {}
    if files.layers:
        rows = files.merged(index) if mode == "merged" else files.diff(index)
    sizes = image_layers.dir_sizes(rows)
    if query:
        needle = query.lower()
        listing = [r for p, r in sorted(rows.items()) if needle in p.lower()][:SEARCH_LIMIT]
    else:
        listing = image_layers.children(rows, path)
    if changes_only:
        listing = [r for r in listing if r.status != "unmodified" or r.below]
    efficiency = files.efficiency()
    counts = {"added": 0, "modified": 0, "removed": 0}
    for r in (files.diff(index).values() if files.layers else ()):
        if r.status in counts:
            counts[r.status] += 1
    name = files.names[0] if files.names else files.id.split(":", 1)[-1][:12]
    return render(request, "console/images/browse.html", {
        "ref": ref, "image_id": files.id, "name": name, "layers": files.layers, "index": index,
        "layer": files.layers[index] if files.layers else None, "mode": mode, "changes_only": changes_only,
        "path": path, "crumbs": _crumbs(path), "query": query,
        "entries": [_row(r, sizes) for r in listing], "searching": bool(query),
        "search_capped": bool(query) and len(listing) >= SEARCH_LIMIT,
        "size": files.size, "efficiency": efficiency, "score_percent": round(efficiency.score * 100, 1),
        "inefficient": efficiency.paths[:INEFFICIENT_SHOWN], "counts": counts,
    })


def _file(request: HttpRequest, files: Any, index: int, path: str, download: bool) -> HttpResponse:
    from engine.services import image_layers

    rows = files.merged(index)
    row = rows.get(path)
    if row is None or row.status == "removed" or row.info.kind == "dir":
        raise Http404("no such file")
    if row.info.kind == "hardlink":  # its data is stored under the name it links to
        target = rows.get(row.info.link)
        if target is None:
            raise Http404("no such file")
        row = target
        path = row.info.path
    layer = files.layer(row.layer)
    try:
        info, chunks = image_layers.open_file(files.store, layer.blob, path)
    except NotFound:
        raise Http404("no such file") from None
    if download:
        base = posixpath.basename(path) or "file"
        ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in base)
        response = StreamingHttpResponse(_aiter(chunks), content_type="application/octet-stream")
        response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(base)}"
        if info.kind == "file":
            response["Content-Length"] = str(info.size)
        return response
    data = b""
    text = None
    if info.kind == "file" and info.size <= TEXT_LIMIT:
        data = b"".join(chunks)
        if b"\0" not in data:
            text = data.decode("utf-8", "replace")
    else:
        close = getattr(chunks, "close", None)
        if close:
            close()
    return render(request, "console/images/browse_file.html", {
        "ref": request.resolver_match.kwargs.get("ref") if request.resolver_match else "",
        "name": files.names[0] if files.names else files.id[:19], "path": path, "info": info,
        "mode_text": info.mode_text, "text": text, "index": index, "written_by": row.layer,
        "too_big": info.size > TEXT_LIMIT, "crumbs": _crumbs(posixpath.dirname(path)),
    })


async def _aiter(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Read the layer in a worker thread, a chunk at a time (ASGI wants an async iterator)."""
    done = object()
    step = sync_to_async(lambda: next(chunks, done), thread_sensitive=False)
    try:
        while (piece := await step()) is not done:
            yield piece  # type: ignore[misc]
    finally:
        close = getattr(chunks, "close", None)
        if close:
            await sync_to_async(close, thread_sensitive=False)()
