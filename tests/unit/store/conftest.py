"""Fixtures for store unit tests: a fresh store under tmp_path, and image makers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.config import EngineConfig
from engine.store import Image, Store


@pytest.fixture
def cfg(tmp_path: Path) -> EngineConfig:
    return EngineConfig(root=tmp_path / "root", runroot=tmp_path / "run", rootless=False)


@pytest.fixture
def store(cfg: EngineConfig) -> Iterator[Store]:
    s = Store.open(cfg)
    yield s
    # Root stores take host-wide address leases (/run/hull-ipam, engine/network/leases.py):
    # give them back, or the next run's tests find those addresses still held by this
    # store (pytest keeps the last tmp dirs, so its database still names the holders).
    for c in s.containers.list():
        s.networks.release_leases(c.id)
    s.close()


def write_files(files: dict[str, bytes]) -> Callable[[Path], int]:
    """A populate() that writes `files` into the layer directory."""

    def populate(diff: Path) -> int:
        for name, data in files.items():
            (diff / name).write_bytes(data)
        return sum(len(d) for d in files.values())

    return populate


def diff_id_of(text: str) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def make_image(store: Store) -> Callable[..., Image]:
    """make_image(["a", "b"], names=[...]) stores layers a, b (each one file) and an image."""

    def make(layer_texts: list[str], names: tuple[str, ...] = (), tag: str = "") -> Image:
        parent = None
        chain = []
        for text in layer_texts:
            layer = store.layers.create(diff_id_of(text), parent, write_files({text: text.encode()}))
            chain.append(layer.chain_id)
            parent = layer.chain_id
        config = {
            "created": "2024-05-06T07:08:09.123456789Z",
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [diff_id_of(t) for t in layer_texts]},
            "config": {"Labels": {"tag": tag}},
        }
        config_digest = store.blobs.put_bytes(json.dumps(config, sort_keys=True).encode())
        manifest = json.dumps({"config": config_digest, "layers": chain}).encode()
        manifest_digest = store.blobs.put_bytes(manifest)
        return store.images.add(config_digest, manifest_digest, chain, list(names))

    return make
