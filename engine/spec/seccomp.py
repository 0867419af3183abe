"""Docker-format seccomp profiles -> the OCI `linux.seccomp` object.

The built-in default is Docker's profile (seccomp_default.json next to this file).
As moby's setupSeccomp does, each rule is kept only when the host architecture, the
kernel version and the container's capabilities (bounding set) match its
`includes` and none of its `excludes`; `archMap` gives the native architecture
and its sub-architectures (x86_64: X86_64, X86, X32).
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path

from engine.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ms on every run
if TYPE_CHECKING:
    from typing import Iterable

DEFAULT_PROFILE = Path(__file__).with_name("seccomp_default.json")
MAX_PROFILE = 4 << 20

# uname machine -> (Go arch name used by the profile's arches lists, libseccomp arch)
_ARCHES = {
    "x86_64": ("amd64", "SCMP_ARCH_X86_64"), "aarch64": ("arm64", "SCMP_ARCH_AARCH64"),
    "armv7l": ("arm", "SCMP_ARCH_ARM"), "i686": ("386", "SCMP_ARCH_X86"),
    "ppc64le": ("ppc64le", "SCMP_ARCH_PPC64LE"), "s390x": ("s390x", "SCMP_ARCH_S390X"),
    "riscv64": ("riscv64", "SCMP_ARCH_RISCV64"), "loongarch64": ("loong64", "SCMP_ARCH_LOONGARCH64"),
}
# Docker writes short arch names in includes/excludes ("amd64", "x32", "x86").
_GO_ALIASES = {"amd64": {"amd64", "x86_64"}, "arm64": {"arm64", "aarch64"}}


def host_arch() -> tuple[str, str]:
    machine = os.uname().machine  # platform.machine(), without importing platform
    return _ARCHES.get(machine, (machine, "SCMP_ARCH_" + machine.upper()))


def kernel_version(release: str | None = None) -> tuple[int, int]:
    m = re.match(r"(\d+)\.(\d+)", release or os.uname().release)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


@lru_cache(maxsize=1)
def _default_text() -> str:
    return DEFAULT_PROFILE.read_text()


def load_profile(path: str | None = None) -> dict:
    """The default profile, or a Docker-format profile from a host file."""
    if path is None:
        return json.loads(_default_text())
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_PROFILE + 1)
    except OSError as exc:
        raise InvalidArgument(f"opening seccomp profile failed: open {path}: "
                              f"{os.strerror(exc.errno or 5).lower()}") from None
    if len(data) > MAX_PROFILE:
        raise InvalidArgument(f"seccomp profile {path} is larger than {MAX_PROFILE} bytes")
    try:
        profile = json.loads(data)
    except ValueError as exc:
        raise InvalidArgument(f"decoding seccomp profile failed: {exc}") from None
    if not isinstance(profile, dict):
        raise InvalidArgument("decoding seccomp profile failed: not a JSON object")
    return profile


def _arch_matches(names: Iterable[str], go_arch: str) -> bool:
    aliases = _GO_ALIASES.get(go_arch, {go_arch})
    return any(n in aliases for n in names)


def _min_kernel_ok(text: str, kernel: tuple[int, int]) -> bool:
    m = re.match(r"(\d+)\.(\d+)", text)
    if not m:
        raise InvalidArgument(f'seccomp profile: invalid minKernel "{text}"')
    return kernel >= (int(m.group(1)), int(m.group(2)))


def to_oci(profile: dict, capabilities: Iterable[str], *, machine: str | None = None,
           kernel: tuple[int, int] | None = None) -> dict:
    """The OCI linux.seccomp for this host and these capabilities."""
    go_arch, native = _ARCHES.get(machine, (machine, "SCMP_ARCH_" + (machine or "").upper())) \
        if machine else host_arch()
    kernel = kernel or kernel_version()
    caps = set(capabilities)
    out: dict = {"defaultAction": profile.get("defaultAction", "SCMP_ACT_ERRNO")}
    if profile.get("defaultErrnoRet") is not None:
        out["defaultErrnoRet"] = int(profile["defaultErrnoRet"])
    arches: list[str] = []
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") == native:
            arches = [native] + list(entry.get("subArchitectures") or [])
            break
    if not arches and profile.get("architectures"):
        arches = list(profile["architectures"])
    if arches:
        out["architectures"] = arches
    if profile.get("flags"):
        out["flags"] = list(profile["flags"])
    if profile.get("listenerPath"):
        out["listenerPath"] = profile["listenerPath"]
    syscalls = []
    for rule in profile.get("syscalls") or []:
        inc = rule.get("includes") or {}
        exc = rule.get("excludes") or {}
        if exc.get("arches") and _arch_matches(exc["arches"], go_arch):
            continue
        if inc.get("arches") and not _arch_matches(inc["arches"], go_arch):
            continue
        if inc.get("minKernel") and not _min_kernel_ok(inc["minKernel"], kernel):
            continue
        if exc.get("minKernel") and _min_kernel_ok(exc["minKernel"], kernel):
            continue
        if inc.get("caps") and not all(c in caps for c in inc["caps"]):
            continue
        if exc.get("caps") and any(c in caps for c in exc["caps"]):
            continue
        names = list(rule.get("names") or ([rule["name"]] if rule.get("name") else []))
        if not names:
            continue
        item: dict = {"names": names, "action": rule["action"]}
        if rule.get("errnoRet") is not None:
            item["errnoRet"] = int(rule["errnoRet"])
        if rule.get("args"):
            item["args"] = [_arg(a) for a in rule["args"]]
        syscalls.append(item)
    out["syscalls"] = syscalls
    return out


def _arg(a: dict) -> dict:
    arg = {"index": int(a["index"]), "value": int(a.get("value", 0)), "op": a["op"]}
    if a.get("valueTwo"):
        arg["valueTwo"] = int(a["valueTwo"])
    return arg


def seccomp_for(profile_opt: str, capabilities: Iterable[str], privileged: bool) -> dict | None:
    """linux.seccomp for `--security-opt seccomp=` ("" default, "unconfined", a path);
    None when unconfined or privileged (Podman: no filter with --privileged)."""
    if profile_opt == "unconfined" or (privileged and not profile_opt):
        return None
    profile = load_profile(None if profile_opt in ("", "default") else profile_opt)
    return to_oci(profile, capabilities)
