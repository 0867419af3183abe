"""Archives made by Podman load into Hull's real store with the real layer extraction."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.config import EngineConfig
from engine.store import Store
from engine.transports import load_archive, save_images

SHARED = Path("/work/shared/images")
BUSYBOX_ID = "sha256:a1650e46735caa638ff50713280371bb8a5a3f9b3e987521fc875151ab4a7264"
NAME = "localhost:5000/busybox:latest"


@pytest.fixture
def new_store(tmp_path):
    stores = []

    def make(label: str) -> Store:
        s = Store.open(EngineConfig(root=tmp_path / label / "root", runroot=tmp_path / label / "run", rootless=False))
        stores.append(s)
        return s

    yield make
    for s in stores:
        s.close()


@pytest.mark.parametrize("archive", ["busybox.oci.tar", "busybox.docker.tar"])
def test_podman_archive_unpacks_busybox(new_store, archive):
    store = new_store("a")
    (image,) = load_archive(store, SHARED / archive)
    assert image.id == BUSYBOX_ID and image.names == [NAME]
    bottom = store.layers.diff_path(image.layers[0])
    top = store.layers.diff_path(image.layers[1])
    assert os.access(bottom / "bin" / "busybox", os.X_OK)
    assert os.readlink(top / "bin" / "sh") == "/bin/busybox"


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive", "oci-dir"])
def test_round_trip_through_podman_archive(new_store, tmp_path, fmt):
    first, second = new_store("a"), new_store("b")
    (image,) = load_archive(first, SHARED / "busybox.docker.tar")
    out = tmp_path / "saved"
    save_images(first, [image], [NAME], fmt, out)
    (again,) = load_archive(second, out)
    assert (again.id, again.names) == (BUSYBOX_ID, [NAME])
    assert [second.layers.get(c).diff_id for c in again.layers] == image.config["rootfs"]["diff_ids"]
