"""PUT /containers/{id}/archive: the body spooled to an anonymous file and read through
once before anything is written, so an archive with a `..`/NUL entry name, a `..`
hard-link target, or a corrupt or truncated stream is refused (400) with the container
untouched, not half unpacked.  Decompression is Hull's own, in-process
(engine/archive/compression.py): never a tool from the container or the host.
Symlinks are not judged here: extraction resolves every path inside the container's
root (engine/archive/inroot.py), so a planted link cannot lead out."""

from __future__ import annotations

import shutil
import tempfile
from typing import BinaryIO, Iterator

from engine.archive import tarstream as ts
from engine.archive.compression import open_decompressed
from engine.archive.extract import normalize_name
from engine.archive.limits import DEFAULT_LIMITS

_COPY = 1 << 20


def spool_checked(body: BinaryIO) -> BinaryIO:
    """The body as a seekable file at offset 0, after every entry name was checked."""
    spool = tempfile.TemporaryFile(prefix="hull-archive-")
    try:
        shutil.copyfileobj(body, spool, _COPY)
        spool.seek(0)
        tar = ts.TarReader(open_decompressed(spool, DEFAULT_LIMITS), DEFAULT_LIMITS)
        for entry in _entries(tar):
            normalize_name(entry.name)
            if entry.type == b"1":  # a hard link names its target by path too
                normalize_name(entry.linkname)
        spool.seek(0)
        return spool
    except BaseException:
        spool.close()
        raise


def _entries(tar: ts.TarReader) -> Iterator[ts.Entry]:
    while (entry := tar.next()) is not None:
        yield entry

