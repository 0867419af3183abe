"""Loading and saving image archives against a real store."""

from __future__ import annotations

import gzip
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from engine.errors import InvalidArgument
from engine.oci import mediatypes as mt
from engine.transports import load_archive, save_images
from tests.unit.transports.helpers import (
    BUSYBOX_ID,
    BUSYBOX_NAME,
    PODMAN_DOCKER,
    PODMAN_OCI,
    config_for,
    docker_archive,
    layer_tar,
    sha,
)

FORMATS = ["docker-archive", "oci-archive", "oci-dir"]


@pytest.mark.parametrize("archive", [PODMAN_OCI, PODMAN_DOCKER], ids=["oci", "docker"])
def test_load_podman_archives(store, archive):
    images = load_archive(store, archive)
    assert [(i.id, i.names) for i in images] == [(BUSYBOX_ID, [BUSYBOX_NAME])]
    image = store.images.lookup(BUSYBOX_NAME)
    assert image.id == BUSYBOX_ID and len(image.layers) == 2
    assert image.config["config"]["Cmd"] == ["/bin/sh"]
    assert list(store.cfg.tmp_dir.iterdir()) == []  # nothing spooled or left behind


def test_docker_archive_gets_a_docker_manifest(store):
    image = load_archive(store, PODMAN_DOCKER)[0]
    assert image.manifest_media_type == mt.DOCKER_MANIFEST
    manifest = json.loads(store.blobs.read_bytes(image.digest, 1 << 20))
    assert manifest["config"]["digest"] == BUSYBOX_ID
    # docker save layers are plain tars: the blob is the diff_id
    assert [layer["digest"] for layer in manifest["layers"]] == image.config["rootfs"]["diff_ids"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("source", [PODMAN_OCI, PODMAN_DOCKER], ids=["from-oci", "from-docker"])
def test_round_trip_keeps_image_id(store, other_store, tmp_path, fmt, source):
    image = load_archive(store, source)[0]
    out = tmp_path / f"saved.{fmt}"
    save_images(store, [image], [BUSYBOX_NAME], fmt, out)
    again = load_archive(other_store, out)
    assert [(i.id, i.names) for i in again] == [(BUSYBOX_ID, [BUSYBOX_NAME])]
    # and the saved archive saves again byte for byte (deterministic writer)
    out2 = tmp_path / f"again.{fmt}"
    save_images(other_store, again, [BUSYBOX_NAME], fmt, out2)
    if fmt != "oci-dir":
        assert out.read_bytes() == out2.read_bytes()


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_save_to_stream_and_load_from_pipe(store, other_store, tmp_path, fmt):
    image = load_archive(store, PODMAN_OCI)[0]
    out = tmp_path / "s.tar"
    with open(out, "wb") as f:
        save_images(store, [image], [BUSYBOX_NAME], fmt, f)
    # a pipe is not seekable: load spools it first
    proc = subprocess.Popen(["cat", str(out)], stdout=subprocess.PIPE)
    try:
        images = load_archive(other_store, proc.stdout)
    finally:
        proc.stdout.close()
        proc.wait()
    assert [i.id for i in images] == [BUSYBOX_ID]
    assert list(other_store.cfg.tmp_dir.iterdir()) == []


def test_load_gzip_compressed_archive(store, tmp_path):
    gz = tmp_path / "busybox.tar.gz"
    gz.write_bytes(gzip.compress(PODMAN_DOCKER.read_bytes()))
    assert [i.id for i in load_archive(store, gz)] == [BUSYBOX_ID]
    with open(gz, "rb") as f:
        assert [i.id for i in load_archive(store, f)] == [BUSYBOX_ID]


def test_docker_legacy_layout_and_short_names(store, tmp_path):
    layers = [layer_tar({"a": b"1"}), layer_tar({"b": b"2"})]
    path = docker_archive(tmp_path / "d.tar", layers, tags=["busybox:latest", "quay.io/x/y:2"])
    image = load_archive(store, path)[0]
    assert image.id == sha(config_for(layers))
    assert image.names == ["docker.io/library/busybox:latest", "quay.io/x/y:2"]


def test_docker_gzip_layers(store, tmp_path):
    layers = [layer_tar({"a": b"1" * 5000})]
    path = docker_archive(tmp_path / "d.tar", [gzip.compress(layers[0])], config=config_for(layers),
                          layer_names=["l.tar.gz"])
    image = load_archive(store, path)[0]
    manifest = json.loads(store.blobs.read_bytes(image.digest, 1 << 20))
    assert manifest["layers"][0]["mediaType"] == mt.DOCKER_LAYER_GZIP
    # saving as docker-archive writes the layer uncompressed, named by its diff_id
    out = tmp_path / "out.tar"
    save_images(store, [image], [None], "docker-archive", out)
    with tarfile.open(out) as tar:
        member = tar.extractfile(sha(layers[0])[7:] + ".tar")
        assert member is not None and member.read() == layers[0]
        assert json.loads(tar.extractfile("manifest.json").read())[0]["RepoTags"] == []


def test_untagged_image_loads_dangling(store, other_store, tmp_path):
    image = load_archive(store, PODMAN_OCI)[0]
    for fmt in FORMATS:
        out = tmp_path / fmt
        save_images(store, [image], [None], fmt, out)
        loaded = load_archive(other_store, out)
        assert [(i.id, i.names) for i in loaded] == [(BUSYBOX_ID, [])]


def test_multi_image_docker_archive(store, other_store, tmp_path):
    first = load_archive(store, PODMAN_OCI)[0]
    layers = [layer_tar({"etc/x": b"x"})]
    second = load_archive(store, docker_archive(tmp_path / "d.tar", layers, tags=["localhost/two:1"]))[0]
    out = tmp_path / "multi.tar"
    save_images(store, [first, second, first], [BUSYBOX_NAME, "localhost/two:1", "localhost/bb:2"],
                "docker-archive", out)
    with tarfile.open(out) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        repositories = json.loads(tar.extractfile("repositories").read())
    assert [m["RepoTags"] for m in manifest] == [[BUSYBOX_NAME, "localhost/bb:2"], ["localhost/two:1"]]
    assert set(repositories) == {"localhost:5000/busybox", "localhost/bb", "localhost/two"}
    loaded = load_archive(other_store, out)
    assert {i.id: sorted(i.names) for i in loaded} == {
        first.id: sorted([BUSYBOX_NAME, "localhost/bb:2"]),
        second.id: ["localhost/two:1"],
    }


def test_multi_image_oci_dir_keeps_other_entries(store, other_store, tmp_path):
    image = load_archive(store, PODMAN_OCI)[0]
    layers = [layer_tar({"etc/y": b"y"})]
    other = load_archive(store, docker_archive(tmp_path / "d.tar", layers, tags=["localhost/two:1"]))[0]
    layout = tmp_path / "layout"
    save_images(store, [image], [BUSYBOX_NAME], "oci-dir", layout)
    save_images(store, [other], ["localhost/two:1"], "oci-dir", layout)
    index = json.loads((layout / "index.json").read_text())
    assert len(index["manifests"]) == 2
    assert {i.id for i in load_archive(other_store, layout)} == {image.id, other.id}


def test_bad_save_arguments(store, tmp_path):
    image = load_archive(store, PODMAN_OCI)[0]
    with pytest.raises(InvalidArgument, match="unknown save format"):
        save_images(store, [image], [None], "docker-dir", tmp_path / "x")
    with pytest.raises(InvalidArgument):
        save_images(store, [image], [None], "oci-dir", open(tmp_path / "f", "wb"))
    with pytest.raises(InvalidArgument):
        save_images(store, [image], [], "oci-archive", tmp_path / "y")
