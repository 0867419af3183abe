"""Remote volumes: /libpod/volumes/json, create, {name}/json, exists, DELETE {name}."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from engine.errors import HullError, NotFound, VolumeNotFound
from engine.remote.client import LIBPOD, Client
from engine.remote.services import unsupported
from engine.services.volumes import CreateOptions, RemoveReport

__all__ = ["CreateOptions", "RemoveReport", "create", "list_volumes", "inspect", "exists", "remove"]


def _q(name: str) -> str:
    return quote(name, safe="")


def create(client: Client, opts: CreateOptions) -> str:
    body = {"Name": opts.name or "", "Driver": opts.driver, "Labels": dict(opts.labels),
            "Options": dict(opts.options), "IgnoreIfExists": opts.ignore}
    return client.json("POST", f"{LIBPOD}/volumes/create", json_body=body)["Name"]


def list_volumes(client: Client, filters: dict[str, list[str]] | None = None) -> list[dict]:
    params = {"filters": {k: list(v) for k, v in filters.items()}} if filters else None
    return client.json("GET", f"{LIBPOD}/volumes/json", params=params) or []


def inspect(client: Client, names: list[str], all: bool = False) -> list[dict]:
    if all:
        return list_volumes(client)
    out = []
    for name in names:
        try:
            out.append(client.json("GET", f"{LIBPOD}/volumes/{_q(name)}/json"))
        except NotFound as err:
            raise VolumeNotFound(str(err)) from None
    return out


def exists(client: Client, name: str) -> bool:
    try:
        client.request("GET", f"{LIBPOD}/volumes/{_q(name)}/exists")
        return True
    except NotFound:
        return False


def remove(client: Client, names: list[str], force: bool = False, all: bool = False,
           timeout: int | None = None) -> RemoveReport:
    from engine.errors import InUse

    report = RemoveReport()
    if all:
        names = [v["Name"] for v in list_volumes(client)]
    for name in names:
        params: dict[str, Any] = {"force": force}
        if timeout is not None:
            params["timeout"] = timeout
        try:
            client.request("DELETE", f"{LIBPOD}/volumes/{_q(name)}", params=params)
        except NotFound as err:
            report.errors.append(VolumeNotFound(str(err)))
            continue
        except HullError as err:
            report.errors.append(InUse(str(err)) if err.http_status == 409 else err)
            continue
        report.removed.append(name)
    return report


def __getattr__(name: str) -> Any:
    raise unsupported(__name__, name)
