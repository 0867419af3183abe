"""libpod's container routes (/libpod/containers/...), as podman-py 5.x calls them.

Create takes Podman's SpecGenerator; it is translated into Docker's create body and
goes through the same converter (engine/api/docker_convert.py create_options) the
Docker route uses, so both refuse the same things; the pod is set afterwards.
Lifecycle routes whose libpod answer is Docker's (204, 304, 404, 409) reuse the
Docker handlers (engine/api/docker_containers.py, imported when called)."""

from __future__ import annotations

import time
from typing import Any

from engine.api import context
from engine.api.http import Request
from engine.api.params import filters
from engine.api.router import route
from engine.errors import ContainerNotFound, HullError, InvalidArgument


def _docker() -> Any:
    from engine.api import docker_containers

    return docker_containers


def _ns(spec: dict, key: str) -> str:
    ns = spec.get(key) or {}
    mode = ns.get("nsmode") or ""
    value = ns.get("value") or ""
    if mode in ("", "default", "private"):
        return ""
    if mode == "path":
        return f"ns:{value}"
    if mode == "container":
        return f"container:{value}"
    return mode


def spec_to_docker(spec: Any) -> dict[str, Any]:
    """Podman's SpecGenerator -> Docker's create body (Config + HostConfig + NetworkingConfig)."""
    if not isinstance(spec, dict):
        raise InvalidArgument("the body must be a JSON object (a SpecGenerator)")
    if not spec.get("image") and not spec.get("rootfs"):
        raise InvalidArgument("image or rootfs is required")
    if spec.get("rootfs"):
        raise InvalidArgument("rootfs containers are not supported: give an image")
    env = spec.get("env") or {}
    if not isinstance(env, dict):
        raise InvalidArgument("env must be a JSON object")
    exposed: dict[str, dict] = {}
    bindings: dict[str, list[dict]] = {}
    for pm in spec.get("portmappings") or []:
        count = int(pm.get("range") or 1)
        for i in range(count):
            cport = int(pm["container_port"]) + i
            key = f"{cport}/{pm.get('protocol') or 'tcp'}"
            exposed[key] = {}
            host = int(pm.get("host_port") or 0)
            bindings.setdefault(key, []).append({"HostIp": pm.get("host_ip") or "",
                                                 "HostPort": str(host + i) if host else ""})
    for port, proto in (spec.get("expose") or {}).items():
        exposed[f"{port}/{proto or 'tcp'}"] = {}
    mounts = []
    for m in spec.get("mounts") or []:
        opts = list(m.get("options") or [])
        kind = m.get("type") or "bind"
        entry: dict[str, Any] = {"Type": kind, "Target": m.get("destination") or m.get("Destination"),
                                 "Source": m.get("source") or m.get("Source") or "",
                                 "ReadOnly": "ro" in opts}
        if kind == "tmpfs":
            entry.pop("Source")
        mounts.append(entry)
    binds = []
    for v in spec.get("volumes") or []:
        opts = [o for o in v.get("Options") or [] if o]
        binds.append(f"{v.get('Name') or ''}:{v['Dest']}" + (":" + ",".join(opts) if opts else ""))
    netmode = _ns(spec, "netns")
    networks = spec.get("networks") or {}
    endpoints = {name: {"Aliases": (opts or {}).get("aliases") or [],
                        "IPAMConfig": {"IPv4Address": ((opts or {}).get("static_ips") or [""])[0]}}
                 for name, opts in networks.items()}
    if networks and netmode in ("", "bridge"):
        netmode = next(iter(networks))
    restart = spec.get("restart_policy") or ""
    limits = spec.get("resource_limits") or {}
    memory = (limits.get("memory") or {}).get("limit")
    host: dict[str, Any] = {
        "Binds": binds, "Mounts": mounts, "PortBindings": bindings, "AutoRemove": bool(spec.get("remove")),
        "NetworkMode": netmode, "Privileged": bool(spec.get("privileged")),
        "ReadonlyRootfs": bool(spec.get("read_only_filesystem")), "CapAdd": spec.get("cap_add") or [],
        "CapDrop": spec.get("cap_drop") or [], "Dns": spec.get("dns_server") or [],
        "DnsSearch": spec.get("dns_search") or [], "DnsOptions": spec.get("dns_option") or [],
        "ExtraHosts": spec.get("hostadd") or [], "PublishAllPorts": bool(spec.get("publish_image_ports")),
        "IpcMode": _ns(spec, "ipcns"), "PidMode": _ns(spec, "pidns"), "UTSMode": _ns(spec, "utsns"),
        "RestartPolicy": {"Name": restart, "MaximumRetryCount": int(spec.get("restart_tries") or 0)}
        if restart else None,
        "Memory": int(memory) if memory else 0,
        "Init": bool(spec.get("init")),
        "Devices": [{"PathOnHost": d["path"], "PathInContainer": d["path"], "CgroupPermissions": "rwm"}
                    for d in spec.get("devices") or []],
        "Sysctls": spec.get("sysctl") or {},
        "SecurityOpt": [],
        "ShmSize": int(spec.get("shm_size") or 0),
    }
    body: dict[str, Any] = {
        "Image": spec.get("image"),
        "Cmd": spec.get("command"),
        "Entrypoint": spec.get("entrypoint"),
        "Env": [f"{k}={v}" for k, v in env.items()],
        "Labels": spec.get("labels") or {},
        "Tty": bool(spec.get("terminal")),
        "OpenStdin": bool(spec.get("stdin")),
        "WorkingDir": spec.get("work_dir") or "",
        "User": spec.get("user") or "",
        "Hostname": spec.get("hostname") or "",
        "ExposedPorts": exposed,
        "StopSignal": spec.get("stop_signal") and str(spec.get("stop_signal")) or None,
        "StopTimeout": spec.get("stop_timeout"),
        "HostConfig": {k: v for k, v in host.items() if v not in (None, "", [], {}, False, 0)},
        "NetworkingConfig": {"EndpointsConfig": endpoints} if endpoints else None,
    }
    if spec.get("healthconfig"):
        body["Healthcheck"] = spec["healthconfig"]
    if spec.get("no_healthcheck") or spec.get("healthconfig", {}) == {"Test": ["NONE"]}:
        body["Healthcheck"] = {"Test": ["NONE"]}
    return {k: v for k, v in body.items() if v is not None}


@route("POST", "/containers/create", libpod=True)
def create(request: Request) -> None:
    from engine.api.docker_convert import create_options
    from engine.services.container_create import create as create_container

    spec = request.json(required=True)
    body = spec_to_docker(spec)
    opts = create_options(body, (spec.get("name") or "").lstrip("/"))
    if spec.get("pod"):
        opts = _with(opts, pod=str(spec["pod"]))
    result = create_container(context.config(), opts)
    request.send_json({"Id": result.id, "Warnings": list(result.warnings)}, 201)


def _with(opts: Any, **changes: Any) -> Any:
    import dataclasses

    if dataclasses.is_dataclass(opts):
        return dataclasses.replace(opts, **changes)
    for k, v in changes.items():
        setattr(opts, k, v)
    return opts


def _find(name: str) -> Any:
    from engine.services.common import open_store

    return open_store(context.config()).containers.lookup(name)


@route("GET", "/containers/json", libpod=True)
def list_containers(request: Request) -> None:
    from engine.services.common import rfc3339
    from engine.services.container_list import ListOptions, list_containers as ls

    last = request.int_arg("limit", -1) or -1
    summaries = ls(context.config(), ListOptions(all=request.flag("all"), last=last, filters=filters(request),
                                                 size=request.flag("size")))
    out = []
    for s in summaries:
        out.append({
            "AutoRemove": s.auto_remove, "Command": list(s.command), "Created": rfc3339(s.created),
            "CreatedAt": "", "Exited": s.exited, "ExitedAt": int(s.finished_at or 0), "ExitCode": s.exit_code,
            "Id": s.id, "Image": s.image, "ImageID": s.image_id.removeprefix("sha256:"), "IsInfra": False,
            "Labels": dict(s.labels) or None, "Mounts": list(s.mounts), "Names": list(s.names),
            "Namespaces": {}, "Networks": [], "Pid": s.pid, "Pod": s.pod, "PodName": "",
            "Ports": [{"host_ip": p.get("host_ip", ""), "container_port": p.get("container_port"),
                       "host_port": p.get("host_port"), "range": p.get("range", 1),
                       "protocol": p.get("protocol", "tcp")} for p in s.ports or []] or None,
            "Restarts": s.restarts, "Size": None, "StartedAt": int(s.started_at or 0), "State": s.state,
            "Status": s.status,
        })
    request.send_json(out)


@route("GET", "/containers/{name}/json", libpod=True)
def inspect(request: Request, name: str) -> None:
    from engine.services.common import open_store
    from engine.services.container_inspect import inspect_one

    request.send_json(inspect_one(open_store(context.config()), _find(name), size=request.flag("size")))


@route("GET", "/containers/{name}/exists", libpod=True)
def exists(request: Request, name: str) -> None:
    _find(name)
    request.send_empty(204)


@route("POST", "/containers/{name}/init", libpod=True)
def init(request: Request, name: str) -> None:
    from engine.services import containers

    c = _find(name)
    if c.state.value not in ("configured", "created", "exited", "stopped"):
        from engine.api.docker_containers import NotModified

        raise NotModified("container already initialized")
    containers.init(context.config(), [c.id])
    request.send_empty(204)


def _delegate(action: str) -> Any:
    def handler(request: Request, name: str) -> None:
        getattr(_docker(), action)(request, name)

    handler.__name__ = f"libpod_{action}"
    return handler


for _action, _method, _path in (("start", "POST", "start"), ("stop", "POST", "stop"),
                                ("restart", "POST", "restart"), ("kill", "POST", "kill"),
                                ("pause", "POST", "pause"), ("unpause", "POST", "unpause"),
                                ("rename", "POST", "rename"), ("container_logs", "GET", "logs"),
                                ("attach", "POST", "attach"), ("resize", "POST", "resize"),
                                ("changes", "GET", "changes"), ("export", "GET", "export")):
    route(_method, f"/containers/{{name}}/{_path}", libpod=True)(_delegate(_action))


@route("GET", "/containers/{name}/top", libpod=True)
def top(request: Request, name: str) -> None:
    _docker().top(request, name)


@route("GET", "/containers/{name}/stats", libpod=True)
def stats(request: Request, name: str) -> None:
    _docker().stats(request, name)


@route("POST", "/containers/{name}/wait", libpod=True)
def wait(request: Request, name: str) -> None:
    """libpod answers the exit code as a bare JSON number once a condition is met
    (conditions are Podman's state words: stopped, exited, running, ...)."""
    from engine.services.common import open_store
    from engine.services.container_state import reconcile

    wanted = [c for v in request.args("condition") for c in v.split(",") if c] or ["stopped", "exited"]
    interval = 0.1
    c = _find(name)
    store = open_store(context.config())
    while True:
        try:
            c = reconcile(store, store.containers.get(c.id))
        except ContainerNotFound:
            break
        state = c.state.value
        if state in wanted or (state == "stopped" and "exited" in wanted) or \
                (state == "exited" and "stopped" in wanted) or (state == "configured" and "created" in wanted):
            break
        time.sleep(interval)
    request.send_json(int(c.exit_code or 0))


@route("DELETE", "/containers/{name}", libpod=True)
def remove(request: Request, name: str) -> None:
    from engine.services.containers import RmOptions, remove as rm

    c = _find(name)
    if c.state.active and not request.flag("force"):
        from engine.errors import Conflict

        raise Conflict(f"cannot remove container {c.id} as it is running - running or paused containers "
                       "cannot be removed without force: container state improper")
    report = rm(context.config(), [c.id], RmOptions(force=request.flag("force"),
                                                    volumes=request.flag("v") or request.flag("volumes"),
                                                    time=request.int_arg("timeout")))
    if report.errors:
        raise report.errors[0]
    request.send_json([{"Id": c.id, "Err": None}])


@route("POST", "/containers/prune", libpod=True)
def prune(request: Request) -> None:
    from engine.services.containers import prune as prune_containers

    report = prune_containers(context.config(), filters(request))
    request.send_json([{"Id": cid, "Size": size, "Err": None} for cid, size in zip(report.removed, report.sizes)])


@route("POST", "/containers/{name}/mount", libpod=True)
def mount(request: Request, name: str) -> None:
    from engine.services.containers import mount as mount_containers

    request.send_json(mount_containers(context.config(), [_find(name).id])[0][1])


@route("POST", "/containers/{name}/unmount", libpod=True)
def unmount(request: Request, name: str) -> None:
    from engine.services.containers import unmount as unmount_containers

    unmount_containers(context.config(), [_find(name).id])
    request.send_empty(204)


@route("GET", "/containers/{name}/healthcheck", libpod=True)
def healthcheck(request: Request, name: str) -> None:
    from engine.services.container_health import healthcheck_run

    status = healthcheck_run(context.config(), _find(name).id)
    request.send_json({"Status": status, "FailingStreak": 0, "Log": []})
