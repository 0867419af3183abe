"""GrowingFile: reading a blob while it is written, up to the promised size."""

from __future__ import annotations

import os
import threading
import time

import pytest

from engine.registry.follow import GrowingFile, StreamAborted


def _writer(path, pieces, delay=0.01, unlink=False):
    def run():
        with open(path, "ab", buffering=0) as f:
            for piece in pieces:
                time.sleep(delay)
                f.write(piece)
        if unlink:
            os.unlink(path)
    t = threading.Thread(target=run)
    t.start()
    return t


def test_reads_exactly_size_while_the_file_grows(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"")
    pieces = [os.urandom(1000) for _ in range(5)] + [b"extra bytes past the promised size"]
    reader = GrowingFile(os.open(path, os.O_RDONLY), 5000)
    t = _writer(path, pieces)
    got = b""
    while chunk := reader.read(4096):
        got += chunk
    t.join()
    reader.close()
    assert got == b"".join(pieces[:5])


def test_abandoned_download_raises_after_the_last_written_bytes(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"")
    reader = GrowingFile(os.open(path, os.O_RDONLY), 10_000)
    t = _writer(path, [b"a" * 300, b"b" * 300], unlink=True)
    got = b""
    with pytest.raises(StreamAborted):
        while chunk := reader.read(4096):
            got += chunk
    t.join()
    reader.close()
    assert got == b"a" * 300 + b"b" * 300


def test_written_then_unlinked_still_reads_to_the_end(tmp_path):
    # A commit that finds the blob already stored deletes its complete temp file.
    path = tmp_path / "blob"
    path.write_bytes(b"z" * 700)
    reader = GrowingFile(os.open(path, os.O_RDONLY), 700)
    os.unlink(path)
    assert reader.read(4096) == b"z" * 700
    assert reader.read(4096) == b""
    reader.close()
