"""Remote `pod ps`: GET /libpod/pods/json -> PodSummary records."""

from __future__ import annotations

from typing import Any

from engine.remote.client import LIBPOD, Client
from engine.remote.services import unsupported
from engine.services.common import parse_time
from engine.services.pod_inspect import PodMember, PodSummary

__all__ = ["list_pods", "PodSummary"]


def list_pods(client: Client, filters: dict[str, list[str]] | None = None) -> list[PodSummary]:
    params = {"filters": {k: list(v) for k, v in filters.items()}} if filters else None
    out = []
    for d in client.json("GET", f"{LIBPOD}/pods/json", params=params) or []:
        out.append(PodSummary(
            id=d.get("Id", ""), name=d.get("Name", ""), status=d.get("Status", ""),
            created=parse_time(d.get("Created")), infra_id=d.get("InfraId") or "",
            labels=dict(d.get("Labels") or {}),
            members=[PodMember(id=m.get("Id", ""), name=m.get("Names", ""), state=m.get("Status", ""))
                     for m in d.get("Containers") or []],
            networks=list(d.get("Networks") or []), cgroup=d.get("Cgroup") or ""))
    return out


def __getattr__(name: str) -> Any:
    raise unsupported(__name__, name)
