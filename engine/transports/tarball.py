"""Root filesystem tarballs: `import` makes a one-layer image, `export` writes one.

Import streams the tarball (plain, gzip or zstd; a file or stdin) into the blob
store as is, hashes its uncompressed stream for the diff_id, unpacks it once
with `apply_layer` (which re-checks that diff_id), and records an image with a
fresh config: host platform, `--change` instructions applied, one history
entry "imported from tarball" (or the `--message`).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from engine.errors import InvalidArgument, NotFound
from engine.oci import mediatypes as mt
from engine.transports.changes import apply_changes
from engine.transports.content import _media_type_of
from engine.transports.ingest import _populate, diff_id_of_blob
from engine.transports.source import CHUNK

if TYPE_CHECKING:
    from engine.store import Image, Store

DEFAULT_COMMENT = "imported from tarball"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ingest_stream(store: "Store", stream: BinaryIO) -> str:
    with store.blobs.ingest() as writer:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            writer.write(chunk)
        return writer.commit()


def build_config(diff_id: str, changes: list[str], comment: str | None, created: str,
                 os_name: str, architecture: str, variant: str | None = None) -> dict:
    config = apply_changes({}, list(changes))
    doc: dict = {"created": created, "architecture": architecture, "os": os_name}
    if variant:
        doc["variant"] = variant
    doc["config"] = config
    doc["rootfs"] = {"type": "layers", "diff_ids": [diff_id]}
    doc["history"] = [{
        "created": created,
        "created_by": f"/bin/sh -c #(nop) ADD file:{diff_id.partition(':')[2]} in / ",
        "comment": comment or DEFAULT_COMMENT,
    }]
    return doc


def import_tarball(
    store: "Store",
    path_or_stream: "str | os.PathLike | BinaryIO",
    changes: list[str] | tuple[str, ...] = (),
    message: str | None = None,
    names: list[str] | tuple[str, ...] = (),
    platform=None,
) -> "Image":
    """Store a root filesystem tarball as a single-layer image named `names` (full references)."""
    from engine.oci.platform import host_platform

    plat = platform or host_platform()
    apply_changes({}, list(changes))  # refuse bad changes before reading anything
    store.cfg.tmp_dir.mkdir(parents=True, exist_ok=True)
    with store.writing():
        if isinstance(path_or_stream, (str, os.PathLike)):
            try:
                with open(path_or_stream, "rb") as f:
                    blob = _ingest_stream(store, f)
            except FileNotFoundError:
                raise NotFound(f"{path_or_stream}: no such file") from None
            except IsADirectoryError:
                raise InvalidArgument(f"{path_or_stream} is a directory, not a tarball") from None
        else:
            blob = _ingest_stream(store, path_or_stream)
        diff_id = diff_id_of_blob(store, blob)
        layer = store.layers.create(diff_id, None, _populate(store, blob, diff_id), compressed_digest=blob)
        config = json.dumps(
            build_config(diff_id, list(changes), message, _now(), plat.os, plat.architecture, plat.variant),
            separators=(",", ":"),
        ).encode()
        config_digest = store.blobs.put_bytes(config)
        manifest = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "config": {"mediaType": mt.OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": _media_type_of(store, blob, diff_id), "digest": blob,
                        "size": store.blobs.size(blob)}],
        }
        manifest_digest = store.blobs.put_bytes(json.dumps(manifest, separators=(",", ":")).encode())
        return store.images.add(config_digest, manifest_digest, [layer.chain_id], list(names),
                                manifest_media_type=mt.OCI_MANIFEST)


def export_tree(root: "str | os.PathLike", out: "str | os.PathLike | BinaryIO") -> None:
    """Write the directory tree `root` as a tarball to a path or a binary stream."""
    from engine.archive.tarwriter import write_tar

    if not Path(root).is_dir():
        raise NotFound(f"{root}: no such directory")
    if not isinstance(out, (str, os.PathLike)):
        write_tar(Path(root), out)
        return
    target = Path(out)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write_tar(Path(root), f)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
