"""Parsing and validating manifests, indexes and image configs (pure data).

Everything here may come from a hostile registry or archive: sizes are capped
before parsing (containers/image iolimits: 4 MiB for manifests and configs), every
descriptor digest is validated before it can become a path or URL part, and a
document with both `manifests` and `layers` is refused (CVE-2021-41190).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from engine.errors import IntegrityError, InvalidArgument
from engine.oci import mediatypes as mt
from engine.oci.digest import sha256_digest, validate_digest
from engine.oci.platform import Platform

MAX_MANIFEST_SIZE = 4 * 1024 * 1024
MAX_CONFIG_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    urls: tuple[str, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    platform: Platform | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.urls:
            doc["urls"] = list(self.urls)
        if self.annotations:
            doc["annotations"] = dict(self.annotations)
        if self.platform:
            doc["platform"] = {"architecture": self.platform.architecture, "os": self.platform.os}
            if self.platform.variant:
                doc["platform"]["variant"] = self.platform.variant
        return doc


@dataclass(frozen=True)
class Manifest:
    """One image: a config and its layers, bottom first."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    raw: bytes
    digest: str
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Index:
    """A list of manifests, one per platform (OCI index or Docker manifest list)."""

    media_type: str
    manifests: tuple[Descriptor, ...]
    raw: bytes
    digest: str


@dataclass(frozen=True)
class ImageConfig:
    raw: bytes
    digest: str
    doc: dict[str, Any]
    diff_ids: tuple[str, ...]

    @property
    def os(self) -> str:
        return str(self.doc.get("os", ""))

    @property
    def architecture(self) -> str:
        return str(self.doc.get("architecture", ""))


def _bad(what: str) -> InvalidArgument:
    return InvalidArgument(f"invalid manifest: {what}")


def _load_json(data: bytes, cap: int, what: str) -> dict[str, Any]:
    if len(data) > cap:
        raise InvalidArgument(f"{what} of {len(data)} bytes exceeds the {cap} byte limit")
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"invalid {what}: not JSON ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"invalid {what}: not a JSON object")
    return doc


def _platform(doc: Any) -> Platform | None:
    if doc is None:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("os"), str) or not isinstance(doc.get("architecture"), str):
        raise _bad("bad platform")
    variant = doc.get("variant")
    return Platform(doc["os"], doc["architecture"], variant if isinstance(variant, str) and variant else None)


def parse_descriptor(doc: Any) -> Descriptor:
    if not isinstance(doc, dict):
        raise _bad("descriptor is not an object")
    media_type = doc.get("mediaType")
    digest = doc.get("digest")
    size = doc.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise _bad("descriptor without mediaType")
    if not isinstance(digest, str):
        raise _bad("descriptor without digest")
    try:
        validate_digest(digest)
    except InvalidArgument as exc:
        raise _bad(str(exc)) from None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _bad(f"descriptor {digest} has no valid size")
    urls = doc.get("urls") or []
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise _bad("bad urls")
    annotations = doc.get("annotations") or {}
    if not isinstance(annotations, dict):
        raise _bad("bad annotations")
    return Descriptor(media_type, digest, size, tuple(urls), annotations, _platform(doc.get("platform")))


def detect_media_type(doc: dict[str, Any], declared: str | None) -> str:
    """The document's type: its own mediaType field, else the HTTP Content-Type."""
    inner = doc.get("mediaType")
    declared = (declared or "").split(";")[0].strip() or None
    if inner is not None and not isinstance(inner, str):
        raise _bad("mediaType is not a string")
    if inner and declared and declared in mt.ALL_MANIFESTS and inner != declared:
        raise _bad(f"mediaType {inner} differs from Content-Type {declared}")
    media_type = inner or declared
    if media_type in mt.ALL_MANIFESTS:
        return media_type
    if media_type in (mt.DOCKER_SCHEMA1, mt.DOCKER_SCHEMA1_SIGNED) or doc.get("schemaVersion") == 1:
        raise InvalidArgument("unsupported manifest: Docker schema 1 images are not supported")
    # OCI allows mediaType to be absent: decide by shape.
    if "manifests" in doc and "layers" not in doc:
        return mt.OCI_INDEX
    if "layers" in doc and "manifests" not in doc:
        return mt.OCI_MANIFEST
    raise _bad(f"unsupported media type {media_type!r}")


def parse_manifest(data: bytes, content_type: str | None = None) -> Manifest | Index:
    """Parse a manifest or index from registry or archive bytes."""
    doc = _load_json(data, MAX_MANIFEST_SIZE, "manifest")
    if "manifests" in doc and "layers" in doc:
        raise _bad("document has both manifests and layers")
    media_type = detect_media_type(doc, content_type)
    if doc.get("schemaVersion") != 2:
        raise _bad("schemaVersion is not 2")
    digest = sha256_digest(data)
    if media_type in mt.INDEXES:
        if "config" in doc or "layers" in doc:
            raise _bad("index has config or layers")
        entries = doc.get("manifests")
        if not isinstance(entries, list):
            raise _bad("index without manifests")
        return Index(media_type, tuple(parse_descriptor(e) for e in entries), data, digest)
    if "manifests" in doc:
        raise _bad("image manifest has manifests")
    config = parse_descriptor(doc.get("config"))
    if config.size > MAX_CONFIG_SIZE:
        raise _bad(f"config of {config.size} bytes exceeds the limit")
    layers_doc = doc.get("layers")
    if not isinstance(layers_doc, list):
        raise _bad("manifest without layers")
    layers = tuple(parse_descriptor(layer) for layer in layers_doc)
    annotations = doc.get("annotations") or {}
    return Manifest(media_type, config, layers, data, digest, annotations if isinstance(annotations, dict) else {})


def parse_config(data: bytes, expected_digest: str | None = None) -> ImageConfig:
    """Parse an image config; its digest is the image ID, so verify it first."""
    if len(data) > MAX_CONFIG_SIZE:
        raise InvalidArgument(f"image config of {len(data)} bytes exceeds the {MAX_CONFIG_SIZE} byte limit")
    digest = sha256_digest(data)
    if expected_digest is not None and digest != expected_digest:
        raise IntegrityError(f"image config digest mismatch: expected {expected_digest}, got {digest}")
    doc = _load_json(data, MAX_CONFIG_SIZE, "image config")
    rootfs = doc.get("rootfs")
    if not isinstance(rootfs, dict) or rootfs.get("type") != "layers":
        raise InvalidArgument("invalid image config: rootfs.type is not layers")
    diff_ids = rootfs.get("diff_ids") or []
    if not isinstance(diff_ids, list):
        raise InvalidArgument("invalid image config: rootfs.diff_ids is not a list")
    for diff_id in diff_ids:
        if not isinstance(diff_id, str):
            raise InvalidArgument("invalid image config: bad diff_id")
        try:
            validate_digest(diff_id)
        except InvalidArgument as exc:
            raise InvalidArgument(f"invalid image config: {exc}") from None
    return ImageConfig(data, digest, doc, tuple(diff_ids))


def _variant_rank(wanted: Platform, have: Platform) -> int | None:
    """Lower is better; None when `have` cannot run here."""
    if have.variant == wanted.variant:
        return 0
    if wanted.architecture == "arm64" and have.variant in (None, "v8"):
        return 1
    if have.variant is None:
        return 1
    if wanted.architecture == "arm" and wanted.variant and have.variant and have.variant < wanted.variant:
        return 2 + (ord(wanted.variant[-1]) - ord(have.variant[-1]))  # older ARM runs on newer
    return None


def choose_platform(index: Index, wanted: Platform) -> Descriptor:
    """The index entry for `wanted` (usually the host), as Podman picks it."""
    best: tuple[int, int, Descriptor] | None = None
    for position, entry in enumerate(index.manifests):
        if entry.media_type not in mt.IMAGE_MANIFESTS or entry.platform is None:
            continue  # attestations, nested indexes
        plat = entry.platform
        if plat.os != wanted.os or plat.architecture != wanted.architecture:
            continue
        rank = _variant_rank(wanted, plat)
        if rank is None:
            continue
        if best is None or (rank, position) < best[:2]:
            best = (rank, position, entry)
    if best is None:
        available = ", ".join(sorted({str(e.platform) for e in index.manifests if e.platform})) or "none"
        raise InvalidArgument(f"no image found in manifest list for architecture {wanted}: available {available}")
    return best[2]
