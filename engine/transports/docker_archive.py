"""`docker save` archives: manifest.json + configs + layer tars (+ legacy metadata).

Reading accepts what Docker and Podman write: layers at `<diffid>.tar`,
`<id>/layer.tar` (possibly a symlink to the former), or `blobs/sha256/<hex>`
(Docker 25+), plain or gzip/zstd compressed.  Writing follows Podman: layers at
`<diffid-hex>.tar`, the config at `<hex>.json`, legacy `<id>/{VERSION,json,
layer.tar}` entries, `manifest.json` and `repositories`, several images in one
archive for `save -m`.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, BinaryIO

from engine.errors import IntegrityError, InvalidArgument, UnsafeArchive
from engine.oci import mediatypes as mt
from engine.oci.digest import sha256_digest
from engine.oci.manifest import MAX_CONFIG_SIZE, parse_config
from engine.oci.reference import parse_reference
from engine.transports.content import read_image, uncompressed_layer
from engine.transports.ingest import ImagePlan, LayerPlan
from engine.transports.source import ArchiveSource
from engine.transports.tarout import TarOut

if TYPE_CHECKING:
    from engine.store import Image, Store

MANIFEST = "manifest.json"
MAX_MANIFEST_JSON = 1 << 20


def is_docker_archive(source: ArchiveSource) -> bool:
    return source.exists(MANIFEST)


def _json(data: bytes, what: str):
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise UnsafeArchive(f"{what} in the archive is not valid JSON") from None


def read_plans(source: ArchiveSource) -> list[ImagePlan]:
    """Every image the archive's manifest.json lists, checked but not yet stored."""
    if not source.exists(MANIFEST):
        raise UnsafeArchive(f"archive has no {MANIFEST}")
    entries = _json(source.read(MANIFEST, MAX_MANIFEST_JSON), MANIFEST)
    if not isinstance(entries, list):
        raise UnsafeArchive(f"{MANIFEST} in the archive is not a list")
    plans = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
            raise UnsafeArchive(f"{MANIFEST} entry without a Config")
        layers = entry.get("Layers") or []
        tags = entry.get("RepoTags") or []
        if not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
            raise UnsafeArchive(f"{MANIFEST} entry with bad Layers")
        if not isinstance(tags, list) or not all(isinstance(x, str) for x in tags):
            raise UnsafeArchive(f"{MANIFEST} entry with bad RepoTags")
        config_name = entry["Config"]
        if not source.exists(config_name):
            raise UnsafeArchive(f"archive has no {config_name}, named by {MANIFEST}")
        data = source.read(config_name, MAX_CONFIG_SIZE)
        config = parse_config(data)
        # Docker names the config by its digest: a different name means tampering
        stem = config_name.rsplit("/", 1)[-1].removesuffix(".json")
        if len(stem) == 64 and all(c in "0123456789abcdef" for c in stem) and stem != config.digest[7:]:
            raise IntegrityError(f"config {config_name} does not match its digest {config.digest}")
        if len(config.diff_ids) != len(layers):
            raise UnsafeArchive(f"{MANIFEST} lists {len(layers)} layers but the config has {len(config.diff_ids)} diff_ids")
        for name in layers:
            if not source.exists(name):
                raise UnsafeArchive(f"archive has no {name}, named by {MANIFEST}")
        try:
            names = [str(parse_reference(t)) for t in tags]
        except InvalidArgument as exc:
            raise UnsafeArchive(f"bad RepoTags in {MANIFEST}: {exc}") from None
        plans.append(
            ImagePlan(
                config=data,
                config_digest=config.digest,
                layers=[LayerPlan(member=n, diff_id=d) for n, d in zip(layers, config.diff_ids)],
                names=names,
            )
        )
    if not plans:
        raise UnsafeArchive(f"{MANIFEST} in the archive lists no image")
    return plans


def synthesize_manifest(store: "Store"):
    """A Docker schema 2 manifest for loaded content (docker-archive carries none)."""

    def make(plan: ImagePlan, blobs: list[str]) -> tuple[bytes, str]:
        layers = []
        zstd = False
        for layer, blob in zip(plan.layers, blobs):
            if blob == layer.diff_id:
                media_type = mt.DOCKER_LAYER
            else:
                with store.blobs.open(blob) as f:
                    head = f.read(4)
                zstd = zstd or head.startswith(b"\x28\xb5\x2f\xfd")
                media_type = mt.OCI_LAYER_ZSTD if zstd else mt.DOCKER_LAYER_GZIP
            layers.append({"mediaType": media_type, "size": store.blobs.size(blob), "digest": blob})
        if zstd:  # Docker's schema has no zstd layer type: use OCI's names throughout
            from engine.transports.content import oci_layer_type

            for layer in layers:
                layer["mediaType"] = oci_layer_type(layer["mediaType"])
            manifest_type, config_type = mt.OCI_MANIFEST, mt.OCI_CONFIG
        else:
            manifest_type, config_type = mt.DOCKER_MANIFEST, mt.DOCKER_CONFIG
        doc = {
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": config_type, "size": len(plan.config), "digest": plan.config_digest},
            "layers": layers,
        }
        return json.dumps(doc, separators=(",", ":")).encode(), manifest_type

    return make


def _legacy_id(chain_id: str, last: str) -> str:
    # containers/image: unique per position in the history, so parent links cannot loop
    return hashlib.sha256(f"{chain_id} {last}".encode()).hexdigest()


def write_archive(store: "Store", entries: list[tuple["Image", list[str]]], out: BinaryIO) -> None:
    """Write `docker save` layout for each (image, names) to the binary stream `out`."""
    tar = TarOut(out)
    manifest: list[dict] = []
    repositories: dict[str, dict[str, str]] = {}
    for image, names in entries:
        content = read_image(store, image)
        config_name = image.id.partition(":")[2] + ".json"
        layer_names = []
        last = ""
        for i, layer in enumerate(content.layers):
            physical = layer.diff_id.partition(":")[2] + ".tar"
            if not tar.has(physical):
                with uncompressed_layer(store, layer) as (stream, size):
                    tar.add_stream(physical, stream, size)
            legacy = _legacy_id(layer.chain_id, last)
            meta: dict = {"id": legacy}
            if last:
                meta["parent"] = last
            if i == len(content.layers) - 1:
                for key in ("architecture", "config", "container", "container_config", "created", "docker_version", "os"):
                    meta[key] = content.config_doc.get(key)
            tar.add_bytes(f"{legacy}/VERSION", b"1.0")
            tar.add_bytes(f"{legacy}/json", json.dumps(dict(sorted(meta.items())), separators=(",", ":")).encode())
            tar.add_symlink(f"{legacy}/layer.tar", f"../{physical}")
            layer_names.append(physical)
            last = legacy
        tar.add_bytes(config_name, content.config)
        if sha256_digest(content.config) != image.id:
            raise IntegrityError(f"config of image {image.short_id} is corrupt")
        tags = []
        for name in names:
            ref = parse_reference(name)
            if ref.tag is None:
                continue  # a digest-only name cannot be a RepoTag
            tags.append(f"{ref.name}:{ref.tag}")
            if last:
                repositories.setdefault(ref.name, {})[ref.tag] = last
        manifest.append({"Config": config_name, "RepoTags": tags, "Layers": layer_names})
    tar.add_bytes(MANIFEST, json.dumps(manifest, separators=(",", ":")).encode())
    if repositories:
        tar.add_bytes("repositories", json.dumps(repositories, separators=(",", ":")).encode())
    tar.close()
