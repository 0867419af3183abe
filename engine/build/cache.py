"""The layer cache: each step's result is an intermediate image, found again by
a key over everything that decides the result: the parent (the previous step's
key, rooted in the base image's ID), the instruction after expansion, the build
arguments the step sees, and a digest of the files it copies.

Keys live as small files `{root}/build-cache/<key hex>` holding the image ID;
an entry whose image is gone (rmi, prune) is a miss.  Files, not the state DB:
a cache entry is a hint, losing one costs a rebuild and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def step_key(parent_key: str, instruction: str, args: dict[str, str] | None = None, content: str = "") -> str:
    h = hashlib.sha256()
    h.update(json.dumps([parent_key, instruction, sorted((args or {}).items()), content]).encode())
    return h.hexdigest()


class BuildCache:
    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / "build-cache"

    def lookup(self, store: Any, key: str) -> Any | None:
        """The stored image for `key`, or None."""
        try:
            image_id = (self.dir / key).read_text().strip()
        except OSError:
            return None
        try:
            return store.images.get(image_id)
        except Exception:  # noqa: BLE001 - a dangling entry is a miss
            return None

    def record(self, key: str, image_id: str) -> None:
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.dir / f".{key}.{os.getpid()}"
        tmp.write_text(image_id)
        os.replace(tmp, self.dir / key)
