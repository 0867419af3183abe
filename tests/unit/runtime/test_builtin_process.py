"""Capability sets, seccomp rule translation, rlimits and the PATH lookup."""

from __future__ import annotations

import errno
import os
import resource
from pathlib import Path

import pytest

from engine.errors import CannotInvoke, CommandNotFound, HullError, InvalidArgument
from engine.runtime import capabilities, seccomp_load
from engine.runtime.builtin import process as proc
from engine.runtime.fake_syscalls import FakeSyscalls
from engine.runtime.syscalls import PR_CAP_AMBIENT, PR_CAPBSET_DROP, PR_SET_KEEPCAPS, PR_SET_NO_NEW_PRIVS

PODMAN = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
          "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE",
          "CAP_MKNOD", "CAP_NET_RAW"]


def test_podman_default_set_is_a80425fb():
    sets = capabilities.CapSets.from_spec({k: PODMAN for k in ("bounding", "effective", "permitted")}, limit=40)
    assert sets.effective == sets.permitted == sets.bounding == 0xA80425FB
    assert sets.inheritable == sets.ambient == 0
    dropped = sets.to_drop_from_bounding(limit=40)
    assert capabilities.cap_number("CAP_SYS_ADMIN") in dropped and 0 not in dropped


def test_effective_and_ambient_are_limited_by_permitted_and_inheritable():
    sets = capabilities.CapSets.from_spec({"effective": ["CAP_SYS_ADMIN", "CAP_KILL"], "permitted": ["CAP_KILL"],
                                          "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL", "CAP_CHOWN"]},
                                         limit=40)
    assert capabilities.names_of(sets.effective) == ["CAP_KILL"]
    assert capabilities.names_of(sets.ambient) == ["CAP_KILL"]


def test_unknown_capability_is_refused_and_short_names_work():
    assert capabilities.cap_number("net_raw") == 13
    with pytest.raises(InvalidArgument):
        capabilities.cap_number("CAP_FLY")


def test_capabilities_above_the_kernel_limit_are_left_out():
    assert capabilities.mask(["CAP_CHECKPOINT_RESTORE", "CAP_CHOWN"], limit=39) == 1


def test_apply_security_order_drop_keep_user_capset_nnp(monkeypatch):
    sc = FakeSyscalls()
    seen = []
    monkeypatch.setattr(proc, "set_user", lambda p: seen.append(("user", len(sc.calls))))
    proc.apply_security(sc, {"capabilities": {k: PODMAN for k in ("bounding", "effective", "permitted")},
                             "noNewPrivileges": True}, None)
    names = [c[0] if c[0] != "prctl" else c[1] for c in sc.calls]
    user_at = seen[0][1]
    assert PR_CAPBSET_DROP in names[:user_at] and PR_SET_KEEPCAPS in names[:user_at]
    after = names[user_at:]
    assert after.index("capset") < after.index(PR_SET_NO_NEW_PRIVS)
    assert PR_CAP_AMBIENT in after
    assert sc.caps[0] & 0xFFFFFFFFFF == sc.caps[1] & 0xFFFFFFFFFF  # effective == permitted here


def test_seccomp_actions_and_arches():
    assert seccomp_load.action_code("SCMP_ACT_ERRNO", None) == 0x50000 | errno.EPERM
    assert seccomp_load.action_code("SCMP_ACT_ERRNO", 38) == 0x50000 | 38
    assert seccomp_load.action_code("SCMP_ACT_ALLOW", None) == 0x7FFF0000
    assert seccomp_load.action_code("SCMP_ACT_KILL_PROCESS", None) == 0x80000000
    with pytest.raises(InvalidArgument):
        seccomp_load.action_code("SCMP_ACT_DANCE", None)
    assert seccomp_load.arch_name("SCMP_ARCH_X86_64") == "x86_64"
    assert seccomp_load.arch_name("SCMP_ARCH_X32") == "x32"


def test_seccomp_conditions_on_one_argument_are_ored_others_anded():
    same = {"args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}
    assert seccomp_load.rules_of(same) == [[(0, 4, 1, 0)], [(0, 4, 2, 0)]]
    both = {"args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                     {"index": 1, "value": 8, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]}
    assert seccomp_load.rules_of(both) == [[(0, 4, 1, 0), (1, 7, 8, 8)]]
    assert seccomp_load.rules_of({"names": ["read"]}) == [[]]


def test_rlimits_clamp_to_the_hard_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        proc.apply_rlimits({"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1 << 40, "hard": 1 << 40},
                                        {"type": "RLIMIT_NOSUCH", "soft": 1, "hard": 1}]})
        new_soft, new_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        assert new_soft == new_hard
        assert new_hard <= max(hard, 1 << 40)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def test_lookup_finds_executables_on_path_and_names_failures(tmp_path: Path):
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "tool").write_text("#!/bin/sh\n")
    os.chmod(bin_ / "tool", 0o755)
    (bin_ / "data").write_text("")
    os.chmod(bin_ / "data", 0o644)
    env = {"PATH": f"/nonexistent:{bin_}"}
    assert proc.lookup_executable(["tool"], env, "/") == str(bin_ / "tool")
    with pytest.raises(CommandNotFound, match=r"executable file not found in \$PATH") as e:
        proc.lookup_executable(["nope"], env, "/")
    assert e.value.exit_code == 127
    with pytest.raises(CannotInvoke) as e2:
        proc.lookup_executable(["data"], env, "/")
    assert e2.value.exit_code == 126
    with pytest.raises(CommandNotFound):
        proc.lookup_executable([str(bin_ / "missing")], env, "/")


@pytest.mark.parametrize("escape", [True, False], ids=["cwd-outside-root", "cwd-inside-root"])
def test_set_cwd_refuses_a_cwd_outside_the_root(tmp_path: Path, escape: bool):
    # CVE-2024-21626: a directory fd that survives into the container makes the cwd a
    # host directory; getcwd then fails with ENOENT and set_cwd must refuse to go on.
    if os.geteuid() != 0:
        pytest.fail("chroot needs root: run the unit tests as root, as the suite does")
    (tmp_path / "root" / "work").mkdir(parents=True)
    pid = os.fork()
    if pid == 0:  # the child chroots: the test process keeps its root
        code = 3
        try:
            outside = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
            os.chroot(tmp_path / "root")
            if escape:
                os.fchdir(outside)  # the leaked fd: cwd is now above the root
            try:
                proc.set_cwd({"cwd": "." if escape else "/work"})
                code = 0 if os.getcwd() == "/work" else 2
            except HullError as exc:
                code = 1 if "outside" in str(exc) and "\n" not in str(exc) else 4
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == (1 if escape else 0)
