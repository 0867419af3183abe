"""A filesystem change -> one layer, and a new image over a base image's layers.

Shared by `hull build` (each RUN/COPY/ADD step) and `hull commit` (a container's
upper dir).  The change is an overlay upper directory: whiteouts are 0/0
character devices and opaque directories carry the overlay xattr.  It is tarred
with those turned back into `.wh.` entries (engine/archive/tarwriter), stored as
an uncompressed layer blob (its digest is the diff ID), and unpacked once as a
new layer on top of the parent chain with the safe extractor, so the layer
directory is exactly what a pull of the same blob would give.  Rootless, call
this inside Hull's user namespace so owners in the layer are container uids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.oci import mediatypes as mt

EMPTY_TAR_SIZE = 1024  # two zero blocks: what an empty change tars to


@dataclass(frozen=True)
class NewLayer:
    chain_id: str
    diff_id: str
    size: int          # bytes of the uncompressed tar


def layer_from_dir(store: Any, change_dir: Path, parent_chain: str | None, id_map: Any = None) -> NewLayer:
    """Store `change_dir` (overlay form) as a layer on `parent_chain`.  Hold
    `store.writing()` around this and the image record that will use it."""
    from engine.archive.tarwriter import write_tar
    from engine.transports.ingest import _populate

    with store.blobs.ingest() as writer:
        size = write_tar(change_dir, writer, overlay_whiteouts=True, id_map=id_map)
        diff_id = writer.commit()
    layer = store.layers.create(diff_id, parent_chain, _populate(store, diff_id, diff_id),
                                compressed_digest=diff_id)
    return NewLayer(layer.chain_id, diff_id, size)


_TO_DOCKER = {mt.OCI_LAYER: mt.DOCKER_LAYER, mt.OCI_LAYER_GZIP: mt.DOCKER_LAYER_GZIP}
_TO_OCI = {v: k for k, v in _TO_DOCKER.items()}


def layer_descriptors(store: Any, image: Any, fmt: str) -> list[dict[str, Any]]:
    """An image's layer descriptors, media types in the wanted format ("oci"/"docker")."""
    if image is None:
        return []
    from engine.services.common import image_manifest

    layers = []
    for desc in image_manifest(store, image).get("layers") or []:
        kind = desc.get("mediaType", "")
        kind = _TO_DOCKER.get(kind, kind) if fmt == "docker" else _TO_OCI.get(kind, kind)
        layers.append({"mediaType": kind, "digest": desc["digest"], "size": desc["size"]})
    return layers


def new_layer_descriptor(layer: NewLayer, fmt: str) -> dict[str, Any]:
    return {"mediaType": mt.DOCKER_LAYER if fmt == "docker" else mt.OCI_LAYER,
            "digest": layer.diff_id, "size": layer.size}


def write_image(store: Any, config: dict[str, Any], chain: list[str], layers: list[dict[str, Any]],
                names: list[str], fmt: str = "oci", annotations: dict[str, str] | None = None) -> Any:
    """Store `config` (the whole image config document) and a manifest over
    `layers` (descriptors, bottom first, matching `chain`); returns the Image.
    `annotations` go into an OCI manifest (a Docker manifest has no such field)."""
    data = json.dumps(config, separators=(",", ":")).encode()
    config_digest = store.blobs.put_bytes(data)
    manifest_type, config_type = ((mt.DOCKER_MANIFEST, mt.DOCKER_CONFIG) if fmt == "docker"
                                  else (mt.OCI_MANIFEST, mt.OCI_CONFIG))
    manifest = {"schemaVersion": 2, "mediaType": manifest_type,
                "config": {"mediaType": config_type, "digest": config_digest, "size": len(data)},
                "layers": layers}
    if annotations and fmt != "docker":
        manifest["annotations"] = dict(annotations)
    manifest_digest = store.blobs.put_bytes(json.dumps(manifest, separators=(",", ":")).encode())
    return store.images.add(config_digest, manifest_digest, chain, names, manifest_media_type=manifest_type)
