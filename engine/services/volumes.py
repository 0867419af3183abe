"""Volume services: create, ls, inspect, rm, prune, exists (Podman's `volume` verbs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.config import EngineConfig
from engine.errors import HullError, InUse, InvalidArgument, VolumeNotFound
from engine.services.common import enter_userns, open_store, rfc3339
from engine.services.events import emit
from engine.services.removal import RemovalReport, remove_users

LIST_FILTERS = ("name", "driver", "label", "label!", "dangling", "until", "opt", "scope", "anonymous")


@dataclass
class CreateOptions:
    name: str | None = None
    driver: str = "local"
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    ignore: bool = False  # --ignore: an existing volume is not an error


class RemoveReport(RemovalReport):
    """Podman's volume rm: 1 no such volume, 2 in use, else 125."""

    NOT_FOUND = VolumeNotFound
    IN_USE = (InUse,)


def create(cfg: EngineConfig, opts: CreateOptions) -> str:
    store = open_store(cfg)
    volume = store.volumes.create(opts.name, opts.driver, opts.labels, opts.options, ignore_existing=opts.ignore)
    emit(cfg, "volume", "create", id=volume.name, name=volume.name)
    return volume.name


def inspect_doc(store: Any, volume: Any) -> dict:
    """Podman's `volume inspect` document (Docker's /volumes keys are a subset)."""
    return {
        "Name": volume.name,
        "Driver": volume.driver,
        "Mountpoint": volume.data_path,
        "CreatedAt": rfc3339(volume.created),
        "Labels": volume.labels,
        "Scope": "local",
        "Options": volume.options,
        "UID": volume.uid or 0,
        "GID": volume.gid or 0,
        "Anonymous": volume.anonymous,
        "MountCount": 0,
        "NeedsCopyUp": volume.needs_copy_up,
        "NeedsChown": volume.needs_copy_up,
        "LockNumber": 0,
    }


def inspect(cfg: EngineConfig, names: list[str], all: bool = False) -> list[dict]:
    store = open_store(cfg)
    volumes = store.volumes.list() if all else [store.volumes.lookup(n) for n in names]
    return [inspect_doc(store, v) for v in volumes]


def exists(cfg: EngineConfig, name: str) -> bool:
    return open_store(cfg).volumes.exists(name)


def _label(labels: dict[str, str], spec: str) -> bool:
    key, eq, value = spec.partition("=")
    return key in labels and (not eq or labels[key] == value)


def _match(store: Any, v: Any, key: str, value: str) -> bool:
    if key == "name":
        return value in v.name
    if key == "driver":
        return v.driver == value
    if key == "label":
        return _label(v.labels, value)
    if key == "label!":
        return not _label(v.labels, value)
    if key == "opt":
        return _label(v.options, value)
    if key == "scope":
        return value == "local"
    if key == "anonymous":
        return v.anonymous == (value.lower() in ("true", "1"))
    if key == "dangling":
        if value.lower() not in ("true", "false", "1", "0"):
            raise InvalidArgument(f"{value} is not a valid value for the \"dangling\" filter - must be true or false")
        return (not store.volumes.users(v.name)) == (value.lower() in ("true", "1"))
    if key == "until":
        from engine.services.images import _parse_until

        return v.created < _parse_until(value)
    raise InvalidArgument(f"{key} is an invalid volume filter")


def _filtered(store: Any, filters: dict[str, list[str]]) -> list[Any]:
    for key in filters:
        if key not in LIST_FILTERS:
            raise InvalidArgument(f"{key} is an invalid volume filter")
    out = []
    for v in store.volumes.list():
        if all((all if k in ("label", "label!") else any)(_match(store, v, k, x) for x in vals)
               for k, vals in filters.items()):
            out.append(v)
    return out


def list_volumes(cfg: EngineConfig, filters: dict[str, list[str]] | None = None) -> list[dict]:
    store = open_store(cfg)
    return [inspect_doc(store, v) for v in _filtered(store, filters or {})]


def remove(cfg: EngineConfig, names: list[str], force: bool = False, all: bool = False,
           ignore: bool = False, timeout: int | None = None) -> RemoveReport:
    """`volume rm`; with --force the containers using it are removed first (as Podman)."""
    if all and names:
        raise InvalidArgument("when using the --all switch, you may not pass any volume names")
    if not all and not names:
        raise InvalidArgument("must provide at least one volume name or --all")
    enter_userns(cfg)
    store = open_store(cfg)

    def remove_one(text: str) -> str:
        volume = store.volumes.lookup(text)
        users = store.volumes.users(volume.name)
        if users and force:
            remove_users(cfg, users, timeout)
        store.volumes.remove(volume.name)
        emit(cfg, "volume", "remove", id=volume.name, name=volume.name)
        return volume.name

    targets = [v.name for v in store.volumes.list()] if all else names
    return RemoveReport().remove_each(targets, remove_one, ignore)


def prune(cfg: EngineConfig, filters: dict[str, list[str]] | None = None) -> list[tuple[str, int]]:
    """Remove volumes no container uses; returns (name, bytes) for each."""
    enter_userns(cfg)
    store = open_store(cfg)
    candidates = {v.name for v in _filtered(store, {k: v for k, v in (filters or {}).items()})}
    removed = []
    for volume in store.volumes.unused():
        if volume.name not in candidates:
            continue
        size = _size(volume.mountpoint)
        try:
            store.volumes.remove(volume.name)
        except HullError:
            continue
        emit(cfg, "volume", "prune", id=volume.name, name=volume.name)
        removed.append((volume.name, size))
    return removed


def _size(path: str) -> int:
    import os

    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total
