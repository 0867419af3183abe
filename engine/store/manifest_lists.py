"""Manifest lists kept as images, the way Podman keeps them.

A list is an image with no layers whose manifest is an OCI index (or Docker
manifest list): its `digest` is the current list document's digest, its bytes a
blob.  Its ID is the digest of a small stub config written at create time (so the
ID stays put while the list changes, and every reader of image configs works).
What an index cannot say - where each entry can be copied from when the list is
pushed - is in the `manifest_instances` table: `containers-storage:<image id>`
for an image of this store, `docker://<registry/repo@digest>` for a remote one.
"""

from __future__ import annotations

import time

from engine.errors import ImageNotFound
from engine.oci.digest import validate_digest
from engine.store.db import StateDB


class ManifestListStore:
    def __init__(self, db: StateDB) -> None:
        self.db = db

    def sources(self, list_id: str) -> dict[str, str]:
        """Entry digest -> where it comes from."""
        rows = self.db.query("SELECT digest, source FROM manifest_instances WHERE list_id = ?", (list_id,))
        return {row["digest"]: row["source"] for row in rows}

    def save(self, list_id: str, digest: str, media_type: str, sources: dict[str, str]) -> None:
        """Point the list image at a new list document (stored as a blob) and its entries' sources."""
        validate_digest(digest)
        with self.db.transaction() as conn:
            cur = conn.execute("UPDATE images SET digest = ?, manifest_media_type = ?, stored = ? WHERE id = ?",
                               (digest, media_type, time.time(), list_id))
            if cur.rowcount == 0:
                raise ImageNotFound(f"{list_id}: image not known")
            # the old list document's digest goes: the list is known by its current one only
            conn.execute("DELETE FROM image_digests WHERE image_id = ?", (list_id,))
            conn.execute("INSERT INTO image_digests (image_id, digest) VALUES (?, ?)", (list_id, digest))
            conn.execute("DELETE FROM manifest_instances WHERE list_id = ?", (list_id,))
            conn.executemany("INSERT INTO manifest_instances (list_id, digest, source) VALUES (?, ?, ?)",
                             [(list_id, d, s) for d, s in sources.items()])
