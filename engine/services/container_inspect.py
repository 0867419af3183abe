"""`inspect` of containers: Podman's document, with the field names the docker
CLI reads (State, Config, HostConfig, Mounts, NetworkSettings) spelled as both do.

The process fields (Path, Args, Env, WorkingDir, User) come from the bundle's
config.json, which is what really runs; the rest from the stored options.
Secret values never appear: env vars made from `--secret type=env` are dropped.
"""

from __future__ import annotations

import json
import os
import signal as _signal
from datetime import datetime, timezone
from typing import Any

from engine.config import EngineConfig
from engine.errors import ContainerNotFound, HullError
from engine.services.common import open_store
from engine.services.container_state import exit_file, monitor_pid_file, reconcile, status_word
from engine.store.containers import Container, ContainerState

S = ContainerState
ZERO_TIME = "0001-01-01T00:00:00Z"


def go_time(ts: float) -> str:
    """Unix seconds -> Go's RFC 3339 with nanoseconds in local time, as Podman prints."""
    if not ts:
        return ZERO_TIME
    dt = datetime.fromtimestamp(ts, tz=timezone.utc).astimezone()
    nanos = int(round((ts - int(ts)) * 1e9))
    frac = f".{nanos:09d}".rstrip("0").rstrip(".")
    offset = dt.strftime("%z")
    offset = "Z" if offset in ("+0000", "") and dt.utcoffset().total_seconds() == 0 else f"{offset[:3]}:{offset[3:]}"
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + frac + offset


def _signal_name(num: int | None) -> str:
    if not num:
        return "SIGTERM"
    try:
        return _signal.Signals(num).name
    except ValueError:
        return str(num)


def _spec(c: Container) -> dict:
    try:
        with open(c.spec_path) as f:
            doc = json.load(f)
        return doc if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        return {}


def _health(c: Container) -> dict | None:
    if not c.health:
        return None
    return {"Status": c.health, "FailingStreak": c.failing_streak, "Log": c.health_log}


def _state(c: Container) -> dict:
    state = {
        "OciVersion": "1.1.0",
        "Status": status_word(c.state),
        "Running": c.state == S.RUNNING or c.state == S.PAUSED,
        "Paused": c.state == S.PAUSED,
        "Restarting": False,
        "OOMKilled": c.oom_killed,
        "Dead": False,
        "Pid": c.pid if c.state.active else 0,
        "ConmonPid": c.monitor_pid if c.state.active else 0,
        "ExitCode": c.exit_code,
        "Error": c.error,
        "StartedAt": go_time(c.started_at),
        "FinishedAt": go_time(c.finished_at),
        "CheckpointedAt": ZERO_TIME,
        "RestoredAt": ZERO_TIME,
    }
    health = _health(c)
    if health is not None:
        state["Health"] = health
        state["Healthcheck"] = health  # Podman 4 spelling, still read by some tools
    return state


def _mounts(store: Any, c: Container, opts: dict) -> list[dict]:
    volumes = {dest: name for name, dest in store.volumes.of_container(c.id)}
    out = []
    for m in opts.get("mounts", []):
        mtype, dest = m.get("type"), m.get("destination", "")
        if mtype == "tmpfs":
            continue  # Podman lists tmpfs mounts under HostConfig.Tmpfs, not Mounts
        rw = not m.get("readonly")
        options = list(m.get("options") or [])
        if m.get("recursive", True) and mtype == "bind":
            options.append("rbind")
        # Name (omitempty in Podman's JSON) is kept empty: `{{range .Mounts}}{{.Name}}` must render
        entry = {"Type": mtype, "Name": "", "Source": m.get("source", ""), "Destination": dest, "Driver": "",
                 "Mode": "", "Options": options, "RW": rw, "Propagation": m.get("propagation") or "rprivate"}
        if mtype == "volume":
            name = volumes.get(dest, m.get("source", ""))
            entry.update(Name=name, Driver="local")
            try:
                entry["Source"] = store.volumes.get(name).data_path
            except HullError:
                pass
        out.append(entry)
    for dest, name in volumes.items():  # image VOLUMEs made anonymous volumes
        if not any(e["Destination"] == dest for e in out):
            try:
                source = store.volumes.get(name).data_path
            except HullError:
                source = ""
            out.append({"Type": "volume", "Name": name, "Source": source, "Destination": dest, "Driver": "local",
                        "Mode": "", "Options": ["nosuid", "nodev", "rbind"], "RW": True, "Propagation": "rprivate"})
    return out


def _id_mappings(spec: dict) -> dict:
    """Podman's HostConfig.IDMappings ("C:H:S" strings) for a container with its own user
    namespace maps (--userns=auto, --uidmap, keep-id); absent otherwise."""
    linux = spec.get("linux") or {}
    if not linux.get("uidMappings"):
        return {}
    fmt = lambda maps: [f"{m['containerID']}:{m['hostID']}:{m['size']}" for m in maps or []]  # noqa: E731
    return {"IDMappings": {"UidMap": fmt(linux.get("uidMappings")), "GidMap": fmt(linux.get("gidMappings"))}}


def _host_config(c: Container, opts: dict, spec: dict) -> dict:
    res = opts.get("resources") or {}
    restart = opts.get("restart") or {}
    sec = opts.get("security") or {}
    binds = []
    tmpfs = {}
    for m in opts.get("mounts", []):
        if m.get("type") == "bind":
            mode = "ro" if m.get("readonly") else "rw"
            binds.append(f"{m.get('source')}:{m.get('destination')}:{mode},rprivate,rbind")
        elif m.get("type") == "volume" and m.get("source"):
            binds.append(f"{m.get('source')}:{m.get('destination')}:{'ro' if m.get('readonly') else 'rw'}")
        elif m.get("type") == "tmpfs":
            tmpfs[m.get("destination")] = ",".join(m.get("options") or []) or "rw,rprivate,nosuid,nodev"
    security_opt = []
    if sec.get("no_new_privileges"):
        security_opt.append("no-new-privileges")
    if sec.get("seccomp_profile"):
        security_opt.append(f"seccomp={sec['seccomp_profile']}")
    security_opt += [f"mask={p}" for p in sec.get("mask") or []]
    security_opt += [f"unmask={p}" for p in sec.get("unmask") or []]
    cpus = res.get("cpus")
    ulimits = [{"Name": "RLIMIT_" + u["name"].upper(), "Soft": u["soft"], "Hard": u["hard"]}
               for u in opts.get("ulimits") or []]
    if not ulimits:
        ulimits = [{"Name": r.get("type", ""), "Soft": r.get("soft", 0), "Hard": r.get("hard", 0)}
                   for r in (spec.get("process") or {}).get("rlimits") or []]
    network = opts.get("network") or "private"
    log_path = ""
    return {
        "Binds": binds,
        "CgroupManager": "cgroupfs",
        "CgroupMode": "private",
        "ContainerIDFile": opts.get("cidfile", ""),
        "LogConfig": {"Type": opts.get("log_driver") or "k8s-file", "Config": opts.get("log_opts") or None,
                      "Path": log_path, "Tag": "", "Size": (opts.get("log_opts") or {}).get("max-size", "0B")},
        "NetworkMode": "bridge" if network == "private" else network,
        "PortBindings": {},
        "RestartPolicy": {"Name": "" if restart.get("name") in (None, "no") else restart["name"],
                          "MaximumRetryCount": restart.get("max_retries", 0)},
        "AutoRemove": bool(opts.get("rm")),
        "VolumeDriver": "",
        "VolumesFrom": opts.get("volumes_from") or None,
        "CapAdd": list(opts.get("cap_add") or []),
        "CapDrop": list(opts.get("cap_drop") or []),
        "Dns": list(opts.get("dns") or []),
        "DnsOptions": [],
        "DnsSearch": [],
        "ExtraHosts": list(opts.get("add_hosts") or []),
        "GroupAdd": list(opts.get("group_add") or []),
        "IpcMode": "private",
        "Cgroup": "",
        "Cgroups": "default",
        "Links": None,
        "OomScoreAdj": opts.get("oom_score_adj") or 0,
        "PidMode": "private",
        "Privileged": bool(opts.get("privileged")),
        "PublishAllPorts": False,
        "ReadonlyRootfs": bool(opts.get("read_only")),
        "SecurityOpt": security_opt,
        "Tmpfs": tmpfs,
        "UTSMode": "private",
        "UsernsMode": opts.get("userns") or "",
        **_id_mappings(spec),
        "ShmSize": opts.get("shm_size") or 65536000,
        "Runtime": "oci",
        "ConsoleSize": list(opts.get("console_size") or [0, 0]),
        "CpuShares": res.get("cpu_shares") or 0,
        "Memory": res.get("memory") or 0,
        "NanoCpus": int(cpus * 1e9) if cpus else 0,
        "CpuPeriod": res.get("cpu_period") or 0,
        "CpuQuota": res.get("cpu_quota") or 0,
        "CpusetCpus": res.get("cpuset_cpus") or "",
        "CpusetMems": res.get("cpuset_mems") or "",
        "Devices": [{"PathOnHost": d.get("host_path"), "PathInContainer": d.get("container_path"),
                     "CgroupPermissions": d.get("permissions", "rwm")} for d in opts.get("devices") or []],
        "MemoryReservation": res.get("memory_reservation") or 0,
        "MemorySwap": res.get("memory_swap") or 0,
        "MemorySwappiness": 0,
        "OomKillDisable": bool(res.get("oom_kill_disable")),
        "PidsLimit": res.get("pids_limit") or 0,
        "Ulimits": ulimits,
        "Sysctls": opts.get("sysctls") or {},
        # the rest of Podman's InspectContainerHostConfig (no omitempty): zero values, so
        # templates such as {{.HostConfig.CgroupParent}} render as with Podman
        "BlkioWeight": 0, "BlkioWeightDevice": None, "BlkioDeviceReadBps": None, "BlkioDeviceWriteBps": None,
        "BlkioDeviceReadIOps": None, "BlkioDeviceWriteIOps": None, "CgroupConf": None,
        "CgroupParent": "", "CpuCount": 0, "CpuPercent": 0,
        "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "DiskQuota": 0, "IOMaximumBandwidth": 0,
        "IOMaximumIOps": 0, "Isolation": "", "KernelMemory": 0,
    }


def _config(c: Container, opts: dict, spec: dict, hidden_env: set[str]) -> dict:
    process = spec.get("process") or {}
    env = [e for e in process.get("env") or [] if e.partition("=")[0] not in hidden_env]
    user = process.get("user") or {}
    hc = opts.get("healthcheck")
    healthcheck = None
    if hc and hc.get("test"):
        healthcheck = {"Test": hc["test"], "Interval": int(hc.get("interval", 30) * 1e9),
                       "Timeout": int(hc.get("timeout", 30) * 1e9),
                       "StartPeriod": int(hc.get("start_period", 0) * 1e9), "Retries": hc.get("retries", 3)}
    entrypoint = opts.get("entrypoint")
    command = list(c.command)
    args = process.get("args") or command
    return {
        "Hostname": spec.get("hostname") or opts.get("hostname") or c.id[:12],
        "Domainname": "",
        "User": opts.get("user") or (f"{user.get('uid', 0)}" if user.get("uid") else ""),
        "AttachStdin": bool(opts.get("interactive")),
        "AttachStdout": not opts.get("detach"),
        "AttachStderr": not opts.get("detach"),
        "Tty": bool(opts.get("tty")),
        "OpenStdin": bool(opts.get("interactive")),
        "StdinOnce": bool(opts.get("interactive")) and not opts.get("detach"),
        "Env": env,
        "Cmd": list(opts.get("command") or []) or (command if entrypoint is None else []) or None,
        "Image": c.image_name,
        "Volumes": None,
        "WorkingDir": process.get("cwd") or opts.get("workdir") or "/",
        "Entrypoint": entrypoint if entrypoint is not None else _image_entrypoint(args, opts),
        "OnBuild": None,
        "Labels": dict(c.labels) or None,
        "Annotations": {**(spec.get("annotations") or {}), **(opts.get("annotations") or {})},
        "StopSignal": _signal_name(opts.get("stop_signal")),
        "StopTimeout": opts.get("stop_timeout") if opts.get("stop_timeout") is not None else 10,
        "Healthcheck": healthcheck,
        "HealthcheckOnFailureAction": (hc or {}).get("on_failure", "none"),
        "CreateCommand": opts.get("create_command") or [],
        "Umask": "0022",
        "Timeout": 0,
        "Passwd": True,
        "sdNotifyMode": "container",
    }


def _image_entrypoint(args: list[str], opts: dict) -> list[str] | None:
    cmd = list(opts.get("command") or [])
    if cmd and args[-len(cmd):] == cmd:
        rest = args[: len(args) - len(cmd)]
        return rest or None
    return None


def inspect_one(store: Any, c: Container, size: bool = False) -> dict:
    c = reconcile(store, c)
    opts = c.options or {}
    spec = _spec(c)
    hidden = {(s.get("target") or s.get("name")) for s in opts.get("secrets") or [] if s.get("type") == "env"}
    cs = store.containers
    userdata = cs.userdata(c.id)
    process_args = (spec.get("process") or {}).get("args") or list(c.command)
    lowers = []
    image_exposed: list[str] = []
    if c.image_id:
        try:
            image = store.images.get(c.image_id)
            lowers = [str(store.layers.diff_path(ch)) for ch in reversed(image.layers)]
            image_exposed = list(((image.config or {}).get("config") or {}).get("ExposedPorts") or {})
        except HullError:
            pass
    doc = {
        "Id": c.id,
        "Created": go_time(c.created),
        "Path": process_args[0] if process_args else "",
        "Args": process_args[1:],
        "State": _state(c),
        "Image": (c.image_id or "").removeprefix("sha256:"),
        "ImageDigest": "",
        "ImageName": c.image_name,
        "Rootfs": "",
        "Pod": c.pod,
        "ResolvConfPath": str(userdata / "resolv.conf"),
        "HostnamePath": str(userdata / "hostname"),
        "HostsPath": "" if opts.get("no_hosts") else str(userdata / "hosts"),
        "StaticDir": str(userdata),
        "OCIConfigPath": c.spec_path,
        "OCIRuntime": c.runtime or "hull",
        "ConmonPidFile": str(monitor_pid_file(store, c.id)),
        "PidFile": str(cs.run_dir(c.id) / "pid"),
        "Name": c.name,
        "RestartCount": c.restart_count,
        "Driver": "overlay",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "EffectiveCaps": ((spec.get("process") or {}).get("capabilities") or {}).get("effective") or [],
        "BoundingCaps": ((spec.get("process") or {}).get("capabilities") or {}).get("bounding") or [],
        "ExecIDs": [],
        "GraphDriver": {"Name": "overlay", "Data": {
            "LowerDir": ":".join(lowers), "UpperDir": str(cs.upper(c.id)), "WorkDir": str(cs.work(c.id)),
            "MergedDir": str(cs.rootfs(c.id))}},
        "Mounts": _mounts(store, c, opts),
        "Dependencies": [],
        "NetworkSettings": _network(opts),
        "Namespace": "",
        "IsInfra": False,
        "IsService": False,
        "KubeExitCodePropagation": "invalid",
        "Config": _config(c, opts, spec, hidden),
        "HostConfig": _host_config(c, opts, spec),
    }
    if doc["HostConfig"]["LogConfig"]["Type"] != "none":  # Podman: the log file's path (ctr.log)
        doc["HostConfig"]["LogConfig"]["Path"] = str(cs.log_path(c.id))
    from engine.network.ports import inspect_fields  # -p: bindings in force, or the requested ones

    ports = inspect_fields(cs.run_dir(c.id), opts, c.state.active, image_exposed)
    doc["NetworkSettings"]["Ports"] = ports["Ports"]
    doc["HostConfig"]["PortBindings"] = ports["PortBindings"]
    doc["HostConfig"]["PublishAllPorts"] = ports["PublishAllPorts"]
    from engine.services.networks import inspect_settings, network_mode

    doc["HostConfig"]["NetworkMode"] = network_mode(store.cfg, opts)
    doc["NetworkSettings"].update(inspect_settings(store, c))
    try:
        doc["State"]["ExitFile"] = str(exit_file(store, c.id)) if os.path.exists(exit_file(store, c.id)) else ""
    except OSError:
        pass
    if size:
        from engine.services.container_list import upper_size

        rw = upper_size(store, c)
        image_size = 0
        if c.image_id:
            try:
                image_size = int(store.images.get(c.image_id).size or 0)
            except HullError:
                pass
        doc["SizeRw"], doc["SizeRootFs"] = rw, rw + image_size
    return doc


def _network(opts: dict) -> dict:
    return {"EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
            "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": "", "Bridge": "",
            "SandboxID": "", "HairpinMode": False, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "Ports": {}, "SandboxKey": "", "Networks": {}}


def inspect(cfg: EngineConfig, names: list[str], size: bool = False) -> list[dict]:
    """One document per name; ContainerNotFound for the first unknown one."""
    store = open_store(cfg)
    return [inspect_one(store, store.containers.lookup(n), size) for n in names]


__all__ = ["inspect", "inspect_one", "go_time", "ContainerNotFound"]
