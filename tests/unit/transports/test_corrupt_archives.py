"""Hostile or broken archives: one clear line, no image recorded, gc leaves nothing."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from engine.errors import HullError, IntegrityError, UnsafeArchive
from engine.transports import load_archive
from tests.unit.transports.helpers import PODMAN_DOCKER, PODMAN_OCI, docker_archive, layer_tar, sha, write_tar


def _members(path: Path) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    with tarfile.open(path) as tar:
        return [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]


def _rewrite(src: Path, dest: Path, change) -> Path:
    """Copy a tar, letting change(name, data) return new data (or None to drop)."""
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as out:
        for info, data in _members(src):
            if data is not None:
                data = change(info.name, data)
                if data is None:
                    continue
                info.size = len(data)
                out.addfile(info, io.BytesIO(data))
            else:
                out.addfile(info)
    return dest


def _assert_refused(store, path, error=(UnsafeArchive, IntegrityError), match=None):
    with pytest.raises(error, match=match) as exc:
        load_archive(store, path)
    assert "\n" not in str(exc.value) and str(exc.value)
    assert store.images.list() == []
    store.gc()
    assert list(store.blobs.digests()) == []
    assert store.layers.list() == []
    assert [p for p in store.cfg.tmp_dir.iterdir()] == []
    return exc.value


@pytest.mark.parametrize("archive", [PODMAN_OCI, PODMAN_DOCKER], ids=["oci", "docker"])
@pytest.mark.parametrize("cut", [0.5, 0.999])
def test_truncated_archive(store, tmp_path, archive, cut):
    data = archive.read_bytes()
    bad = tmp_path / "cut.tar"
    bad.write_bytes(data[: int(len(data) * cut)])
    _assert_refused(store, bad, UnsafeArchive, "truncated|no manifest|not an image archive|has no")


def test_truncated_at_a_block_boundary(store, tmp_path):
    data = PODMAN_DOCKER.read_bytes()
    end = len(data.rstrip(b"\0"))
    bad = tmp_path / "cut.tar"
    bad.write_bytes(data[: (end + 511) // 512 * 512])  # every member, but no end marker
    _assert_refused(store, bad, UnsafeArchive, "truncated")


def test_truncated_gzip_stream(store, tmp_path):
    gz = gzip.compress(PODMAN_DOCKER.read_bytes())
    bad = tmp_path / "cut.tar.gz"
    bad.write_bytes(gz[: len(gz) // 2])
    _assert_refused(store, bad, UnsafeArchive)


def test_oci_layer_digest_mismatch(store, tmp_path):
    def flip(name, data):
        if name == "blobs/sha256/6e4150c02b799889bfc37fba7a49c10f9349089f819b9d5ab80ce46f326e23a5":
            return data[:100] + bytes([data[100] ^ 1]) + data[101:]
        return data

    bad = _rewrite(PODMAN_OCI, tmp_path / "bad.tar", flip)
    _assert_refused(store, bad, IntegrityError, "digest")


def test_oci_config_digest_mismatch(store, tmp_path):
    cfg = "blobs/sha256/a1650e46735caa638ff50713280371bb8a5a3f9b3e987521fc875151ab4a7264"
    bad = _rewrite(PODMAN_OCI, tmp_path / "bad.tar", lambda n, d: d.replace(b"amd64", b"AMD64") if n == cfg else d)
    _assert_refused(store, bad, IntegrityError)


def test_docker_layer_does_not_match_diff_id(store, tmp_path):
    good = layer_tar({"a": b"good"})
    evil = layer_tar({"a": b"evil"})
    from tests.unit.transports.helpers import config_for

    path = docker_archive(tmp_path / "d.tar", [evil], config=config_for([good]))
    _assert_refused(store, path, IntegrityError)


def test_docker_second_image_bad_stores_neither(store, tmp_path):
    """All or nothing: a good image in the same archive is not recorded either."""
    good = layer_tar({"a": b"1"})
    bad_layer = layer_tar({"b": b"2"})
    from tests.unit.transports.helpers import config_for

    cfg_good, cfg_bad = config_for([good]), config_for([layer_tar({"b": b"3"})])
    manifest = [
        {"Config": sha(cfg_good)[7:] + ".json", "RepoTags": ["localhost/good:1"], "Layers": ["g.tar"]},
        {"Config": sha(cfg_bad)[7:] + ".json", "RepoTags": ["localhost/bad:1"], "Layers": ["b.tar"]},
    ]
    path = write_tar(tmp_path / "two.tar", [
        ("g.tar", good), ("b.tar", bad_layer),
        (sha(cfg_good)[7:] + ".json", cfg_good), (sha(cfg_bad)[7:] + ".json", cfg_bad),
        ("manifest.json", json.dumps(manifest).encode()),
    ])
    _assert_refused(store, path, IntegrityError)


def test_manifest_points_at_missing_file(store, tmp_path):
    layers = [layer_tar({"a": b"1"})]
    path = docker_archive(tmp_path / "d.tar", layers, layer_names=["missing/layer.tar"])
    # the layer is not in the archive under that name
    bad = _rewrite(path, tmp_path / "bad.tar", lambda n, d: None if n == "missing/layer.tar" else d)
    _assert_refused(store, bad, UnsafeArchive, "missing/layer.tar")


def test_config_file_misnamed(store, tmp_path):
    layers = [layer_tar({"a": b"1"})]
    path = docker_archive(tmp_path / "d.tar", layers)
    cfg_name = sha(json.dumps({}).encode())[7:] + ".json"
    manifest = json.loads(dict((m.name, d) for m, d in _members(path))["manifest.json"])
    real = manifest[0]["Config"]
    manifest[0]["Config"] = cfg_name
    bad = _rewrite(path, tmp_path / "bad.tar", lambda n, d: json.dumps(manifest).encode() if n == "manifest.json" else d)
    with tarfile.open(bad, "a") as tar:
        data = dict((m.name, d) for m, d in _members(path))[real]
        info = tarfile.TarInfo(cfg_name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    _assert_refused(store, bad, IntegrityError, "does not match")


@pytest.mark.parametrize("name", ["../evil.tar", "a/../../evil.tar", "/abs/evil.tar"])
def test_member_names_that_climb_out(store, tmp_path, name):
    layers = [layer_tar({"a": b"1"})]
    path = docker_archive(tmp_path / "d.tar", layers, extra=[(name, b"x")])
    _assert_refused(store, path, UnsafeArchive, "climbs out|absolute")


def test_manifest_naming_an_escape(store, tmp_path):
    layers = [layer_tar({"a": b"1"})]
    path = docker_archive(tmp_path / "d.tar", layers, layer_names=["../../etc/passwd"],
                          extra=[])
    _assert_refused(store, path, UnsafeArchive)


@pytest.mark.parametrize("target", ["../../../etc/passwd", "/etc/passwd", "loop"])
def test_symlinked_layer_leaving_the_archive(store, tmp_path, target):
    layers = [layer_tar({"a": b"1"})]
    name = f"{sha(layers[0])[7:]}/layer.tar"
    members = [(name, "->" + (target if target != "loop" else "layer.tar"))]
    path = docker_archive(tmp_path / "d.tar", layers, layer_names=[name], extra=[])
    bad = _rewrite(path, tmp_path / "bad.tar", lambda n, d: None if n == name else d)
    with tarfile.open(bad, "a") as tar:
        info = tarfile.TarInfo(name)
        info.type = tarfile.SYMTYPE
        info.linkname = members[0][1][2:]
        tar.addfile(info)
    _assert_refused(store, bad, UnsafeArchive)


def test_not_an_archive(store, tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello world" * 100)
    _assert_refused(store, junk, UnsafeArchive)
    empty_tar = write_tar(tmp_path / "empty.tar", [("readme", b"hi")])
    _assert_refused(store, empty_tar, UnsafeArchive, "not an image archive")


def test_oversized_manifest_json(store, tmp_path):
    path = write_tar(tmp_path / "big.tar", [("manifest.json", b"[" + b" " * (2 << 20) + b"]")])
    _assert_refused(store, path, UnsafeArchive, "limit")


def test_missing_file_is_not_found(store, tmp_path):
    with pytest.raises(HullError, match="no such file"):
        load_archive(store, tmp_path / "nope.tar")
