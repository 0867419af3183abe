"""RootfsBuilder with the fake syscall layer: order, in-root destinations, masks."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from engine.errors import HullError, SyscallError
from engine.runtime.builtin.mounts import RootfsBuilder, parse_options
from engine.runtime.fake_syscalls import FakeSyscalls
from engine.runtime.syscalls import MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT


def _rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    for d in ("proc/acpi", "dev", "sys", "etc", "tmp"):
        (root / d).mkdir(parents=True)
    (root / "proc" / "kcore").write_text("")
    return root


def _spec(root: Path, mounts: list[dict] | None = None, **linux) -> dict:
    return {"root": {"path": str(root)}, "mounts": mounts or [], "linux": linux}


def _build(spec: dict) -> tuple[RootfsBuilder, FakeSyscalls]:
    sc = FakeSyscalls()
    b = RootfsBuilder(sc, spec, in_userns=True)
    try:
        b.prepare()
    finally:
        if b.root is not None:
            b.root.close()
    return b, sc


def test_options_split_into_flags_propagation_and_data():
    o = parse_options(["nosuid", "noexec", "rbind", "ro", "rslave", "mode=755", "size=64k"])
    assert o.flags == MS_NOSUID | MS_NOEXEC | MS_RDONLY
    assert o.bind and o.recursive
    assert o.propagation == (1 << 19) | MS_REC
    assert o.data_str == "mode=755,size=64k"
    assert parse_options(["ro", "rw"]).flags & MS_RDONLY == 0


def test_mounts_in_order_after_private_root_and_rootfs_bind(tmp_path: Path):
    root = _rootfs(tmp_path)
    spec = _spec(root, [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["newinstance"]},
    ])
    _b, sc = _build(spec)
    m = sc.mounts()
    assert m[0] == ("mount", None, "/", None, MS_REC | MS_PRIVATE, None)
    assert m[1][1:5] == (str(root), str(root), None, MS_BIND | MS_REC)
    assert [(x[2], x[3]) for x in m[2:5]] == [(f"{root}/proc", "proc"), (f"{root}/dev", "tmpfs"),
                                              (f"{root}/dev/pts", "devpts")]
    assert m[3][4] == MS_NOSUID and m[3][5] == "mode=755"
    assert (root / "dev" / "pts").is_dir()  # missing mount point made inside the rootfs
    # then the default devices, bound from the host (a user namespace cannot mknod)
    devs = [x for x in m[5:] if x[1] and x[1].startswith("/dev/")]
    assert [x[2] for x in devs] == [f"{root}/dev/{n}" for n in ("null", "zero", "full", "random", "urandom", "tty")]
    assert os.readlink(root / "dev" / "ptmx") == "pts/ptmx"
    assert os.readlink(root / "dev" / "stdin") == "/proc/self/fd/0"


def test_absolute_symlink_destination_stays_inside(tmp_path: Path):
    root = _rootfs(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(str(outside), root / "data")           # /data -> /tmp/.../outside (a host path)
    os.symlink("../../../../../../" + str(outside), root / "rel")  # climbing the other way
    src = tmp_path / "vol"
    src.mkdir()
    _b, sc = _build(_spec(root, [
        {"destination": "/data", "type": "bind", "source": str(src), "options": ["rbind"]},
        {"destination": "/rel/sub", "type": "tmpfs", "source": "tmpfs"},
    ]))
    targets = [x[2] for x in sc.mounts()]
    assert f"{root}{outside}" in targets
    assert f"{root}{outside}/sub" in targets
    assert not any(t == str(outside) or t.startswith(str(outside) + "/") for t in targets)
    assert os.listdir(outside) == []


def test_bind_of_a_file_creates_a_file_and_remounts_read_only(tmp_path: Path):
    root = _rootfs(tmp_path)
    src = tmp_path / "hosts"
    src.write_text("127.0.0.1 localhost\n")
    _b, sc = _build(_spec(root, [{"destination": "/etc/hosts", "type": "bind", "source": str(src),
                                  "options": ["bind", "ro", "nosuid"]}]))
    assert (root / "etc" / "hosts").is_file()
    m = [x for x in sc.mounts() if x[2] == f"{root}/etc/hosts"]
    assert m[0][1] == str(src) and m[0][4] == MS_BIND
    assert m[1][4] == MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID


def test_dangling_symlink_as_a_file_destination_is_refused(tmp_path: Path):
    root = _rootfs(tmp_path)
    os.symlink("/nowhere", root / "etc" / "hosts")
    src = tmp_path / "hosts"
    src.write_text("")
    with pytest.raises(SyscallError):
        _build(_spec(root, [{"destination": "/etc/hosts", "type": "bind", "source": str(src)}]))


def test_masked_paths_file_dir_and_missing(tmp_path: Path):
    root = _rootfs(tmp_path)
    _b, sc = _build(_spec(root, maskedPaths=["/proc/kcore", "/proc/acpi", "/proc/nothere"]))
    m = {x[2]: x for x in sc.mounts()}
    assert m[f"{root}/proc/kcore"][1] == "/dev/null" and m[f"{root}/proc/kcore"][4] == MS_BIND
    assert m[f"{root}/proc/acpi"][3] == "tmpfs" and m[f"{root}/proc/acpi"][4] & MS_RDONLY
    assert not any("nothere" in (x[2] or "") for x in sc.mounts())
    assert not (root / "proc" / "nothere").exists()


def test_readonly_paths_bind_then_remount(tmp_path: Path):
    root = _rootfs(tmp_path)
    (root / "proc" / "sys").mkdir()
    _b, sc = _build(_spec(root, readonlyPaths=["/proc/sys"]))
    m = [x for x in sc.mounts() if x[2] == f"{root}/proc/sys"]
    assert m[0][4] == MS_BIND | MS_REC
    assert m[1][4] == MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC


def test_sysfs_refused_falls_back_to_read_only_host_bind(tmp_path: Path):
    root = _rootfs(tmp_path)
    sc = FakeSyscalls()
    sc.fail[("mount", "sysfs")] = errno.EPERM
    b = RootfsBuilder(sc, _spec(root, [{"destination": "/sys", "type": "sysfs", "source": "sysfs"}]), in_userns=True)
    b.prepare()
    b.root.close()
    m = [x for x in sc.mounts() if x[2] == f"{root}/sys"]
    assert m[0][1] == "/sys" and m[0][4] == MS_BIND | MS_REC
    assert m[1][4] & MS_RDONLY and m[1][4] & MS_REMOUNT


def test_unknown_refusal_is_an_error(tmp_path: Path):
    root = _rootfs(tmp_path)
    sc = FakeSyscalls()
    sc.fail[("mount", "tmpfs")] = errno.EINVAL
    b = RootfsBuilder(sc, _spec(root, [{"destination": "/dev", "type": "tmpfs", "source": "tmpfs"}]), in_userns=True)
    with pytest.raises(SyscallError, match="mount"):
        b.prepare()
    b.root.close()


def test_finish_pivots_and_detaches_the_old_root(tmp_path: Path):
    root = _rootfs(tmp_path)
    sc = FakeSyscalls()
    b = RootfsBuilder(sc, {"root": {"path": str(root), "readonly": True}, "linux": {}}, in_userns=True)
    b.prepare()
    cwd = os.getcwd()
    try:
        b.finish()
    finally:
        os.chdir(cwd)
    names = [c[0] for c in sc.calls]
    assert names[-4:] == ["pivot_root", "mount", "umount2", "mount"]
    assert sc.calls[-1][4] & MS_RDONLY and sc.calls[-1][4] & MS_REMOUNT


def _fake_dev(tmp_path: Path, swapped: str) -> Path:
    """A host /dev whose `swapped` node is a symlink to a writable file, the others real nodes."""
    dev = tmp_path / "hostdev"
    dev.mkdir()
    for name in ("null", "zero", "full", "random", "urandom", "tty"):
        if name != swapped:  # the same node as the host's (mknod needs root, as these tests run)
            os.mknod(dev / name, 0o600 | stat.S_IFCHR, os.stat(f"/dev/{name}").st_rdev)
    (tmp_path / "secret").write_text("host data")
    os.symlink(tmp_path / "secret", dev / swapped)
    return dev


def test_mask_refuses_a_dev_null_that_is_not_the_null_device(tmp_path: Path):
    # CVE-2025-31133: /dev/null swapped for a symlink to a file would turn masking into a rw bind of it
    root = _rootfs(tmp_path)
    sc = FakeSyscalls()
    b = RootfsBuilder(sc, _spec(root, maskedPaths=["/proc/kcore"]), in_userns=False,
                      host_dev=str(_fake_dev(tmp_path, "null")))
    with pytest.raises(HullError, match="is not the device 1:3"):
        try:
            b.prepare()
        finally:
            b.root.close()
    assert not any(str(tmp_path / "secret") == x[1] for x in sc.mounts())


def test_mask_binds_the_checked_null_device(tmp_path: Path):
    root = _rootfs(tmp_path)
    _b, sc = _build(_spec(root, maskedPaths=["/proc/kcore"]))
    src = next(x[1] for x in sc.mounts() if x[2] == f"{root}/proc/kcore")
    assert os.stat(src).st_rdev == os.makedev(1, 3)


def test_userns_device_bind_refuses_a_swapped_host_node(tmp_path: Path):
    root = _rootfs(tmp_path)
    sc = FakeSyscalls()
    b = RootfsBuilder(sc, _spec(root), in_userns=True, host_dev=str(_fake_dev(tmp_path, "zero")))
    with pytest.raises(HullError, match="hostdev/zero is not the device 1:5"):
        try:
            b.prepare()
        finally:
            b.root.close()
    assert not any(str(tmp_path / "secret") == x[1] for x in sc.mounts())
