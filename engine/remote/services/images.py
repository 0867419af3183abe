"""Remote image verbs: list (GET /libpod/images/json), pull (POST /libpod/images/pull,
Podman's JSON lines: {"stream"}, {"error"}, then {"images": [id], "id"})."""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

from engine.errors import HullError
from engine.remote.client import LIBPOD, Client
from engine.remote.services import unsupported
from engine.services.images import ImageSummary, ListOptions, PullOptions

__all__ = ["ImageSummary", "ListOptions", "PullOptions", "list_images", "pull", "inspect"]


def list_images(client: Client, opts: ListOptions) -> list[ImageSummary]:
    params: dict[str, Any] = {"all": opts.all}
    filters = {k: list(v) for k, v in (opts.filters or {}).items()}
    if opts.reference:
        filters.setdefault("reference", []).append(opts.reference)
    if filters:
        params["filters"] = filters
    out = []
    for d in client.json("GET", f"{LIBPOD}/images/json", params=params) or []:
        image_id = d.get("Id", "")
        out.append(ImageSummary(
            id=image_id if image_id.startswith("sha256:") else f"sha256:{image_id}",
            names=list(d.get("Names") or d.get("RepoTags") or []), digest=d.get("Digest", ""),
            created=float(d.get("Created") or 0), size=int(d.get("Size") or 0),
            labels=dict(d.get("Labels") or {}), containers=int(d.get("Containers") or 0),
            read_only=bool(d.get("ReadOnly"))))
    return out


def pull(client: Client, reference: str, opts: PullOptions) -> str:
    params: dict[str, Any] = {"reference": reference, "quiet": opts.progress is None}
    if opts.tls_verify is not None:
        params["tlsVerify"] = opts.tls_verify
    if opts.platform:
        os_, _, rest = opts.platform.partition("/")
        arch, _, variant = rest.partition("/")
        params.update({"OS": os_, "Arch": arch, "Variant": variant or None})
    for key, value in (("OS", opts.os), ("Arch", opts.arch), ("Variant", opts.variant)):
        if value:
            params[key] = value
    headers = {}
    if opts.creds:
        user, _, password = opts.creds.partition(":")
        auth = {"username": user, "password": password}
        headers["X-Registry-Auth"] = base64.urlsafe_b64encode(json.dumps(auth).encode()).decode()
    image_id = ""
    for doc in client.json_lines("POST", f"{LIBPOD}/images/pull", params=params, headers=headers):
        if doc.get("error"):
            raise HullError(str(doc["error"]))
        if doc.get("stream") and opts.progress is not None:
            sys.stderr.write(doc["stream"])
            sys.stderr.flush()
        if doc.get("id"):
            image_id = doc["id"]
    if not image_id:
        raise HullError(f"pulling {reference}: the service reported no image")
    return image_id


def inspect(client: Client, name: str) -> dict:
    from urllib.parse import quote

    return client.json("GET", f"{LIBPOD}/images/{quote(name, safe='/:@')}/json")


def __getattr__(name: str) -> Any:
    raise unsupported(__name__, name)
