"""Garbage collection: delete the layers and blobs no image references.

A layer is referenced when it is in some image's chain (or named by a query a
later issue appends to LAYER_REFERENCES, e.g. a container's layer), and so are
all its parents.  A blob is referenced when it is an image's config, one of its
manifest digests, or the compressed form of a referenced layer.

gc holds the store lock exclusively, while writers that add content (pull,
load, build) hold it shared from their first blob to their image record: so gc
never deletes a blob or layer a pull has made but not yet recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.errors import InUse, NotFound
from engine.store.locks import file_lock

if TYPE_CHECKING:
    from engine.store import Store

# Each returns one column of chain ids that must stay; later issues append theirs.
LAYER_REFERENCES: list[str] = [
    "SELECT j.value FROM images, json_each(images.layers) AS j",
    # issue 3: the layers under a container (its image may be untagged but stays)
    "SELECT j.value FROM containers JOIN images ON images.id = containers.image_id, "
    "json_each(images.layers) AS j",
]
# Each returns one column of blob digests that must stay (besides referenced layers' blobs).
BLOB_REFERENCES: list[str] = [
    "SELECT id FROM images",
    "SELECT digest FROM image_digests",
]


@dataclass
class GCResult:
    layers: list[str] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)
    reclaimed: int = 0  # bytes
    incomplete: int = 0  # crashed layer creations and ingests cleaned
    skipped: bool = False  # the store was busy and wait=False


def collect(store: "Store", wait: bool = True) -> GCResult:
    """Remove unreferenced layers and blobs; with wait=False skip if writers are busy."""
    with file_lock(store.lock_path, blocking=wait) as acquired:
        if not acquired:
            return GCResult(skipped=True)
        result = GCResult()
        result.incomplete = store.layers.cleanup_incomplete() + store.blobs.remove_stale_temps()
        _collect_layers(store, result)
        _collect_blobs(store, result)
        return result


def _collect_layers(store: "Store", result: GCResult) -> None:
    rows = store.db.query("SELECT chain_id, parent, size FROM layers")
    parent = {row[0]: row[1] for row in rows}
    size = {row[0]: row[2] for row in rows}
    keep: set[str] = set()
    for sql in LAYER_REFERENCES:
        for (chain_id,) in store.db.query(sql):
            while chain_id is not None and chain_id not in keep:
                keep.add(chain_id)
                chain_id = parent.get(chain_id)

    def depth(chain_id: str) -> int:
        n = 0
        while (chain_id := parent.get(chain_id)) is not None:
            n += 1
        return n

    # Children before parents: a parent cannot go while a child names it.
    for chain_id in sorted(set(parent) - keep, key=depth, reverse=True):
        try:
            store.layers.remove(chain_id)
        except (InUse, NotFound):
            continue
        result.layers.append(chain_id)
        result.reclaimed += size[chain_id] or 0


def _collect_blobs(store: "Store", result: GCResult) -> None:
    keep: set[str] = set()
    for sql in BLOB_REFERENCES:
        keep.update(row[0] for row in store.db.query(sql))
    keep.update(
        row[0] for row in store.db.query("SELECT compressed_digest FROM layers WHERE compressed_digest IS NOT NULL")
    )
    for digest in list(store.blobs.digests()):
        if digest in keep:
            continue
        try:
            result.reclaimed += store.blobs.size(digest)
        except NotFound:
            continue
        store.blobs.delete(digest)
        result.blobs.append(digest)
