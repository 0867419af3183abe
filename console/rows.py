"""Engine lists shaped for the pages: containers with their pod's name, compose
project and current CPU/memory; pods, images, volumes with who uses them.

Read-only: nothing here changes engine state, and nothing creates a store that
does not exist yet (an untouched Hull shows empty pages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.config import EngineConfig
from engine.errors import HullError

PROJECT_LABELS = ("com.docker.compose.project", "io.podman.compose.project")
STATES = ("running", "paused", "created", "exited", "stopped", "unknown")


@dataclass
class ContainerRow:
    id: str
    name: str
    image: str
    image_id: str
    command: str
    state: str
    status: str
    created: float
    labels: dict[str, str]
    ports: str
    pod_id: str = ""
    pod_name: str = ""
    project: str = ""
    health: str = ""
    infra: bool = False
    cpu_percent: float | None = None
    mem_usage: int | None = None
    mem_limit: int | None = None
    search_text: str = ""


@dataclass
class Group:
    key: str
    label: str
    kind: str  # "pod", "project" or ""
    rows: list[ContainerRow] = field(default_factory=list)


def _ports(ports: list[dict]) -> str:
    out = []
    for p in ports:
        host = p.get("host_port") or p.get("HostPort") or ""
        ctr = p.get("container_port") or p.get("ContainerPort") or ""
        proto = p.get("protocol") or p.get("Protocol") or "tcp"
        ip = p.get("host_ip") or p.get("HostIP") or ""
        if ctr:
            out.append(f"{ip + ':' if ip else ''}{host}->{ctr}/{proto}" if host else f"{ctr}/{proto}")
    return ", ".join(out)


def pod_names(cfg: EngineConfig) -> dict[str, Any]:
    """pod id -> PodSummary."""
    from engine.services import pod_inspect

    try:
        return {p.id: p for p in pod_inspect.list_pods(cfg)}
    except HullError:
        return {}


def container_rows(cfg: EngineConfig, with_stats: bool = True) -> list[ContainerRow]:
    from engine.services import container_list

    summaries = container_list.list_containers(cfg, container_list.ListOptions(all=True))
    pods = pod_names(cfg)
    infra_ids = {p.infra_id for p in pods.values() if p.infra_id}
    rows = []
    for s in summaries:
        pod = pods.get(s.pod)
        project = next((s.labels[k] for k in PROJECT_LABELS if s.labels.get(k)), "")
        name = s.names[0] if s.names else s.id[:12]
        command = " ".join(s.command)
        row = ContainerRow(
            id=s.id, name=name, image=s.image, image_id=s.image_id, command=command, state=s.state,
            status=s.status, created=s.created, labels=dict(s.labels), ports=_ports(s.ports),
            pod_id=s.pod, pod_name=pod.name if pod else (s.pod[:12] if s.pod else ""), project=project,
            health=s.health, infra=s.id in infra_ids)
        row.search_text = " ".join([name, s.id[:12], s.image, command, row.pod_name, project, s.state,
                                    *(f"{k}={v}" for k, v in s.labels.items())]).lower()
        rows.append(row)
    if with_stats:
        add_stats(cfg, rows)
    return rows


def add_stats(cfg: EngineConfig, rows: list[ContainerRow]) -> None:
    """The current CPU and memory of running containers (the live sockets take over)."""
    from engine.services import container_stats

    running = [r for r in rows if r.state == "running"]
    if not running:
        return
    try:
        samples = {s.id: s for s in container_stats.stats(cfg, [r.id for r in running])}
    except HullError:
        return  # a container that stopped meanwhile: the page shows no numbers, not an error
    for r in running:
        s = samples.get(r.id)
        if s is not None:
            r.cpu_percent, r.mem_usage, r.mem_limit = s.cpu_percent, s.mem_usage, s.mem_limit


def filter_rows(rows: list[ContainerRow], state: str, query: str) -> list[ContainerRow]:
    if state and state != "all":
        if state == "stopped":
            rows = [r for r in rows if r.state in ("exited", "stopped", "created")]
        else:
            rows = [r for r in rows if r.state == state]
    words = query.lower().split()
    return [r for r in rows if all(w in r.search_text for w in words)]


SORTS = {
    "name": lambda r: r.name.lower(),
    "image": lambda r: r.image.lower(),
    "state": lambda r: (r.state, r.name.lower()),
    "created": lambda r: r.created,
    "cpu": lambda r: r.cpu_percent or 0.0,
    "memory": lambda r: r.mem_usage or 0,
}


def sort_rows(rows: list[ContainerRow], sort: str) -> tuple[list[ContainerRow], str]:
    """Sorted rows and the sort key in effect ("-created": newest first, the default)."""
    key = sort.lstrip("-")
    if key not in SORTS:
        sort, key = "-created", "created"
    return sorted(rows, key=SORTS[key], reverse=sort.startswith("-")), sort


def group_rows(rows: list[ContainerRow], by: str) -> list[Group]:
    if not rows:
        return []
    if by not in ("pod", "project"):
        return [Group("", "", "", rows)]
    groups: dict[str, Group] = {}
    loose = Group("", "Not in a pod" if by == "pod" else "Not in a compose project", "")
    for r in rows:
        key = r.pod_id if by == "pod" else r.project
        if not key:
            loose.rows.append(r)
            continue
        label = r.pod_name if by == "pod" else r.project
        groups.setdefault(key, Group(key, label, by)).rows.append(r)
    ordered = sorted(groups.values(), key=lambda g: g.label.lower())
    return ordered + ([loose] if loose.rows else [])


def count_states(rows: list[ContainerRow]) -> dict[str, int]:
    counts = {s: 0 for s in ("running", "paused", "created", "exited")}
    for r in rows:
        key = r.state if r.state in counts else "exited"
        counts[key] += 1
    return counts
