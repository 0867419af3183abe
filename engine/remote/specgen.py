"""ContainerOptions (what `hull run`/`create` parsed) -> Podman's SpecGenerator, the body of
POST /libpod/containers/create, as podman --remote sends it.  Client-side files (--env-file)
are read here; host paths in -v/--mount are the server's, as with Podman."""

from __future__ import annotations

from typing import Any

_NS_KEYS = {"network": "netns", "ipc": "ipcns", "pid": "pidns", "uts": "utsns"}


def _ns(value: str) -> dict[str, str] | None:
    if not value:
        return None
    mode, _, arg = value.partition(":")
    if mode == "container":
        return {"nsmode": "container", "value": arg}
    if mode == "ns":
        return {"nsmode": "path", "value": arg}
    return {"nsmode": mode}


def to_specgen(opts: Any) -> dict[str, Any]:
    env = dict(opts.env_file)
    env.update(opts.env)
    spec: dict[str, Any] = {
        "image": opts.image,
        "name": opts.name or None,
        "command": list(opts.command) or None,
        "entrypoint": opts.entrypoint,
        "env": env,
        "labels": dict(opts.labels),
        "terminal": opts.tty,
        "stdin": opts.interactive,
        "work_dir": opts.workdir or None,
        "user": opts.user or None,
        "hostname": opts.hostname or None,
        "remove": opts.rm,
        "privileged": opts.privileged,
        "read_only_filesystem": opts.read_only,
        "cap_add": list(opts.cap_add),
        "cap_drop": list(opts.cap_drop),
        "dns_server": list(opts.dns),
        "dns_search": list(opts.dns_search),
        "dns_option": list(opts.dns_options),
        "hostadd": list(opts.add_hosts),
        "publish_image_ports": opts.publish_all,
        "init": opts.init,
        "sysctl": dict(opts.sysctls),
        "stop_signal": opts.stop_signal,
        "stop_timeout": opts.stop_timeout,
        "pod": opts.pod or None,
        "portmappings": [{"container_port": p.container_port, "host_port": p.host_port, "host_ip": p.host_ip,
                          "protocol": p.protocol, "range": p.range} for p in opts.publish],
        "expose": {e.partition("/")[0]: e.partition("/")[2] or "tcp" for e in opts.expose},
        "devices": [{"path": d.host_path} for d in opts.devices],
    }
    if opts.restart.name not in ("", "no"):
        spec["restart_policy"] = opts.restart.name
        spec["restart_tries"] = opts.restart.max_retries
    if opts.resources.memory:
        spec["resource_limits"] = {"memory": {"limit": opts.resources.memory}}
    if opts.shm_size:
        spec["shm_size"] = opts.shm_size
    mounts, volumes = [], []
    for m in opts.mounts:
        flags = (["ro"] if m.readonly else []) + list(m.options)
        if m.type == "volume":
            volumes.append({"Name": m.source, "Dest": m.destination, "Options": flags})
        else:
            mounts.append({"type": m.type, "destination": m.destination, "source": m.source, "options": flags})
    spec["mounts"], spec["volumes"] = mounts, volumes
    for key, field in _NS_KEYS.items():
        value = getattr(opts, key, "")
        if key == "network" and value and opts.network_arg and ":" not in value:
            value = f"{value}:{opts.network_arg}"
        ns = _ns(value)
        if ns is not None and not (key == "network" and opts.networks and ns["nsmode"] == "bridge"):
            spec[field] = ns
    if opts.networks:
        spec["networks"] = {name: {"aliases": list(a.aliases), "static_ips": [a.ip] if a.ip else []}
                            for name, a in opts.networks.items()}
    if opts.no_healthcheck:
        spec["no_healthcheck"] = True
    elif opts.healthcheck is not None and opts.healthcheck.test:
        h = opts.healthcheck
        spec["healthconfig"] = {"Test": list(h.test), "Interval": int(h.interval * 1e9),
                                "Timeout": int(h.timeout * 1e9), "StartPeriod": int(h.start_period * 1e9),
                                "Retries": h.retries}
    return {k: v for k, v in spec.items() if v is not None}
