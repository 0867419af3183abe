"""libpod's `POST /libpod/system/prune` (Podman's SystemPruneReport, on the service
`hull system prune` uses) and `GET /libpod/containers/stats` (several containers at
once, Podman's `{"Error","Stats":[ContainerStats]}` lines: podman-py's
`Container.stats` calls it)."""

from __future__ import annotations

import time
from typing import Any

from engine.api import context
from engine.api.http import Request
from engine.api.params import filters
from engine.api.router import route
from engine.errors import ContainerNotFound, InvalidArgument


@route("POST", "/system/prune", libpod=True)
def system_prune(request: Request) -> None:
    from engine.services.system_prune import prune

    report = prune(context.config(), all_images=request.flag("all"), volumes=request.flag("volumes"),
                   filters=filters(request))
    errors = {id(e): str(e) for e in report.container_errors}
    request.send_json({
        "PodPruneReport": [{"Err": None, "Id": pid} for pid in report.pods],
        "ContainerPruneReports": [{"Id": cid, "Size": size} for cid, size in report.containers]
        + [{"Id": "", "Err": text, "Size": 0} for text in errors.values()],
        "ImagePruneReports": [{"Id": iid, "Size": 0} for iid in report.images],
        "NetworkPruneReports": [{"Name": name, "Error": None} for name in report.networks],
        "VolumePruneReports": [{"Id": name, "Size": size} for name, size in report.volumes],
        "ReclaimedSpace": report.reclaimed,
    })


def _stats_doc(c: Any, s: Any) -> dict[str, Any]:
    """Podman 5's define.ContainerStats from a container_stats sample."""
    return {
        "AvgCPU": s.avg_cpu, "ContainerID": c.id, "Name": c.name, "PerCPU": None, "CPU": s.cpu_percent,
        "CPUNano": s.cpu_nano, "CPUSystemNano": 0, "SystemNano": s.system_nano, "MemUsage": s.mem_usage,
        "MemLimit": s.mem_limit, "MemPerc": s.mem_percent, "NetInput": s.net_input, "NetOutput": s.net_output,
        "BlockInput": s.block_input, "BlockOutput": s.block_output, "PIDs": s.pids, "UpTime": s.cpu_nano,
        "Duration": s.cpu_nano,
        "Network": {"eth0": {"RxBytes": s.net_input, "RxDropped": 0, "RxErrors": 0, "RxPackets": 0,
                             "TxBytes": s.net_output, "TxDropped": 0, "TxErrors": 0, "TxPackets": 0}},
    }


@route("GET", "/containers/stats", libpod=True)
def containers_stats(request: Request) -> None:
    """`containers` (repeated) or, without it, the running containers (`all`: every
    one); `stream` (default true) samples every `interval` seconds (default 5)."""
    from engine.services.common import open_store
    from engine.services.container_state import reconcile
    from engine.services.container_stats import sample

    names = [n for n in request.args("containers") if n]
    streaming = request.flag("stream", True)
    interval = request.int_arg("interval", 5)
    if interval is None or interval < 1:
        raise InvalidArgument("interval must be a positive number of seconds")
    store = open_store(context.config())
    if names:
        ctrs = []
        for name in names:
            try:
                ctrs.append(store.containers.lookup(name))
            except ContainerNotFound:
                raise ContainerNotFound(f"unable to look up container {name}: no container with name or ID "
                                        f'"{name}" found: no such container') from None
    else:
        every = request.flag("all")
        ctrs = [c for c in store.containers.list() if every or reconcile(store, c).state.active]
    out = request.stream()
    while True:
        docs = []
        for c in list(ctrs):
            try:
                c = reconcile(store, store.containers.get(c.id))
            except ContainerNotFound:
                ctrs.remove(c)  # removed meanwhile: dropped from the report, as Podman
                continue
            docs.append(_stats_doc(c, sample(store, c)))
        out.write_json({"Error": None, "Stats": docs})
        if not streaming or not ctrs:
            break
        time.sleep(interval)
    out.close()
