"""ImageStore: add/merge, lookup rules, name moves, untag, remove, repo digests, list."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timezone

import pytest

from engine.errors import ImageNotFound, InUse, InvalidArgument, StorageError
from engine.store import Store

BUSYBOX = "docker.io/library/busybox:latest"


def test_add_records_everything(store: Store, make_image) -> None:
    image = make_image(["a", "b"], names=(BUSYBOX,))
    assert image.id.startswith("sha256:") and len(image.id) == 71
    assert image.names == [BUSYBOX]
    assert len(image.layers) == 2 and image.top_layer == image.layers[-1]
    assert store.layers.get(image.layers[1]).parent == image.layers[0]
    assert image.size == 2  # one byte per layer
    assert image.created == datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
    assert image.stored.tzinfo is not None
    assert image.config["os"] == "linux"
    assert image.digests == [image.digest]
    assert image.repo_digests == [f"docker.io/library/busybox@{image.digest}"]
    assert image.short_id == image.id[7:19]
    # config loads lazily from the blob for a fresh record
    fresh = store.images.get(image.id)
    assert fresh._config is None and fresh.config["architecture"] == "amd64"


def test_adding_the_same_image_merges_names_and_digests(store: Store, make_image) -> None:
    image = make_image(["a"], names=(BUSYBOX,))
    index_digest = store.blobs.put_bytes(b'{"manifests": []}')
    again = store.images.add(image.id, image.digest, image.layers, ["quay.io/x/busybox:1"],
                             digests=[index_digest])
    assert again.id == image.id
    assert again.names == [BUSYBOX, "quay.io/x/busybox:1"]
    assert again.digests == [image.digest, index_digest]  # the image's own manifest first
    assert set(again.repo_digests) == {
        f"docker.io/library/busybox@{image.digest}", f"docker.io/library/busybox@{index_digest}",
        f"quay.io/x/busybox@{image.digest}", f"quay.io/x/busybox@{index_digest}",
    }
    assert len(store.images.list()) == 1


def test_a_name_moves_and_the_old_image_dangles(store: Store, make_image) -> None:
    old = make_image(["a"], names=(BUSYBOX, "docker.io/library/busybox:1"), tag="old")
    new = make_image(["a", "b"], names=(BUSYBOX,), tag="new")
    assert store.images.lookup(BUSYBOX).id == new.id
    assert store.images.get(old.id).names == ["docker.io/library/busybox:1"]
    store.images.tag(new.id, "docker.io/library/busybox:1")
    dangling = store.images.get(old.id)
    assert dangling.names == [] and dangling.repo_digests == []
    assert store.images.get(new.id).names == [BUSYBOX, "docker.io/library/busybox:1"]
    assert {i.id for i in store.images.list()} == {old.id, new.id}


def test_lookup_rules(store: Store, make_image) -> None:
    image = make_image(["a"], names=(BUSYBOX,))
    hex_id = image.id[7:]
    for text in (image.id, hex_id, hex_id[:12], hex_id[:3], "sha256:" + hex_id[:5], BUSYBOX,
                 f"docker.io/library/busybox@{image.digest}", f"{BUSYBOX}@{image.digest}"):
        assert store.images.lookup(text).id == image.id, text
    for text in (hex_id[:2], "busybox", "docker.io/library/busybox", "docker.io/library/busybox:other",
                 f"quay.io/busybox@{image.digest}", "0" * 64, ""):
        with pytest.raises(ImageNotFound, match="image not known"):
            store.images.lookup(text)
    assert store.images.exists(BUSYBOX) and not store.images.exists("nope/x:1")


def test_ambiguous_id_prefix_is_refused(store: Store, make_image) -> None:
    base = make_image(["a"])
    # Find two configs whose digests share their first 3 hex digits.
    seen: dict[str, bytes] = {}
    n = 0
    while True:
        data = json.dumps({"rootfs": {}, "n": n}).encode()
        prefix = hashlib.sha256(data).hexdigest()[:3]
        if prefix in seen:
            break
        seen[prefix] = data
        n += 1
    one = store.blobs.put_bytes(seen[prefix])
    two = store.blobs.put_bytes(data)
    for config in (one, two):
        store.images.add(config, base.digest, base.layers, [])
    with pytest.raises(InvalidArgument, match="ambiguous"):
        store.images.lookup(prefix)
    # 12 digits tell them apart
    for config in (one, two):
        longer = config[7:7 + 12]
        assert store.images.lookup(longer).id == config


def test_lookup_candidates_takes_the_first_stored(store: Store, make_image) -> None:
    image = make_image(["a"], names=("quay.io/app/x:latest",))
    got = store.images.lookup_candidates(["docker.io/app/x:latest", "quay.io/app/x:latest"])
    assert got.id == image.id
    with pytest.raises(ImageNotFound, match="^docker.io/app/y:latest: image not known$"):
        store.images.lookup_candidates(["docker.io/app/y:latest", "quay.io/app/y:latest"])


def test_untag(store: Store, make_image) -> None:
    image = make_image(["a"], names=(BUSYBOX, "docker.io/library/busybox:1", "docker.io/library/busybox:2"))
    store.images.untag(image.id, "docker.io/library/busybox:1")
    assert store.images.get(image.id).names == [BUSYBOX, "docker.io/library/busybox:2"]
    with pytest.raises(ImageNotFound, match="tag not known"):
        store.images.untag(image.id, "docker.io/library/busybox:1")
    store.images.untag(image.id)
    assert store.images.get(image.id).names == []
    with pytest.raises(ImageNotFound):
        store.images.lookup(BUSYBOX)


def test_tag_checks_its_arguments(store: Store, make_image) -> None:
    image = make_image(["a"])
    with pytest.raises(ImageNotFound):
        store.images.tag("sha256:" + "0" * 64, BUSYBOX)
    with pytest.raises(InvalidArgument):
        store.images.tag(image.id, "busybox")  # short names are normalised by services
    with pytest.raises(InvalidArgument):
        store.images.tag(image.id, "docker.io/a b:c")


def test_remove_and_user_hook(store: Store, make_image, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.store.images as images_mod

    image = make_image(["a"], names=(BUSYBOX,))
    monkeypatch.setattr(images_mod, "_user_checks", [])

    def used_by_container(conn: sqlite3.Connection, image_id: str) -> str | None:
        return "container 0123abcd" if image_id == image.id else None

    store.images.add_user_check(used_by_container)
    with pytest.raises(InUse, match="container 0123abcd"):
        store.images.remove(image.id)
    assert store.images.lookup(BUSYBOX).id == image.id
    images_mod._user_checks.clear()
    removed = store.images.remove(image.id)
    assert removed.id == image.id
    assert store.images.list() == []
    assert store.db.query("SELECT count(*) FROM image_names")[0][0] == 0
    assert store.db.query("SELECT count(*) FROM image_digests")[0][0] == 0
    with pytest.raises(ImageNotFound):
        store.images.remove(image.id)


def test_add_refuses_missing_or_broken_content(store: Store, make_image) -> None:
    image = make_image(["a", "b"])
    config = store.blobs.put_bytes(json.dumps({"rootfs": {}, "x": 1}).encode())
    with pytest.raises(StorageError, match="not in the store"):
        store.images.add(config, image.digest, ["sha256:" + "9" * 64], [])
    with pytest.raises(StorageError, match="does not sit on"):
        store.images.add(config, image.digest, [image.layers[1]], [])  # not a base layer
    with pytest.raises(Exception, match="not known"):
        store.images.add("sha256:" + "1" * 64, image.digest, image.layers, [])
    not_json = store.blobs.put_bytes(b"\x00binary")
    with pytest.raises(StorageError, match="JSON"):
        store.images.add(not_json, image.digest, image.layers, [])
    assert len(store.images.list()) == 1


def test_list_is_one_query_and_newest_first(store: Store, make_image) -> None:
    made = [make_image(["base", f"top{n}"], names=(f"docker.io/library/img{n}:latest",), tag=str(n))
            for n in range(50)]
    statements: list[str] = []
    conn = store.db.read()
    conn.set_trace_callback(statements.append)
    try:
        listed = store.images.list()
    finally:
        conn.set_trace_callback(None)
    assert len(statements) == 1
    assert [i.id for i in listed] == [i.id for i in reversed(made)]
    assert listed[0].names == ["docker.io/library/img49:latest"]
    assert all(len(i.layers) == 2 and i.layers[0] == made[0].layers[0] for i in listed)
