"""Remote networks: GET /libpod/networks/json (Podman's network documents)."""

from __future__ import annotations

from typing import Any

from engine.remote.client import LIBPOD, Client
from engine.remote.services import unsupported


class NetworkDoc(dict):
    """A network document that also answers `.name`, as the local Network record does."""

    @property
    def name(self) -> str:
        return str(self.get("name", ""))


def list_networks(client: Client, filters: dict[str, list[str]] | None = None) -> list[NetworkDoc]:
    params = {"filters": {k: list(v) for k, v in filters.items()}} if filters else None
    return [NetworkDoc(d) for d in client.json("GET", f"{LIBPOD}/networks/json", params=params) or []]


def inspect_doc(store: Any, network: NetworkDoc, with_containers: bool = True) -> dict:
    return dict(network)


def __getattr__(name: str) -> Any:
    raise unsupported(__name__, name)
