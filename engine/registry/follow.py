"""Read a blob while another thread or process is still downloading it.

Pull starts unpacking a layer as soon as its download starts: the unpacker reads
the ingest's temp file (engine/store/blobs.py BlobWriter) as it grows, up to the
size the manifest promised.  Nothing read here is trusted: the download verifies
size and digest when it commits, and pull records the layer only if that commit
was of the very attempt this reader followed (and the diff ID matches).
"""

from __future__ import annotations

import os
import time

POLL_SECONDS = 0.002
# A download that makes no progress for this long is stuck: give up here and let
# pull unpack the committed blob (or fail with the download's own error).
STALL_SECONDS = 120.0


class StreamAborted(Exception):
    """The followed download was abandoned (its temp file was deleted)."""


class GrowingFile:
    """`read(n)` over a file being appended to, ending after exactly `size` bytes."""

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self._left = size
        self._parent = os.getppid()

    def read(self, n: int = 1 << 20) -> bytes:
        if self._left <= 0:
            return b""
        waited = 0.0
        checked_unlink = False
        while True:
            data = os.read(self._fd, min(n, self._left))
            if data:
                self._left -= len(data)
                return data
            # At the end of what is written so far.  The writer deletes its temp file
            # when it gives up; read once more after seeing that, for bytes written
            # just before the unlink (a commit that found the blob already stored).
            if os.fstat(self._fd).st_nlink == 0:
                if checked_unlink:
                    raise StreamAborted("download abandoned")
                checked_unlink = True
                continue
            if os.getppid() != self._parent or waited > STALL_SECONDS:
                raise StreamAborted("download stalled")
            time.sleep(POLL_SECONDS)
            waited += POLL_SECONDS

    def close(self) -> None:
        os.close(self._fd)
