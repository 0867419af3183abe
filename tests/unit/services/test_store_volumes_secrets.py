"""Volumes (names, options, in-use tracking, copy-up) and secrets (0600, limits) in the store."""

from __future__ import annotations

import os
import stat

import pytest

from engine.config import EngineConfig
from engine.errors import Conflict, InUse, InvalidArgument, NotFound, VolumeNotFound
from engine.services import secrets as secret_services
from engine.store import Store
from engine.store.volumes import copy_up


@pytest.fixture
def store(tmp_path):
    s = Store.open(EngineConfig(root=tmp_path / "root", runroot=tmp_path / "run", rootless=False))
    yield s
    s.close()


def test_volume_create_and_mountpoint(store):
    v = store.volumes.create("data", labels={"a": "b"}, options={"uid": "1000", "gid": "1001"})
    assert v.mountpoint == str(store.cfg.root / "volumes" / "data" / "_data")
    st = os.stat(v.mountpoint)
    assert (st.st_uid, st.st_gid) == (1000, 1001) and stat.S_IMODE(st.st_mode) == 0o755
    assert v.labels == {"a": "b"} and v.uid == 1000 and not v.anonymous
    with pytest.raises(Conflict, match="volume with name data already exists: volume already exists"):
        store.volumes.create("data")
    assert store.volumes.create("data", ignore_existing=True).labels == {"a": "b"}


def test_volume_bad_input(store, tmp_path):
    with pytest.raises(InvalidArgument):
        store.volumes.create("bad/name")
    with pytest.raises(InvalidArgument, match="invalid mount option"):
        store.volumes.create("x", options={"frob": "1"})
    with pytest.raises(InvalidArgument):
        store.volumes.create("x", driver="nfs")
    with pytest.raises(InvalidArgument):
        store.volumes.create("x", options={"uid": "abc"})
    with pytest.raises(InvalidArgument, match="no such directory"):
        store.volumes.create("x", options={"o": "bind", "device": str(tmp_path / "missing")})
    assert store.volumes.list() == []


def test_bind_device_volume_uses_the_device(store, tmp_path):
    (tmp_path / "dev").mkdir()
    v = store.volumes.create("b", options={"o": "bind", "device": str(tmp_path / "dev"), "type": "none"})
    assert v.data_path == str(tmp_path / "dev") and not v.needs_mount


def test_anonymous_volume(store):
    v = store.volumes.create()
    assert v.anonymous and len(v.name) == 64


def test_in_use_volume_cannot_be_removed(store):
    store.volumes.create("data")
    c = store.containers.create("c", None, "img")
    store.volumes.attach(c.id, "data", "/data")
    assert store.volumes.users("data") == [c.id]
    assert store.volumes.of_container(c.id) == [("data", "/data")]
    assert store.volumes.unused() == []
    with pytest.raises(InUse, match=f"volume data is being used by the following container\\(s\\): {c.id}"):
        store.volumes.remove("data")
    store.containers.delete(c.id)  # the reference goes with the container row
    assert [v.name for v in store.volumes.unused()] == ["data"]
    store.volumes.remove("data")
    assert not (store.cfg.root / "volumes" / "data").exists()
    with pytest.raises(VolumeNotFound, match='no volume with name "data" found: no such volume'):
        store.volumes.get("data")


def test_volume_lookup_prefix(store):
    store.volumes.create("alpha")
    store.volumes.create("alpine")
    assert store.volumes.lookup("alph").name == "alpha"
    with pytest.raises(InvalidArgument):
        store.volumes.lookup("al")
    with pytest.raises(VolumeNotFound):
        store.volumes.lookup("zz")


def test_copy_up_keeps_metadata(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    (src / "sub").mkdir(parents=True)
    dest.mkdir()
    os.chmod(src, 0o1777)
    (src / "file").write_bytes(b"hello")
    os.chown(src / "file", 123, 456)
    os.chmod(src / "file", 0o4750)  # after chown, which clears setuid
    os.link(src / "file", src / "hard")
    os.symlink("/etc/passwd", src / "sub" / "link")
    os.utime(src / "sub", (1000, 2000))
    assert copy_up(str(src), str(dest)) is True
    st = os.lstat(dest / "file")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (123, 456, 0o4750)
    assert (dest / "file").read_bytes() == b"hello"
    assert os.lstat(dest / "hard").st_ino == st.st_ino
    assert os.readlink(dest / "sub" / "link") == "/etc/passwd"  # copied as a link, never followed
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o1777
    assert os.stat(dest / "sub").st_mtime == 2000
    # a volume with content is never copied into again
    (src / "new").write_text("x")
    assert copy_up(str(src), str(dest)) is False and not (dest / "new").exists()


def test_copy_up_from_fd(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    src.mkdir()
    dest.mkdir()
    (src / "a").write_text("1")
    fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert copy_up(fd, str(dest))
    finally:
        os.close(fd)
    assert (dest / "a").read_text() == "1"


def test_secret_storage(store):
    s = store.secrets.create("token", b"s3cret", labels={"x": "y"})
    assert len(s.id) == 25
    path = store.cfg.root / "secrets" / s.id
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert store.secrets.read_data(store.secrets.lookup("token")) == b"s3cret"
    assert store.secrets.lookup(s.id[:6]).name == "token"
    with pytest.raises(Conflict, match="token: secret name in use"):
        store.secrets.create("token", b"other")
    replaced = store.secrets.create("token", b"other", replace=True)
    assert replaced.id == s.id and store.secrets.read_data(replaced) == b"other"
    store.secrets.remove("token")
    assert not path.exists()
    with pytest.raises(NotFound, match='no secret with name or id "token": no such secret'):
        store.secrets.lookup("token")


@pytest.mark.parametrize("data", [b"", b"x" * 512001])
def test_secret_size_limits(store, data):
    with pytest.raises(InvalidArgument, match="less than 512000 bytes"):
        store.secrets.create("s", data)


def test_secret_inspect_has_no_data(tmp_path):
    cfg = EngineConfig(root=tmp_path / "root", runroot=tmp_path / "run", rootless=False)
    secret_services.create(cfg, "pw", b"hunter2-value")
    docs = secret_services.inspect(cfg, ["pw"]) + secret_services.list_secrets(cfg)
    assert "hunter2-value" not in repr(docs)
    assert docs[0]["Spec"]["Name"] == "pw"
    report = secret_services.remove(cfg, ["pw", "nope"])
    assert report.exit_code == 125 and len(report.removed) == 1  # Podman sets no code of its own: 125
