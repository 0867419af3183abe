"""cp, export, diff and commit of a container that is not running, straight from
storage (a detached overlay of its upper dir over the image's layers), as root,
in-process: a container record with hand-made changes in its upper dir."""

import io
import os
import stat
import tarfile

import pytest

from engine.config import EngineConfig
from engine.errors import InvalidArgument, NotFound
from engine.services.container_commit import CommitOptions, commit_container
from engine.services.container_fs import (CopyOptions, copy_from_container, copy_to_container,
                                          diff_container, export_container)
from engine.store import Store

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="in-process storage tests run as root")


@pytest.fixture
def ctr(hull, busybox_image, tmp_path):
    image_id = hull.load(busybox_image)
    cfg = EngineConfig(root=hull.root, runroot=hull.runroot, rootless=False)
    store = Store.open(cfg)
    c = store.containers.create("iotest", image_id, "localhost/busybox:latest",
                                options={"command": ["sh"]}, command=["sh"])
    store.containers.make_dirs(c.id)
    upper = store.containers.upper(c.id)
    (upper / "etc").mkdir()
    (upper / "etc" / "passwd").write_text("root:x:0:0:changed:/root:/bin/sh\n")   # C
    (upper / "added.txt").write_text("new file\n")                                 # A
    os.mknod(upper / "home", stat.S_IFCHR, 0)                                       # D (whiteout)
    yield cfg, store, c, tmp_path


def test_diff_lists_added_changed_deleted(ctr):
    cfg, store, c, _ = ctr
    changes = [str(x) for x in diff_container(cfg, "iotest")]
    assert changes == ["A /added.txt", "C /etc", "C /etc/passwd", "D /home"]


def test_export_has_the_merged_tree(ctr):
    cfg, store, c, tmp = ctr
    out = tmp / "export.tar"
    export_container(cfg, "iotest", str(out))
    with tarfile.open(out) as t:
        names = set(t.getnames())
        assert t.extractfile("etc/passwd").read().startswith(b"root:x:0:0:changed")
    assert {"added.txt", "bin/busybox", "etc/group"} <= names
    assert "home" not in names and not any(n.startswith(".wh.") or "/.wh." in n for n in names)


def test_cp_out_and_in_of_a_stopped_container(ctr):
    cfg, store, c, tmp = ctr
    copy_from_container(cfg, "iotest", "/etc/passwd", str(tmp / "passwd"))
    assert (tmp / "passwd").read_text().startswith("root:x:0:0:changed")
    copy_from_container(cfg, c.id[:12], "/etc/group", str(tmp))
    assert (tmp / "group").exists()
    buf = io.BytesIO()
    copy_from_container(cfg, "iotest", "/etc", buf)
    assert "etc/passwd" in tarfile.open(fileobj=io.BytesIO(buf.getvalue())).getnames()
    (tmp / "in.txt").write_text("copied in\n")
    copy_to_container(cfg, "iotest", str(tmp / "in.txt"), "/root/")
    up = store.containers.upper(c.id) / "root" / "in.txt"
    assert up.read_text() == "copied in\n" and up.stat().st_uid == 0
    with pytest.raises(NotFound):
        copy_from_container(cfg, "iotest", "/home/nothing", str(tmp))
    with pytest.raises(InvalidArgument):
        copy_to_container(cfg, "iotest", io.BytesIO(b""), "/etc/passwd")


def test_commit_makes_an_image_with_the_changes(ctr):
    cfg, store, c, tmp = ctr
    image = commit_container(cfg, "iotest", CommitOptions(
        name="localhost/committed:v1", changes=["ENV FOO=bar", "LABEL a=b"], message="msg",
        author="me", format="docker"))
    image = store.images.lookup("localhost/committed:v1")
    doc = image.config
    assert "FOO=bar" in doc["config"]["Env"] and doc["config"]["Labels"]["a"] == "b"
    assert doc["author"] == "me" and doc["history"][-1]["comment"] == "msg"
    assert image.manifest_media_type.startswith("application/vnd.docker")
    top = store.layers.diff_path(image.layers[-1])
    assert (top / "added.txt").read_text() == "new file\n"
    st = os.lstat(top / "home")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0  # the deletion travels as a whiteout
    assert len(image.layers) == len(store.images.get(c.image_id).layers) + 1
    with pytest.raises(InvalidArgument):
        commit_container(cfg, "iotest", CommitOptions(format="nope"))
