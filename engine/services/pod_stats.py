"""Pod stats: one PodStatsReport row per member container, for `hull pod stats` and
GET /libpod/pods/stats (the same fields and texts Podman gives both)."""

from __future__ import annotations

from typing import Any

from engine.config import EngineConfig


def reports(cfg: EngineConfig, names: list[str] | None = None, *, latest: bool = False,
            stopped_too: bool = False) -> list[dict[str, str]]:
    """Rows for the pods called `names` (every pod when empty; the newest with `latest`).
    Members that are not running are left out unless `stopped_too` or pods were named,
    as Podman does."""
    from engine.services.common import open_store
    from engine.services.container_stats import stats
    from engine.services.pods import _lookup, members

    store = open_store(cfg)
    if names:
        pods = [_lookup(store, n) for n in names]
    else:
        pods = store.pods.list()[:1] if latest else store.pods.list()
    rows = []
    for pod in pods:
        for c in members(store, pod):
            if c.state.active or stopped_too or names:
                rows.append(_report(pod.id, c, stats(cfg, [c.id])[0]))
    return rows


def _report(pod_id: str, c: Any, s: Any) -> dict[str, str]:
    from engine.cli.humanize import human_size  # pure formatting, shared with the CLI's stats

    usage = f"{human_size(s.mem_usage or 0)} / {human_size(s.mem_limit or 0)}"
    return {
        "Pod": pod_id[:12], "CID": c.id[:12], "Name": c.name,
        "CPU": f"{s.cpu_percent or 0.0:.2f}%",
        "MemUsage": usage, "MemUsageBytes": usage,
        "Mem": f"{s.mem_percent or 0.0:.2f}%",
        "NetIO": f"{human_size(s.net_input or 0)} / {human_size(s.net_output or 0)}",
        "BlockIO": f"{human_size(s.block_input or 0)} / {human_size(s.block_output or 0)}",
        "PIDS": str(s.pids or 0),
    }
