"""Image archives: `load` and `save` in docker-archive, oci-archive and oci-dir form.

`load_archive(store, path_or_stream)` sniffs the format (a directory is an OCI
layout; a tar with manifest.json is a docker archive, one with index.json and
oci-layout an OCI archive) and returns the stored images.  `save_images`
writes images to a path or a binary stream.  `import_tarball`/`export_tree`
(tarball.py) handle root filesystem tarballs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from engine.errors import InvalidArgument, UnsafeArchive

if TYPE_CHECKING:
    from engine.store import Image, Store

FORMATS = ("docker-archive", "oci-archive", "oci-dir")

__all__ = ["FORMATS", "load_archive", "save_images", "detect_format"]


def detect_format(source) -> str:
    from engine.transports import docker_archive, oci_layout
    from engine.transports.source import DirSource

    if isinstance(source, DirSource):
        return "oci-dir"
    if docker_archive.is_docker_archive(source):
        return "docker-archive"
    if oci_layout.is_oci_layout(source):
        return "oci-archive"
    raise UnsafeArchive("not an image archive: no manifest.json (docker-archive) or oci-layout and index.json (oci-archive)")


def load_archive(store: "Store", path_or_stream) -> list["Image"]:
    """Store every image of an archive (all or nothing) and return them."""
    from engine.transports import docker_archive, oci_layout
    from engine.transports.ingest import commit_plans
    from engine.transports.source import open_source

    store.cfg.tmp_dir.mkdir(parents=True, exist_ok=True)
    with open_source(path_or_stream, store.cfg.tmp_dir) as source:
        fmt = detect_format(source)
        if fmt == "docker-archive":
            plans = docker_archive.read_plans(source)
        else:
            plans = oci_layout.read_plans(source)
        return commit_plans(store, source, plans, docker_archive.synthesize_manifest(store))


def _group(images: list["Image"], names: list[str | None]) -> list[tuple["Image", list[str]]]:
    """One entry per distinct image, with every name given for it, in order."""
    if len(names) != len(images):
        raise InvalidArgument("save: one name (or None) is needed per image")
    order: dict[str, tuple["Image", list[str]]] = {}
    for image, name in zip(images, names):
        entry = order.setdefault(image.id, (image, []))
        if name and name not in entry[1]:
            entry[1].append(name)
    return list(order.values())


def save_images(
    store: "Store", images: list["Image"], names: list[str | None], fmt: str, out: "str | os.PathLike | BinaryIO"
) -> None:
    """Write `images` (tagged with `names`, None for an untagged entry) in `fmt` to `out`.

    `out` is a path (a directory for oci-dir; a file, written to a temp name
    and renamed, for the archives) or a binary stream (stdout).
    """
    from engine.transports import docker_archive, oci_layout

    if fmt not in FORMATS:
        raise InvalidArgument(f"unknown save format {fmt!r}: expected one of {', '.join(FORMATS)}")
    entries = _group(images, names)
    if fmt == "oci-dir":
        if not isinstance(out, (str, os.PathLike)):
            raise InvalidArgument("oci-dir needs an output directory (-o)")
        oci_layout.write_dir(store, entries, Path(out))
        return
    writer = docker_archive.write_archive if fmt == "docker-archive" else oci_layout.write_archive
    if not isinstance(out, (str, os.PathLike)):
        writer(store, entries, out)
        return
    target = Path(out)
    if target.is_dir():
        raise InvalidArgument(f"{target} is a directory")
    parent = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=parent)
    except OSError as exc:
        raise InvalidArgument(f"cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            writer(store, entries, f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
