"""System services: version, info, disk usage, reset."""

from __future__ import annotations

import os
import platform
import re
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from engine.config import EngineConfig
from engine.services.common import id_hex, open_store, parse_time

VERSION = "0.1.0"
API_VERSION = "4.3.1"  # the libpod API level we follow (compat API: 1.44)
_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def _arch() -> str:
    machine = platform.machine()
    return _GOARCH.get(machine, machine)


def version() -> dict[str, Any]:
    """`hull version`: Podman's shape ({"Client": {...}}), Python in place of Go."""
    return {
        "Client": {
            "APIVersion": API_VERSION,
            "Version": VERSION,
            "GoVersion": "python" + platform.python_version(),
            "PythonVersion": platform.python_version(),
            "GitCommit": "",
            "BuiltTime": "Thu Jan  1 00:00:00 1970",
            "Built": 0,
            "OsArch": f"linux/{_arch()}",
            "Os": "linux",
        }
    }


# ---------------------------------------------------------------- info
def _os_release() -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        with open("/etc/os-release") as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                if key:
                    out[key] = value.strip('"')
    except OSError:
        pass
    return out


def _meminfo() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                key, _, rest = line.partition(":")
                parts = rest.split()
                if parts:
                    out[key] = int(parts[0]) * 1024
    except (OSError, ValueError):
        pass
    return out


def _uptime() -> str:
    try:
        with open("/proc/uptime") as f:
            seconds = float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours)}h {int(minutes)}m {secs:.2f}s"


def _id_mappings(cfg: EngineConfig) -> dict[str, Any]:
    if not cfg.rootless:
        return {"gidmap": None, "uidmap": None}
    try:
        from engine.runtime.idmap import user_id_maps

        maps = user_id_maps()
    except Exception as exc:  # info must still print when /etc/subuid is broken
        return {"gidmap": None, "uidmap": None, "warning": str(exc)}

    def rows(m: Any) -> list[dict[str, int]]:
        return [{"container_id": x.container_id, "host_id": x.host_id, "size": x.size} for x in m]

    return {"gidmap": rows(maps.gid_maps), "uidmap": rows(maps.uid_maps)}


def _registries(cfg: EngineConfig) -> dict[str, Any]:
    from engine.registry.registries_conf import load_registries_conf

    conf = load_registries_conf(cfg.registries_conf_candidates())
    out: dict[str, Any] = {}
    for entry in conf.registries:
        out[entry.prefix] = {
            "Blocked": entry.blocked,
            "Insecure": entry.insecure,
            "Location": entry.location,
            "MirrorByDigestOnly": False,
            "Mirrors": [{"Insecure": m.insecure, "Location": m.location} for m in entry.mirrors] or None,
            "Prefix": entry.prefix,
        }
    if conf.unqualified_search:
        out["search"] = list(conf.unqualified_search)
    return out


def _fs_usage(path: str) -> tuple[int, int]:
    try:
        st = os.statvfs(path)
    except OSError:
        return 0, 0
    total = st.f_blocks * st.f_frsize
    return total, total - st.f_bfree * st.f_frsize


def info(cfg: EngineConfig) -> dict[str, Any]:
    """`hull info`: host, store, registries and version, with Podman's keys."""
    store = open_store(cfg)
    images = store.images.list()
    release = _os_release()
    mem = _meminfo()
    allocated, used = _fs_usage(str(cfg.root))
    rootless = cfg.rootless
    socket = cfg.runroot / "hull.sock"
    return {
        "host": {
            "arch": _arch(),
            "cgroupManager": "cgroupfs",
            "cgroupVersion": _cgroup_version(),
            "databaseBackend": "sqlite",
            "eventLogger": "file",
            "logDriver": "k8s-file",
            "ociRuntime": {"name": "builtin", "package": "hull", "path": "", "version": VERSION},
            "remoteSocket": {"exists": socket.is_socket(), "path": str(socket)},
            "serviceIsRemote": False,
            "cpus": os.cpu_count() or 0,
            "distribution": {
                "codename": release.get("VERSION_CODENAME", ""),
                "distribution": release.get("ID", ""),
                "version": release.get("VERSION_ID", ""),
            },
            "hostname": platform.node(),
            "idMappings": _id_mappings(cfg),
            "kernel": platform.release(),
            "memFree": mem.get("MemAvailable", 0),
            "memTotal": mem.get("MemTotal", 0),
            "os": "linux",
            "security": {"rootless": rootless},
            "swapFree": mem.get("SwapFree", 0),
            "swapTotal": mem.get("SwapTotal", 0),
            "uptime": _uptime(),
        },
        "registries": _registries(cfg),
        "store": {
            "containerStore": _container_counts(store),
            "graphDriverName": "overlay",
            "graphRoot": str(cfg.root),
            "graphRootAllocated": allocated,
            "graphRootUsed": used,
            "imageStore": {"number": len(images)},
            "runRoot": str(cfg.runroot),
            "volumePath": str(cfg.volumes_dir),
        },
        "version": {
            "APIVersion": API_VERSION,
            "Built": 0,
            "BuiltTime": "Thu Jan  1 00:00:00 1970",
            "GitCommit": "",
            "GoVersion": "python" + platform.python_version(),
            "Os": "linux",
            "OsArch": f"linux/{_arch()}",
            "Version": VERSION,
        },
    }


def _cgroup_version() -> str:
    return "v2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "v1"


def _container_counts(store: Any) -> dict[str, int]:
    """Podman's ContainerStore: every container, and those running, paused, or neither."""
    states = [str(c.state.value) for c in store.containers.list()]
    running, paused = states.count("running"), states.count("paused")
    return {"number": len(states), "paused": paused, "running": running,
            "stopped": len(states) - running - paused}


# ---------------------------------------------------------------- df
@dataclass
class ImageUsage:
    id: str
    names: list[str]
    created: float
    size: int
    shared_size: int
    unique_size: int
    containers: int = 0


@dataclass
class VolumeUsage:
    name: str
    links: int  # containers using it
    size: int


@dataclass
class DiskUsage:
    images: list[ImageUsage] = field(default_factory=list)
    images_size: int = 0  # unique layers counted once
    images_reclaimable: int = 0
    images_active: int = 0
    containers: list[Any] = field(default_factory=list)  # ContainerSummary with sizes (detail=True)
    volumes: list[VolumeUsage] = field(default_factory=list)  # (detail=True)


def df(cfg: EngineConfig, detail: bool = False) -> DiskUsage:
    """What images take on disk, how many containers use each; with `detail` also the
    containers' writable layers and the volumes (walked: the costly part)."""
    store = open_store(cfg)
    if detail:
        from engine.services.common import enter_userns

        enter_userns(cfg)  # rootless: container upper dirs and volumes hold subuid-owned files
    images = store.images.list()
    in_use: dict[str, int] = {}
    for c in store.containers.list():
        if c.image_id:
            key = id_hex(c.image_id)
            in_use[key] = in_use.get(key, 0) + 1
    layer_sizes = {layer.chain_id: int(layer.size) for layer in store.layers.list()}
    users: dict[str, int] = {}
    for image in images:
        for chain in image.layers:
            users[chain] = users.get(chain, 0) + 1
    usage = DiskUsage()
    for image in images:
        shared = sum(layer_sizes.get(c, 0) for c in image.layers if users.get(c, 0) > 1)
        usage.images.append(ImageUsage(
            id=id_hex(image.id), names=list(image.names), created=parse_time(image.created),
            size=int(image.size or 0), shared_size=shared, unique_size=int(image.size or 0) - shared,
            containers=in_use.get(id_hex(image.id), 0),
        ))
    usage.images_size = sum(layer_sizes.get(c, 0) for c in users)
    # Podman: what images without containers hold (their unique bytes are what is in use)
    used = [u for u in usage.images if u.containers]
    usage.images_active = len(used)
    usage.images_reclaimable = usage.images_size - sum(u.unique_size for u in used)
    if detail:
        from engine.services.container_list import ListOptions, list_containers
        from engine.services.volumes import _size

        usage.containers = list_containers(cfg, ListOptions(all=True, size=True), store=store)
        usage.volumes = [VolumeUsage(v.name, len(store.volumes.users(v.name)), _size(v.data_path))
                         for v in store.volumes.list()]
    return usage


# ---------------------------------------------------------------- reset
def reset(cfg: EngineConfig) -> list[str]:
    """Remove everything under root and runroot; stop the pause process.

    Rootless, the layers hold files owned by subuids: removing them needs the
    user namespace, so join it first (before any thread starts).
    """
    from engine.services.common import enter_userns
    from engine.store.rmtree import remove_tree

    removed: list[str] = []
    if cfg.rootless and (cfg.root.exists() or cfg.runroot.exists()):
        enter_userns(cfg)
    _remove_containers(cfg)
    _release_mounts(cfg)
    for path in (cfg.root, cfg.runroot):
        if path == cfg.runroot and path.exists():
            _stop_pause(cfg)
        if path.exists() or path.is_symlink():
            remove_tree(path)
            removed.append(str(path))
    return removed


def _remove_containers(cfg: EngineConfig) -> None:
    """Podman's reset: every container stopped (no grace period) and removed, so no
    monitor or container outlives its storage and no rootfs stays mounted."""
    from engine.errors import HullError

    from engine.store.containers import pid_alive, read_pid_file

    monitors = [found for found in (read_pid_file(p) for p in (cfg.runroot / "containers").glob("*/monitor.pid"))
                if found is not None]
    if cfg.db_path.exists():
        try:
            from engine.services import containers, pods

            pods.remove(cfg, [], force=True, all=True, timeout=0)  # infra containers go with their pod
            containers.remove(cfg, [], containers.RmOptions(force=True, volumes=True, all=True, time=0))
        except HullError:
            pass  # a broken store: the mounts are released below, the files removed anyway
    # A monitor finishes its bookkeeping (DB, events, cleanup) after the exit is
    # recorded: let it end first, or it would recreate files in the removed root.
    deadline = time.monotonic() + 10
    for pid, start in monitors:
        while pid_alive(pid, start) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(pid, start):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _release_mounts(cfg: EngineConfig) -> None:
    """Detach whatever is still mounted below root or runroot (a container mount left
    by a killed process, image mounts, device volumes), deepest first: removing the
    trees must never descend into a mounted filesystem."""
    from engine.errors import HullError

    prefixes = tuple(str(p.resolve()) + "/" for p in (cfg.root, cfg.runroot) if p.exists())
    if not prefixes:
        return
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as fh:
            targets = [_unescape(line.split()[4]) for line in fh]
    except OSError:
        return
    from engine.runtime.overlay import unmount

    for target in sorted({t for t in targets if t.startswith(prefixes)}, key=len, reverse=True):
        try:
            unmount(target, lazy=True)
        except HullError:
            pass


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as \\ooo."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _stop_pause(cfg: EngineConfig) -> None:
    try:
        from engine.runtime.pause import stop_pause
    except ImportError:
        return
    try:
        stop_pause(cfg.runroot)
    except (OSError, ProcessLookupError):
        pass
