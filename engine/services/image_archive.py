"""save, load and import: image archives and root filesystem tarballs (engine/transports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, BinaryIO

from engine.config import EngineConfig
from engine.errors import InvalidArgument
from engine.services.common import enter_userns, id_hex, open_store

SAVE_FORMATS = ("docker-archive", "oci-archive", "oci-dir")


@dataclass
class SaveOptions:
    format: str = "docker-archive"
    multi_image: bool = False


def save(cfg: EngineConfig, names: list[str], out: "str | BinaryIO", opts: SaveOptions) -> None:
    """Write the named images to `out` (a path, or a binary stream such as stdout)."""
    from engine.services.images import find_image
    from engine.transports import save_images

    if opts.format not in SAVE_FORMATS:
        raise InvalidArgument(f"unknown format {opts.format!r}: choose from {', '.join(SAVE_FORMATS)}")
    if not names:
        raise InvalidArgument("need at least 1 argument")
    if len(names) > 1 and opts.format == "docker-archive" and not opts.multi_image:
        raise InvalidArgument("saving several images into a docker-archive needs -m/--multi-image-archive")
    enter_userns(cfg)  # re-packing a layer dir must read its files with container uids
    store = open_store(cfg)
    images = store.images.list()
    found, tags = [], []
    for text in names:
        image = find_image(store, text, images)
        found.append(image)
        tags.append(_name_for(image, text))
    save_images(store, found, tags, opts.format, out)


def _name_for(image: Any, text: str) -> str | None:
    """The full name `text` stands for in the archive; None when it was an ID."""
    from engine.services.images import _match_own_name

    hex_text = text.removeprefix("sha256:")
    if hex_text and all(c in "0123456789abcdef" for c in hex_text) and id_hex(image.id).startswith(hex_text):
        return None
    try:
        return _match_own_name(image, text) or (image.names[0] if image.names else None)
    except InvalidArgument:
        return image.names[0] if image.names else None


@dataclass
class LoadResult:
    ids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def load(cfg: EngineConfig, source: "str | BinaryIO") -> LoadResult:
    """Store every image of an archive (path, directory or stream)."""
    from engine.transports import load_archive

    enter_userns(cfg)
    store = open_store(cfg)
    images = load_archive(store, source)
    result = LoadResult()
    from engine.services.events import emit

    for image in images:
        result.ids.append(id_hex(image.id))
        result.names.extend(image.names)
        emit(cfg, "image", "load", id=id_hex(image.id), name=image.names[0] if image.names else "")
    return result


@dataclass
class ImportOptions:
    reference: str | None = None
    changes: list[str] = field(default_factory=list)  # Dockerfile instructions: CMD, ENV, ...
    message: str = ""
    os: str | None = None
    arch: str | None = None
    variant: str | None = None


def import_(cfg: EngineConfig, source: "str | BinaryIO", opts: ImportOptions) -> str:
    """A root filesystem tarball (path or stream) -> a one-layer image; returns its ID."""
    from engine.services.images import normalize_new_name
    from engine.transports.changes import apply_changes

    apply_changes({}, list(opts.changes))  # bad --change values fail before any work
    names = [normalize_new_name(opts.reference)] if opts.reference else []
    platform = None
    if opts.os or opts.arch or opts.variant:
        from engine.oci.platform import Platform, host_platform, parse_platform

        host = host_platform()
        arch = parse_platform(opts.arch) if opts.arch else host
        platform = Platform(opts.os or host.os, arch.architecture, opts.variant or (arch.variant if opts.arch else None))
    enter_userns(cfg)
    from engine.transports.tarball import import_tarball

    store = open_store(cfg)
    image = import_tarball(store, source, changes=list(opts.changes), message=opts.message or None,
                           names=names, platform=platform)
    return id_hex(image.id)


def import_url(cfg: EngineConfig, url: str, opts: ImportOptions) -> str:
    """`import http(s)://...`: the tarball is downloaded (to an anonymous file, so a
    broken download fails before any layer is written) and imported, as Podman.  A URL
    that cannot be fetched is the caller's bad argument (400 in the API)."""
    import os
    import tempfile

    import httpx

    if not url.startswith(("http://", "https://")):
        raise InvalidArgument(f"unsupported URL {url!r}: only http and https are supported")
    enter_userns(cfg)
    scratch = os.path.join(str(cfg.root), "tmp")
    os.makedirs(scratch, mode=0o700, exist_ok=True)
    with tempfile.TemporaryFile(dir=scratch) as spool:
        try:
            with httpx.stream("GET", url, follow_redirects=True, timeout=60.0) as reply:
                if reply.status_code != 200:
                    raise InvalidArgument(f"downloading {url}: invalid status code {reply.status_code}")
                for chunk in reply.iter_bytes(1 << 20):
                    spool.write(chunk)
        except httpx.HTTPError as exc:
            raise InvalidArgument(f"downloading {url}: {exc}") from None
        spool.seek(0)
        return import_(cfg, spool, opts)
