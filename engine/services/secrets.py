"""Secret services: create, ls, inspect, rm, exists.  Data goes in, never out:
no service returns a secret's bytes (containers get them at create time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.config import EngineConfig
from engine.errors import InvalidArgument
from engine.services.common import open_store, rfc3339
from engine.services.events import emit
from engine.services.removal import RemovalReport

LIST_FILTERS = ("name", "id", "label")


@dataclass
class CreateOptions:
    driver: str = "file"
    labels: dict[str, str] = field(default_factory=dict)
    driver_options: dict[str, str] = field(default_factory=dict)
    replace: bool = False


class RemoveReport(RemovalReport):
    """Podman's secret rm exits 125 for any failure, an unknown name too (it sets no
    exit code of its own, unlike rm and volume rm)."""

    @property
    def exit_code(self) -> int:
        return 125 if self.errors else 0


def create(cfg: EngineConfig, name: str, data: bytes, opts: CreateOptions | None = None) -> str:
    opts = opts or CreateOptions()
    store = open_store(cfg)
    secret = store.secrets.create(name, data, opts.driver, opts.labels, opts.driver_options, replace=opts.replace)
    emit(cfg, "secret", "create", id=secret.id, name=secret.name)
    return secret.id


def inspect_doc(secret: Any) -> dict:
    """Podman's `secret inspect` (no data)."""
    return {
        "ID": secret.id,
        "CreatedAt": rfc3339(secret.created),
        "UpdatedAt": rfc3339(secret.updated),
        "Spec": {"Name": secret.name, "Driver": {"Name": secret.driver, "Options": secret.options},
                 "Labels": secret.labels},
    }


def inspect(cfg: EngineConfig, names: list[str]) -> list[dict]:
    store = open_store(cfg)
    return [inspect_doc(store.secrets.lookup(n)) for n in names]


def exists(cfg: EngineConfig, name: str) -> bool:
    return open_store(cfg).secrets.exists(name)


def list_secrets(cfg: EngineConfig, filters: dict[str, list[str]] | None = None) -> list[dict]:
    filters = filters or {}
    for key in filters:
        if key not in LIST_FILTERS:
            raise InvalidArgument(f"{key} is an invalid secret filter")
    out = []
    for s in open_store(cfg).secrets.list():
        ok = True
        for key, values in filters.items():
            if key == "name":
                ok = ok and any(v in s.name for v in values)
            elif key == "id":
                ok = ok and any(s.id.startswith(v) for v in values)
            else:
                ok = ok and all(k in s.labels and (not eq or s.labels[k] == val)
                                for k, eq, val in (v.partition("=") for v in values))
        if ok:
            out.append(inspect_doc(s))
    return out


def remove(cfg: EngineConfig, names: list[str], all: bool = False, ignore: bool = False) -> RemoveReport:
    if all and names:
        raise InvalidArgument("when using the --all switch, you may not pass any secret names")
    store = open_store(cfg)

    def remove_one(text: str) -> str:
        secret = store.secrets.remove(text)
        emit(cfg, "secret", "remove", id=secret.id, name=secret.name)
        return secret.id

    targets = [s.id for s in store.secrets.list()] if all else names
    return RemoveReport().remove_each(targets, remove_one, ignore)
