"""Put small images straight into a Hull store through the store API, so the
CLI's image commands can be tested without pull/load (another engineer's code).

The images are real: a config blob, a manifest blob and unpacked layers, as
pull would leave them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from engine.config import EngineConfig
from engine.store import Store

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def seed_image(root: Path, runroot: Path, names: list[str], files: dict[str, bytes] | None = None,
               labels: dict[str, str] | None = None, created: str = "2023-11-14T22:13:20Z",
               parent_files: dict[str, bytes] | None = None) -> str:
    """Store an image (one or two layers) named `names`; returns its ID (sha256:...)."""
    store = Store.open(EngineConfig(root=root, runroot=runroot))
    layer_specs = [parent_files, files or {"hello.txt": b"hello\n"}] if parent_files else [files or {"hello.txt": b"hello\n"}]
    chain: list[str] = []
    diff_ids: list[str] = []
    parent = None
    for spec in layer_specs:
        diff_id = "sha256:" + hashlib.sha256(json.dumps(sorted((k, v.hex()) for k, v in spec.items())).encode()).hexdigest()

        def populate(d: Path, spec: dict[str, bytes] = spec) -> int:
            for rel, data in spec.items():
                (d / rel).parent.mkdir(parents=True, exist_ok=True)
                (d / rel).write_bytes(data)
            return sum(len(v) for v in spec.values())

        layer = store.layers.create(diff_id, parent, populate)
        parent = layer.chain_id
        chain.append(layer.chain_id)
        diff_ids.append(diff_id)
    history = [{"created": created, "created_by": f"/bin/sh -c #(nop) ADD layer {i} in /"} for i in range(len(diff_ids))]
    history.append({"created": created, "created_by": '/bin/sh -c #(nop) CMD ["/bin/sh"]', "empty_layer": True})
    config = {
        "created": created,
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/sh"], "Labels": labels or None, "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    config_bytes = json.dumps(config).encode()
    config_digest = store.blobs.put_bytes(config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                   "size": len(config_bytes)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": 1} for d in diff_ids],
    }
    manifest_digest = store.blobs.put_bytes(json.dumps(manifest).encode())
    image = store.images.add(config_digest, manifest_digest, chain, names, OCI_MANIFEST)
    return image.id
