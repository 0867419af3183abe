"""image mount / unmount: an image's layers as a read-only overlay.

Mount points live under {runroot}/image-mounts/<id>/merged; a counter per image
(runroot/image-mounts.json, under a lock) lets several `mount` calls share one
mount as Podman does.  Rootless, mounting needs Hull's mount namespace, which
only `hull unshare` gives a caller (Podman's rule): refuse otherwise.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from engine.config import EngineConfig
from engine.errors import InvalidArgument
from engine.services.common import id_hex, open_store


@dataclass
class MountedImage:
    id: str
    names: list[str]
    path: str


def _state_dir(cfg: EngineConfig) -> Path:
    return cfg.runroot / "image-mounts"


@contextmanager
def _counts(cfg: EngineConfig) -> Iterator[dict[str, int]]:
    from engine.store.locks import file_lock

    d = _state_dir(cfg)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = d / "counts.json"
    with file_lock(d / "counts.lock"):
        try:
            counts = json.loads(path.read_text())
        except (OSError, ValueError):
            counts = {}
        yield counts
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(counts))
        os.replace(tmp, path)


def _require_namespace(cfg: EngineConfig, command: str) -> None:
    if cfg.rootless:
        from engine.runtime.userns import needs_userns

        if needs_userns() or not os.environ.get("_HULL_USERNS_CONFIGURED"):
            raise InvalidArgument(
                f'cannot run command "hull {command}" in rootless mode, must execute `hull unshare` first')


def mount(cfg: EngineConfig, names: list[str]) -> list[MountedImage]:
    """Mount each image (again: the count goes up); returns where."""
    from engine.runtime.overlay import is_mountpoint, mount_overlay
    from engine.services.images import find_image

    _require_namespace(cfg, "image mount")
    store = open_store(cfg)
    images = store.images.list()
    result = []
    with _counts(cfg) as counts:
        for text in names:
            image = find_image(store, text, images)
            hex_id = id_hex(image.id)
            target = _state_dir(cfg) / hex_id / "merged"
            if not is_mountpoint(target):
                target.mkdir(mode=0o755, parents=True, exist_ok=True)
                lowers = [store.layers.diff_path(c) for c in reversed(image.layers)]
                if not lowers:
                    raise InvalidArgument(f"image {hex_id[:12]} has no layers to mount")
                mount_overlay(lowers, target, readonly=True)
                counts[hex_id] = 0
            counts[hex_id] = counts.get(hex_id, 0) + 1
            result.append(MountedImage(hex_id, list(image.names), str(target)))
    return result


def mounted(cfg: EngineConfig) -> list[MountedImage]:
    """Images mounted now (`image mount` without arguments)."""
    from engine.runtime.overlay import is_mountpoint

    store = open_store(cfg)
    out = []
    for image in store.images.list():
        target = _state_dir(cfg) / id_hex(image.id) / "merged"
        if is_mountpoint(target):
            out.append(MountedImage(id_hex(image.id), list(image.names), str(target)))
    return out


def unmount(cfg: EngineConfig, names: list[str], all_: bool = False, force: bool = False) -> list[str]:
    """Drop one mount reference (all with `force`); unmount at zero. Returns the IDs handled."""
    from engine.runtime.overlay import is_mountpoint
    from engine.runtime.overlay import unmount as umount
    from engine.services.images import find_image

    _require_namespace(cfg, "image unmount")
    store = open_store(cfg)
    images = store.images.list()
    targets = [find_image(store, t, images) for t in names] if not all_ else \
        [i for i in images if is_mountpoint(_state_dir(cfg) / id_hex(i.id) / "merged")]
    done = []
    with _counts(cfg) as counts:
        for image in targets:
            hex_id = id_hex(image.id)
            path = _state_dir(cfg) / hex_id / "merged"
            if not is_mountpoint(path):
                counts.pop(hex_id, None)
                if not all_:
                    raise InvalidArgument(f"image {hex_id[:12]} is not mounted")
                continue
            left = 0 if (force or all_) else counts.get(hex_id, 1) - 1
            if left <= 0:
                umount(path)
                counts.pop(hex_id, None)
            else:
                counts[hex_id] = left
            done.append(hex_id)
    return done
