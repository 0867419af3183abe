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
    from engine.cli.humanize import stats_fields  # the same texts as `hull stats`

    row = stats_fields(s)
    return {"Pod": pod_id[:12], "CID": c.id[:12], "Name": c.name, "CPU": row["CPUPerc"],
            "MemUsage": row["MemUsage"], "MemUsageBytes": row["MemUsageBytes"], "Mem": row["MemPerc"],
            "NetIO": row["NetIO"], "BlockIO": row["BlockIO"], "PIDS": row["PIDs"]}
