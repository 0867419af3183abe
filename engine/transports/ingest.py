"""Turning what an archive reader found into stored blobs, layers and images.

Each format reader produces `ImagePlan`s (config, manifest, where each layer's
blob is in the archive, names).  `commit_plans` then, under the store's write
lock: stores config and manifest blobs (verified), streams each layer blob into
the content store (verified against its digest when the archive promises one),
unpacks it once per chain ID with `apply_layer` and checks the result against
the config's diff_id, and only when every image of the archive is complete
records the images.  A failure before that leaves no image record; its blobs
and layers are unreferenced and gc removes them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import IntegrityError, UnsafeArchive
from engine.oci.digest import validate_digest
from engine.transports.source import CHUNK, ArchiveSource

if TYPE_CHECKING:
    from engine.store import Image, Store


@dataclass
class LayerPlan:
    member: str  # where the blob is in the archive
    diff_id: str  # what the config says its uncompressed tar hashes to
    digest: str | None = None  # the blob's digest when the archive promises one (OCI)
    size: int | None = None
    media_type: str | None = None


@dataclass
class ImagePlan:
    config: bytes
    config_digest: str
    layers: list[LayerPlan]
    names: list[str] = field(default_factory=list)
    manifest: bytes | None = None  # None: synthesise one from the stored blobs
    manifest_media_type: str | None = None
    digests: list[str] = field(default_factory=list)  # further manifest digests (an index)


def ingest_member(store: "Store", source: ArchiveSource, plan: LayerPlan) -> str:
    """Stream one archive member into the blob store; returns its digest."""
    if plan.digest is not None and store.blobs.has(plan.digest):
        return plan.digest
    try:
        with source.open(plan.member) as src, store.blobs.ingest(plan.digest, plan.size) as writer:
            while True:
                chunk = src.read(CHUNK)
                if not chunk:
                    break
                writer.write(chunk)
            return writer.commit()
    except IntegrityError as exc:
        raise IntegrityError(f"{plan.member} in the {source.label} is corrupt: {exc}") from None


def diff_id_of_blob(store: "Store", digest: str) -> str:
    """Hash a stored blob's uncompressed stream (for a layer we already have unpacked)."""
    from engine.archive.compression import open_decompressed

    hasher = hashlib.sha256()
    with store.blobs.open(digest) as f:
        reader = open_decompressed(f)
        while True:
            chunk = reader.read(CHUNK)
            if not chunk:
                break
            hasher.update(chunk)
    return "sha256:" + hasher.hexdigest()


def _populate(store: "Store", blob: str, diff_id: str):
    def populate(dest: Path) -> int:
        from engine.archive.extract import apply_layer

        with store.blobs.open(blob) as f:
            result = apply_layer(f, dest)
        if result.diff_id != diff_id:
            raise IntegrityError(f"layer {blob} unpacks to {result.diff_id}, but the image config says {diff_id}")
        return result.size

    return populate


def store_layers(store: "Store", source: ArchiveSource, layers: list[LayerPlan]) -> tuple[list[str], list[str]]:
    """Ingest and unpack each layer; returns (chain IDs, blob digests)."""
    chain: list[str] = []
    blobs: list[str] = []
    parent: str | None = None
    for plan in layers:
        validate_digest(plan.diff_id)
        blob = ingest_member(store, source, plan)
        chain_id = store.layers.chain_id(parent, plan.diff_id)
        if store.layers.exists(chain_id):
            # unpacked already: still prove this blob is that layer, or a save/push
            # of this image would hand out the wrong bytes
            if blob != plan.diff_id and diff_id_of_blob(store, blob) != plan.diff_id:
                raise IntegrityError(f"layer {plan.member} does not match diff_id {plan.diff_id}")
        layer = store.layers.create(plan.diff_id, parent, _populate(store, blob, plan.diff_id), compressed_digest=blob)
        chain.append(layer.chain_id)
        blobs.append(blob)
        parent = layer.chain_id
    return chain, blobs


def commit_plans(store: "Store", source: ArchiveSource, plans: list[ImagePlan], synthesize) -> list["Image"]:
    """Store every plan's content, then record all images (all or nothing).

    `synthesize(plan, blob_digests) -> (manifest bytes, media type)` makes a
    manifest for formats that carry none (docker-archive).
    """
    if not plans:
        raise UnsafeArchive("archive holds no image")
    staged = []
    with store.writing():
        for plan in plans:
            config_digest = store.blobs.put_bytes(plan.config, plan.config_digest)
            chain, blobs = store_layers(store, source, plan.layers)
            manifest, media_type = (plan.manifest, plan.manifest_media_type)
            if manifest is None:
                manifest, media_type = synthesize(plan, blobs)
            manifest_digest = store.blobs.put_bytes(manifest)
            staged.append((plan, config_digest, manifest_digest, media_type, chain))
        images = []
        for plan, config_digest, manifest_digest, media_type, chain in staged:
            images.append(
                store.images.add(
                    config_digest, manifest_digest, chain, plan.names,
                    manifest_media_type=media_type, digests=plan.digests,
                )
            )
    return images
