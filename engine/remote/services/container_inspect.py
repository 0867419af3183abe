"""Remote container inspect: GET /libpod/containers/{name}/json (Podman's document)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from engine.errors import ContainerNotFound, NotFound
from engine.remote.client import LIBPOD, Client
from engine.remote.services import unsupported


def inspect(client: Client, names: list[str], size: bool = False) -> list[dict]:
    out = []
    for name in names:
        try:
            out.append(client.json("GET", f"{LIBPOD}/containers/{quote(name, safe='')}/json",
                                   params={"size": size} if size else None))
        except NotFound as err:
            raise ContainerNotFound(str(err)) from None
    return out


def __getattr__(name: str) -> Any:
    raise unsupported(__name__, name)
