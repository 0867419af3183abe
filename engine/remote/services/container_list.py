"""Remote `ps`: GET /libpod/containers/json -> ContainerSummary records."""

from __future__ import annotations

from typing import Any

from engine.remote.client import LIBPOD, Client
from engine.remote.services import unsupported
from engine.services.common import parse_time
from engine.services.container_list import ContainerSummary, ListOptions

__all__ = ["ListOptions", "ContainerSummary", "list_containers"]


def summary(doc: dict[str, Any]) -> ContainerSummary:
    return ContainerSummary(
        id=doc.get("Id", ""), names=list(doc.get("Names") or []), image=doc.get("Image", ""),
        image_id=doc.get("ImageID", ""), command=list(doc.get("Command") or []),
        created=parse_time(doc.get("Created")), state=doc.get("State", ""), status=doc.get("Status", ""),
        exit_code=int(doc.get("ExitCode") or 0), exited=bool(doc.get("Exited")), pid=int(doc.get("Pid") or 0),
        started_at=float(doc.get("StartedAt") or 0), finished_at=float(doc.get("ExitedAt") or 0),
        labels=dict(doc.get("Labels") or {}), mounts=list(doc.get("Mounts") or []), pod=doc.get("Pod") or "",
        restarts=int(doc.get("Restarts") or 0), ports=list(doc.get("Ports") or []),
        auto_remove=bool(doc.get("AutoRemove")),
        size_rw=(doc.get("Size") or {}).get("rwSize") if doc.get("Size") else None,
        size_root_fs=(doc.get("Size") or {}).get("rootFsSize") if doc.get("Size") else None)


def list_containers(client: Client, opts: ListOptions) -> list[ContainerSummary]:
    params: dict[str, Any] = {"all": opts.all or opts.last > 0 or opts.latest, "size": opts.size}
    if opts.latest:
        params["limit"] = 1
    elif opts.last > 0:
        params["limit"] = opts.last
    if opts.filters:
        params["filters"] = {k: list(v) for k, v in opts.filters.items()}
    docs = client.json("GET", f"{LIBPOD}/containers/json", params=params) or []
    return [summary(d) for d in docs]


def __getattr__(name: str) -> Any:
    raise unsupported(__name__, name)
