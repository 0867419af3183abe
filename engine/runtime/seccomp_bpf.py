"""The seccomp filter compiled once, then installed from its BPF.

libseccomp turns the default profile into BPF in 30-60 ms; doing that in every
container's init was the largest single cost of `run`.  The runtime compiles in the
parent (before the fork, so init runs no libseccomp code at all on a cache hit) and
keeps the program in {runtime root}/seccomp-cache/<key>.bpf, the key a hash of the
profile, the libseccomp library (path, size, mtime) and the architecture.  Init
installs it with seccomp(SECCOMP_SET_MODE_FILTER), passing the profile's flags as
libseccomp would.
"""

from __future__ import annotations

import errno
import json
import os
import struct
from pathlib import Path

from engine.errors import SyscallError

try:  # the builtin SHA-256: hashlib would load OpenSSL (~3 ms) for one short hash
    from _sha256 import sha256
except ImportError:  # another Python build
    from hashlib import sha256

# Key under which the compiled program rides along in the in-memory linux.seccomp
# dict (never written back to config.json).
COMPILED = "_hull_bpf"
SECCOMP_SET_MODE_FILTER = 1
_FLAGS = {"SECCOMP_FILTER_FLAG_LOG": 2, "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4}
_INSN = 8  # sizeof(struct sock_filter)


def _library_id() -> str:
    """Which libseccomp is loaded (its BPF output may change between versions)."""
    with open("/proc/self/maps") as fh:
        for line in fh:
            if "libseccomp" in line:
                path = line.split(None, 5)[-1].strip()
                st = os.stat(path)
                return f"{path}:{st.st_size}:{st.st_mtime_ns}"
    return "libseccomp:unknown"


def cache_key(profile: dict) -> str:
    doc = {k: v for k, v in profile.items() if k != COMPILED}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return sha256(f"{text}\0{_library_id()}\0{os.uname().machine}".encode()).hexdigest()[:32]


def compile_bpf(profile: dict, sc) -> bytes:
    """The filter as libseccomp would load it, exported through a memfd."""
    from engine.runtime import seccomp_load

    lib = sc.seccomp_lib
    ctx = seccomp_load.build(profile, sc)
    fd = os.memfd_create("hull-seccomp", os.MFD_CLOEXEC)
    try:
        rc = lib.seccomp_export_bpf(ctx, fd)
        if rc < 0:
            raise SyscallError("seccomp_export_bpf", -rc)
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(fd)
        lib.seccomp_release(ctx)
    prog = b"".join(chunks)
    if not prog or len(prog) % _INSN:
        raise SyscallError("seccomp_export_bpf", errno.EINVAL, f"({len(prog)} bytes)")
    return prog


def program(profile: dict, cache_dir: Path, sc) -> bytes:
    """The compiled filter, from the cache when this profile was seen before."""
    path = Path(cache_dir) / f"{cache_key(profile)}.bpf"
    try:
        prog = path.read_bytes()
        if prog and len(prog) % _INSN == 0:
            return prog
    except OSError:
        pass
    prog = compile_bpf(profile, sc)
    try:  # a cache that cannot be written only costs the next compile
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_bytes(prog)
        os.replace(tmp, path)
    except OSError:
        pass
    return prog


def flags_of(profile: dict) -> int:
    out = 0
    for name in profile.get("flags") or []:
        out |= _FLAGS.get(name, 0)
    return out


def install(sc, prog: bytes, flags: int = 0) -> None:
    """seccomp(SECCOMP_SET_MODE_FILTER, flags, &{len, filter}) on the calling thread."""
    ffi = sc._ffi
    insns = ffi.new("char[]", prog)
    addr = int(ffi.cast("uintptr_t", insns))
    fprog = ffi.new("char[]", struct.pack("@HxxxxxxQ", len(prog) // _INSN, addr))
    sc.seccomp_filter(fprog, flags)
