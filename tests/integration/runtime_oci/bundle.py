"""Bundles for the runtime tests: a busybox rootfs (layers unpacked with Hull's
apply_layer, then an overlay per container) and a Podman-like config.json written
here by hand, independent of engine/spec, so the runtime is tested on its own.

Importable by the rootless helper scripts (they run as hulltest inside the pause
namespace with PYTHONPATH at the repository)."""

from __future__ import annotations

import json
import os
import platform
import resource
from pathlib import Path

PODMAN_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
               "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE",
               "CAP_MKNOD", "CAP_NET_RAW"]
PODMAN_CAPEFF = 0x00000000A80425FB
MASKED = ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux",
          "/sys/dev/block", "/proc/interrupts"]
READONLY = ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
SECCOMP_PROFILE = Path(__file__).resolve().parents[4] / "shared" / "specs" / "seccomp-default.json"


def unpack_image(layout: Path, dest: Path) -> list[Path]:
    """Each layer of the OCI layout into dest/<n>; returns them top first (overlay order)."""
    from engine.archive.extract import apply_layer

    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((layout / "blobs" / "sha256" / manifest_digest).read_text())
    dirs = []
    for n, layer in enumerate(manifest["layers"]):
        d = dest / str(n)
        d.mkdir(parents=True)
        with open(layout / "blobs" / "sha256" / layer["digest"].split(":", 1)[1], "rb") as f:
            apply_layer(f, d)
        dirs.append(d)
    return dirs[::-1]


def seccomp_default(caps: list[str]) -> dict:
    """The Docker-format default profile reduced to OCI linux.seccomp for this host."""
    prof = json.loads(SECCOMP_PROFILE.read_text())
    arch = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}[platform.machine()]
    arches = []
    for entry in prof["archMap"]:
        if entry["architecture"] == arch:
            arches = [arch] + entry.get("subArchitectures", [])
    out = []
    for s in prof["syscalls"]:
        inc, exc = s.get("includes") or {}, s.get("excludes") or {}
        if inc.get("caps") and not set(inc["caps"]) <= set(caps):
            continue
        if inc.get("arches") and not set(inc["arches"]) & {platform.machine(), "amd64"}:
            continue
        if exc.get("caps") and set(exc["caps"]) & set(caps):
            continue
        if exc.get("arches") and set(exc["arches"]) & {platform.machine(), "amd64"}:
            continue
        item = {"names": s["names"], "action": s["action"]}
        for k in ("args", "errnoRet"):
            if s.get(k):
                item[k] = s[k]
        out.append(item)
    return {"defaultAction": prof["defaultAction"], "defaultErrnoRet": prof.get("defaultErrnoRet", 1),
            "architectures": arches, "syscalls": out}


def make_config(rootfs: Path, args: list[str], *, terminal: bool = False, hostname: str = "hulltest",
                user: tuple[int, int] = (0, 0), extra_mounts: list[dict] | None = None, seccomp: bool = True,
                no_new_privs: bool = True, readonly_root: bool = False, cwd: str = "/",
                env: list[str] | None = None, network_ns: bool = True) -> dict:
    caps = list(PODMAN_CAPS)
    nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 1048576)
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536000"]},
    ] + (extra_mounts or [])
    nss = [{"type": t} for t in ("pid", "ipc", "uts", "mount", "cgroup")]
    if network_ns:
        nss.append({"type": "network"})
    cfg = {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": terminal, "user": {"uid": user[0], "gid": user[1]}, "args": args,
            "env": env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
                           "container=podman", f"HOSTNAME={hostname}", "HOME=/root"],
            "cwd": cwd,
            "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
            # within this host's hard limits: crun and runc fail above them (ours clamps)
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}],
            "noNewPrivileges": no_new_privs,
        },
        "root": {"path": str(rootfs), "readonly": readonly_root},
        "hostname": hostname,
        "mounts": mounts,
        "linux": {"namespaces": nss, "maskedPaths": MASKED, "readonlyPaths": READONLY},
    }
    if seccomp:
        cfg["linux"]["seccomp"] = seccomp_default(caps)
    return cfg


def write_bundle(bundle: Path, cfg: dict) -> Path:
    bundle.mkdir(parents=True, exist_ok=True)
    (bundle / "config.json").write_text(json.dumps(cfg))
    os.chmod(bundle, 0o755)
    return bundle
