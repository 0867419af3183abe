"""gc: unreferenced layers and blobs go, shared ones stay, crash debris is cleaned."""

from __future__ import annotations

import os

from engine.store import Store


def blob_set(store: Store) -> set[str]:
    return set(store.blobs.digests())


def test_gc_on_a_tidy_store_removes_nothing(store: Store, make_image) -> None:
    make_image(["a", "b"], names=("docker.io/library/x:1",))
    before = blob_set(store)
    result = store.gc()
    assert result.layers == [] and result.blobs == [] and result.reclaimed == 0
    assert blob_set(store) == before


def test_removing_an_image_frees_only_what_is_not_shared(store: Store, make_image) -> None:
    first = make_image(["base", "one"], names=("docker.io/library/x:1",), tag="1")
    second = make_image(["base", "two"], names=("docker.io/library/x:2",), tag="2")
    assert first.layers[0] == second.layers[0]
    stray = store.blobs.put_bytes(b"a blob nobody references")
    store.images.remove(first.id)
    result = store.gc()
    assert result.layers == [first.layers[1]]
    assert set(result.blobs) == {first.id, first.digest, stray}
    assert result.reclaimed > 0
    assert {layer.chain_id for layer in store.layers.list()} == set(second.layers)
    assert sorted(os.listdir(store.cfg.layers_dir)) == sorted(c[7:] for c in second.layers)
    assert blob_set(store) == {second.id, second.digest}
    assert store.images.get(second.id).config["config"]["Labels"]["tag"] == "2"


def test_compressed_blobs_of_referenced_layers_stay(store: Store, make_image) -> None:
    compressed = store.blobs.put_bytes(b"gzip bytes")
    diff = "sha256:" + "d" * 64
    layer = store.layers.create(diff, None, lambda p: 0, compressed_digest=compressed)
    orphan_compressed = store.blobs.put_bytes(b"other gzip bytes")
    store.layers.create("sha256:" + "e" * 64, None, lambda p: 0, compressed_digest=orphan_compressed)
    config = store.blobs.put_bytes(b'{"rootfs": {}}')
    manifest = store.blobs.put_bytes(b'{"layers": []}')
    store.images.add(config, manifest, [layer.chain_id], ["docker.io/library/c:1"])
    result = store.gc()
    assert result.layers == ["sha256:" + "e" * 64]
    assert result.blobs == [orphan_compressed]
    assert compressed in blob_set(store)


def test_gc_removes_everything_once_no_image_is_left(store: Store, make_image) -> None:
    images = [make_image(["base", f"l{n}", f"m{n}"], tag=str(n)) for n in range(3)]
    for image in images:
        store.images.remove(image.id)
    result = store.gc()
    # children went before parents (the parent foreign key would have refused otherwise)
    assert len(result.layers) == 7
    assert store.layers.list() == [] and blob_set(store) == set()
    assert os.listdir(store.cfg.layers_dir) == []
    assert [f for f in os.listdir(store.cfg.locks_dir) if f.startswith("layer-")] == []


def test_gc_cleans_crash_debris(store: Store) -> None:
    (store.cfg.layers_dir / ("f" * 64 + ".tmp-0001") / "diff").mkdir(parents=True)
    stale = store.cfg.tmp_dir / "blob-0001"
    stale.write_bytes(b"half a blob")
    os.utime(stale, (0, 0))
    result = store.gc()
    assert result.incomplete == 2
    assert os.listdir(store.cfg.layers_dir) == [] and os.listdir(store.cfg.tmp_dir) == []


def test_gc_waits_for_no_writer_or_skips(store: Store, make_image) -> None:
    image = make_image(["a"])
    store.images.remove(image.id)
    with store.writing():
        result = store.gc(wait=False)
        assert result.skipped and result.layers == []
        assert store.layers.list() != []
    assert store.gc(wait=False).layers == image.layers
