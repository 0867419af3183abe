"""Many hull processes on one store: no corruption, content stored once, crashes cleaned.

Each worker is a real process (fork) with its own Store, as separate hull
commands would be; they meet at a barrier so their critical sections overlap.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from pathlib import Path

from engine.config import EngineConfig
from engine.store import Store
from engine.store.gc import collect

LAYER_TEXTS = ["base", "middle", "top"]
NAME = "docker.io/library/concurrent:latest"
CONFIG = json.dumps({"created": "2024-01-01T00:00:00Z", "rootfs": {"type": "layers"}}).encode()
MANIFEST = b'{"schemaVersion": 2, "for": "concurrency"}'


def open_store(root: str) -> Store:
    base = Path(root)
    return Store.open(EngineConfig(root=base / "root", runroot=base / "run", rootless=False))


def diff_id(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _append(log: str, line: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def _pull(root: str, log: str, barrier, name: str) -> None:
    """What a pull does with the store: blobs, layers bottom-up, the image record."""
    barrier.wait(30)
    store = open_store(root)  # the first open of a fresh root happens in all of them at once
    with store.writing():
        store.cleanup()
        config = store.blobs.put_bytes(CONFIG)
        manifest = store.blobs.put_bytes(MANIFEST)
        parent, chain = None, []
        for text in LAYER_TEXTS:
            compressed = store.blobs.put_bytes(b"gz:" + text.encode())

            def populate(diff: Path, text: str = text) -> int:
                _append(log, f"{os.getpid()} {text}")
                (diff / "dir").mkdir()
                (diff / "dir" / text).write_text(text)
                time.sleep(0.05)  # widen the window in which others arrive
                return len(text)

            layer = store.layers.create(diff_id(text), parent, populate, compressed_digest=compressed)
            chain.append(layer.chain_id)
            parent = layer.chain_id
        store.images.add(config, manifest, chain, [name])
    assert store.images.lookup(name).layers == chain


def _run_all(procs: list) -> None:
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * len(procs)


def _assert_consistent(root: str) -> None:
    store = open_store(root)
    assert store.db.query("PRAGMA integrity_check")[0][0] == "ok"
    assert store.db.query("PRAGMA foreign_key_check") == []
    assert store.db.query("SELECT count(*) FROM layers WHERE complete = 0")[0][0] == 0
    for name in os.listdir(store.cfg.layers_dir):
        assert ".tmp-" not in name
    assert [n for n in os.listdir(store.cfg.tmp_dir) if n.startswith("blob-")] == []


def test_concurrent_pulls_of_one_image_store_it_once(mp, shared_root: str, tmp_path: Path) -> None:
    workers = 8
    log = str(tmp_path / "populate.log")
    barrier = mp.Barrier(workers)
    procs = [mp.Process(target=_pull, args=(shared_root, log, barrier, NAME)) for _ in range(workers)]
    _run_all(procs)

    lines = Path(log).read_text().splitlines()
    populated = sorted(line.split()[1] for line in lines)
    assert populated == sorted(LAYER_TEXTS)  # each layer unpacked exactly once
    store = open_store(shared_root)
    images = store.images.list()
    assert len(images) == 1 and images[0].names == [NAME]
    assert len(store.layers.list()) == 3
    assert len(list(store.blobs.digests())) == 2 + 3
    top = store.layers.diff_path(images[0].layers[-1])
    assert (top / "dir" / "top").read_text() == "top"
    _assert_consistent(shared_root)


def test_concurrent_pulls_under_different_names_and_a_gc(mp, shared_root: str, tmp_path: Path) -> None:
    """Names land on the one image; a gc running throughout never eats a pull's content."""
    pullers = 6
    barrier = mp.Barrier(pullers + 1)
    log = str(tmp_path / "populate.log")
    stop = mp.Event()

    def gc_loop() -> None:
        barrier.wait(30)
        store = open_store(shared_root)
        while not stop.is_set():
            collect(store)
            time.sleep(0.01)

    gc_proc = mp.Process(target=gc_loop)
    procs = [mp.Process(target=_pull, args=(shared_root, log, barrier, f"docker.io/library/n{n}:latest"))
             for n in range(pullers)]
    gc_proc.start()
    try:
        _run_all(procs)
    finally:
        stop.set()
        gc_proc.join(60)
    assert gc_proc.exitcode == 0
    store = open_store(shared_root)
    (image,) = store.images.list()
    assert sorted(image.names) == sorted(f"docker.io/library/n{n}:latest" for n in range(pullers))
    for chain_id in image.layers:
        assert store.layers.diff_path(chain_id).is_dir()
    assert store.blobs.has(image.id) and store.blobs.has(image.digest)
    assert store.gc().layers == []
    _assert_consistent(shared_root)


def _tagger(root: str, barrier, worker: int, rounds: int) -> None:
    store = open_store(root)
    ids = [i.id for i in store.images.list()]
    barrier.wait(30)
    for n in range(rounds):
        target = ids[(worker + n) % len(ids)]
        store.images.tag(target, f"docker.io/library/moving:{n % 3}")
        store.images.tag(target, f"docker.io/library/w{worker}:{n}")
        assert len(store.images.list()) == len(ids)
        store.images.untag(target, f"docker.io/library/w{worker}:{n}")


def test_concurrent_tagging_keeps_names_unique(mp, shared_root: str) -> None:
    store = open_store(shared_root)
    base = store.layers.create(diff_id("x"), None, lambda diff: 0)
    for n in range(4):
        config = store.blobs.put_bytes(json.dumps({"rootfs": {}, "n": n}).encode())
        store.images.add(config, config, [base.chain_id], [])
    workers = 6
    barrier = mp.Barrier(workers)
    _run_all([mp.Process(target=_tagger, args=(shared_root, barrier, w, 25)) for w in range(workers)])
    names = [row[0] for row in store.db.query("SELECT name FROM image_names ORDER BY name")]
    assert names == [f"docker.io/library/moving:{t}" for t in range(3)]
    _assert_consistent(shared_root)


def _populate_forever(root: str, ready) -> None:
    store = open_store(root)

    def populate(diff: Path) -> int:
        (diff / "usr" / "bin").mkdir(parents=True)
        (diff / "usr" / "bin" / "half").write_bytes(b"x" * 1000)
        os.chmod(diff / "usr" / "bin", 0o555)  # read-only dirs, as layers have
        ready.set()
        time.sleep(120)
        return 0

    store.layers.create(diff_id("killed"), None, populate)


def test_layer_creation_killed_midway_is_cleaned_and_redone(mp, shared_root: str) -> None:
    ready = mp.Event()
    proc = mp.Process(target=_populate_forever, args=(shared_root, ready))
    proc.start()
    assert ready.wait(30)
    store = open_store(shared_root)
    layers_dir = store.cfg.layers_dir
    # While it is alive, cleanup leaves its work alone.
    assert store.cleanup() == 0
    assert any(".tmp-" in n for n in os.listdir(layers_dir))
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    assert proc.exitcode == -signal.SIGKILL

    # The next command: its record is incomplete and its directory half full.
    later = open_store(shared_root)
    assert later.db.query("SELECT complete FROM layers")[0][0] == 0
    assert not later.layers.exists(diff_id("killed"))
    assert later.cleanup() >= 1
    assert os.listdir(layers_dir) == []
    assert later.db.query("SELECT count(*) FROM layers")[0][0] == 0
    layer = later.layers.create(diff_id("killed"), None, lambda diff: (diff / "whole").write_bytes(b"ok"))
    assert (later.layers.diff_path(layer.chain_id) / "whole").read_bytes() == b"ok"
    _assert_consistent(shared_root)


def test_creation_killed_midway_is_redone_without_explicit_cleanup(mp, shared_root: str) -> None:
    """create() itself clears a dead process's debris for the layer it wants."""
    ready = mp.Event()
    proc = mp.Process(target=_populate_forever, args=(shared_root, ready))
    proc.start()
    assert ready.wait(30)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    store = open_store(shared_root)
    store.layers.create(diff_id("killed"), None, lambda diff: 0)
    assert os.listdir(store.cfg.layers_dir) == [diff_id("killed")[7:]]
    _assert_consistent(shared_root)


def _ingest_forever(root: str, digest: str, ready) -> None:
    store = open_store(root)
    writer = store.blobs.ingest(digest, expected_size=2_000_000)
    writer.write(b"y" * 1_000_000)
    ready.set()
    time.sleep(120)


def test_writer_killed_mid_ingest_leaves_no_blob(mp, shared_root: str) -> None:
    data = b"y" * 2_000_000
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    ready = mp.Event()
    proc = mp.Process(target=_ingest_forever, args=(shared_root, digest, ready))
    proc.start()
    assert ready.wait(30)
    store = open_store(shared_root)
    assert store.blobs.remove_stale_temps(min_age=0) == 0  # alive: its temp file is locked
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    assert not store.blobs.has(digest)
    assert list(store.blobs.digests()) == []
    assert store.blobs.remove_stale_temps(min_age=0) == 1
    assert os.listdir(store.cfg.tmp_dir) == []
    assert store.blobs.put_bytes(data, expected_digest=digest) == digest
