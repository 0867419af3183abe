"""Linux capabilities: names <-> numbers, and applying an OCI `process.capabilities`.

The order of `apply` follows runc: drop the bounding set while CAP_SETPCAP is still
held, keep capabilities across the uid change (PR_SET_KEEPCAPS), switch user,
then set effective/permitted/inheritable with capset and raise the ambient ones.
"""

from __future__ import annotations

import errno

from engine.errors import InvalidArgument, SyscallError
from engine.record import Record

NAMES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]
NUMBERS = {name: i for i, name in enumerate(NAMES)}


def last_cap() -> int:
    """The highest capability this kernel knows (unknown ones cannot be dropped or set)."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return len(NAMES) - 1


def cap_number(name: str) -> int:
    key = name.upper()
    if not key.startswith("CAP_"):
        key = "CAP_" + key
    try:
        return NUMBERS[key]
    except KeyError:
        raise InvalidArgument(f"unknown capability {name!r}") from None


def mask(names: list[str] | None, limit: int | None = None) -> int:
    """Bit mask of `names`; capabilities above the kernel's last one are left out."""
    top = last_cap() if limit is None else limit
    bits = 0
    for name in names or []:
        n = cap_number(name)
        if n <= top:
            bits |= 1 << n
    return bits


def names_of(bits: int) -> list[str]:
    return [name for i, name in enumerate(NAMES) if bits >> i & 1]


class CapSets(Record, frozen=True):
    """The five sets of an OCI process as bit masks."""

    bounding: int
    effective: int
    permitted: int
    inheritable: int
    ambient: int

    @classmethod
    def from_spec(cls, caps: dict | None, limit: int | None = None) -> "CapSets":
        caps = caps or {}
        permitted = mask(caps.get("permitted"), limit)
        inheritable = mask(caps.get("inheritable"), limit)
        # Ambient capabilities must be permitted and inheritable, or the kernel refuses them.
        ambient = mask(caps.get("ambient"), limit) & permitted & inheritable
        return cls(bounding=mask(caps.get("bounding"), limit),
                   effective=mask(caps.get("effective"), limit) & permitted,
                   permitted=permitted, inheritable=inheritable, ambient=ambient)

    def to_drop_from_bounding(self, limit: int | None = None) -> list[int]:
        top = last_cap() if limit is None else limit
        return [n for n in range(top + 1) if not self.bounding >> n & 1]


def drop_bounding(sc, sets: CapSets) -> None:
    from engine.runtime.syscalls import PR_CAPBSET_DROP

    for n in sets.to_drop_from_bounding():
        try:
            sc.prctl(PR_CAPBSET_DROP, n)
        except SyscallError as exc:
            if exc.errno != errno.EINVAL:  # EINVAL: unknown to this kernel
                raise


def keep_caps(sc, on: bool) -> None:
    from engine.runtime.syscalls import PR_SET_KEEPCAPS

    sc.prctl(PR_SET_KEEPCAPS, 1 if on else 0)


def apply_sets(sc, sets: CapSets) -> None:
    """capset the three sets, then raise the ambient ones (after the uid switch)."""
    from engine.runtime.syscalls import PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, PR_CAP_AMBIENT_RAISE

    sc.capset(sets.effective, sets.permitted, sets.inheritable)
    sc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    for n in range(len(NAMES)):
        if sets.ambient >> n & 1:
            sc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, n)
