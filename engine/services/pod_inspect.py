"""Reading pods: `pod ps` summaries (Podman's filters) and `pod inspect` documents."""

from __future__ import annotations

import re
from typing import Any

from engine.config import EngineConfig
from engine.errors import HullError, InvalidArgument
from engine.record import Factory, Record
from engine.services.common import open_store
from engine.services.container_state import status_word
from engine.store.pods import Pod

FILTERS = ("ctr-ids", "ctr-names", "ctr-number", "ctr-status", "id", "name", "status", "label", "label!",
           "network", "until")
STATUSES = ("stopped", "running", "paused", "exited", "dead", "created", "degraded")
CTR_STATUSES = ("created", "running", "paused", "stopped", "exited", "unknown")


class PodMember(Record):
    id: str
    name: str
    state: str          # Podman's container status word: created, running, exited...


class PodSummary(Record):
    id: str
    name: str
    status: str
    created: float
    infra_id: str
    labels: dict[str, str] = Factory(dict)
    members: list[PodMember] = Factory(list)
    networks: list[str] = Factory(list)
    cgroup: str = ""


def _networks(store: Any, pod: Pod) -> list[str]:
    """The named networks the infra is attached to (the default one included), as Podman."""
    if not pod.infra_id:
        return []
    try:
        names = [a.network_name for a in store.networks.of_container(pod.infra_id)]
    except (AttributeError, HullError):
        names = []
    return sorted(set(names) | set(pod.options.get("networks") or {}))


def summarize(store: Any, pod: Pod) -> PodSummary:
    from engine.services.pods import members, pod_status

    ctrs = members(store, pod)
    return PodSummary(
        id=pod.id, name=pod.name, status=pod_status([c.state for c in ctrs]), created=pod.created,
        infra_id=pod.infra_id, labels=dict(pod.labels),
        members=[PodMember(c.id, c.name, status_word(c.state)) for c in ctrs],
        networks=_networks(store, pod), cgroup=pod.cgroup_parent)


def list_pods(cfg: EngineConfig, filters: dict[str, list[str]] | None = None) -> list[PodSummary]:
    """Every pod matching `filters` (values of one key ORed, keys ANDed), newest first."""
    filters = filters or {}
    for key in filters:
        if key not in FILTERS:
            raise InvalidArgument(f"{key} is an invalid filter")
    store = open_store(cfg)
    out = []
    for pod in store.pods.list():
        s = summarize(store, pod)
        if all(_match_key(s, key, values) for key, values in filters.items()):
            out.append(s)
    return out


def _match_key(s: PodSummary, key: str, values: list[str]) -> bool:
    if key in ("label", "label!"):
        return all(_one(s, key, v) for v in values)
    return any(_one(s, key, v) for v in values)


def _one(s: PodSummary, key: str, value: str) -> bool:
    if key == "id":
        return s.id.startswith(value)
    if key == "name":
        return _regex(value, s.name)
    if key == "status":
        if value not in STATUSES:
            raise InvalidArgument(f"{value} is not a valid status")
        return s.status.lower() == value
    if key in ("label", "label!"):
        k, eq, v = value.partition("=")
        hit = k in s.labels and (not eq or s.labels[k] == v)
        return hit if key == "label" else not hit
    if key == "ctr-ids":
        return any(m.id.startswith(value) for m in s.members)
    if key == "ctr-names":
        return any(_regex(value, m.name) for m in s.members)
    if key == "ctr-number":
        try:
            return len(s.members) == int(value)
        except ValueError:
            raise InvalidArgument(f'invalid value "{value}" for ctr-number filter') from None
    if key == "ctr-status":
        if value not in CTR_STATUSES:
            raise InvalidArgument(f"{value} is not a valid status")
        return any(m.state == value for m in s.members)
    if key == "network":
        return value in s.networks
    if key == "until":
        from engine.services.images import _parse_until

        return s.created < _parse_until(value)
    raise InvalidArgument(f"{key} is an invalid filter")


def _regex(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return pattern == text


# ---------------------------------------------------------------- inspect
def inspect_doc(store: Any, pod: Pod) -> dict:
    """Podman 5's `pod inspect` document."""
    from engine.services.container_inspect import go_time
    from engine.services.pods import members, pod_status

    o = pod.options
    ctrs = members(store, pod)
    doc: dict[str, Any] = {
        "Id": pod.id,
        "Name": pod.name,
        "Created": go_time(pod.created),
        "CreateCommand": list(o.get("create_command") or []) or None,
        "ExitPolicy": pod.exit_policy,
        "State": pod_status([c.state for c in ctrs]),
        "Hostname": pod.hostname,
        "Labels": dict(pod.labels),
        "CreateCgroup": False,
        "CgroupParent": pod.cgroup_parent,
        "CreateInfra": bool(pod.infra_id),
        "InfraContainerID": pod.infra_id,
    }
    if pod.infra_id:
        doc["InfraConfig"] = {
            "PortBindings": _port_bindings(o.get("publish") or []),
            "HostNetwork": o.get("network") == "host",
            "StaticIP": "",
            "StaticMAC": "",
            "NoManageResolvConf": False,
            "DNSServer": list(o.get("dns") or []) or None,
            "DNSSearch": list(o.get("dns_search") or []) or None,
            "DNSOption": list(o.get("dns_options") or []) or None,
            "NoManageHosts": bool(o.get("no_hosts")),
            "HostAdd": list(o.get("add_hosts") or []) or None,
            "Networks": _networks(store, pod) or None,
            "NetworkOptions": None,
            "pid_ns": "private",
            "userns": "host",
            "uts_ns": "private",
        }
    doc["SharedNamespaces"] = list(pod.shared) or None
    doc["NumContainers"] = len(ctrs)
    doc["Containers"] = [{"Id": c.id, "Name": c.name, "State": status_word(c.state)} for c in ctrs]
    return doc


def _port_bindings(publish: list[dict]) -> dict:
    out: dict[str, list[dict]] = {}
    for p in publish:
        for i in range(int(p.get("range") or 1)):
            key = f"{int(p['container_port']) + i}/{p.get('protocol') or 'tcp'}"
            host = int(p.get("host_port") or 0)
            out.setdefault(key, []).append({"HostIp": p.get("host_ip") or "",
                                            "HostPort": str(host + i) if host else ""})
    return out


def inspect(cfg: EngineConfig, names: list[str]) -> list[dict]:
    store = open_store(cfg)
    return [inspect_doc(store, store.pods.lookup(n)) for n in names]
