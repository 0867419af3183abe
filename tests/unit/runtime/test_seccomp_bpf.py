"""The compiled-seccomp cache: libseccomp's BPF exported once, installed from bytes."""

from __future__ import annotations

import errno
import os

import pytest

from engine.runtime import seccomp_bpf, seccomp_load
from engine.runtime.syscalls import SYSCALLS, PR_SET_NO_NEW_PRIVS

PROFILE = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
           "syscalls": [{"names": ["mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EACCES}]}


@pytest.fixture
def sc():
    try:
        SYSCALLS.seccomp_lib
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"libseccomp missing: {exc}")
    return SYSCALLS


def test_program_is_cached_by_profile(tmp_path, sc):
    prog = seccomp_bpf.program(dict(PROFILE), tmp_path, sc)
    assert prog and len(prog) % 8 == 0
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].read_bytes() == prog
    files[0].write_bytes(b"\0" * 8)  # a cache hit must come from the file
    assert seccomp_bpf.program(dict(PROFILE), tmp_path, sc) == b"\0" * 8
    other = dict(PROFILE, defaultAction="SCMP_ACT_LOG")
    assert seccomp_bpf.cache_key(other) != seccomp_bpf.cache_key(PROFILE)
    assert seccomp_bpf.cache_key(dict(PROFILE, **{seccomp_bpf.COMPILED: b"x"})) == seccomp_bpf.cache_key(PROFILE)


def test_installed_program_filters_like_libseccomp(tmp_path, sc):
    profile = dict(PROFILE)
    profile[seccomp_bpf.COMPILED] = seccomp_bpf.program(profile, tmp_path, sc)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.close(r)
            sc.prctl(PR_SET_NO_NEW_PRIVS, 1)
            seccomp_load.load(profile, True, sc)
            try:
                os.mkdir(str(tmp_path / "denied"))
                code = 0
            except PermissionError:
                code = 13
            os.write(w, open("/proc/self/status").read().split("Seccomp:")[1].split()[0].encode())
        finally:
            os._exit(code)
    os.close(w)
    mode = os.read(r, 16)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 13  # EACCES from the filter, not the fs
    assert mode == b"2"
    assert not (tmp_path / "denied").exists()
