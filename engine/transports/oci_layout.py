"""OCI image layouts: `oci-layout`, `index.json`, `blobs/<alg>/<hex>`.

The same code reads a layout directory (oci-dir) and a tar of one
(oci-archive): members are streamed into the blob store and verified against
their descriptor's digest and size; nothing is extracted to disk.  Tags travel
in the `org.opencontainers.image.ref.name` annotation of index.json entries,
as the full reference when Podman or Hull write them.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from engine.errors import IntegrityError, InvalidArgument, UnsafeArchive
from engine.oci import mediatypes as mt
from engine.oci.manifest import (
    MAX_CONFIG_SIZE,
    MAX_MANIFEST_SIZE,
    Descriptor,
    Index,
    Manifest,
    choose_platform,
    parse_config,
    parse_manifest,
)
from engine.oci.platform import host_platform
from engine.oci.reference import parse_reference
from engine.transports.content import ImageContent, oci_layer_type, read_image
from engine.transports.ingest import ImagePlan, LayerPlan
from engine.transports.source import CHUNK, ArchiveSource
from engine.transports.tarout import TarOut

if TYPE_CHECKING:
    from engine.store import Image, Store

LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
LAYOUT_VERSION = "1.0.0"
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"  # Docker 25+ writes the full name here
MAX_INDEX_DEPTH = 4


def blob_member(digest: str) -> str:
    algorithm, _, hex_part = digest.partition(":")
    return f"blobs/{algorithm}/{hex_part}"


def is_oci_layout(source: ArchiveSource) -> bool:
    return source.exists(LAYOUT_FILE) and source.exists(INDEX_FILE)


def _check_layout(source: ArchiveSource) -> None:
    if not source.exists(LAYOUT_FILE):
        raise UnsafeArchive(f"{source.label} has no {LAYOUT_FILE} file")
    try:
        doc = json.loads(source.read(LAYOUT_FILE, 4096))
    except (ValueError, UnicodeDecodeError):
        raise UnsafeArchive(f"{LAYOUT_FILE} is not valid JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("imageLayoutVersion"), str):
        raise UnsafeArchive(f"{LAYOUT_FILE} has no imageLayoutVersion")


def _read_blob(source: ArchiveSource, desc: Descriptor, cap: int) -> bytes:
    member = blob_member(desc.digest)
    if not source.exists(member):
        raise UnsafeArchive(f"{source.label} has no blob {desc.digest}")
    if desc.size > cap:
        raise UnsafeArchive(f"blob {desc.digest} is larger than the {cap} byte limit")
    data = source.read(member, cap)
    from engine.oci.digest import new_hasher

    hasher = new_hasher(desc.digest)
    hasher.update(data)
    if f"{desc.digest.partition(':')[0]}:{hasher.hexdigest()}" != desc.digest or len(data) != desc.size:
        raise IntegrityError(f"blob {desc.digest} in the {source.label} does not match its digest")
    return data


def _name_of(desc: Descriptor) -> str | None:
    for key in (CONTAINERD_NAME, REF_NAME):
        value = desc.annotations.get(key)
        if isinstance(value, str) and ("/" in value or ":" in value):
            try:
                return str(parse_reference(value))
            except InvalidArgument:
                continue
    return None  # a bare tag ("latest") names nothing we could look up


def _resolve(source: ArchiveSource, desc: Descriptor, depth: int = 0) -> tuple[Manifest, list[str]]:
    """The image manifest `desc` leads to (choosing the host platform in an index)."""
    if depth > MAX_INDEX_DEPTH:
        raise UnsafeArchive("image indexes nested too deeply")
    doc = parse_manifest(_read_blob(source, desc, MAX_MANIFEST_SIZE), desc.media_type)
    if isinstance(doc, Manifest):
        return doc, []
    manifest, via = _resolve(source, choose_platform(doc, host_platform()), depth + 1)
    return manifest, [doc.digest, *via]


def read_plans(source: ArchiveSource) -> list[ImagePlan]:
    _check_layout(source)
    if not source.exists(INDEX_FILE):
        raise UnsafeArchive(f"{source.label} has no {INDEX_FILE}")
    index = parse_manifest(source.read(INDEX_FILE, MAX_MANIFEST_SIZE))
    if not isinstance(index, Index):
        raise UnsafeArchive(f"{INDEX_FILE} is not an image index")
    plans: dict[str, ImagePlan] = {}
    for desc in index.manifests:
        if desc.media_type not in mt.ALL_MANIFESTS:
            continue  # signatures, attestations and other artifacts
        manifest, via = _resolve(source, desc)
        plan = plans.get(manifest.digest)
        if plan is None:
            config_data = _read_blob(source, manifest.config, MAX_CONFIG_SIZE)
            config = parse_config(config_data, manifest.config.digest)
            if len(config.diff_ids) != len(manifest.layers):
                raise UnsafeArchive(
                    f"manifest {manifest.digest} has {len(manifest.layers)} layers but its config has {len(config.diff_ids)} diff_ids"
                )
            layers = []
            for layer, diff_id in zip(manifest.layers, config.diff_ids):
                if layer.media_type not in mt.LAYERS:
                    raise UnsafeArchive(f"unsupported layer media type {layer.media_type}")
                member = blob_member(layer.digest)
                if not source.exists(member):
                    raise UnsafeArchive(f"{source.label} has no blob {layer.digest}")
                if source.size(member) != layer.size:
                    raise IntegrityError(f"blob {layer.digest} has {source.size(member)} bytes, expected {layer.size}")
                layers.append(LayerPlan(member, diff_id, layer.digest, layer.size, layer.media_type))
            plan = plans[manifest.digest] = ImagePlan(
                config=config_data,
                config_digest=config.digest,
                layers=layers,
                manifest=manifest.raw,
                manifest_media_type=manifest.media_type,
            )
        for digest in via:
            if digest not in plan.digests:
                plan.digests.append(digest)
        name = _name_of(desc)
        if name and name not in plan.names:
            plan.names.append(name)
    if not plans:
        raise UnsafeArchive(f"{INDEX_FILE} lists no image")
    return list(plans.values())


# ---------------------------------------------------------------- writing


class DirSink:
    """Writes a layout into a directory; blobs already present are kept."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidArgument(f"cannot create {self.root}: {exc.strerror}") from None

    def has(self, name: str) -> bool:
        return (self.root / name).is_file()

    def add_stream(self, name: str, src: BinaryIO, size: int) -> None:
        path = self.root / name
        if name.startswith("blobs/") and path.is_file() and path.stat().st_size == size:
            return  # content-addressed: same name, same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                left = size
                while left > 0:
                    chunk = src.read(min(CHUNK, left))
                    if not chunk:
                        raise IntegrityError(f"{name} is shorter than expected")
                    out.write(chunk)
                    left -= len(chunk)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def add_bytes(self, name: str, data: bytes) -> None:
        import io

        self.add_stream(name, io.BytesIO(data), len(data))

    def existing_index(self) -> list[dict]:
        path = self.root / INDEX_FILE
        if not path.is_file():
            return []
        try:
            doc = json.loads(path.read_bytes()[: MAX_MANIFEST_SIZE + 1])
        except ValueError:
            raise InvalidArgument(f"{path} exists and is not an image index") from None
        entries = doc.get("manifests") if isinstance(doc, dict) else None
        return entries if isinstance(entries, list) else []

    def close(self) -> None:
        pass


def oci_manifest(content: ImageContent) -> bytes:
    """The image's OCI manifest: the stored one when it is already OCI and current."""
    m = content.manifest
    if (
        m is not None
        and m.media_type == mt.OCI_MANIFEST
        and m.config.digest == content.image.id
        and [d.digest for d in m.layers] == [layer.blob for layer in content.layers]
    ):
        return m.raw
    doc = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": content.image.id, "size": len(content.config)},
        "layers": [
            {"mediaType": oci_layer_type(layer.media_type), "digest": layer.blob, "size": layer.size}
            for layer in content.layers
        ],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def write_layout(store: "Store", entries: list[tuple["Image", list[str]]], sink) -> None:
    from engine.oci.digest import sha256_digest

    index_entries: list[dict] = []
    for image, names in entries:
        content = read_image(store, image)
        for layer in content.layers:
            member = blob_member(layer.blob)
            if not sink.has(member):
                with store.blobs.open(layer.blob) as f:
                    sink.add_stream(member, f, layer.size)
        sink.add_bytes(blob_member(image.id), content.config)
        manifest = oci_manifest(content)
        digest = sha256_digest(manifest)
        sink.add_bytes(blob_member(digest), manifest)
        desc = {"mediaType": mt.OCI_MANIFEST, "digest": digest, "size": len(manifest)}
        if names:
            for name in names:
                index_entries.append({**desc, "annotations": {REF_NAME: name}})
        else:
            index_entries.append(desc)
    if isinstance(sink, DirSink):
        # an existing layout keeps its other images; a name now points at ours
        ours = {e.get("annotations", {}).get(REF_NAME) for e in index_entries} - {None}
        digests = {e["digest"] for e in index_entries}
        kept = [
            e for e in sink.existing_index()
            if isinstance(e, dict)
            and (e.get("annotations") or {}).get(REF_NAME) not in ours
            and not (e.get("digest") in digests and not (e.get("annotations") or {}).get(REF_NAME))
        ]
        index_entries = kept + index_entries
    index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": index_entries}
    sink.add_bytes(INDEX_FILE, json.dumps(index, separators=(",", ":")).encode())
    sink.add_bytes(LAYOUT_FILE, json.dumps({"imageLayoutVersion": LAYOUT_VERSION}).encode())


def write_archive(store: "Store", entries: list[tuple["Image", list[str]]], out: BinaryIO) -> None:
    tar = TarOut(out)
    write_layout(store, entries, tar)
    tar.close()


def write_dir(store: "Store", entries: list[tuple["Image", list[str]]], path: Path) -> None:
    write_layout(store, entries, DirSink(path))
