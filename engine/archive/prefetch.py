"""Decompress and hash a layer in a second thread while the first one writes files.

zlib, zstandard and hashlib release the GIL on big buffers, so inflating and
hashing chunk N+1 overlaps with parsing and writing chunk N: on two cores that
hides most of the decompression time of a pull.
"""

from __future__ import annotations

import hashlib
import queue
import threading

CHUNK = 1024 * 1024
_DEPTH = 16          # chunks in flight: bounds the memory to ~16 MiB
_END = object()


class HashingPrefetcher:
    """`read(n)` (n is a hint: whole chunks come back) over `reader`, read ahead in a
    thread; `.hasher` and `.total` cover every byte read from `reader`."""

    def __init__(self, reader, threaded: bool = True) -> None:
        self._reader = reader
        self.hasher = hashlib.sha256()
        self.total = 0
        self._threaded = threaded
        self._queue: queue.Queue = queue.Queue(_DEPTH)
        self._stop = threading.Event()
        self._done = False
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="layer-prefetch", daemon=True)
            self._thread.start()

    def _next_chunk(self) -> bytes:
        chunk = self._reader.read(CHUNK)
        if chunk:
            self.hasher.update(chunk)
            self.total += len(chunk)
        return chunk

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                chunk = self._next_chunk()
                self._put(chunk or _END)
                if not chunk:
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)

    def _put(self, item: object) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def read(self, size: int = CHUNK) -> bytes:
        if self._done:
            return b""
        if not self._threaded:
            chunk = self._next_chunk()
        else:
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._done = True
                raise item
            chunk = b"" if item is _END else item
        if not chunk:
            self._done = True
        return chunk

    def close(self) -> None:
        """Stop the reader thread (on success it has finished already)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
