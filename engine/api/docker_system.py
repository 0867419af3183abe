"""System routes: /_ping, /version, /info (Docker's and libpod's shapes)."""

from __future__ import annotations

import os
import platform
from typing import Any

from engine.api import context
from engine.api.http import API_VERSION, LIBPOD_API_VERSION, MIN_API_VERSION, Request
from engine.api.router import route


@route("GET", "/_ping", both=True)
@route("HEAD", "/_ping", both=True)
def ping(request: Request) -> None:
    headers = [(b"Cache-Control", b"no-cache, no-store, must-revalidate"), (b"Pragma", b"no-cache"),
               (b"Builder-Version", b"1")]
    request.send_bytes(b"OK", content_type="text/plain; charset=utf-8", headers=headers)


def version_doc() -> dict[str, Any]:
    from engine.services.system import _arch, version

    client = version()["Client"]
    arch = _arch()
    details = {
        "APIVersion": LIBPOD_API_VERSION,
        "Arch": arch,
        "BuildTime": client["BuiltTime"],
        "Experimental": "false",
        "GitCommit": "",
        "GoVersion": client["GoVersion"],
        "KernelVersion": platform.release(),
        "MinAPIVersion": "4.0.0",
        "Os": "linux",
    }
    return {
        "Platform": {"Name": "linux/" + arch + "/hull"},
        "Components": [{"Name": "Podman Engine", "Version": client["Version"], "Details": details}],
        "Version": client["Version"],
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": client["GoVersion"],
        "Os": "linux",
        "Arch": arch,
        "KernelVersion": platform.release(),
        "BuildTime": "1970-01-01T00:00:00Z",
    }


@route("GET", "/version", both=True)
def get_version(request: Request) -> None:
    request.send_json(version_doc())


@route("GET", "/info", libpod=True)
def libpod_info(request: Request) -> None:
    from engine.services.system import info

    request.send_json(info(context.config()))


@route("GET", "/info")
def docker_info(request: Request) -> None:
    """Docker's SystemInfo, filled from Hull's own info and counts."""
    from engine.services.system import info

    cfg = context.config()
    doc = info(cfg)
    host, store = doc["host"], doc["store"]
    counts = _container_counts(cfg)
    request.send_json({
        "ID": _engine_id(cfg),
        "Containers": sum(counts.values()),
        "ContainersRunning": counts["running"],
        "ContainersPaused": counts["paused"],
        "ContainersStopped": counts["stopped"],
        "Images": store["imageStore"]["number"],
        "Driver": store["graphDriverName"],
        "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]],
        "DockerRootDir": store["graphRoot"],
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "macvlan", "ipvlan"],
                    "Authorization": None, "Log": ["k8s-file", "json-file", "none"]},
        "MemoryLimit": True,
        "SwapLimit": True,
        "KernelMemory": False,
        "CpuCfsPeriod": True,
        "CpuCfsQuota": True,
        "CPUShares": True,
        "CPUSet": True,
        "PidsLimit": True,
        "IPv4Forwarding": True,
        "BridgeNfIptables": False,
        "BridgeNfIp6tables": False,
        "Debug": False,
        "NFd": len(os.listdir("/proc/self/fd")),
        "OomKillDisable": False,
        "NGoroutines": 1,
        "SystemTime": _now_rfc3339(),
        "LoggingDriver": "k8s-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1",
        "NEventsListener": 0,
        "KernelVersion": host["kernel"],
        "OperatingSystem": host["distribution"]["distribution"] or "linux",
        "OSVersion": host["distribution"]["version"],
        "OSType": "linux",
        "Architecture": platform.machine(),
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {"IndexConfigs": {}, "InsecureRegistryCIDRs": [], "Mirrors": []},
        "NCPU": host["cpus"],
        "MemTotal": host["memTotal"],
        "GenericResources": None,
        "HttpProxy": os.environ.get("HTTP_PROXY", ""),
        "HttpsProxy": os.environ.get("HTTPS_PROXY", ""),
        "NoProxy": os.environ.get("NO_PROXY", ""),
        "Name": host["hostname"],
        "Labels": [],
        "ExperimentalBuild": False,
        "ServerVersion": doc["version"]["Version"],
        "Runtimes": {"builtin": {"path": "builtin"}, "crun": {"path": "crun"}, "runc": {"path": "runc"}},
        "DefaultRuntime": "builtin",
        "LiveRestoreEnabled": False,
        "Isolation": "",
        "InitBinary": "catatonit",
        "SecurityOptions": ["name=seccomp,profile=default"] + (["name=rootless"] if cfg.rootless else []),
        "Warnings": [],
    })


def _container_counts(cfg: Any) -> dict[str, int]:
    from engine.services.container_list import ListOptions, list_containers

    counts = {"running": 0, "paused": 0, "stopped": 0}
    for c in list_containers(cfg, ListOptions(all=True)):
        counts["running" if c.state == "running" else "paused" if c.state == "paused" else "stopped"] += 1
    return counts


def _engine_id(cfg: Any) -> str:
    import hashlib

    return hashlib.sha256(str(cfg.root).encode()).hexdigest()[:36].upper()


def _now_rfc3339() -> str:
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


@route("GET", "/system/df")
def docker_df(request: Request) -> None:
    """Docker's SystemDataUsageResponse: images, containers (with sizes), volumes;
    the legacy builder's cache is its intermediate images, already under Images."""
    from engine.api.system_df import docker_df_doc

    request.send_json(docker_df_doc(context.config()))


@route("POST", "/auth")
def docker_auth(request: Request) -> None:
    """Check credentials against the registry (as `login` does); nothing is stored:
    the client keeps its credentials, as with dockerd."""
    from engine.errors import InvalidArgument
    from engine.services.auth import registry_host, verify

    body = request.json(required=True)
    if not isinstance(body, dict):
        raise InvalidArgument("the body must be a JSON object")
    server = body.get("serveraddress") or "docker.io"
    verify(context.config(), registry_host(server), body.get("username") or "", body.get("password") or "", None)
    request.send_json({"Status": "Login Succeeded", "IdentityToken": ""})
