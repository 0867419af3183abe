"""Push: stored image -> registry (blobs first, then the manifest).

An image pulled or loaded with its manifest is pushed with those exact manifest
bytes, so its digest stays the same on the destination.  Otherwise a fresh OCI
manifest is written from the layer blobs in the content store (their media type
sniffed from the bytes: gzip, zstd or plain tar - plain layers are pushed as they
are).  Blobs the destination has are skipped (HEAD); blobs that another
repository of the same registry has are mounted across (POST ?mount=&from=).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.config import EngineConfig
from engine.errors import ImageNotFound, InvalidArgument, StorageError
from engine.oci import mediatypes as mt
from engine.oci.manifest import MAX_MANIFEST_SIZE, Descriptor, Manifest, parse_manifest
from engine.oci.reference import Reference, parse_reference
from engine.registry.authfile import Credentials
from engine.registry.client import RegistryClient
from engine.registry.pull import PullEvent, _Reporter, open_client
from engine.registry.registries_conf import RegistriesConf, load_registries_conf

if TYPE_CHECKING:
    from engine.store import Image, Store

UPLOAD_WORKERS = 3
READ_CHUNK = 1024 * 1024

PushEvent = PullEvent  # same shape; status "uploading", "exists", "mounted", "done"


@dataclass(frozen=True)
class _Blob:
    descriptor: Descriptor


def _sniff_layer_type(head: bytes) -> str:
    if head.startswith(b"\x1f\x8b"):
        return mt.OCI_LAYER_GZIP
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return mt.OCI_LAYER_ZSTD
    return mt.OCI_LAYER


def _stored_manifest(store: "Store", image: "Image") -> Manifest | None:
    """The manifest the image came with, if every blob it names is here."""
    if not image.digest or not store.blobs.has(image.digest):
        return None
    try:
        doc = parse_manifest(store.blobs.read_bytes(image.digest, MAX_MANIFEST_SIZE), image.manifest_media_type)
    except InvalidArgument:
        return None
    if not isinstance(doc, Manifest) or doc.config.digest != image.id:
        return None
    if not all(store.blobs.has(layer.digest) for layer in doc.layers):
        return None
    return doc


def _fresh_manifest(store: "Store", image: "Image") -> Manifest:
    """An OCI manifest over the stored compressed (or plain) layer blobs."""
    layers = []
    for chain in image.layers:
        layer = store.layers.get(chain)
        digest = layer.compressed_digest
        if not digest or not store.blobs.has(digest):
            raise StorageError(f"layer {chain} has no stored blob to push")
        with store.blobs.open(digest) as fh:
            head = fh.read(4)
        layers.append({"mediaType": _sniff_layer_type(head), "digest": digest, "size": store.blobs.size(digest)})
    config_size = store.blobs.size(image.id)
    doc = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": image.id, "size": config_size},
        "layers": layers,
    }
    raw = json.dumps(doc, indent=3).encode()
    parsed = parse_manifest(raw)
    assert isinstance(parsed, Manifest)
    return parsed


def _mount_sources(image: "Image", registry: str, repository: str) -> list[str]:
    """Other repositories on the same registry the image is known under."""
    out = []
    for name in image.names:
        try:
            ref = parse_reference(name)
        except InvalidArgument:
            continue
        if ref.registry == registry and ref.repository != repository and ref.repository not in out:
            out.append(ref.repository)
    return out


def _upload_one(store: "Store", client: RegistryClient, repository: str, desc: Descriptor,
                sources: list[str], report: _Reporter) -> None:
    if client.blob_exists(repository, desc.digest):
        report(PushEvent("blob", desc.digest, "exists", desc.size, desc.size))
        return
    for source in sources:
        if client.mount_blob(repository, desc.digest, source):
            report(PushEvent("blob", desc.digest, "mounted", desc.size, desc.size))
            return
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        report(PushEvent("blob", desc.digest, "uploading", done, desc.size))

    def stream() -> Iterator[bytes]:
        with store.blobs.open(desc.digest) as fh:
            while chunk := fh.read(READ_CHUNK):
                yield chunk

    client.upload_blob(repository, desc.digest, desc.size, stream, progress)
    report(PushEvent("blob", desc.digest, "done", desc.size, desc.size))


def push_image(
    store: "Store",
    image: "Image | str",
    destination_text: str,
    *,
    cfg: EngineConfig | None = None,
    tls_verify: bool | None = None,
    credentials: Credentials | None = None,
    progress: Callable[[PushEvent], None] | None = None,
    registries_conf: RegistriesConf | None = None,
    transport: Any = None,
) -> str:
    """Upload `image` to `destination_text`; return the manifest digest."""
    cfg = cfg or store.cfg
    if isinstance(image, str):
        image = store.images.lookup(image)
    dest: Reference = parse_reference(destination_text)
    conf = registries_conf if registries_conf is not None else load_registries_conf(cfg.registries_conf_candidates())
    endpoint, repository = conf.endpoints(dest)[-1]  # never push to a mirror
    report = _Reporter(progress)
    manifest = _stored_manifest(store, image) or _fresh_manifest(store, image)
    if not store.blobs.has(image.id):
        raise ImageNotFound(f"config of image {image.short_id} is missing from the store")
    client = open_client(cfg, conf, endpoint, repository, tls_verify=tls_verify,
                         credentials=credentials, transport=transport)
    sources = _mount_sources(image, endpoint.host, repository)
    try:
        blobs = [manifest.config, *manifest.layers]
        with cf.ThreadPoolExecutor(UPLOAD_WORKERS) as pool:
            futures = [pool.submit(_upload_one, store, client, repository, d, sources, report) for d in blobs]
            for fut in futures:
                fut.result()
        report(PushEvent("manifest", manifest.digest, "writing"))
        tag = dest.tag or manifest.digest
        digest = client.put_manifest(repository, tag if not dest.digest else dest.digest, manifest.raw,
                                     manifest.media_type)
    finally:
        client.close()
    if not store.blobs.has(digest):
        store.blobs.put_bytes(manifest.raw, digest)
    return digest
