"""BlobStore: verified, atomic ingest; capped reads; digests never become bad paths."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from engine.errors import IntegrityError, InvalidArgument, NotFound, UnsafeArchive
from engine.store import Store


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def temps(store: Store) -> list[str]:
    return os.listdir(store.cfg.tmp_dir)


def test_put_and_read_round_trip(store: Store) -> None:
    digest = store.blobs.put_bytes(b"hello")
    assert digest == sha(b"hello")
    path = store.blobs.path(digest)
    assert path == store.cfg.root / "blobs" / "sha256" / digest[7:]
    assert path.read_bytes() == b"hello"
    assert store.blobs.has(digest)
    assert store.blobs.read_bytes(digest, max_size=5) == b"hello"
    with store.blobs.open(digest) as f:
        assert f.read() == b"hello"
    assert list(store.blobs.digests()) == [digest]
    assert temps(store) == []


def test_streaming_ingest_with_expected_digest_and_size(store: Store) -> None:
    data = os.urandom(300_000)
    with store.blobs.ingest(sha(data), len(data)) as writer:
        for i in range(0, len(data), 65536):
            writer.write(data[i : i + 65536])
        assert writer.commit() == sha(data)
    assert store.blobs.path(sha(data)).read_bytes() == data


def test_digest_mismatch_stores_nothing(store: Store) -> None:
    wrong = sha(b"something else")
    with pytest.raises(IntegrityError, match="digest mismatch"):
        with store.blobs.ingest(wrong) as writer:
            writer.write(b"evil")
            writer.commit()
    assert not store.blobs.has(wrong)
    assert list(store.blobs.digests()) == [] and temps(store) == []
    with pytest.raises(IntegrityError):
        store.blobs.put_bytes(b"evil", expected_digest=wrong)


def test_writing_past_expected_size_is_refused_at_once(store: Store) -> None:
    data = b"x" * 100
    with store.blobs.ingest(sha(data), expected_size=10) as writer:
        writer.write(b"x" * 10)
        with pytest.raises(IntegrityError, match="larger"):
            writer.write(b"x")
    assert temps(store) == []


def test_short_blob_is_refused(store: Store) -> None:
    with pytest.raises(IntegrityError, match="expected 10"):
        with store.blobs.ingest(expected_size=10) as writer:
            writer.write(b"abc")
            writer.commit()
    assert list(store.blobs.digests()) == []


def test_exception_in_body_aborts(store: Store) -> None:
    with pytest.raises(KeyError):
        with store.blobs.ingest() as writer:
            writer.write(b"partial")
            raise KeyError("network went away")
    assert temps(store) == [] and list(store.blobs.digests()) == []


def test_same_blob_twice_keeps_one_copy(store: Store) -> None:
    one = store.blobs.ingest()
    two = store.blobs.ingest()
    one.write(b"same")
    two.write(b"same")
    assert one.commit() == two.commit() == sha(b"same")
    assert list(store.blobs.digests()) == [sha(b"same")]
    assert temps(store) == []


def test_read_bytes_caps_size_and_verifies(store: Store) -> None:
    digest = store.blobs.put_bytes(b"0123456789")
    with pytest.raises(UnsafeArchive):
        store.blobs.read_bytes(digest, max_size=9)
    path = store.blobs.path(digest)
    path.write_bytes(b"0123456780")  # bit rot
    with pytest.raises(IntegrityError, match="corrupt"):
        store.blobs.read_bytes(digest, max_size=100)


@pytest.mark.parametrize(
    "bad", ["sha256:../../etc/passwd", "sha256:" + "a" * 63, "md5:" + "a" * 32, "../x", "sha256:" + "A" * 64]
)
def test_bad_digests_never_become_paths(store: Store, bad: str) -> None:
    with pytest.raises(InvalidArgument):
        store.blobs.path(bad)
    with pytest.raises(InvalidArgument):
        store.blobs.ingest(expected_digest=bad)


def test_missing_blob_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.blobs.open(sha(b"absent"))
    store.blobs.delete(sha(b"absent"))  # deleting what is not there is fine


def test_stale_temps_removed_only_when_writer_is_gone(store: Store) -> None:
    live = store.blobs.ingest()
    live.write(b"in progress")
    stale = store.cfg.tmp_dir / "blob-deadbeef"
    stale.write_bytes(b"left by a killed process")
    old = time.time() - 3600
    for p in (live.temp_path, stale):
        os.utime(p, (old, old))
    other = store.cfg.tmp_dir / "not-a-blob"
    other.write_bytes(b"someone else's")
    os.utime(other, (old, old))
    assert store.blobs.remove_stale_temps() == 1
    assert sorted(temps(store)) == sorted([live.temp_path.name, "not-a-blob"])
    fresh = store.cfg.tmp_dir / "blob-fresh"
    fresh.write_bytes(b"maybe a writer that has not locked yet")
    assert store.blobs.remove_stale_temps() == 0
    live.write(b"!")
    assert live.commit() == sha(b"in progress!")
