"""Kernel overlay mounts: as real root, and rootless inside Hull's shared namespace."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from engine.errors import StorageError
from engine.runtime.overlay import is_mountpoint, mount_overlay, unmount

REPO = Path(__file__).resolve().parents[3]
PYTHON = sys.executable
USER = "hulltest"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root or a user namespace")


def _has_user() -> bool:
    try:
        pwd.getpwnam(USER)
        return True
    except KeyError:
        return False


def _make_layers(base: Path) -> tuple[Path, Path]:
    """bottom: a b dir/x; top: whiteout of a, c, opaque dir/ holding y."""
    bottom, top = base / "bottom", base / "top"
    for d in (bottom / "dir", top / "dir"):
        d.mkdir(parents=True)
    for f in (bottom / "a", bottom / "b", bottom / "dir" / "x", top / "c", top / "dir" / "y"):
        f.write_text(f.name)
    os.mknod(top / "a", stat.S_IFCHR | 0o600, os.makedev(0, 0))
    os.setxattr(top / "dir", "user.overlay.opaque", b"y")
    return bottom, top


@pytest.fixture
def workdir():
    base = Path(tempfile.mkdtemp(prefix="hull-overlay-", dir="/tmp"))
    os.chmod(base, 0o777)
    yield base
    for mnt in base.glob("mnt*"):
        while is_mountpoint(mnt):
            unmount(mnt, lazy=True)
    shutil.rmtree(base, ignore_errors=True)


@needs_root
def test_root_overlay_hides_whiteouts_and_honours_user_opaque(workdir: Path):
    bottom, top = _make_layers(workdir)
    mnt = workdir / "mnt"
    mnt.mkdir()
    mount_overlay([top, bottom], mnt, readonly=True)
    try:
        assert sorted(os.listdir(mnt)) == ["b", "c", "dir"]
        assert os.listdir(mnt / "dir") == ["y"]
        with pytest.raises(OSError):
            (mnt / "new").write_text("x")
    finally:
        unmount(mnt)
    assert not is_mountpoint(mnt)


@needs_root
def test_root_overlay_writes_go_to_upper(workdir: Path):
    bottom, top = _make_layers(workdir)
    mnt, upper, work = workdir / "mnt", workdir / "upper", workdir / "work"
    for d in (mnt, upper, work):
        d.mkdir()
    mount_overlay([top, bottom], mnt, upper, work)
    try:
        (mnt / "new").write_text("x")
        os.unlink(mnt / "b")
        assert sorted(os.listdir(mnt)) == ["c", "dir", "new"]
    finally:
        unmount(mnt)
    assert (upper / "new").read_text() == "x"
    st = os.lstat(upper / "b")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0  # a whiteout, in overlay form


@needs_root
def test_single_layer_read_only_uses_empty_mountpoint(workdir: Path):
    bottom, top = _make_layers(workdir)
    mnt = workdir / "mnt"
    mnt.mkdir()
    mount_overlay([top], mnt, readonly=True)
    try:
        assert sorted(os.listdir(mnt)) == ["c", "dir"]  # the whiteout of `a` is not shown as a file
    finally:
        unmount(mnt)
    (mnt / "junk").write_text("")
    with pytest.raises(Exception, match="not empty"):
        mount_overlay([top], mnt, readonly=True)


@needs_root
def test_deep_stack_of_long_paths(workdir: Path):
    layers = []
    for i in range(120):  # ~80 chars each: too long for one page of absolute paths
        d = workdir / "layers" / f"{i:064x}" / "diff"
        d.mkdir(parents=True)
        (d / f"f{i}").write_text("")
        layers.append(d)
    mnt = workdir / "mnt"
    mnt.mkdir()
    cwd = os.getcwd()
    mount_overlay(layers[::-1], mnt, readonly=True)
    try:
        assert len(os.listdir(mnt)) == 120
        assert os.getcwd() == cwd
    finally:
        unmount(mnt)


@needs_root
def test_unmount_of_a_plain_directory(workdir: Path):
    with pytest.raises(StorageError, match="not mounted"):
        unmount(workdir)


def _as_hulltest(base: Path, code: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": f"/home/{USER}", "PYTHONPATH": str(REPO),
           "HULL_ROOT": str(base / "root"), "HULL_RUNROOT": str(base / "run")}
    head = ("import os, stat\nfrom pathlib import Path\nfrom engine.config import EngineConfig\n"
            "from engine.runtime.userns import ensure_in_userns\nensure_in_userns(EngineConfig())\n")
    result = subprocess.run(["runuser", "-u", USER, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
                             PYTHON, "-c", head + textwrap.dedent(code)],
                            cwd=base, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.skipif(os.geteuid() != 0 or not _has_user() or not shutil.which("newuidmap"),
                    reason="needs root, the hulltest user and newuidmap")
def test_rootless_mount_persists_for_the_next_process(workdir: Path):
    try:
        _as_hulltest(workdir, f"""
from engine.runtime.overlay import mount_overlay
base = Path("{workdir}")
bottom, top, mnt = base / "bottom", base / "top", base / "mnt"
for d in (bottom / "dir", top / "dir", mnt):
    d.mkdir(parents=True)
for f in (bottom / "a", bottom / "b", bottom / "dir" / "x", top / "c", top / "dir" / "y"):
    f.write_text(f.name)
os.mknod(top / "a", stat.S_IFCHR | 0o600, os.makedev(0, 0))  # unprivileged whiteout
os.setxattr(top / "dir", "user.overlay.opaque", b"y")
mount_overlay([top, bottom], mnt, readonly=True)
""")
        mnt = workdir / "mnt"
        assert os.listdir(mnt) == []  # the host's mount namespace never sees it
        seen = _as_hulltest(workdir, f"""
mnt = Path("{mnt}")
print(sorted(os.listdir(mnt)), os.listdir(mnt / "dir"))
""").stdout.strip()
        assert seen == "['b', 'c', 'dir'] ['y']"
        _as_hulltest(workdir, f"""
from engine.runtime.overlay import unmount
unmount(Path("{mnt}"))
""")
        assert _as_hulltest(workdir, f"print(os.listdir('{mnt}'))").stdout.strip() == "[]"
    finally:
        try:
            os.kill(int((workdir / "run" / "pause.pid").read_text().split()[0]), signal.SIGKILL)
        except (OSError, ValueError):
            pass
