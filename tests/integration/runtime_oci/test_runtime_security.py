"""The built-in runtime against the runtime-setup CVE classes (anchors §1.C): an image
that plants symlinks over /dev, /proc or /sys, a volume over /proc, a swapped
/dev/null, a leaked fd or a cwd outside the container.  crun and runc run the same
scenarios where their behaviour is the reference."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest


def _fresh_outside() -> Path:
    p = Path(f"/tmp/hull-evil-{uuid.uuid4().hex[:8]}")
    assert not os.path.lexists(p)
    return p


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "relative"])
def test_dev_symlink_does_not_populate_outside_rootfs(run_builtin, relative):
    # CVE-2026-41579: an image whose /dev points elsewhere must not get device nodes,
    # ptmx or the fd/stdin/... symlinks made on the host.
    outside = _fresh_outside()
    target = f"../../../..{outside}" if relative else str(outside)
    try:
        r = run_builtin(["sh", "-c", "ls -l /dev/null /dev/ptmx"], symlinks={"/dev": target})
        assert not os.path.lexists(outside), r
        if "error" in r:
            assert r["message"].count("\n") == 0 and "/dev" in r["message"], r
        else:
            assert r["exit"] == 0, r
            assert "crw-rw-rw-" in r["stdout"] and "ptmx -> pts/ptmx" in r["stdout"], r
            assert f"tmp/{outside.name}" in r["upper"], r  # the symlink was followed inside the rootfs
    finally:
        if os.path.lexists(outside):
            import shutil
            shutil.rmtree(outside, ignore_errors=True)


@pytest.mark.parametrize("where", ["/proc", "/sys"])
def test_symlinked_proc_or_sys_is_refused(run_container, where):
    # CVE-2019-19921 / CVE-2023-27561 / CVE-2023-28642: procfs or sysfs through a symlink
    # of the image lands where masks and LSM profiles do not look: runc refuses, we too.
    outside = _fresh_outside()
    r = run_container(["true"], symlinks={where: str(outside)})
    assert not os.path.lexists(outside), r
    assert "error" in r, r  # every runtime refuses
    if run_container.runtime == "crun":
        assert f"the target `{where}` is invalid: Not a directory" in r["message"], r
        return
    assert "must be mounted on ordinary directory" in r["message"], r
    if run_container.runtime == "builtin":
        kind = "proc" if where == "/proc" else "sysfs"
        assert r["message"].endswith(f'filesystem "{kind}" must be mounted on ordinary directory'), r
        assert "\n" not in r["message"]


@pytest.mark.parametrize("dest", ["/proc", "/proc/self", "/data/proc-link"])
def test_bind_onto_or_into_proc_is_refused(run_builtin, dest):
    # A volume must not replace /proc or cover a file in it; /data/proc-link -> /proc
    # shows the check is made on the resolved destination, not on the spelling.
    src = run_builtin.base / "layers"
    r = run_builtin(["true"], symlinks={"/data": "/", "/proc-link": "/proc"} if "link" in dest else {},
                    config={"extra_mounts": [{"destination": dest, "type": "bind", "source": str(src),
                                              "options": ["rbind", "ro"]}]})
    assert "error" in r, r
    assert "\n" not in r["message"]
    if dest != "/proc/self":  # /data/proc-link resolves to /proc itself
        assert r["message"].endswith(f'"{dest}" cannot be mounted because it is not of type proc'), r
    else:
        assert r["message"].endswith("cannot be mounted because it is inside /proc"), r


def test_lxcfs_style_bind_under_proc_is_allowed(run_builtin):
    src = run_builtin.base / "meminfo"
    src.write_text("MemTotal: 42 kB\n")
    os.chmod(src, 0o644)
    r = run_builtin(["cat", "/proc/meminfo"],
                    config={"extra_mounts": [{"destination": "/proc/meminfo", "type": "bind", "source": str(src),
                                              "options": ["bind", "ro"]}]})
    assert r.get("exit") == 0, r
    assert r["stdout"] == "MemTotal: 42 kB\n"


def test_no_fd_leaks_into_exec_processes(run_container):
    # CVE-2024-21626: runc's "detect fd leak as comprehensively as possible" for `exec`
    # (the container's own first process is checked in test_exit_code_streams_and_process_facts).
    r = run_container(["sleep", "30"], exec=["ls", "-l", "/proc/self/fd"], kill=True)
    assert r["exec"].get("exit") == 0, r["exec"]
    fds = {line.split(" -> ")[0].split()[-1] for line in r["exec"]["stdout"].splitlines()[1:]}
    # 3 is ls's own directory fd, closed by the time ls reads the link (hence the warning)
    assert fds == {"0", "1", "2", "3"}, r["exec"]
    assert "/proc/self/fd/3: cannot read link" in r["exec"]["stderr"], r["exec"]


@pytest.mark.parametrize("n", range(3, 9))
def test_cwd_through_a_proc_fd_never_lands_outside(run_builtin, n):
    # cwd=/proc/self/fd/N reaches the host if fd N is a leaked host directory: whatever
    # N is at chdir time, the container either refuses or runs inside its own root.
    r = run_builtin(["sh", "-c", "pwd; ls /"], config={"cwd": f"/proc/self/fd/{n}"})
    if "error" in r:
        assert "\n" not in r["message"], r
        return
    assert r["exit"] == 0, r
    where, *listing = r["stdout"].split()
    assert where.startswith("/") and "unreachable" not in where, r
    assert "bin" in listing and "proc" in listing, r


def test_dev_console_is_the_containers_pty(run_container):
    # runc and crun bind the terminal's pty slave onto /dev/console
    r = run_container(["sh", "-c", "tty; ls -lL /dev/console /dev/pts/0 | sed 's/  */ /g' | cut -d' ' -f1,5,6"],
                      config={"terminal": True}, tty=True)
    assert r["exit"] == 0, r
    out = r["tty"].replace("\r", "").splitlines()
    assert out[0] == "/dev/pts/0", r
    assert out[1].startswith("c") and out[1].split()[1:] == ["136,", "0"], r  # /dev/console: pts 0
    assert out[1] == out[2], r
