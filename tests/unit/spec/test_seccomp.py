"""Docker-format profile -> OCI linux.seccomp, rule filtering as moby does it."""

import json

import pytest

from engine.errors import InvalidArgument
from engine.spec import defaults, seccomp
from tests.unit.spec.oci_schema import SCHEMA_DIR

REFERENCE = SCHEMA_DIR.parent / "seccomp-default.json"


def names(oci):
    return {n for rule in oci["syscalls"] for n in rule["names"]}


def test_builtin_copy_matches_reference():
    ours = seccomp.load_profile()
    ours.pop("comment")
    assert ours == json.loads(REFERENCE.read_text())


def test_x86_64_default_caps():
    oci = seccomp.to_oci(seccomp.load_profile(), defaults.DEFAULT_CAPABILITIES,
                         machine="x86_64", kernel=(6, 18))
    assert oci["defaultAction"] == "SCMP_ACT_ERRNO" and oci["defaultErrnoRet"] == 1
    assert oci["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    got = names(oci)
    assert {"read", "write", "execve", "clone3"} <= got
    assert "arch_prctl" in got                       # includes arches amd64
    assert "mount" not in got and "setns" not in got and "bpf" not in got  # CAP_SYS_ADMIN only
    assert "ptrace" in got                           # minKernel 4.8
    assert "sync_file_range2" not in got             # ppc64le/arm only
    # clone is allowed only with the namespace flags masked out (excludes CAP_SYS_ADMIN)
    clone_rules = [r for r in oci["syscalls"] if "clone" in r["names"]]
    assert len(clone_rules) == 1 and clone_rules[0]["args"][0]["op"] == "SCMP_CMP_MASKED_EQ"
    # clone3 -> ENOSYS without CAP_SYS_ADMIN so glibc falls back to clone
    assert any(r["names"] == ["clone3"] and r.get("errnoRet") == 38 for r in oci["syscalls"])


def test_sys_admin_changes_rules():
    caps = list(defaults.DEFAULT_CAPABILITIES) + ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE"]
    oci = seccomp.to_oci(seccomp.load_profile(), caps, machine="x86_64", kernel=(6, 18))
    got = names(oci)
    assert {"mount", "umount2", "setns", "ptrace"} <= got
    assert not any(r.get("args") and "clone" in r["names"] for r in oci["syscalls"])
    assert not any(r.get("errnoRet") == 38 for r in oci["syscalls"])


def test_min_kernel_and_other_arch():
    old = seccomp.to_oci(seccomp.load_profile(), [], machine="x86_64", kernel=(4, 4))
    new = seccomp.to_oci(seccomp.load_profile(), [], machine="x86_64", kernel=(6, 1))
    assert {"ptrace", "process_vm_readv", "process_vm_writev"} <= names(new) - names(old)
    arm = seccomp.to_oci(seccomp.load_profile(), [], machine="aarch64", kernel=(6, 1))
    assert arm["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert "arch_prctl" not in names(arm)


def test_unconfined_privileged_and_file(tmp_path):
    assert seccomp.seccomp_for("unconfined", [], False) is None
    assert seccomp.seccomp_for("", [], True) is None
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
               "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
    p = tmp_path / "p.json"
    p.write_text(json.dumps(profile))
    oci = seccomp.seccomp_for(str(p), [], True)   # an explicit profile applies even privileged
    assert oci["defaultAction"] == "SCMP_ACT_ALLOW"
    assert oci["syscalls"] == [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
    with pytest.raises(InvalidArgument, match="no such file"):
        seccomp.seccomp_for(str(tmp_path / "missing.json"), [], False)
    p.write_text("{not json")
    with pytest.raises(InvalidArgument, match="decoding seccomp profile failed"):
        seccomp.seccomp_for(str(p), [], False)
