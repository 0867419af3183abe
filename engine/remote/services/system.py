"""Remote `info` (GET /libpod/info: the service's own info document) and `version`
(the client's block plus a Server block from GET /libpod/version, as podman --remote)."""

from __future__ import annotations

from typing import Any

from engine.remote.client import LIBPOD, Client
from engine.remote.services import unsupported


def info(client: Client) -> dict[str, Any]:
    return client.json("GET", f"{LIBPOD}/info")


def server_version(client: Client) -> dict[str, Any]:
    doc = client.json("GET", f"{LIBPOD}/version") or {}
    comp = next((c for c in doc.get("Components") or [] if c.get("Name") == "Podman Engine"), {})
    details = comp.get("Details") or {}
    return {"APIVersion": details.get("APIVersion") or doc.get("ApiVersion", ""),
            "Version": doc.get("Version", ""), "GoVersion": doc.get("GoVersion", ""),
            "GitCommit": doc.get("GitCommit", ""), "BuiltTime": details.get("BuildTime") or doc.get("BuildTime", ""),
            "Built": 0, "OsArch": f"{doc.get('Os', 'linux')}/{doc.get('Arch', '')}", "Os": doc.get("Os", "linux")}


def __getattr__(name: str) -> Any:
    raise unsupported(__name__, name)
