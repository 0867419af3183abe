"""What a saved image is made of, read back from the store.

An image's config blob (its ID), and for each layer the blob that carries it:
the one its manifest names, else the layer record's compressed digest, else a
tar of the unpacked layer written into the blob store (it must hash to the
config's diff_id, or the archive would lie).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Iterator

from engine.errors import IntegrityError, StorageError
from engine.oci import mediatypes as mt
from engine.oci.manifest import MAX_CONFIG_SIZE, MAX_MANIFEST_SIZE, Manifest, parse_manifest
from engine.transports.source import CHUNK

if TYPE_CHECKING:
    from engine.store import Image, Store


@dataclass
class LayerContent:
    chain_id: str
    diff_id: str
    blob: str
    media_type: str
    size: int


@dataclass
class ImageContent:
    image: "Image"
    config: bytes
    config_doc: dict
    manifest: Manifest | None
    layers: list[LayerContent]


_OCI_LAYER_TYPES = {
    mt.DOCKER_LAYER: mt.OCI_LAYER,
    mt.DOCKER_LAYER_GZIP: mt.OCI_LAYER_GZIP,
    mt.DOCKER_LAYER_FOREIGN: mt.OCI_LAYER_NONDIST_GZIP,
}


def oci_layer_type(media_type: str) -> str:
    return _OCI_LAYER_TYPES.get(media_type, media_type)


def _stored_manifest(store: "Store", image: "Image") -> Manifest | None:
    if not image.digest or not store.blobs.has(image.digest):
        return None
    doc = parse_manifest(store.blobs.read_bytes(image.digest, MAX_MANIFEST_SIZE), image.manifest_media_type)
    return doc if isinstance(doc, Manifest) else None


def _media_type_of(store: "Store", blob: str, diff_id: str) -> str:
    if blob == diff_id:
        return mt.OCI_LAYER
    with store.blobs.open(blob) as f:
        head = f.read(4)
    if head.startswith(b"\x1f\x8b"):
        return mt.OCI_LAYER_GZIP
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return mt.OCI_LAYER_ZSTD
    return mt.OCI_LAYER


def read_image(store: "Store", image: "Image") -> ImageContent:
    config = store.blobs.read_bytes(image.id, MAX_CONFIG_SIZE)
    doc = json.loads(config)
    diff_ids = list((doc.get("rootfs") or {}).get("diff_ids") or [])
    if len(diff_ids) != len(image.layers):
        raise StorageError(f"image {image.short_id} has {len(image.layers)} layers but its config lists {len(diff_ids)}")
    manifest = _stored_manifest(store, image)
    described = list(manifest.layers) if manifest and len(manifest.layers) == len(diff_ids) else None
    layers = []
    for i, (chain_id, diff_id) in enumerate(zip(image.layers, diff_ids)):
        blob = media_type = None
        if described and store.blobs.has(described[i].digest):
            blob, media_type = described[i].digest, described[i].media_type
        else:
            record = store.layers.get(chain_id)
            if record.compressed_digest and store.blobs.has(record.compressed_digest):
                blob = record.compressed_digest
            else:
                blob = blob_from_layer_dir(store, chain_id, diff_id)
            media_type = _media_type_of(store, blob, diff_id)
        layers.append(LayerContent(chain_id, diff_id, blob, media_type, store.blobs.size(blob)))
    return ImageContent(image, config, doc, manifest, layers)


def blob_from_layer_dir(store: "Store", chain_id: str, diff_id: str) -> str:
    """Tar the unpacked layer into the blob store; it must reproduce `diff_id`."""
    from engine.archive.tarwriter import write_tar

    with store.blobs.ingest(diff_id) as writer:
        # The layer dir is in overlay form: whiteouts go back to `.wh.` entries.
        write_tar(store.layers.diff_path(chain_id), writer, overlay_whiteouts=True)
        try:
            return writer.commit()
        except IntegrityError:
            raise IntegrityError(f"layer {chain_id} has no stored blob and re-packing it does not reproduce {diff_id}") from None


@contextmanager
def uncompressed_layer(store: "Store", layer: LayerContent) -> Iterator[tuple[BinaryIO, int]]:
    """The layer's plain tar stream and its size (decompressed to a temp file if needed)."""
    if layer.blob == layer.diff_id:
        with store.blobs.open(layer.blob) as f:
            yield f, layer.size
        return
    from engine.archive.compression import open_decompressed

    fd, path = tempfile.mkstemp(prefix="layer-", dir=store.cfg.tmp_dir)
    try:
        with os.fdopen(fd, "w+b") as tmp:
            hasher = hashlib.sha256()
            with store.blobs.open(layer.blob) as f:
                reader = open_decompressed(f)
                while True:
                    chunk = reader.read(CHUNK)
                    if not chunk:
                        break
                    hasher.update(chunk)
                    tmp.write(chunk)
            if "sha256:" + hasher.hexdigest() != layer.diff_id:
                raise IntegrityError(f"layer blob {layer.blob} does not decompress to {layer.diff_id}")
            size = tmp.tell()
            tmp.seek(0)
            yield tmp, size
    finally:
        os.unlink(path)
