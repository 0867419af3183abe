"""`/ws/stats`: live CPU, memory, network and block I/O, once a second.

Query: `container=ID` (repeatable; default every running container, for the
dashboard), `interval=MS` (500..10000, default 1000).
Frames: `{"type": "stats", "time": unix, "containers": [{id, name, cpu, mem,
mem_limit, mem_pct, net_rx, net_tx, blk_read, blk_write, pids, running}...],
"totals": {cpu, mem, net_rx, net_tx, blk_read, blk_write, running}}`.
Counters are cumulative bytes: the page turns them into rates.

Samples come from engine/services/container_stats.sample (/proc and the
cgroup), taken in a worker thread so the event loop never reads /proc.
"""

from __future__ import annotations

import asyncio
from typing import Any

from console.consumers.base import BadRequest, LiveConsumer, error_code
from engine.config import EngineConfig
from engine.errors import HullError

FIELDS = ("cpu", "mem", "net_rx", "net_tx", "blk_read", "blk_write")


def sample_all(cfg: EngineConfig, names: list[str]) -> dict[str, Any]:
    import time

    from engine.services.common import open_store
    from engine.services.container_fs import lookup
    from engine.services.container_state import reconcile
    from engine.services.container_stats import sample

    rows = []
    if names:
        pairs = [lookup(cfg, name) for name in names]
    elif cfg.db_path.exists():
        store = open_store(cfg)
        pairs = [(store, c) for c in (reconcile(store, c) for c in store.containers.list()) if c.state.active]
    else:
        pairs = []
    for store, container in pairs:
        s = sample(store, container)
        rows.append({"id": s.id, "name": s.name, "cpu": round(s.cpu_percent, 2), "mem": s.mem_usage,
                     "mem_limit": s.mem_limit, "mem_pct": round(s.mem_percent, 2), "net_rx": s.net_input,
                     "net_tx": s.net_output, "blk_read": s.block_input, "blk_write": s.block_output,
                     "pids": s.pids, "running": s.pids > 0})
    totals: dict[str, Any] = {k: sum(r[k] for r in rows) for k in FIELDS}
    totals["cpu"] = round(totals["cpu"], 2)
    totals["running"] = sum(1 for r in rows if r["running"])
    return {"type": "stats", "time": time.time(), "containers": rows, "totals": totals}


class StatsConsumer(LiveConsumer):
    async def connect(self) -> None:
        await self.accept()
        try:
            self.names = self.query().get("container", [])[:64]
            self.interval = self.int_param("interval", 1000, 500, 10000) / 1000
        except BadRequest as exc:
            await self.fail(str(exc), error_code(exc))
            return
        self.cfg = EngineConfig()
        self.task = asyncio.ensure_future(self._loop())

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                doc = await asyncio.to_thread(sample_all, self.cfg, self.names)
            except HullError as exc:
                await self.fail(str(exc), error_code(exc))
                return
            await self.send_json(doc)
            await asyncio.sleep(max(0.05, self.interval - (loop.time() - started)))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        pass

    async def disconnect(self, code: int) -> None:
        task = getattr(self, "task", None)
        if task is not None:
            task.cancel()
