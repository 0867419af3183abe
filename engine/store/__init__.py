"""Hull's storage: content blobs, unpacked layers, images, the state DB and locks.

Services open one `Store` per command: `Store.open(cfg)` is cheap (directory
checks and, on first query, one sqlite connection; no schema work when the
schema is current), so `hull images` starts fast.

Concurrency rules every writer follows:
- content writers (pull, load, import, build) hold `store.writing()` (the store
  lock, shared) from their first blob until their image is recorded, so gc,
  which takes it exclusively, never removes their unrecorded content;
- storage-mutating commands call `store.cleanup()` first, which removes what a
  crashed process left half-made;
- everything else is guarded by per-layer lock files and SQLite transactions.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cached_property
from pathlib import Path
TYPE_CHECKING = False

from engine.config import EngineConfig
from engine.store.db import StateDB
from engine.store.locks import file_lock

if TYPE_CHECKING:
    from engine.store.blobs import BlobStore
    from engine.store.images import Image, ImageStore
    from engine.store.layers import Layer, LayerStore
    from engine.store.containers import ContainerStore
    from engine.store.gc import GCResult
    from engine.store.networks import NetworkStore
    from engine.store.pods import PodStore
    from engine.store.secrets import SecretStore
    from engine.store.volumes import VolumeStore

# Imported on first use (every command pays for what it imports: secrets pulls in
# hmac/hashlib, volumes shutil; `hull images` needs neither).
# The image side (blobs, layers, images: ~3 ms with their imports) too: `hull ps` and
# `rm` never read an image.
_LAZY = {"ContainerStore": "engine.store.containers", "VolumeStore": "engine.store.volumes",
         "SecretStore": "engine.store.secrets", "BlobStore": "engine.store.blobs",
         "ImageStore": "engine.store.images", "Image": "engine.store.images",
         "LayerStore": "engine.store.layers", "Layer": "engine.store.layers"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'engine.store' has no attribute {name!r}")


def _image_user_check(conn, image_id: str) -> str | None:
    """rmi's in-use check, importing the containers module only when an image goes."""
    from engine.store.containers import image_user_check

    return image_user_check(conn, image_id)

__all__ = ["Store", "Image", "Layer", "BlobStore", "LayerStore", "ImageStore", "StateDB",
           "ContainerStore", "VolumeStore", "SecretStore"]


class Store:
    def __init__(self, cfg: EngineConfig) -> None:
        self.cfg = cfg
        self.db = StateDB(cfg.db_path)

    @cached_property
    def blobs(self) -> "BlobStore":
        from engine.store.blobs import BlobStore

        return BlobStore(self.cfg)

    @cached_property
    def layers(self) -> "LayerStore":
        from engine.store.layers import LayerStore

        return LayerStore(self.cfg, self.db)

    @cached_property
    def images(self) -> "ImageStore":
        from engine.store.images import ImageStore

        # rmi refuses (exit 2) while a container uses the image
        ImageStore.add_user_check(_image_user_check)
        return ImageStore(self.cfg, self.db, self.blobs, self.layers)

    @cached_property
    def containers(self) -> "ContainerStore":
        from engine.store.containers import ContainerStore

        return ContainerStore(self.cfg, self.db)

    @cached_property
    def volumes(self) -> "VolumeStore":
        from engine.store.volumes import VolumeStore

        return VolumeStore(self.cfg, self.db)

    @cached_property
    def networks(self) -> "NetworkStore":
        from engine.store.networks import NetworkStore

        return NetworkStore(self.cfg, self.db)

    @cached_property
    def pods(self) -> "PodStore":
        from engine.store.pods import PodStore

        return PodStore(self.cfg, self.db)

    @cached_property
    def secrets(self) -> "SecretStore":
        from engine.store.secrets import SecretStore

        return SecretStore(self.cfg, self.db)

    @classmethod
    def open(cls, cfg: EngineConfig) -> "Store":
        # Only create directories when the store is new or incomplete: a stat, not six mkdirs.
        if not cfg.locks_dir.is_dir() or not cfg.runroot.is_dir():
            cfg.prepare()
        return cls(cfg)

    @property
    def lock_path(self) -> Path:
        return self.cfg.locks_dir / "store.lock"

    def writing(self) -> AbstractContextManager[bool]:
        """Hold while adding content that is not yet referenced by an image record."""
        return file_lock(self.lock_path, shared=True)

    def exclusive(self, blocking: bool = True) -> AbstractContextManager[bool]:
        """Hold to change the store as a whole (gc, system reset)."""
        return file_lock(self.lock_path, blocking=blocking)

    def cleanup(self) -> int:
        """Remove what crashed layer creations left; run before mutating storage."""
        return self.layers.cleanup_incomplete()

    def gc(self, wait: bool = True) -> "GCResult":
        """Remove layers and blobs no image references (see engine/store/gc.py)."""
        from engine.store.gc import collect

        return collect(self, wait=wait)

    def close(self) -> None:
        self.db.close()
