"""Load an OCI `linux.seccomp` filter through libseccomp (cffi ABI mode).

libseccomp compiles the rules to BPF for every listed architecture; we only
translate the OCI names.  Rules follow runc's semantics: conditions on different
arguments are ANDed in one rule; several conditions on the same argument become
one rule each (ORed).  Unknown syscall names are skipped (the profile lists
syscalls of newer kernels), rules whose action equals the default are dropped.
"""

from __future__ import annotations

import errno

from engine.errors import InvalidArgument, SyscallError

SCMP_FLTATR_CTL_NNP = 3
SCMP_FLTATR_CTL_LOG = 6
SCMP_FLTATR_CTL_SSB = 7
_NR_SCMP_ERROR = -1

_OPS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4,
        "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}


def action_code(name: str, errno_ret: int | None, default_errno: int = errno.EPERM) -> int:
    """The libseccomp action value of an OCI action name."""
    if name in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"):
        return 0x00000000
    if name == "SCMP_ACT_KILL_PROCESS":
        return 0x80000000
    if name == "SCMP_ACT_TRAP":
        return 0x00030000
    if name == "SCMP_ACT_ERRNO":
        return 0x00050000 | ((default_errno if errno_ret is None else errno_ret) & 0xFFFF)
    if name == "SCMP_ACT_TRACE":
        return 0x7FF00000 | ((default_errno if errno_ret is None else errno_ret) & 0xFFFF)
    if name == "SCMP_ACT_LOG":
        return 0x7FFC0000
    if name == "SCMP_ACT_ALLOW":
        return 0x7FFF0000
    raise InvalidArgument(f"seccomp: unsupported action {name!r}")


def arch_name(oci: str) -> str:
    """SCMP_ARCH_X86_64 -> x86_64 (libseccomp's own names)."""
    name = oci.removeprefix("SCMP_ARCH_").lower()
    return {"x86": "x86", "x32": "x32", "aarch64": "aarch64", "arm": "arm"}.get(name, name)


def rules_of(syscall: dict) -> list[list[tuple[int, int, int, int]]]:
    """The argument lists of the rules one OCI syscall entry becomes."""
    args = [(a["index"], _op(a["op"]), int(a.get("value", 0)), int(a.get("valueTwo", 0)))
            for a in syscall.get("args") or []]
    if not args:
        return [[]]
    indexes = [a[0] for a in args]
    if len(set(indexes)) != len(indexes):  # same argument twice: OR them
        return [[a] for a in args]
    return [args]


def _op(name: str) -> int:
    try:
        return _OPS[name]
    except KeyError:
        raise InvalidArgument(f"seccomp: unsupported operator {name!r}") from None


def load(profile: dict, no_new_privs: bool, sc=None) -> None:
    """Install the filter on the calling thread (its children inherit it).  A program
    the runtime compiled before the fork (seccomp_bpf) is installed as is; otherwise
    libseccomp compiles and loads it here."""
    if sc is None:
        from engine.runtime.syscalls import SYSCALLS as sc
    from engine.runtime import seccomp_bpf

    prog = profile.get(seccomp_bpf.COMPILED)
    if prog:
        # The NNP bit libseccomp would set: apply_security already did when asked.
        seccomp_bpf.install(sc, prog, seccomp_bpf.flags_of(profile))
        return
    lib = sc.seccomp_lib
    ctx = build(profile, sc)
    try:
        # libseccomp sets no_new_privs itself unless told not to: leave that to the spec.
        _check("seccomp_attr_set", lib.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1 if no_new_privs else 0))
        _check("seccomp_load", lib.seccomp_load(ctx))
    finally:
        lib.seccomp_release(ctx)


def build(profile: dict, sc):
    """A libseccomp context holding the profile's rules (the caller releases it)."""
    lib = sc.seccomp_lib
    ffi = sc._ffi
    default_errno = profile.get("defaultErrnoRet")
    default = action_code(profile.get("defaultAction", "SCMP_ACT_ALLOW"), default_errno)
    ctx = lib.seccomp_init(default)
    if ctx == ffi.NULL:
        raise SyscallError("seccomp_init", errno.EINVAL)
    try:
        for flag in profile.get("flags") or []:
            if flag == "SECCOMP_FILTER_FLAG_LOG":
                _check("seccomp_attr_set", lib.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1))
            elif flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW":
                _check("seccomp_attr_set", lib.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1))
        for arch in profile.get("architectures") or []:
            token = lib.seccomp_arch_resolve_name(arch_name(arch).encode())
            if token == 0:
                continue  # unknown to this libseccomp
            rc = lib.seccomp_arch_add(ctx, token)
            if rc < 0 and -rc != errno.EEXIST:
                raise SyscallError("seccomp_arch_add", -rc, arch)
        for entry in profile.get("syscalls") or []:
            action = action_code(entry["action"], entry.get("errnoRet"))
            if action == default:
                continue
            for name in entry.get("names") or []:
                nr = lib.seccomp_syscall_resolve_name(name.encode())
                if nr == _NR_SCMP_ERROR:
                    continue
                for args in rules_of(entry):
                    arr = ffi.new("struct scmp_arg_cmp[]", max(len(args), 1))
                    for i, (index, op, a, b) in enumerate(args):
                        arr[i].arg, arr[i].op, arr[i].datum_a, arr[i].datum_b = index, op, a, b
                    rc = lib.seccomp_rule_add_array(ctx, action, nr, len(args), arr)
                    if rc < 0:
                        raise SyscallError("seccomp_rule_add", -rc, name)
    except BaseException:
        lib.seccomp_release(ctx)
        raise
    return ctx


def _check(call: str, rc: int) -> None:
    if rc < 0:
        raise SyscallError(call, -rc)
