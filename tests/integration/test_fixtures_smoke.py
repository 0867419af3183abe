"""The test fixtures themselves work: images are valid OCI layouts with the content
they promise, they push to a real registry, and the CLI runners run as the right
user.  Everything later (pull, load, run) trusts these, so they are checked alone."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import stat
import tarfile
from pathlib import Path

import httpx
import pytest

from tests.fixtures.images import (
    MT_INDEX, MT_MANIFEST, MULTI_UID_OWNERS, BuiltImage, build_tiny, host_arch,
    push_to_registry, sha256_file, validate_oci,
)


def _check_layout(image: BuiltImage) -> None:
    validate_oci(json.loads((image.path / "oci-layout").read_text()), "layout")
    validate_oci(image.index, "index")
    validate_oci(image.manifest, "manifest")
    validate_oci(image.config, "config")
    assert image.index["mediaType"] == MT_INDEX
    assert image.manifest["mediaType"] == MT_MANIFEST
    # every descriptor's digest and size match the blob on disk
    for desc in [image.index["manifests"][0], image.manifest["config"], *image.manifest["layers"]]:
        assert sha256_file(image.blob(desc["digest"])) == (desc["digest"], desc["size"])
    # diff_ids are the digests of the uncompressed layers
    for ldigest, diff_id in zip(image.layer_digests, image.diff_ids, strict=True):
        h = hashlib.sha256()
        with gzip.open(image.blob(ldigest)) as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        assert "sha256:" + h.hexdigest() == diff_id
    assert image.config["architecture"] == host_arch() and image.config["os"] == "linux"
    # hulltest must be able to read the cached layout (rootless load/pull tests)
    for p in [image.path, image.path / "index.json", image.blob(image.layer_digests[0])]:
        assert os.stat(p).st_mode & stat.S_IROTH


def test_busybox_image_is_valid_layout(busybox_image: BuiltImage) -> None:
    _check_layout(busybox_image)
    assert len(busybox_image.diff_ids) == 2
    assert busybox_image.config["config"]["Cmd"] == ["sh"]
    files = busybox_image.files
    assert files["bin/busybox"].type == "file" and files["bin/busybox"].mode == 0o755
    assert files["bin/sh"].type == "symlink" and files["bin/sh"].target == "/bin/busybox"
    assert files["tmp"].mode == 0o1777
    assert files["var/www"].uid == 33
    assert "www-data:x:33:33" in _member(busybox_image, "etc/passwd")


def _member(image: BuiltImage, name: str) -> str:
    for ldigest in reversed(image.layer_digests):
        with tarfile.open(image.blob(ldigest), "r:gz") as tar:
            try:
                return tar.extractfile(name).read().decode()  # type: ignore[union-attr]
            except KeyError:
                continue
    raise KeyError(name)


def test_busybox_image_is_cached(busybox_image: BuiltImage) -> None:
    from tests.fixtures.images import build_busybox

    again = build_busybox()
    assert again.path == busybox_image.path and again.id == busybox_image.id


def test_multi_uid_image_owners_and_whiteouts(multi_uid_image: BuiltImage) -> None:
    _check_layout(multi_uid_image)
    files = multi_uid_image.files
    for path, (uid, gid) in MULTI_UID_OWNERS.items():
        assert (files[path].uid, files[path].gid) == (uid, gid), path
    assert files["usr/bin/suid-file"].mode == 0o4755
    assert files["usr/bin/sgid-file"].mode == 0o2755
    assert files["shared"].mode == 0o1777
    assert files["owned/hardlink-to-user"].type == "hardlink"
    assert files["owned/fifo"].type == "fifo"
    # layer 4's whiteouts and opaque dir take effect in the merged view
    assert "data/deleteme" not in files and "data/keep" in files
    assert not any(p.startswith("data/gone-dir") for p in files)
    assert sorted(p for p in files if p.startswith("opaque/")) == ["opaque/new"]
    # the whiteout markers really are in the last layer's tar, as tar entries
    with tarfile.open(multi_uid_image.blob(multi_uid_image.layer_digests[-1]), "r:gz") as tar:
        names = tar.getnames()
    assert {"data/.wh.deleteme", "opaque/.wh..wh..opq"} <= set(names)
    # shares its two base layers with the busybox image, byte for byte
    from tests.fixtures.images import build_busybox
    assert multi_uid_image.layer_digests[:2] == build_busybox().layer_digests


def test_archives_of_a_layout(busybox_image: BuiltImage, tmp_path: Path) -> None:
    oci = busybox_image.oci_archive(tmp_path / "bb.oci.tar")
    with tarfile.open(oci) as tar:
        names = set(tar.getnames())
    assert {"oci-layout", "index.json"} <= names
    assert f"blobs/sha256/{busybox_image.config_digest.split(':')[1]}" in names
    docker = busybox_image.docker_archive(tmp_path / "bb.docker.tar", "localhost/bb:1")
    with tarfile.open(docker) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert manifest[0]["RepoTags"] == ["localhost/bb:1"]
        for layer, diff_id in zip(manifest[0]["Layers"], busybox_image.diff_ids, strict=True):
            data = tar.extractfile(layer).read()  # type: ignore[union-attr]
            assert "sha256:" + hashlib.sha256(data).hexdigest() == diff_id


def test_tiny_images_are_distinct(tmp_path: Path) -> None:
    a, b = build_tiny(tmp_path / "a", 1, "localhost/t:1"), build_tiny(tmp_path / "b", 2, "localhost/t:2")
    _check_layout(a)
    assert a.id != b.id


def test_push_to_registry_and_get_manifest_back(registry, busybox_image: BuiltImage) -> None:
    digest = push_to_registry(busybox_image, registry, "smoke/busybox:1")
    assert digest == busybox_image.manifest_digest
    r = httpx.get(f"{registry.url}/v2/smoke/busybox/manifests/1",
                  headers={"Accept": MT_MANIFEST})
    assert r.status_code == 200
    assert r.content == busybox_image.manifest_bytes
    assert r.headers["docker-content-digest"] == busybox_image.manifest_digest
    validate_oci(r.json(), "manifest")
    cfg = httpx.get(f"{registry.url}/v2/smoke/busybox/blobs/{busybox_image.config_digest}",
                    follow_redirects=True)
    assert cfg.status_code == 200 and "sha256:" + hashlib.sha256(cfg.content).hexdigest() == busybox_image.id
    # pushing again skips existing blobs and still succeeds
    assert push_to_registry(busybox_image, registry, "smoke/busybox:2") == digest


@pytest.mark.slow
def test_debian_image_is_valid_layout(debian_image: BuiltImage) -> None:
    _check_layout(debian_image)
    assert len(debian_image.diff_ids) == 1
    files = debian_image.files
    assert files["etc/debian_version"].type == "file"
    assert files["usr/bin/su"].mode & 0o4000  # setuid survives packing
    assert not any(p.startswith("dev/") for p in files)  # no device nodes in the layer
    assert 15_000_000 < debian_image.compressed_size < 80_000_000


# -- the CLI runners, checked with a stand-in binary so they do not depend on Hull

FAKE_HULL = """#!/bin/sh
echo "uid=$(id -u) home=$HOME xdg=$XDG_RUNTIME_DIR"
echo "args=$*"
echo "oops: something failed" >&2
exit 125
"""


def _fake(runner) -> None:
    fake = runner.workdir / "fake-hull"
    fake.write_text(FAKE_HULL)
    fake.chmod(0o755)
    runner.binary = fake


def test_hull_any_runs_as_the_right_user(hull_any) -> None:
    _fake(hull_any)
    res = hull_any("images", "-q")
    rc, out, err = res
    assert rc == 125
    line = res.assert_error(125, contains="something failed")
    assert line == "oops: something failed"
    expected_uid = 0 if hull_any.mode == "root" else hull_any.user.uid
    assert f"uid={expected_uid} " in out
    assert f"args=--root {hull_any.root} --runroot {hull_any.runroot} images -q" in out
    assert f"xdg={hull_any.base / 'xdg-run'}" in out
    if hull_any.mode == "rootless":
        assert hull_any.user.uid != 0 and f"home={hull_any.user.home}" in out
        # the rootless user owns its directories, so hull can create --root there
        assert os.stat(hull_any.workdir).st_uid == hull_any.user.uid


def test_rootless_cleanup_removes_subuid_files(hull_factory) -> None:
    runner = hull_factory("rootless")
    if runner.user.subuid is None:
        pytest.skip("test user has no subuid range")
    victim = runner.root / "x"
    victim.mkdir(parents=True)
    (victim / "f").write_text("subuid-owned")
    if os.geteuid() == 0:
        os.chown(victim / "f", runner.user.subuid[0] + 32, runner.user.subuid[0] + 32)
        os.chmod(victim, 0o700)
    runner.cleanup()
    assert not runner.base.exists()


def test_real_hull_version_runs_in_both_modes(hull_any) -> None:
    hull_any("version").ok()


def test_cached_archive_is_world_readable(busybox_image: BuiltImage) -> None:
    path = busybox_image.cached_archive()
    assert path == busybox_image.cached_archive()  # built once
    assert os.stat(path).st_mode & stat.S_IROTH
    with tarfile.open(path) as tar:
        assert "index.json" in tar.getnames()


def test_load_fixture_image_in_both_modes(hull_any, busybox_image: BuiltImage) -> None:
    """The path container tests take: a fixture image loaded into a fresh store."""
    assert hull_any.load(busybox_image) == busybox_image.id
