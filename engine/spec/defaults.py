"""Podman's defaults for a container: capabilities, masked and read-only paths,
devices, mounts, environment and rlimits (c/common pkg/config/default.go,
podman pkg/specgen/generate and runtime-tools' default generator)."""

from __future__ import annotations

import os
import resource

from engine.record import DataRecord  # not dataclasses: ms on every run

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# containers.conf `default_capabilities`
DEFAULT_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
    "CAP_SYS_CHROOT",
)

MASKED_PATHS = (
    "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/sched_debug",
    "/proc/scsi", "/proc/timer_list", "/proc/timer_stats", "/sys/firmware",
    "/sys/fs/selinux", "/proc/interrupts", "/sys/devices/virtual/powercap",
)

READONLY_PATHS = (
    "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
)


def masked_paths() -> list[str]:
    """MASKED_PATHS plus each host CPU's thermal_throttle directory (Podman globs them)."""
    extra = _thermal_throttle_dirs()
    return list(MASKED_PATHS) + extra


class DefaultDevice(DataRecord, frozen=True):
    path: str
    type: str
    major: int
    minor: int
    mode: int = 0o666


# The runtime spec requires a runtime to supply these; they are not listed in
# linux.devices.  Rootless, they are bind mounts of the host's nodes.
DEFAULT_DEVICES = (
    DefaultDevice("/dev/null", "c", 1, 3), DefaultDevice("/dev/zero", "c", 1, 5),
    DefaultDevice("/dev/full", "c", 1, 7), DefaultDevice("/dev/random", "c", 1, 8),
    DefaultDevice("/dev/urandom", "c", 1, 9), DefaultDevice("/dev/tty", "c", 5, 0),
)

DEFAULT_SHM_SIZE = 64 * 1024 * 1024   # Podman's 65536k


def _thermal_throttle_dirs(base: str = "/sys/devices/system/cpu") -> list[str]:
    """`glob("{base}/cpu*/thermal_throttle")` without importing glob (~1 ms on every run)."""
    try:
        names = os.listdir(base)
    except OSError:
        return []
    return sorted(p for p in (f"{base}/{n}/thermal_throttle" for n in names if n.startswith("cpu"))
                  if os.path.lexists(p))


def default_mounts(*, shm_size: int = DEFAULT_SHM_SIZE, sysfs_bind: bool = False,
                   devpts_gid5: bool = True, privileged: bool = False,
                   cgroup: bool = True) -> list[dict]:
    """The mounts every container gets before the user's.

    `sysfs_bind`: rootless with the host's network namespace, sysfs cannot be mounted
    (the netns is not ours), so the host /sys is bind mounted read-only instead.
    `devpts_gid5`: drop gid=5 when the user namespace does not map gid 5.
    """
    devpts = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
    if devpts_gid5:
        devpts.append("gid=5")
    ro = "rw" if privileged else "ro"
    if sysfs_bind:
        sys_mount = {"destination": "/sys", "type": "bind", "source": "/sys",
                     "options": ["rprivate", "nosuid", "noexec", "nodev", ro, "rbind"]}
    else:
        sys_mount = {"destination": "/sys", "type": "sysfs", "source": "sysfs",
                     "options": ["nosuid", "noexec", "nodev", ro]}
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": devpts},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        sys_mount,
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", f"size={shm_size}"]},
    ]
    if cgroup and not sysfs_bind:
        mounts.append({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                       "options": ["rprivate", "nosuid", "noexec", "nodev", "relatime", ro]})
    return mounts


def default_env(*, tty: bool, hostname: str) -> dict[str, str]:
    env = {"PATH": DEFAULT_PATH, "container": "podman"}
    if tty:
        env["TERM"] = "xterm"
    if hostname:
        env["HOSTNAME"] = hostname
    return env


# Podman's define.RLimitDefaultValue for nofile and nproc.
RLIMIT_DEFAULT = 1048576
_UNLIMITED = resource.RLIM_INFINITY


def _host_limit(name: str) -> tuple[int, int]:
    soft, hard = resource.getrlimit(getattr(resource, name))
    big = 2**64 - 1
    return (big if soft == _UNLIMITED else soft, big if hard == _UNLIMITED else hard)


def _nr_open() -> int:
    try:
        with open("/proc/sys/fs/nr_open") as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return RLIMIT_DEFAULT


CAP_SYS_RESOURCE = 24


def _can_raise_hard_limits() -> bool:
    """CAP_SYS_RESOURCE in our effective set: root in a container (or under a
    restricted supervisor) may lack it, and then setrlimit above the hard limit fails."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_SYS_RESOURCE & 1)
    except (OSError, ValueError):
        pass
    return False


def clamp_rlimit(rtype: str, soft: int, hard: int, rootless: bool) -> tuple[int, int]:
    """(soft, hard) that setrlimit will accept: never above what this process can raise
    to (its hard limit when it cannot raise it; fs.nr_open for nofile as root).
    crun and runc fail the container on an EPERM from setrlimit, so clamp here."""
    big = 2**64 - 1
    soft = big if soft < 0 else soft
    hard = big if hard < 0 else hard
    cur_soft, cur_hard = _host_limit(rtype)
    ceiling = big if not rootless and _can_raise_hard_limits() else cur_hard
    if rtype == "RLIMIT_NOFILE":
        ceiling = min(ceiling, _nr_open())
    hard = min(hard, ceiling)
    soft = min(soft, hard)
    return soft, hard


def default_rlimits(rootless: bool, user_set: set[str]) -> list[dict]:
    """Podman's RLIMIT_NOFILE/NPROC defaults (1048576), clamped to this host."""
    out = []
    for rtype in ("RLIMIT_NOFILE", "RLIMIT_NPROC"):
        if rtype in user_set:
            continue
        cur_soft, cur_hard = _host_limit(rtype)
        hard = min(RLIMIT_DEFAULT, cur_hard) if rootless else RLIMIT_DEFAULT
        soft = min(RLIMIT_DEFAULT, cur_soft) if rootless else RLIMIT_DEFAULT
        soft, hard = clamp_rlimit(rtype, soft, hard, rootless=True)  # never above the current hard
        out.append({"type": rtype, "soft": soft, "hard": hard})
    return out
