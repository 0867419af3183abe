"""The built-in runtime's own /proc writes cannot be redirected (CVE-2025-52881 class):
sysctls go through a private procfs handle (engine/runtime/procfs.py), not through the
container's /proc, so a bind the spec (or a volume the container controls) puts under
/proc/sys does not receive the write; a proc mount through an image symlink lands
inside the rootfs.  Root and rootless."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def test_sysctl_write_goes_to_procfs_not_to_a_bind_over_it(run_builtin):
    # /proc/sys/kernel/ns_last_pid is on runc's lxcfs list, so a bind over it is allowed;
    # writing the sysctl through the container's /proc would fill the bound host file.
    src = run_builtin.base / f"ns_last_pid-{uuid.uuid4().hex[:6]}"
    src.write_text("7\n")
    if run_builtin.user is not None:
        os.chown(src, run_builtin.user.uid, run_builtin.user.gid)
    try:
        r = run_builtin(["sh", "-c", "true & echo $!; wait; cat /proc/sys/kernel/ns_last_pid"],
                        sysctl={"kernel.ns_last_pid": "500"},
                        config={"extra_mounts": [{"destination": "/proc/sys/kernel/ns_last_pid", "type": "bind",
                                                  "source": str(src), "options": ["bind", "rw"]}]})
        assert r.get("exit") == 0, r
        assert src.read_text() == "7\n", r  # the host file behind the bind was not written
        child, shown = r["stdout"].split()
        assert child == "501", r  # the pid namespace's real ns_last_pid got the value
        assert shown == "7", r  # the bind is still what the container sees there
    finally:
        src.unlink()


def test_proc_mount_through_an_image_symlink_lands_inside(run_builtin):
    outside = Path(f"/tmp/hull-evil-{uuid.uuid4().hex[:8]}")
    r = run_builtin(["sh", "-c", f"grep ' {outside} proc ' /proc/mounts && test -e {outside}/self/status "
                                 "&& echo proc-inside"],
                    symlinks={"/mnt": str(outside)},
                    config={"extra_mounts": [{"destination": "/mnt", "type": "proc", "source": "proc",
                                              "options": ["nosuid", "noexec", "nodev"]}]})
    assert not os.path.lexists(outside), r
    assert r.get("exit") == 0, r
    assert "proc-inside" in r["stdout"], r


def test_unknown_sysctl_is_one_line_naming_it(run_builtin):
    r = run_builtin(["true"], sysctl={"kernel.no_such_sysctl": "1"})
    assert "error" in r, r
    assert "\n" not in r["message"] and "/proc/sys/kernel/no_such_sysctl" in r["message"], r
