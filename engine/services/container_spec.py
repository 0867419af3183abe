"""The seam between the container services and engine/spec + engine/monitor:
build the OCI config with `engine.spec.generate.build_spec` (the rootfs must be
mounted: users and groups are read from the image's /etc/passwd inside it) and
write `userdata/config.json` plus the monitor's `monitor.json`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.config import EngineConfig

TYPE_CHECKING = False  # typing costs ms on every run
if TYPE_CHECKING:
    from typing import Any


def _ns_sizes() -> tuple[int, int, int, int]:
    """(host uid, host gid, uid count, gid count) of the user namespace we run in."""
    def parse(path: str, fallback: int) -> tuple[int, int]:
        host, total = fallback, 0
        try:
            with open(path) as f:
                for line in f:
                    inside, outside, size = (int(x) for x in line.split())
                    if inside == 0:
                        host = outside
                    total += size
        except (OSError, ValueError):
            return fallback, 65537
        return host, total

    uid, usize = parse("/proc/self/uid_map", os.getuid())
    gid, gsize = parse("/proc/self/gid_map", os.getgid())
    return uid, gid, usize, gsize


def containerenv(cfg: EngineConfig, container: Any, image_id: str) -> str:
    """/run/.containerenv, as Podman writes it (scripts look for it)."""
    return (f'engine="hull"\nname="{container.name}"\nid="{container.id}"\n'
            f'image="{container.image_name}"\nimageid="{image_id.removeprefix("sha256:")}"\n'
            f'rootless={1 if cfg.rootless else 0}\n')


def spec_context(cfg: EngineConfig, store: Any, container: Any, opts: Any, volume_sources: dict[str, str],
                 secret_paths: dict[str, str], secret_env: dict[str, str],
                 overlay_options: dict[str, list[str]] | None = None) -> Any:
    from engine.spec.generate import SpecContext

    cs = store.containers
    userdata = cs.userdata(container.id)
    host_uid, host_gid, usize, gsize = _ns_sizes()
    from engine.services.container_userns import spec_maps

    uid_maps, gid_maps = spec_maps(store, container.id)  # --userns=auto / --uidmap: recorded at create
    return SpecContext(
        uid_maps=uid_maps, gid_maps=gid_maps,
        container_id=container.id,
        rootfs=str(cs.rootfs(container.id)),
        rootless=cfg.rootless,
        single_id_map=cfg.rootless and usize <= 1,
        host_uid=host_uid, host_gid=host_gid, ns_uid_size=usize, ns_gid_size=gsize,
        hostname_path=str(userdata / "hostname"),
        hosts_path=None if opts.no_hosts else str(userdata / "hosts"),
        resolv_conf_path=str(userdata / "resolv.conf"),
        containerenv_path=str(userdata / ".containerenv"),
        volume_sources=dict(volume_sources),
        overlay_options=dict(overlay_options or {}),
        secret_paths=dict(secret_paths),
        secret_env=dict(secret_env),
        init_path=opts.init_path or _which("catatonit") or "/usr/libexec/podman/catatonit",
        cgroups_available=cgroups_usable(cfg, container.runtime),
    )


def cgroups_usable(cfg: EngineConfig, runtime: str) -> bool:
    """Can this container's runtime apply cgroup limits here?  Rootless: no delegated
    cgroup on these hosts.  As root the built-in runtime needs cgroup v2 controllers in
    our own cgroup (a hybrid host has none there); runc can use v1, and crun too where
    the v2 hierarchy has no controllers (else it runs without cgroups)."""
    if cfg.rootless:
        return False
    if runtime not in ("", "builtin", "hull"):
        from engine.runtime.external import cgroups_usable

        return cgroups_usable(os.path.basename(runtime))
    from engine.runtime.builtin.cgroups import own_cgroup, v2_mount

    mount, own = v2_mount(), own_cgroup()
    if mount is None or own is None:
        return False
    try:
        controllers = (mount / own.lstrip("/") / "cgroup.controllers").read_text().split()
    except OSError:
        return False
    return {"memory", "cpu", "pids"} <= set(controllers)


def write_bundle(cfg: EngineConfig, store: Any, container: Any, image_config: dict, opts: Any, *,
                 volume_sources: dict[str, str], secret_paths: dict[str, str],
                 secret_env: dict[str, str], overlay_options: dict[str, list[str]] | None = None,
                 ) -> tuple[dict, list[str]]:
    """config.json and monitor.json; returns the spec and warnings (limits this host
    cannot apply...)."""
    from engine.spec.generate import build_spec

    userdata = store.containers.userdata(container.id)
    ctx = spec_context(cfg, store, container, opts, volume_sources, secret_paths, secret_env, overlay_options)
    spec = build_spec(image_config, opts, ctx)
    if getattr(opts, "sdnotify", "") == "container":
        from engine.monitor.sdnotify import add_to_spec

        add_to_spec(spec, str(store.containers.run_dir(container.id)))
    _write_json(userdata / "config.json", spec)
    write_monitor_config(cfg, store, container, opts)
    return spec, list(ctx.warnings)


def monitor_config(cfg: EngineConfig, store: Any, container: Any, opts: Any) -> Any:
    from engine.monitor.config import HealthSpec, MonitorConfig
    from engine.spec.parse import parse_size

    hc = opts.healthcheck
    health = None
    if hc is not None and hc.test and hc.test[0] != "NONE" and not opts.no_healthcheck:
        health = HealthSpec(hc.test, hc.interval, hc.timeout, hc.retries, hc.start_period, hc.on_failure)
    log_opts = opts.log_opts or {}
    max_size = parse_size(log_opts["max-size"], "log-opt max-size") if log_opts.get("max-size") else 0
    max_file = int(log_opts.get("max-file", 1) or 1)
    return MonitorConfig(
        runtime=container.runtime or "builtin",
        log_driver=opts.log_driver or "k8s-file",
        log_path=log_opts.get("path") or str(store.containers.log_path(container.id)),
        log_max_size=max_size, log_max_file=max_file,
        tty=opts.tty, stdin_open=opts.interactive, console_size=list(opts.console_size or []),
        restart_policy=opts.restart.name or "no", restart_max_retries=opts.restart.max_retries,
        healthcheck=health,
        stop_signal=opts.stop_signal or 15,
        stop_timeout=10 if opts.stop_timeout is None else opts.stop_timeout,
        rm=opts.rm, detach_keys=opts.detach_keys, name=container.name, image=container.image_name,
        sdnotify=getattr(opts, "sdnotify", ""),
    )


def write_monitor_config(cfg: EngineConfig, store: Any, container: Any, opts: Any) -> None:
    path = store.containers.userdata(container.id) / "monitor.json"
    monitor_config(cfg, store, container, opts).save(path)


def _write_json(path: Path, doc: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with open(fd, "w") as f:
        f.write(json.dumps(doc))  # compact: json's C encoder (indent= runs the pure-Python one, ms per create)
    os.replace(tmp, path)


def _which(name: str) -> str | None:
    """shutil.which(name) for a bare name, without importing shutil (and bz2, lzma) on
    every create."""
    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(directory or ".", name)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    return None
