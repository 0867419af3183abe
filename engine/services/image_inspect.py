"""Read-only views of one image: Podman's inspect document, history and tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.config import EngineConfig
from engine.services.common import id_hex, image_config, image_manifest, open_store, parse_time, rfc3339
from engine.services.images import find_image


def _rfc3339_nano(value: Any) -> str:
    """Keep the config's own text ("2026-11-29T17:25:48.138839176Z") when it has one."""
    if isinstance(value, str) and value:
        return value
    ts = parse_time(value)
    return rfc3339(ts) if ts else "0001-01-01T00:00:00Z"


def inspect(cfg: EngineConfig, name: str) -> dict[str, Any]:
    """Podman's `image inspect` document for one image."""
    store = open_store(cfg)
    image = find_image(store, name)
    config = image_config(store, image)
    try:
        manifest = image_manifest(store, image)
    except Exception:  # a missing manifest must not hide the rest
        manifest = {}
    container_config = config.get("config") or {}
    layers = list(image.layers)
    diff_paths = [str(store.layers.diff_path(c)) for c in layers]
    graph_data: dict[str, str] | None = None
    if diff_paths:
        graph_data = {"UpperDir": diff_paths[-1]}
        if len(diff_paths) > 1:
            graph_data["LowerDir"] = ":".join(reversed(diff_paths[:-1]))
    created_raw = config.get("created")
    return {
        "Id": id_hex(image.id),
        "Digest": image.digest,
        "RepoTags": list(image.names),
        "RepoDigests": list(getattr(image, "repo_digests", []) or []),
        "Parent": "",
        "Comment": config.get("comment", ""),
        "Created": _rfc3339_nano(created_raw if created_raw else image.created),
        "Config": container_config,
        "Version": config.get("docker_version", ""),
        "Author": config.get("author", ""),
        "Architecture": config.get("architecture", ""),
        "Os": config.get("os", ""),
        "Size": int(image.size or 0),
        "VirtualSize": int(image.size or 0),
        "GraphDriver": {"Name": "overlay", "Data": graph_data},
        "RootFS": {
            "Type": (config.get("rootfs") or {}).get("type", "layers"),
            "Layers": list((config.get("rootfs") or {}).get("diff_ids") or []),
        },
        "Labels": container_config.get("Labels") or None,
        "Annotations": manifest.get("annotations") or {},
        "ManifestType": image.manifest_media_type,
        "User": container_config.get("User", ""),
        "History": list(config.get("history") or []),
        "NamesHistory": list(reversed(image.names)),
    }


@dataclass
class HistoryEntry:
    """One step of an image's history, newest first as `history` prints it."""

    id: str  # the image ID for the top entry, "<missing>" below it (as Podman)
    created: float
    created_by: str
    size: int
    comment: str
    tags: list[str] = field(default_factory=list)


def history(cfg: EngineConfig, name: str) -> list[HistoryEntry]:
    store = open_store(cfg)
    image = find_image(store, name)
    config = image_config(store, image)
    steps = list(config.get("history") or [])
    sizes = [_layer_size(store, c) for c in image.layers]
    if not steps:  # an image without history still has layers
        steps = [{"created": config.get("created")} for _ in sizes]
    entries: list[HistoryEntry] = []
    layer_index = 0
    for step in steps:
        size = 0
        if not step.get("empty_layer"):
            size = sizes[layer_index] if layer_index < len(sizes) else 0
            layer_index += 1
        entries.append(HistoryEntry(
            id="<missing>",
            created=parse_time(step.get("created")),
            created_by=step.get("created_by", ""),
            size=size,
            comment=step.get("comment", ""),
        ))
    entries.reverse()
    if entries:
        entries[0].id = id_hex(image.id)
        entries[0].tags = list(image.names)
    return entries


def _layer_size(store: Any, chain_id: str) -> int:
    try:
        return int(store.layers.get(chain_id).size)
    except Exception:  # a layer record gone missing shows as 0, as Podman does
        return 0


@dataclass
class TreeLayer:
    id: str  # chain ID
    size: int
    top_of: list[str] = field(default_factory=list)  # names of images whose top layer this is


@dataclass
class ImageTree:
    id: str
    names: list[str]
    size: int
    layers: list[TreeLayer]  # bottom first
    children: list[str] = field(default_factory=list)  # images built on this one (--whatrequires)


def tree(cfg: EngineConfig, name: str, what_requires: bool = False) -> ImageTree:
    store = open_store(cfg)
    images = store.images.list()
    image = find_image(store, name, images)
    tops: dict[str, list[str]] = {}
    for other in images:
        if other.layers:
            tops.setdefault(other.layers[-1], []).extend(other.names or [id_hex(other.id)[:12]])
    layers = [TreeLayer(id=c, size=_layer_size(store, c), top_of=tops.get(c, [])) for c in image.layers]
    children: list[str] = []
    if what_requires:
        prefix = list(image.layers)
        for other in images:
            if other.id != image.id and list(other.layers[: len(prefix)]) == prefix:
                children.append(id_hex(other.id))
    return ImageTree(id=id_hex(image.id), names=list(image.names), size=int(image.size or 0),
                     layers=layers, children=children)
