"""import of root filesystem tarballs, and --change parsing."""

from __future__ import annotations

import gzip
import io
import json
import subprocess

import pytest
import zstandard

from engine.errors import InvalidArgument, UnsafeArchive
from engine.oci import mediatypes as mt
from engine.transports import load_archive, save_images
from engine.transports.changes import apply_changes
from engine.transports.tarball import import_tarball
from tests.unit.transports.helpers import layer_tar, sha

ROOTFS = layer_tar({"etc/hostname": b"box\n", "bin/tool": b"#!/bin/sh\n"})


@pytest.mark.parametrize("compress", ["plain", "gzip", "zstd"])
def test_import_file_in_each_compression(store, tmp_path, compress):
    data = {"plain": ROOTFS, "gzip": gzip.compress(ROOTFS),
            "zstd": zstandard.ZstdCompressor().compress(ROOTFS)}[compress]
    path = tmp_path / "rootfs.tar"
    path.write_bytes(data)
    image = import_tarball(store, path, names=["localhost/imported:1"])
    assert image.names == ["localhost/imported:1"]
    config = image.config
    assert config["rootfs"]["diff_ids"] == [sha(ROOTFS)]
    assert config["history"][0]["comment"] == "imported from tarball"
    assert config["os"] == "linux" and config["architecture"]
    manifest = json.loads(store.blobs.read_bytes(image.digest, 1 << 20))
    expected_type = {"plain": mt.OCI_LAYER, "gzip": mt.OCI_LAYER_GZIP, "zstd": mt.OCI_LAYER_ZSTD}[compress]
    assert manifest["layers"][0]["mediaType"] == expected_type
    assert manifest["layers"][0]["digest"] == sha(data)
    assert (store.layers.diff_path(image.layers[0]) / "etc" / "hostname").read_bytes() == b"box\n"


def test_import_from_a_pipe_with_changes_and_message(store):
    proc = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    proc.stdin.write(gzip.compress(ROOTFS))
    proc.stdin.close()
    image = import_tarball(store, proc.stdout, changes=[
        'CMD ["/bin/tool", "-x"]', "ENTRYPOINT /bin/sh", "ENV A=1 B=two", "ENV A=3",
        "EXPOSE 80 53/udp", 'LABEL a=b "c d"="e f"', "USER 33:33", "WORKDIR /srv",
        "VOLUME /data", "STOPSIGNAL SIGTERM", "cmd=[\"/x\"]",
    ], message="from a pipe")
    proc.wait()
    cfg = image.config["config"]
    assert cfg["Cmd"] == ["/x"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-c", "/bin/sh"]
    assert cfg["Env"] == ["B=two", "A=3"]
    assert cfg["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert cfg["Labels"] == {"a": "b", "c d": "e f"}
    assert (cfg["User"], cfg["WorkingDir"], cfg["StopSignal"]) == ("33:33", "/srv", "SIGTERM")
    assert cfg["Volumes"] == {"/data": {}}
    assert image.config["history"][0]["comment"] == "from a pipe"
    assert image.names == []


def test_imported_image_round_trips(store, other_store, tmp_path):
    image = import_tarball(store, io.BytesIO(ROOTFS), names=["localhost/imp:1"])
    for fmt in ("docker-archive", "oci-archive", "oci-dir"):
        out = tmp_path / fmt
        save_images(store, [image], ["localhost/imp:1"], fmt, out)
        assert [i.id for i in load_archive(other_store, out)] == [image.id]


@pytest.mark.parametrize("change", ["FROM x", "RUN ls", "CMD", "EXPOSE http", "ENV A", "LABEL =x"])
def test_bad_changes(change):
    with pytest.raises(InvalidArgument):
        apply_changes({}, [change])


def test_bad_change_stores_nothing(store):
    with pytest.raises(InvalidArgument):
        import_tarball(store, io.BytesIO(ROOTFS), changes=["RUN rm -rf /"])
    assert list(store.blobs.digests()) == []


def test_import_refuses_hostile_tarball(store):
    evil = layer_tar({"../escape": b"x"})
    with pytest.raises(UnsafeArchive):
        import_tarball(store, io.BytesIO(evil), names=["localhost/evil:1"])
    assert store.images.list() == []
    store.gc()
    assert store.layers.list() == [] and list(store.blobs.digests()) == []
