"""LayerStore: chain ids, create-once, crash debris cleanup, safe removal."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from engine.errors import InUse, InvalidArgument, NotFound, StorageError
from engine.store import Store
from engine.store.layers import LayerStore

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64
# Computed outside Python:  printf 'sha256:aaa… sha256:bbb…' | sha256sum
CHAIN_AB = "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c"
# printf 'sha256:ccd7…146c sha256:ccc…' | sha256sum
CHAIN_ABC = "sha256:c1377126441fb2f5ec2c21ae2a60255331d639e830f0ee1b40a36e52d4c40588"


def one_file(name: str = "f", data: bytes = b"data"):
    def populate(diff: Path) -> int:
        (diff / name).write_bytes(data)
        return len(data)

    return populate


def test_chain_ids_follow_the_oci_spec() -> None:
    assert LayerStore.chain_id(None, A) == A
    assert LayerStore.chain_id(A, B) == CHAIN_AB
    assert LayerStore.chain_id(CHAIN_AB, C) == CHAIN_ABC
    with pytest.raises(InvalidArgument):
        LayerStore.chain_id(None, "sha256:../../x")


def test_create_populates_once_and_reuses(store: Store) -> None:
    calls: list[Path] = []

    def populate(diff: Path) -> int:
        calls.append(diff)
        assert diff.is_dir() and list(diff.iterdir()) == []
        assert ".tmp-" in diff.parent.name  # filled out of sight, renamed when done
        (diff / "etc").mkdir()
        (diff / "etc" / "hostname").write_text("x")
        return 123

    base = store.layers.create(A, None, populate, compressed_digest=C)
    again = store.layers.create(A, None, populate)
    assert len(calls) == 1 and base == again
    assert base.chain_id == A and base.parent is None and base.size == 123
    assert base.compressed_digest == C
    assert store.layers.diff_path(A) == store.cfg.root / "layers" / ("a" * 64) / "diff"
    assert (store.layers.diff_path(A) / "etc" / "hostname").read_text() == "x"
    child = store.layers.create(B, A, one_file())
    assert child.chain_id == CHAIN_AB and child.parent == A
    assert store.layers.get(CHAIN_AB) == child
    assert {l.chain_id for l in store.layers.list()} == {A, CHAIN_AB}
    assert sorted(os.listdir(store.cfg.layers_dir)) == sorted(["a" * 64, CHAIN_AB[7:]])


def test_size_is_measured_when_populate_does_not_say(store: Store) -> None:
    def populate(diff: Path) -> None:
        (diff / "d").mkdir()
        (diff / "d" / "x").write_bytes(b"12345")
        (diff / "y").write_bytes(b"123")
        os.symlink("d/x", diff / "link")

    layer = store.layers.create(A, None, populate)
    assert layer.size == 5 + 3 + len("d/x")


def test_failed_populate_leaves_nothing(store: Store) -> None:
    def populate(diff: Path) -> int:
        (diff / "half").write_bytes(b"x")
        raise ValueError("corrupt layer")

    with pytest.raises(ValueError):
        store.layers.create(A, None, populate)
    assert os.listdir(store.cfg.layers_dir) == []
    assert store.db.query("SELECT count(*) FROM layers")[0][0] == 0
    with pytest.raises(NotFound):
        store.layers.get(A)
    assert store.layers.create(A, None, one_file()).size == 4


def test_missing_parent_is_refused(store: Store) -> None:
    with pytest.raises(StorageError, match="parent"):
        store.layers.create(B, A, one_file())
    assert os.listdir(store.cfg.layers_dir) == []


def test_cleanup_removes_every_kind_of_crash_debris(store: Store) -> None:
    layers_dir = store.cfg.layers_dir
    keep = store.layers.create(C, None, one_file())
    # 1. killed during populate: incomplete record + temp dir
    with store.db.transaction() as conn:
        conn.execute("INSERT INTO layers (chain_id, diff_id, created, tmp_dir) VALUES (?, ?, 0, ?)",
                     (A, A, "a" * 64 + ".tmp-1234"))
    (layers_dir / ("a" * 64 + ".tmp-1234" ) / "diff").mkdir(parents=True)
    # 2. killed after the rename, before marking complete: a final dir, no complete record
    (layers_dir / ("b" * 64) / "diff").mkdir(parents=True)
    # 3. a stray temp dir next to a complete layer
    (layers_dir / (C[7:] + ".tmp-9999")).mkdir()
    # 4. things that are not ours stay
    (layers_dir / "README").write_text("hi")
    assert store.layers.cleanup_incomplete() == 3
    assert sorted(os.listdir(layers_dir)) == sorted(["README", C[7:]])
    assert store.db.query("SELECT chain_id FROM layers")[0][0] == keep.chain_id
    assert store.layers.create(A, None, one_file()).chain_id == A


def test_cleanup_leaves_a_layer_being_created_alone(store: Store) -> None:
    seen: list[int] = []

    def populate(diff: Path) -> int:
        seen.append(store.layers.cleanup_incomplete())  # another process's cleanup, mid-populate
        assert diff.is_dir()
        return 0

    store.layers.create(A, None, populate)
    assert seen == [0]
    assert store.layers.diff_path(A).is_dir()


def test_remove_handles_hostile_trees_without_following_symlinks(store: Store, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep me")

    def populate(diff: Path) -> int:
        (diff / "ro" / "deeper").mkdir(parents=True)
        (diff / "ro" / "deeper" / "file").write_text("x")
        if os.geteuid() == 0:  # rootless, populate runs in the user namespace for these
            os.mknod(diff / "ro" / "whiteout", stat.S_IFCHR | 0o000, os.makedev(0, 0))
            os.chown(diff / "ro" / "deeper" / "file", 12345, 12345)
        os.symlink(outside, diff / "escape")
        os.symlink(outside, diff / "ro" / "escape-dir")
        os.chmod(diff / "ro" / "deeper", 0o000)
        os.chmod(diff / "ro", 0o555)
        return 1

    store.layers.create(A, None, populate)
    store.layers.remove(A)
    assert os.listdir(store.cfg.layers_dir) == []
    assert (outside / "precious").read_text() == "keep me"
    with pytest.raises(NotFound):
        store.layers.remove(A)


def test_remove_refuses_a_parent_in_use(store: Store) -> None:
    store.layers.create(A, None, one_file())
    store.layers.create(B, A, one_file())
    with pytest.raises(InUse):
        store.layers.remove(A)
    assert store.layers.diff_path(A).is_dir()
    store.layers.remove(CHAIN_AB)
    store.layers.remove(A)
    assert store.layers.list() == []


def test_missing_directory_of_a_complete_layer_is_repopulated(store: Store) -> None:
    store.layers.create(A, None, one_file(data=b"v1"))
    import shutil

    shutil.rmtree(store.layers.layer_dir(A))
    layer = store.layers.create(A, None, one_file(data=b"v2"))
    assert (store.layers.diff_path(A) / "f").read_bytes() == b"v2" and layer.size == 2
