"""The working container of one step: the stage's layers (read-only lowers) and
a fresh upper directory, mounted as an overlay.  What the step writes lands in
the upper directory, which then becomes the step's layer (engine/build/layer.py).
Also read-only mounts of another stage's or an image's layers for COPY --from.
Rootless, the build runs inside Hull's user namespace, so these mounts live in
its mount namespace and nothing is left on the host's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from engine.errors import HullError


class WorkMount:
    def __init__(self, store: Any, chain: list[str], scratch: Path, readonly: bool = False) -> None:
        self.store = store
        self.chain = list(chain)
        self.dir = Path(scratch)
        self.readonly = readonly
        self.merged = self.dir / "merged"
        self.upper = self.dir / "upper"
        self.work = self.dir / "work"
        self.mounted = False

    def __enter__(self) -> "WorkMount":
        from engine.runtime.overlay import mount_overlay

        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.merged.mkdir(mode=0o755, exist_ok=True)
        lowers = [self.store.layers.diff_path(c) for c in reversed(self.chain)]
        if not lowers:
            empty = self.dir / "empty"
            empty.mkdir(mode=0o755, exist_ok=True)
            lowers = [empty]
        if self.readonly:
            mount_overlay(lowers, self.merged, readonly=True)
        else:
            self.upper.mkdir(mode=0o755, exist_ok=True)
            self.work.mkdir(mode=0o700, exist_ok=True)
            mount_overlay(lowers, self.merged, self.upper, self.work)
        self.mounted = True
        return self

    def unmount(self) -> None:
        from engine.runtime.overlay import unmount

        if self.mounted:
            try:
                unmount(self.merged)
            except HullError:
                unmount(self.merged, lazy=True)
            self.mounted = False

    def __exit__(self, *exc: object) -> None:
        self.unmount()

    def remove(self) -> None:
        from engine.store.rmtree import remove_tree

        self.unmount()
        if self.dir.exists():
            remove_tree(self.dir)


def has_changes(upper: Path) -> bool:
    try:
        return any(os.scandir(upper))
    except FileNotFoundError:
        return False
