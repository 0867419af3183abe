"""Docker's container JSON <-> Hull's typed records.

- `create_options(body, name)`: POST /containers/create's body (ContainerConfig +
  HostConfig + NetworkingConfig) -> engine.spec.options.ContainerOptions, through the
  same parsers the CLI flags use (engine/spec/parse.py), so a value the CLI refuses
  is refused here too, with a 400.
- `inspect_doc(doc)`: the services' inspect document (Podman's) -> Docker's
  ContainerInspectResponse (what the swagger allows, state words Docker knows).
- `summary_doc(s)`: a container_list.ContainerSummary -> Docker's ContainerSummary.
- `stats_doc(...)`: a container_stats sample -> Docker's stats JSON.

Fields Hull cannot honour are refused with a 400 rather than silently dropped when
they change what runs (e.g. Links, a log driver Hull has not); cosmetic ones
(StdinOnce, MacAddress on the default network, ...) are accepted and ignored.
"""

from __future__ import annotations

import os
import time
from typing import Any

from engine.errors import InvalidArgument

_DEFAULT_MODES = ("", "default", "bridge")
LOG_DRIVERS = {"": "", "json-file": "json-file", "k8s-file": "k8s-file", "none": "none",
               "passthrough": "passthrough"}
# Podman state words -> Docker's ContainerState.Status enum
_STATUS = {"configured": "created", "created": "created", "initialized": "created", "running": "running",
           "paused": "paused", "stopped": "exited", "stopping": "running", "exited": "exited",
           "removing": "removing", "unknown": "dead"}


def _console_size(value: Any) -> list[int]:
    """HostConfig.ConsoleSize [height, width] (docker run -t sends the terminal's size,
    so the pty has it before the first prompt, not only after a later resize)."""
    if value is None:
        return []
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 65536 for n in value)):
        raise InvalidArgument("HostConfig.ConsoleSize must be two integers [height, width] from 0 to 65535")
    return list(value) if all(value) else []


def _obj(value: Any, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"{what} must be a JSON object")
    return value


def _strs(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"{what} must be a list of strings")
    return list(value)


def _int(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgument(f"{what} must be an integer")
    return int(value)


def _env(items: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid environment variable: {item!r}")
        if sep:  # Docker: "KEY" alone (no '=') means "not set": nothing to add
            env[key] = value
    return env


def _namespace(text: Any, kind: str) -> str:
    """IpcMode/UTSMode/PidMode -> ContainerOptions' "", host, container:X, ns:PATH."""
    text = str(text or "")
    head, colon, rest = text.partition(":")
    if text in ("", "private") or (kind == "ipc" and text in ("shareable", "none")):
        return ""
    if text == "host" or (head in ("container", "ns") and colon and rest):
        return text
    raise InvalidArgument(f"invalid {kind.upper()} mode: {text}")


def _mount(m: dict) -> Any:
    """A HostConfig.Mounts entry -> MountSpec."""
    from engine.spec.options import MountSpec

    m = _obj(m, "HostConfig.Mounts[]")
    mtype = (m.get("Type") or "volume").lower()
    target = m.get("Target") or m.get("Destination") or ""
    if mtype not in ("bind", "volume", "tmpfs"):
        raise InvalidArgument(f"mount type {mtype!r} is not supported")
    if not isinstance(target, str) or not target.startswith("/"):
        raise InvalidArgument(f"invalid mount target {target!r}: must be an absolute path")
    spec = MountSpec(type=mtype, destination=target, source=str(m.get("Source") or ""),
                     readonly=bool(m.get("ReadOnly")))
    if mtype == "bind":
        if not spec.source.startswith("/"):
            raise InvalidArgument(f"invalid mount source {spec.source!r}: a bind needs an absolute path")
        bind = _obj(m.get("BindOptions"), "BindOptions")
        spec.propagation = bind.get("Propagation") or ""
        spec.recursive = not bind.get("NonRecursive")
    elif mtype == "volume":
        spec.nocopy = bool(_obj(m.get("VolumeOptions"), "VolumeOptions").get("NoCopy"))
    else:
        tmpfs = _obj(m.get("TmpfsOptions"), "TmpfsOptions")
        spec.source = ""
        spec.tmpfs_size = _int(tmpfs.get("SizeBytes"), "TmpfsOptions.SizeBytes") or None
        spec.tmpfs_mode = _int(tmpfs.get("Mode"), "TmpfsOptions.Mode") or None
    return spec


def _healthcheck(hc: dict) -> tuple[Any, bool]:
    """(HealthConfig or None, no_healthcheck)."""
    from engine.spec.options import HealthConfig

    test = _strs(hc.get("Test"), "Healthcheck.Test")
    if not test:
        return None, False  # the image's
    if test[0] == "NONE":
        return None, True
    if test[0] not in ("CMD", "CMD-SHELL") or len(test) < 2:
        raise InvalidArgument(f"invalid Healthcheck.Test {test!r}")
    out = HealthConfig(test=test)
    for key, field in (("Interval", "interval"), ("Timeout", "timeout"), ("StartPeriod", "start_period")):
        ns = _int(hc.get(key), f"Healthcheck.{key}")
        if ns:
            setattr(out, field, ns / 1e9)
    retries = _int(hc.get("Retries"), "Healthcheck.Retries")
    if retries:
        out.retries = retries
    return out, False


def _ports(exposed: dict, bindings: dict) -> tuple[list[str], list[Any]]:
    from engine.network import ports
    from engine.spec.options import PortMapping

    expose: list[str] = []
    for key in exposed:
        expose.extend(ports.parse_expose(key))
    publish = []
    for key, hosts in bindings.items():
        port, _, proto = str(key).partition("/")
        try:
            container_port = int(port)
        except ValueError:
            raise InvalidArgument(f"invalid port {key!r} in HostConfig.PortBindings") from None
        for host in hosts or [{}]:
            host = _obj(host, "PortBinding")
            host_port = str(host.get("HostPort") or "0")
            first, _, last = host_port.partition("-")
            try:
                hp = int(first)
            except ValueError:
                raise InvalidArgument(f"invalid host port {host_port!r}") from None
            publish.append(PortMapping(container_port=container_port, host_port=hp,
                                       host_ip=host.get("HostIp") or "", protocol=proto or "tcp",
                                       range=(int(last) - hp + 1) if last.isdigit() else 1))
    return expose, publish


def _network(host: dict, networking: dict) -> tuple[str, str, dict]:
    from engine.spec.options import NetworkAttachment

    mode = str(host.get("NetworkMode") or "")
    endpoints = _obj(networking.get("EndpointsConfig"), "NetworkingConfig.EndpointsConfig")
    head, colon, rest = mode.partition(":")
    if mode in ("none", "host"):
        return mode, "", {}
    if head == "container" and rest:
        return "container", rest, {}
    networks: dict[str, Any] = {}
    named = [mode] if mode not in _DEFAULT_MODES else []
    named += [n for n in endpoints if n not in _DEFAULT_MODES and n not in named]
    for name in named:
        ep = _obj(endpoints.get(name), f"EndpointsConfig.{name}")
        ipam = _obj(ep.get("IPAMConfig"), "IPAMConfig")
        networks[name] = NetworkAttachment(aliases=_strs(ep.get("Aliases"), "Aliases"),
                                           ip=ipam.get("IPv4Address") or "", ip6=ipam.get("IPv6Address") or "",
                                           mac=ep.get("MacAddress") or "")
    return ("bridge", "", networks) if networks else ("", "", {})


def create_options(body: Any, name: str = "") -> Any:
    """POST /containers/create body -> ContainerOptions (400 on anything malformed)."""
    from engine.spec import parse
    from engine.spec.options import ContainerOptions, DeviceSpec, Resources, RestartPolicy, Ulimit

    body = _obj(body, "the request body")
    host = _obj(body.get("HostConfig"), "HostConfig")
    networking = _obj(body.get("NetworkingConfig"), "NetworkingConfig")
    image = body.get("Image")
    if not isinstance(image, str) or not image:
        raise InvalidArgument("config.Image must be a non-empty string")
    entrypoint = body.get("Entrypoint")
    if entrypoint is not None:
        entrypoint = [e for e in _strs(entrypoint, "Entrypoint")]
        if entrypoint == [""]:
            entrypoint = []
    attach = [s for s, key in (("stdin", "AttachStdin"), ("stdout", "AttachStdout"), ("stderr", "AttachStderr"))
              if body.get(key)]
    hc, no_hc = _healthcheck(_obj(body.get("Healthcheck"), "Healthcheck"))
    network, network_arg, networks = _network(host, networking)
    expose, publish = _ports(_obj(body.get("ExposedPorts"), "ExposedPorts"),
                             _obj(host.get("PortBindings"), "HostConfig.PortBindings"))
    mounts = [parse.parse_volume(b) for b in _strs(host.get("Binds"), "HostConfig.Binds")]
    mounts += [_mount(m) for m in host.get("Mounts") or []]
    for dest, options in _obj(host.get("Tmpfs"), "HostConfig.Tmpfs").items():
        mounts.append(parse.parse_tmpfs(f"{dest}:{options}" if options else dest))
    taken = {os.path.normpath(m.destination) for m in mounts}
    from engine.spec.options import MountSpec

    for dest in _obj(body.get("Volumes"), "Volumes"):
        if os.path.normpath(dest) not in taken:  # Docker's anonymous volumes
            if not dest.startswith("/"):
                raise InvalidArgument(f"invalid volume path {dest!r}: must be absolute")
            mounts.append(MountSpec(type="volume", destination=dest))
    nano = _int(host.get("NanoCpus"), "HostConfig.NanoCpus")
    pids = _int(host.get("PidsLimit"), "HostConfig.PidsLimit")
    swap = _int(host.get("MemorySwap"), "HostConfig.MemorySwap")
    restart = _obj(host.get("RestartPolicy"), "HostConfig.RestartPolicy")
    log = _obj(host.get("LogConfig"), "HostConfig.LogConfig")
    log_type = str(log.get("Type") or "")
    if log_type not in LOG_DRIVERS:
        raise InvalidArgument(f"log driver {log_type!r} is not supported (json-file, k8s-file, none, passthrough)")
    init = host.get("Init")
    opts = ContainerOptions(
        image=image,
        name=name,
        command=_strs(body.get("Cmd"), "Cmd"),
        entrypoint=entrypoint,
        env=_env(_strs(body.get("Env"), "Env")),
        workdir=str(body.get("WorkingDir") or ""),
        user=str(body.get("User") or ""),
        group_add=_strs(host.get("GroupAdd"), "HostConfig.GroupAdd"),
        hostname=str(body.get("Hostname") or ""),
        init=bool(init),
        tty=bool(body.get("Tty")),
        console_size=_console_size(host.get("ConsoleSize")) if body.get("Tty") else [],
        interactive=bool(body.get("OpenStdin")),
        detach=not (body.get("AttachStdout") or body.get("AttachStderr")),
        rm=bool(host.get("AutoRemove")),
        attach=attach,
        mounts=mounts,
        volumes_from=_strs(host.get("VolumesFrom"), "HostConfig.VolumesFrom"),
        read_only=bool(host.get("ReadonlyRootfs")),
        cap_add=parse.parse_capabilities(_strs(host.get("CapAdd"), "HostConfig.CapAdd")),
        cap_drop=parse.parse_capabilities(_strs(host.get("CapDrop"), "HostConfig.CapDrop")),
        privileged=bool(host.get("Privileged")),
        security=parse.parse_security_opts(_security_opts(host.get("SecurityOpt"))),
        ulimits=[Ulimit(name=str(u.get("Name", "")).lower().removeprefix("rlimit_"),
                        soft=int(u.get("Soft", 0)), hard=int(u.get("Hard", 0)))
                 for u in (_obj(u, "Ulimit") for u in host.get("Ulimits") or [])],
        resources=Resources(
            memory=_int(host.get("Memory"), "HostConfig.Memory") or None,
            memory_reservation=_int(host.get("MemoryReservation"), "HostConfig.MemoryReservation") or None,
            memory_swap=swap or None,
            cpus=(nano / 1e9) if nano else None,
            cpu_shares=_int(host.get("CpuShares"), "HostConfig.CpuShares") or None,
            cpu_period=_int(host.get("CpuPeriod"), "HostConfig.CpuPeriod") or None,
            cpu_quota=_int(host.get("CpuQuota"), "HostConfig.CpuQuota") or None,
            cpuset_cpus=str(host.get("CpusetCpus") or ""),
            cpuset_mems=str(host.get("CpusetMems") or ""),
            pids_limit=pids if pids and pids > 0 else None,
            oom_kill_disable=bool(host.get("OomKillDisable")),
        ),
        shm_size=_int(host.get("ShmSize"), "HostConfig.ShmSize") or None,
        oom_score_adj=_int(host.get("OomScoreAdj"), "HostConfig.OomScoreAdj") or None,
        healthcheck=hc,
        no_healthcheck=no_hc,
        labels={str(k): str(v) for k, v in _obj(body.get("Labels"), "Labels").items()},
        stop_signal=parse.parse_signal(body["StopSignal"]) if body.get("StopSignal") else None,
        stop_timeout=_int(body.get("StopTimeout"), "StopTimeout"),
        log_opts={str(k): str(v) for k, v in _obj(log.get("Config"), "LogConfig.Config").items()},
        devices=[DeviceSpec(host_path=d.get("PathOnHost", ""),
                            container_path=d.get("PathInContainer") or d.get("PathOnHost", ""),
                            permissions=d.get("CgroupPermissions") or "rwm")
                 for d in (_obj(d, "Device") for d in host.get("Devices") or [])],
        sysctls={str(k): str(v) for k, v in _obj(host.get("Sysctls"), "HostConfig.Sysctls").items()},
        network=network,
        network_arg=network_arg,
        networks=networks,
        publish=publish,
        publish_all=bool(host.get("PublishAllPorts")),
        expose=expose,
        dns=_strs(host.get("Dns"), "HostConfig.Dns"),
        dns_search=_strs(host.get("DnsSearch"), "HostConfig.DnsSearch"),
        dns_options=_strs(host.get("DnsOptions"), "HostConfig.DnsOptions"),
        add_hosts=_strs(host.get("ExtraHosts"), "HostConfig.ExtraHosts"),
        ipc=_namespace(host.get("IpcMode"), "ipc"),
        uts=_namespace(host.get("UTSMode"), "uts"),
        pid=_namespace(host.get("PidMode"), "pid"),
        pull="never",  # Docker: a missing image is a 404; the client pulls and retries
    )
    if LOG_DRIVERS[log_type]:
        opts.log_driver = LOG_DRIVERS[log_type]
    if opts.sysctls:
        parse.parse_sysctls([f"{k}={v}" for k, v in opts.sysctls.items()], network or "private")
    from engine.network.hostsfiles import parse_add_host

    for entry in opts.add_hosts:
        parse_add_host(entry)
    rname = str(restart.get("Name") or "no")
    if rname not in ("no", "on-failure", "always", "unless-stopped"):
        raise InvalidArgument(f"invalid restart policy {rname!r}")
    opts.restart = RestartPolicy(name=rname, max_retries=_int(restart.get("MaximumRetryCount"),
                                                              "MaximumRetryCount") or 0)
    if opts.rm and rname != "no":
        raise InvalidArgument("conflicting options: AutoRemove and RestartPolicy")
    return opts


def _security_opts(value: Any) -> list[str]:
    out = []
    for item in _strs(value, "HostConfig.SecurityOpt"):
        if item.startswith("no-new-privileges:"):  # Docker's older spelling
            item = "no-new-privileges=" + item.split(":", 1)[1]
        out.append(item)
    return out


# ---------------------------------------------------------------- output
def _nanos(seconds: float) -> int:
    return int(round(seconds * 1e9))


def state_word(podman_status: str) -> str:
    return _STATUS.get(podman_status, "dead")


def inspect_doc(doc: dict, exec_ids: list[str] | None = None) -> dict:
    """Podman's inspect document -> Docker's ContainerInspectResponse."""
    st = doc.get("State") or {}
    health = st.get("Health")
    state = {
        "Status": state_word(st.get("Status", "")),
        "Running": bool(st.get("Running")),
        "Paused": bool(st.get("Paused")),
        "Restarting": False,
        "OOMKilled": bool(st.get("OOMKilled")),
        "Dead": st.get("Status") == "unknown",
        "Pid": int(st.get("Pid") or 0),
        "ExitCode": int(st.get("ExitCode") or 0),
        "Error": st.get("Error") or "",
        "StartedAt": st.get("StartedAt") or "0001-01-01T00:00:00Z",
        "FinishedAt": st.get("FinishedAt") or "0001-01-01T00:00:00Z",
    }
    if health:
        state["Health"] = {"Status": health.get("Status") or "none",
                           "FailingStreak": int(health.get("FailingStreak") or 0),
                           "Log": [_health_result(r) for r in health.get("Log") or []]}
    cfg = dict(doc.get("Config") or {})
    hc = cfg.get("Healthcheck")
    config = {
        "Hostname": cfg.get("Hostname") or "",
        "Domainname": cfg.get("Domainname") or "",
        "User": cfg.get("User") or "",
        "AttachStdin": bool(cfg.get("AttachStdin")),
        "AttachStdout": bool(cfg.get("AttachStdout")),
        "AttachStderr": bool(cfg.get("AttachStderr")),
        "Tty": bool(cfg.get("Tty")),
        "OpenStdin": bool(cfg.get("OpenStdin")),
        "StdinOnce": bool(cfg.get("StdinOnce")),
        "Env": list(cfg.get("Env") or []),
        "Cmd": list(cfg.get("Cmd") or []),
        "Image": cfg.get("Image") or "",
        "Volumes": {m["Destination"]: {} for m in doc.get("Mounts") or [] if m.get("Type") == "volume"},
        "WorkingDir": cfg.get("WorkingDir") or "",
        "Entrypoint": list(cfg.get("Entrypoint") or []),
        "OnBuild": [],
        "Labels": dict(cfg.get("Labels") or {}),
        "StopSignal": cfg.get("StopSignal") or "SIGTERM",
        "StopTimeout": cfg.get("StopTimeout"),
    }
    if doc.get("Config", {}).get("ExposedPorts"):
        config["ExposedPorts"] = doc["Config"]["ExposedPorts"]
    elif (doc.get("NetworkSettings") or {}).get("Ports"):
        config["ExposedPorts"] = {k: {} for k in doc["NetworkSettings"]["Ports"]}
    if hc:
        config["Healthcheck"] = {k: hc[k] for k in ("Test", "Interval", "Timeout", "StartPeriod", "Retries")
                                 if k in hc}
    hostcfg = _host_config(doc.get("HostConfig") or {})
    out = {
        "Id": doc["Id"],
        "Created": doc.get("Created") or "",
        "Path": doc.get("Path") or "",
        "Args": list(doc.get("Args") or []),
        "State": state,
        "Image": "sha256:" + doc["Image"] if doc.get("Image") else "",
        "ResolvConfPath": doc.get("ResolvConfPath") or "",
        "HostnamePath": doc.get("HostnamePath") or "",
        "HostsPath": doc.get("HostsPath") or "",
        "LogPath": ((doc.get("HostConfig") or {}).get("LogConfig") or {}).get("Path") or "",
        "Name": "/" + doc.get("Name", ""),
        "RestartCount": int(doc.get("RestartCount") or 0),
        "Driver": doc.get("Driver") or "overlay",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": doc.get("AppArmorProfile") or "",
        "ExecIDs": exec_ids or None,
        "HostConfig": hostcfg,
        "GraphDriver": {"Name": (doc.get("GraphDriver") or {}).get("Name") or "overlay",
                        "Data": {k: str(v) for k, v in ((doc.get("GraphDriver") or {}).get("Data") or {}).items()}},
        "Mounts": [_mount_point(m) for m in doc.get("Mounts") or []],
        "Config": config,
        "NetworkSettings": _network_settings(doc.get("NetworkSettings") or {}),
    }
    if "SizeRw" in doc:
        out["SizeRw"], out["SizeRootFs"] = int(doc["SizeRw"]), int(doc["SizeRootFs"])
    return out


def _health_result(r: dict) -> dict:
    return {"Start": r.get("Start") or "", "End": r.get("End") or "", "ExitCode": int(r.get("ExitCode") or 0),
            "Output": r.get("Output") or ""}


def _mount_point(m: dict) -> dict:
    mode = "ro" if not m.get("RW", True) else ""
    out = {"Type": m.get("Type") or "bind", "Source": m.get("Source") or "", "Destination": m.get("Destination") or "",
           "Driver": m.get("Driver") or "", "Mode": m.get("Mode") or mode, "RW": bool(m.get("RW", True)),
           "Propagation": m.get("Propagation") or ""}
    if m.get("Name"):
        out["Name"] = m["Name"]
    return out


def _host_config(h: dict) -> dict:
    log = h.get("LogConfig") or {}
    restart = h.get("RestartPolicy") or {}
    rname = restart.get("Name") or "no"
    out = {
        "Binds": list(h.get("Binds") or []),
        "ContainerIDFile": h.get("ContainerIDFile") or "",
        # k8s-file is not a Docker driver name: clients know its format as json-file's sibling
        "LogConfig": {"Type": "json-file" if log.get("Type") in (None, "", "k8s-file") else log["Type"],
                      "Config": {str(k): str(v) for k, v in (log.get("Config") or {}).items()}},
        "NetworkMode": h.get("NetworkMode") or "default",
        "PortBindings": h.get("PortBindings") or {},
        "RestartPolicy": {"Name": rname if rname in ("", "no", "always", "unless-stopped", "on-failure") else "no",
                          "MaximumRetryCount": int(restart.get("MaximumRetryCount") or 0)},
        "AutoRemove": bool(h.get("AutoRemove")),
        "VolumeDriver": "",
        "VolumesFrom": list(h.get("VolumesFrom") or []),
        "CapAdd": list(h.get("CapAdd") or []),
        "CapDrop": list(h.get("CapDrop") or []),
        "CgroupnsMode": "private",
        "Dns": list(h.get("Dns") or []),
        "DnsOptions": list(h.get("DnsOptions") or []),
        "DnsSearch": list(h.get("DnsSearch") or []),
        "ExtraHosts": list(h.get("ExtraHosts") or []),
        "GroupAdd": list(h.get("GroupAdd") or []),
        "IpcMode": h.get("IpcMode") or "private",
        "Cgroup": "",
        "Links": [],
        "OomScoreAdj": int(h.get("OomScoreAdj") or 0),
        "PidMode": "" if h.get("PidMode") in (None, "private") else h["PidMode"],
        "Privileged": bool(h.get("Privileged")),
        "PublishAllPorts": bool(h.get("PublishAllPorts")),
        "ReadonlyRootfs": bool(h.get("ReadonlyRootfs")),
        "SecurityOpt": list(h.get("SecurityOpt") or []),
        "Tmpfs": {str(k): str(v) for k, v in (h.get("Tmpfs") or {}).items()},
        "UTSMode": "" if h.get("UTSMode") in (None, "private") else h["UTSMode"],
        "UsernsMode": h.get("UsernsMode") or "",
        "ShmSize": int(h.get("ShmSize") or 0),
        "Sysctls": {str(k): str(v) for k, v in (h.get("Sysctls") or {}).items()},
        "Runtime": h.get("Runtime") or "runc",
        "ConsoleSize": list(h.get("ConsoleSize") or [0, 0]),
        "Isolation": "",
        "Init": bool(h.get("Init")) or None,
        "CpuShares": int(h.get("CpuShares") or 0),
        "Memory": int(h.get("Memory") or 0),
        "NanoCpus": int(h.get("NanoCpus") or 0),
        "CgroupParent": "",
        "BlkioWeight": 0,
        "CpuPeriod": int(h.get("CpuPeriod") or 0),
        "CpuQuota": int(h.get("CpuQuota") or 0),
        "CpusetCpus": h.get("CpusetCpus") or "",
        "CpusetMems": h.get("CpusetMems") or "",
        "Devices": [{"PathOnHost": d.get("PathOnHost") or "", "PathInContainer": d.get("PathInContainer") or "",
                     "CgroupPermissions": d.get("CgroupPermissions") or "rwm"} for d in h.get("Devices") or []],
        "MemoryReservation": int(h.get("MemoryReservation") or 0),
        "MemorySwap": int(h.get("MemorySwap") or 0),
        "OomKillDisable": bool(h.get("OomKillDisable")),
        "PidsLimit": int(h.get("PidsLimit") or 0) or None,
        "Ulimits": [{"Name": str(u.get("Name", "")).lower().removeprefix("rlimit_"), "Soft": int(u.get("Soft") or 0),
                     "Hard": int(u.get("Hard") or 0)} for u in h.get("Ulimits") or []],
        "MaskedPaths": [],
        "ReadonlyPaths": [],
    }
    if out["Init"] is None:
        del out["Init"]
    return out


def _network_settings(n: dict) -> dict:
    networks = {}
    for name, ep in (n.get("Networks") or {}).items():
        networks[name] = {
            "IPAMConfig": None, "Links": [], "Aliases": list(ep.get("Aliases") or []),
            "MacAddress": ep.get("MacAddress") or "", "NetworkID": ep.get("NetworkID") or "",
            "EndpointID": ep.get("EndpointID") or "", "Gateway": ep.get("Gateway") or "",
            "IPAddress": ep.get("IPAddress") or "", "IPPrefixLen": int(ep.get("IPPrefixLen") or 0),
            "IPv6Gateway": ep.get("IPv6Gateway") or "", "GlobalIPv6Address": ep.get("GlobalIPv6Address") or "",
            "GlobalIPv6PrefixLen": int(ep.get("GlobalIPv6PrefixLen") or 0), "DriverOpts": None,
            "DNSNames": list(ep.get("DNSNames") or ep.get("Aliases") or []),
        }
    return {
        "Bridge": n.get("Bridge") or "", "SandboxID": n.get("SandboxID") or "",
        "SandboxKey": n.get("SandboxKey") or "", "HairpinMode": False,
        "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
        "Ports": {k: ([{"HostIp": b.get("HostIp") or "", "HostPort": str(b.get("HostPort") or "")} for b in v]
                      if v else None) for k, v in (n.get("Ports") or {}).items()},
        "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
        "EndpointID": n.get("EndpointID") or "", "Gateway": n.get("Gateway") or "",
        "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "IPAddress": n.get("IPAddress") or "", "IPPrefixLen": int(n.get("IPPrefixLen") or 0),
        "IPv6Gateway": "", "MacAddress": n.get("MacAddress") or "",
        "Networks": networks,
    }


def summary_doc(s: Any, network_mode: str = "default") -> dict:
    """container_list.ContainerSummary -> Docker's ContainerSummary."""
    ports = []
    for p in s.ports or []:
        for i in range(int(p.get("range") or 1)):
            entry = {"PrivatePort": int(p.get("container_port", 0)) + i, "Type": p.get("protocol") or "tcp"}
            if p.get("host_port"):
                entry["PublicPort"] = int(p["host_port"]) + i
                entry["IP"] = p.get("host_ip") or "0.0.0.0"
            ports.append(entry)
    status = s.status
    if s.state in ("exited", "stopped") and status.startswith("Exited"):
        status = status  # Docker says "Exited (0) 2 seconds ago" too
    doc = {
        "Id": s.id,
        "Names": ["/" + n for n in s.names],
        "Image": s.image,
        "ImageID": "sha256:" + s.image_id.removeprefix("sha256:") if s.image_id else "",
        "Command": " ".join(s.command),
        "Created": int(s.created),
        "Ports": ports,
        "Labels": dict(s.labels or {}),
        "State": state_word(s.state),
        "Status": status,
        "HostConfig": {"NetworkMode": network_mode},
        "NetworkSettings": {"Networks": {}},
        "Mounts": [],
    }
    if s.size_rw is not None:
        doc["SizeRw"] = int(s.size_rw)
        doc["SizeRootFs"] = int(s.size_root_fs or 0)
    return doc


def now_rfc3339() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1e9):09d}Z"
