"""Routes of the API service: Docker's paths and libpod's (`/libpod/...`), each
optionally behind a version prefix (`/v1.44/...`, `/v5.0.0/libpod/...`).

Handler modules register with `@route("GET", "/containers/{id}/json")` or
`@route(..., libpod=True)`; a handler takes `(request, **path_params)` and
answers through the request.  Errors: a HullError becomes its HTTP status with
Docker's body `{"message": ...}` (libpod routes add `cause` and `response`, as
Podman does); anything else is a 500 with one line, never a traceback.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Callable

from engine.api.http import MIN_API_VERSION, API_VERSION, ClientGone, Request
from engine.errors import HullError, NotFound

Handler = Callable[..., None]

_VERSION = re.compile(r"^/v(\d+(?:\.\d+){0,2})(?=/)")
_PARAM = re.compile(r"\{(\w+)(:path)?\}")

# (method, compiled pattern, handler), per API flavour
_ROUTES: dict[bool, list[tuple[str, re.Pattern[str], Handler]]] = {False: [], True: []}

# Modules whose import registers routes; imported once by `dispatch`.
HANDLER_MODULES = (
    "engine.api.docker_system",
    "engine.api.docker_containers",
    "engine.api.docker_exec",
    "engine.api.docker_images",
    "engine.api.docker_volumes",
    "engine.api.docker_networks",
    "engine.api.docker_events",
    "engine.api.docker_build",
    "engine.api.libpod_images",
    "engine.api.libpod_containers",
    "engine.api.libpod_pods",
    "engine.api.libpod_volumes",
    "engine.api.libpod_manifests",
    "engine.api.libpod_generate",
    "engine.api.libpod_play",
    "engine.api.libpod_system",
)
_loaded = False


def route(method: str, pattern: str, *, libpod: bool = False, both: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler.  `{name}` matches one path segment, `{name:path}` the
    rest of the path.  `both=True` serves the route under Docker's and libpod's paths."""
    regex = "^" + _PARAM.sub(lambda m: f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})", pattern) + "/?$"
    compiled = re.compile(regex)

    def register(fn: Handler) -> Handler:
        for flavour in ((False, True) if both else (libpod,)):
            _ROUTES[flavour].append((method, compiled, fn))
        return fn

    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        import importlib

        for name in HANDLER_MODULES:
            importlib.import_module(name)
        _loaded = True


def _split_prefix(request: Request) -> None:
    path = request.raw_path
    m = _VERSION.match(path)
    if m:
        request.api_version = m.group(1)
        path = path[m.end():]
    if path == "/libpod" or path.startswith("/libpod/"):
        request.libpod = True
        path = path[len("/libpod"):] or "/"
    request.path = path


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


class MethodNotAllowed(HullError):
    http_status = 405


class VersionUnsupported(HullError):
    http_status = 400


def dispatch(request: Request) -> None:
    _load()
    _split_prefix(request)
    try:
        if request.api_version and not request.libpod:
            v = _version_tuple(request.api_version)
            if v < _version_tuple(MIN_API_VERSION) or v > _version_tuple(API_VERSION):
                raise VersionUnsupported(
                    f"client version {request.api_version} is not supported: the API serves "
                    f"{MIN_API_VERSION} to {API_VERSION}")
        handler, params = _find(request)
        handler(request, **params)
    except ClientGone:
        raise
    except HullError as err:
        send_error(request, err.http_status, str(err))
    except Exception as exc:  # a bug: one line to the client, the detail to our stderr
        print(f"hull service: {request.method} {request.raw_path}: {type(exc).__name__}: {exc}", file=sys.stderr)
        send_error(request, 500, f"internal error: {type(exc).__name__}: {exc}")


def _find(request: Request) -> tuple[Handler, dict[str, str]]:
    method = "GET" if request.method == "HEAD" else request.method
    allowed = False
    for m, pattern, fn in _ROUTES[request.libpod]:
        match = pattern.match(request.path)
        if match:
            if m == method or (request.method == "HEAD" and m == "HEAD"):
                return fn, match.groupdict()
            allowed = True
    if allowed:
        raise MethodNotAllowed(f"method {request.method} not allowed for {request.raw_path}")
    raise NotFound(f"page not found: {request.raw_path}")


def send_error(request: Request, status: int, message: str) -> None:
    if request.responded:
        return  # mid-stream: the status line is gone already; the stream just ends
    doc: dict[str, Any] = {"message": message}
    if request.libpod:
        doc = {"cause": _cause(message), "message": message, "response": status}
    request.send_json(doc, status)


def _cause(message: str) -> str:
    """Podman's `cause` is the innermost error text: the part after the last ': '."""
    return message.rsplit(": ", 1)[-1]
