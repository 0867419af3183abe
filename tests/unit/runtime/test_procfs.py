"""engine/runtime/procfs.py: the private procfs handle refuses anything that is not
procfs, and a bind over a /proc file does not redirect what it opens."""

from __future__ import annotations

import errno
import os
import tempfile

import pytest

from engine.errors import SyscallError
from engine.runtime.builtin.process import apply_oom_score_adj
from engine.runtime.procfs import NotProcfs, ProcfsHandle, is_procfs
from engine.runtime.syscalls import CLONE_NEWNS, MS_BIND, MS_PRIVATE, MS_REC, SYSCALLS


def test_handle_reads_procfs_and_self():
    with ProcfsHandle.open() as proc:
        assert int(proc.read("self/stat").split()[0]) == os.getpid()
        assert is_procfs(proc.fd)


def test_a_directory_that_is_not_procfs_is_refused(tmp_path):
    for name in ("self", "sys"):
        (tmp_path / name).mkdir()
    with pytest.raises(NotProcfs, match="is not a procfs root"):
        ProcfsHandle.open(str(tmp_path))


def test_dotdot_and_magic_links_are_refused():
    with ProcfsHandle.open() as proc:
        with pytest.raises(SyscallError) as exc:
            proc.open_file("sys/../../etc/passwd", os.O_RDONLY)
        assert exc.value.errno == errno.EXDEV
        with pytest.raises(SyscallError) as exc:
            proc.open_file("self/root/etc/passwd", os.O_RDONLY)  # /proc/self/root: a magic link
        assert exc.value.errno == errno.ELOOP


def _in_private_mount_ns(check) -> None:
    """Run `check()` in a child with a mount namespace of its own (bind mounts stay there)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            SYSCALLS.unshare(CLONE_NEWNS)
            SYSCALLS.mount(None, "/", None, MS_REC | MS_PRIVATE)
            check()
            code = 0
        except BaseException as exc:  # noqa: BLE001
            os.write(2, f"{type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="bind mounts over /proc need root")
def test_a_bind_over_a_proc_file_is_not_followed():
    def check() -> None:
        with tempfile.NamedTemporaryFile("w") as f:
            f.write("0\n")
            f.flush()
            SYSCALLS.mount(f.name, "/proc/sys/kernel/ns_last_pid", None, MS_BIND)
            SYSCALLS.mount(f.name, f"/proc/{os.getpid()}/oom_score_adj", None, MS_BIND)
            with ProcfsHandle.open() as proc:  # a clone of /proc without its submounts
                assert proc.how == "open_tree"
                assert int(proc.read("sys/kernel/ns_last_pid")) > 1
                apply_oom_score_adj({"oomScoreAdj": 3}, proc)
                assert proc.read("self/oom_score_adj") == b"3\n"
            apply_oom_score_adj({"oomScoreAdj": 4})  # without a handle: a fresh clone
            with open(f"/proc/{os.getpid()}/oom_score_adj") as seen:
                assert seen.read() == "0\n"  # the bound file was never written
            # the plain /proc directory, with the bind on it: the mount crossing is refused
            with ProcfsHandle(os.open("/proc", os.O_PATH | os.O_DIRECTORY), "open") as plain:
                with pytest.raises(SyscallError) as exc:
                    plain.write("sys/kernel/ns_last_pid", "1")
                assert exc.value.errno == errno.EXDEV
            with open(f.name) as back:
                assert back.read() == "0\n"

    _in_private_mount_ns(check)
