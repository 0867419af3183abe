"""cp mechanics on plain directories standing in for a container root: Docker's
semantics, symlinks planted in the "container" pointing at host paths, archives
from stdin, and the CVE-2018-15664 swap race.  Nothing here needs a container."""

import io
import os
import subprocess
import tarfile
import time

import pytest

from engine.archive.inroot import InRoot
from engine.errors import HullError, InvalidArgument, NotFound, UnsafeArchive
from engine.services.container_cp import CopyOptions, copy_in, copy_out

WHERE = "container test"


@pytest.fixture
def env(tmp_path):
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("ctr\n")
    (root / "data" / "sub").mkdir(parents=True)
    (root / "data" / "a.txt").write_text("A")
    (root / "data" / "sub" / "b.txt").write_text("B")
    os.symlink("a.txt", root / "data" / "link")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "secret").write_text("host secret")
    host = tmp_path / "host"
    host.mkdir()
    with InRoot(root) as r:
        yield r, root, host, victim


def snapshot(path):
    out = {}
    for dirpath, dirs, files in os.walk(path):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            out[p] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


# -- Docker's semantics ----------------------------------------------------------------------
def test_out_file_to_new_name_and_into_dir(env):
    r, root, host, _ = env
    copy_out(r, "/etc/hostname", str(host / "h"), CopyOptions(), WHERE)
    assert (host / "h").read_text() == "ctr\n"
    copy_out(r, "etc/hostname", str(host), CopyOptions(), WHERE)
    assert (host / "hostname").read_text() == "ctr\n"
    (host / "h").write_text("old contents that are longer")
    copy_out(r, "/etc/hostname", str(host / "h"), CopyOptions(), WHERE)
    assert (host / "h").read_text() == "ctr\n"


def test_out_dir_new_existing_and_contents(env):
    r, root, host, _ = env
    copy_out(r, "/data", str(host / "new"), CopyOptions(), WHERE)
    assert (host / "new" / "sub" / "b.txt").read_text() == "B"
    assert os.readlink(host / "new" / "link") == "a.txt"
    (host / "exists").mkdir()
    copy_out(r, "/data", str(host / "exists"), CopyOptions(), WHERE)
    assert (host / "exists" / "data" / "a.txt").read_text() == "A"
    (host / "flat").mkdir()
    copy_out(r, "/data/.", str(host / "flat"), CopyOptions(), WHERE)
    assert sorted(os.listdir(host / "flat")) == ["a.txt", "link", "sub"]


def test_out_symlink_itself_or_followed(env):
    r, root, host, _ = env
    copy_out(r, "/data/link", str(host / "l"), CopyOptions(), WHERE)
    assert os.readlink(host / "l") == "a.txt"
    copy_out(r, "/data/link", str(host / "f"), CopyOptions(follow_link=True), WHERE)
    assert (host / "f").read_text() == "A" and not os.path.islink(host / "f")


def test_out_errors(env):
    r, root, host, _ = env
    (host / "file").write_text("x")
    with pytest.raises(InvalidArgument, match="must be a directory"):
        copy_out(r, "/data", str(host / "file"), CopyOptions(), WHERE)
    with pytest.raises(NotFound, match="could not be found on container test"):
        copy_out(r, "/nope", str(host), CopyOptions(), WHERE)
    with pytest.raises(NotFound):
        copy_out(r, "/etc/hostname", str(host / "missing" / "x"), CopyOptions(), WHERE)


def test_out_to_stream_is_a_tar(env):
    r, root, host, _ = env
    buf = io.BytesIO()
    copy_out(r, "/data", buf, CopyOptions(), WHERE)
    names = tarfile.open(fileobj=io.BytesIO(buf.getvalue())).getnames()
    assert names == ["data", "data/a.txt", "data/link", "data/sub", "data/sub/b.txt"]


def test_in_file_and_dir(env):
    r, root, host, _ = env
    (host / "f.txt").write_text("F")
    (host / "d" / "e").mkdir(parents=True)
    (host / "d" / "e" / "g").write_text("G")
    copy_in(r, str(host / "f.txt"), "/etc", CopyOptions(), WHERE, root_ids=(os.getuid(), os.getgid()))
    assert (root / "etc" / "f.txt").read_text() == "F"
    copy_in(r, str(host / "d"), "/newdir", CopyOptions(), WHERE, root_ids=(os.getuid(), os.getgid()))
    assert (root / "newdir" / "e" / "g").read_text() == "G"
    copy_in(r, str(host / "d") + "/.", "/data", CopyOptions(), WHERE, root_ids=(os.getuid(), os.getgid()))
    assert (root / "data" / "e" / "g").read_text() == "G"
    with pytest.raises(InvalidArgument, match="cannot overwrite directory"):
        (host / "sub").write_text("not a dir")
        copy_in(r, str(host / "sub"), "/data", CopyOptions(), WHERE, root_ids=(os.getuid(), os.getgid()))


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_in_ownership_root_or_archive(env):
    r, root, host, _ = env
    (host / "owned").write_text("o")
    os.chown(host / "owned", 1234, 5678)
    copy_in(r, str(host / "owned"), "/etc", CopyOptions(), WHERE)
    st = os.stat(root / "etc" / "owned")
    assert (st.st_uid, st.st_gid) == (0, 0)
    copy_in(r, str(host / "owned"), "/data", CopyOptions(archive=True), WHERE)
    st = os.stat(root / "data" / "owned")
    assert (st.st_uid, st.st_gid) == (1234, 5678)


def test_out_strips_setuid_without_archive(env):
    r, root, host, _ = env
    (root / "suid").write_text("x")
    os.chmod(root / "suid", 0o4755)
    copy_out(r, "/suid", str(host / "plain"), CopyOptions(), WHERE)
    assert os.stat(host / "plain").st_mode & 0o7777 == 0o755


# -- symlinks pointing at the host ------------------------------------------------------------
def test_container_symlink_to_host_dir_stays_inside(env):
    r, root, host, victim = env
    os.symlink(str(victim), root / "evil")          # absolute: the host's victim dir
    os.symlink("/", root / "etc" / "up")            # `/etc/up -> /`
    before = snapshot(victim)
    (host / "payload").write_text("pwned")
    # writing through the symlinks lands inside the root, or fails: never in victim
    try:
        copy_in(r, str(host / "payload"), "/evil/", CopyOptions(), WHERE, root_ids=(os.getuid(), os.getgid()))
    except HullError:
        pass
    copy_in(r, str(host / "payload"), "/etc/up", CopyOptions(), WHERE, root_ids=(os.getuid(), os.getgid()))
    assert (root / "payload").read_text() == "pwned"
    assert snapshot(victim) == before and (victim / "secret").read_text() == "host secret"
    # reading through them never reads the host's file
    with pytest.raises(NotFound):
        copy_out(r, "/evil/secret", str(host / "stolen"), CopyOptions(), WHERE)
    assert not (host / "stolen").exists()


def test_host_destination_not_redirected_by_container_symlinks(env):
    r, root, host, victim = env
    os.symlink(str(victim), root / "data" / "sub" / "b.txt.lnk")
    copy_out(r, "/data", str(host / "copy"), CopyOptions(), WHERE)
    assert os.readlink(host / "copy" / "sub" / "b.txt.lnk") == str(victim)  # copied as a symlink
    assert sorted(os.listdir(victim)) == ["secret"]


def tar_bytes(*members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def member(name, kind=tarfile.REGTYPE, data=b"", linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = linkname
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    return info, data if kind == tarfile.REGTYPE else None


def test_stdin_archive_symlink_then_write_through_it(env):
    r, root, host, victim = env
    data = tar_bytes(member("x", tarfile.SYMTYPE, linkname=str(victim)),
                     member("x/secret", data=b"overwritten"),
                     member("y", tarfile.SYMTYPE, linkname="../../../.."),
                     member("y/z", data=b"z"))
    try:
        copy_in(r, io.BytesIO(data), "/etc", CopyOptions(), WHERE, root_ids=(os.getuid(), os.getgid()))
    except HullError:
        pass
    assert (victim / "secret").read_text() == "host secret"
    assert not (root.parent / "z").exists() and not os.path.exists("/z")


def test_stdin_archive_refuses_dotdot_and_needs_a_dir(env):
    r, root, host, victim = env
    with pytest.raises(UnsafeArchive):
        copy_in(r, io.BytesIO(tar_bytes(member("../../victim/new", data=b"x"))), "/etc",
                CopyOptions(), WHERE, root_ids=(os.getuid(), os.getgid()))
    with pytest.raises(InvalidArgument, match="must be a directory"):
        copy_in(r, io.BytesIO(tar_bytes(member("a"))), "/etc/hostname", CopyOptions(), WHERE)
    assert sorted(os.listdir(victim)) == ["secret"]


def test_stdin_compressed_in_process_never_exec(env, tmp_path, monkeypatch):
    """CVE-2026-41567: xz magic + junk must be refused in-process, never run an `xz`."""
    r, root, host, victim = env
    bindir = tmp_path / "bin"
    bindir.mkdir()
    marker = tmp_path / "ran"
    for tool in ("xz", "unxz", "unpigz", "gzip", "zstd"):
        (bindir / tool).write_text(f"#!/bin/sh\ntouch {marker}\n")
        os.chmod(bindir / tool, 0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    with pytest.raises(UnsafeArchive):
        copy_in(r, io.BytesIO(b"\xfd7zXZ\x00" + b"junk" * 100), "/etc", CopyOptions(), WHERE)
    import gzip
    copy_in(r, io.BytesIO(gzip.compress(tar_bytes(member("gz.txt", data=b"ok")))), "/etc",
            CopyOptions(), WHERE, root_ids=(os.getuid(), os.getgid()))
    assert (root / "etc" / "gz.txt").read_text() == "ok" and not marker.exists()


# -- CVE-2018-15664: the container swaps a directory for a symlink while we copy ---------------
SWAPPER = r"""
import os, sys, time
root, victim, stop = sys.argv[1], sys.argv[2], sys.argv[3]
d, tmp = os.path.join(root, "swap"), os.path.join(root, "swap.tmp")
while not os.path.exists(stop):
    try:
        os.symlink(victim, tmp)
        os.rename(tmp, d) if not os.path.isdir(d) or os.path.islink(d) else None
    except OSError:
        pass
    try:
        if os.path.islink(d):
            os.unlink(d)
        os.makedirs(d, exist_ok=True)
    except OSError:
        pass
    try:
        if os.path.isdir(d) and not os.path.islink(d):
            os.rename(d, d + ".old")
            os.symlink(victim, d)
            import shutil; shutil.rmtree(d + ".old", ignore_errors=True)
    except OSError:
        pass
"""


def test_swap_race_never_escapes(env, tmp_path):
    r, root, host, victim = env
    (host / "payload").write_text("pwned")
    stop = tmp_path / "stop"
    swapper = subprocess.Popen(["python3", "-c", SWAPPER, str(root), str(victim), str(stop)])
    try:
        deadline = time.monotonic() + 4
        rounds = 0
        while time.monotonic() < deadline:
            for dest in ("/swap", "/swap/", "/swap/x"):
                try:
                    copy_in(r, str(host / "payload"), dest, CopyOptions(), WHERE,
                            root_ids=(os.getuid(), os.getgid()))
                except HullError:
                    pass
            try:
                copy_out(r, "/swap/secret", str(host / "out"), CopyOptions(), WHERE)
            except HullError:
                pass
            rounds += 1
    finally:
        stop.write_text("")
        swapper.wait(10)
    assert rounds > 10
    assert sorted(os.listdir(victim)) == ["secret"]
    assert (victim / "secret").read_text() == "host secret"
    assert not (host / "out").exists() or (host / "out").read_text() != "host secret"
