"""build_spec over the real busybox fixture image, unpacked with apply_layer: the
user comes from the image's own /etc/passwd, and the spec validates.  Run as root
and as the unprivileged test user inside a user namespace (files then belong to
subuids, which the in-root reads must not mind)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from engine.archive.extract import apply_layer
from engine.errors import InvalidArgument
from engine.spec.generate import SpecContext, build_spec
from engine.spec.options import ContainerOptions
from tests.fixtures.users import remove_tree, user_tmpdir
from tests.unit.spec.oci_schema import schema_errors

REPO = Path(__file__).resolve().parents[3]


def _unpack(image, dest: Path) -> Path:
    """Each layer in its own dir (overlay form); the top one holds /etc/passwd."""
    top = None
    for i, digest in enumerate(image.layer_digests):
        layer_dir = dest / f"l{i}"
        layer_dir.mkdir()
        with open(image.blob(digest), "rb") as fh:
            apply_layer(fh, layer_dir)
        top = layer_dir
    assert top is not None and (top / "etc/passwd").is_file()
    return top


def test_busybox_users_and_spec(busybox_image, tmp_path):
    rootfs = _unpack(busybox_image, tmp_path)
    config = busybox_image.config
    ctx = SpecContext(container_id="f" * 64, rootfs=str(rootfs))
    spec = build_spec(config, ContainerOptions(image="busybox", user="www-data"), ctx)
    assert schema_errors(spec) == []
    assert spec["process"]["args"] == ["sh"]
    assert spec["process"]["user"]["uid"] == 33 and spec["process"]["user"]["gid"] == 33
    env = dict(e.split("=", 1) for e in spec["process"]["env"])
    assert env["HOME"] == "/var/www" and env["container"] == "podman"
    assert env["PATH"] == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    spec = build_spec(config, ContainerOptions(image="busybox", user="nobody:nogroup",
                                               command=["id"]), ctx)
    assert (spec["process"]["user"]["uid"], spec["process"]["user"]["gid"]) == (65534, 65534)
    root = build_spec(config, ContainerOptions(image="busybox"), ctx)
    assert root["process"]["user"]["uid"] == 0
    assert dict(e.split("=", 1) for e in root["process"]["env"])["HOME"] == "/root"
    with pytest.raises(InvalidArgument, match="unable to find user alice: no matching entries in passwd file"):
        build_spec(config, ContainerOptions(image="busybox", user="alice"), ctx)


SCRIPT = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from engine.archive.extract import apply_layer
from engine.spec.generate import SpecContext, build_spec
from engine.spec.options import ContainerOptions
blobs, work = json.loads(sys.argv[2]), sys.argv[3]
top = None
for i, blob in enumerate(blobs):
    top = os.path.join(work, f"l{i}")
    os.mkdir(top)
    with open(blob, "rb") as fh:
        apply_layer(fh, top)
ctx = SpecContext(container_id="e" * 64, rootfs=top, rootless=True)
spec = build_spec({"config": {"Cmd": ["sh"]}}, ContainerOptions(user="www-data"), ctx)
print(json.dumps({"user": spec["process"]["user"], "spec": spec}))
"""


@pytest.mark.rootless
@pytest.mark.skipif(shutil.which("unshare") is None or shutil.which("newuidmap") is None,
                    reason="needs unshare and newuidmap")
def test_busybox_rootless_in_userns(busybox_image, test_user):
    if test_user.subuid is None:
        pytest.skip(f"{test_user.name} has no subuid range")
    work = user_tmpdir(test_user, "spec")
    os.chmod(work, 0o777)
    try:
        blobs = [str(busybox_image.blob(d)) for d in busybox_image.layer_digests]
        proc = test_user.run(["unshare", "--map-auto", "--map-root-user", sys.executable, "-c", SCRIPT,
                              str(REPO), json.dumps(blobs), str(work)],
                             capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        assert out["user"]["uid"] == 33 and out["user"]["gid"] == 33
        assert schema_errors(out["spec"]) == []
        # the var/www dir the image gives to uid 33 lands on the 33rd subuid outside
        assert os.stat(work / "l1" / "var/www").st_uid == test_user.subuid[0] + 32
    finally:
        remove_tree(work, test_user)
