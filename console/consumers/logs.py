"""`/ws/logs`: a container's log (or a pod's / compose project's, merged) as it is written.

Query: `container=ID` (repeatable), or `pod=NAME`, or `project=NAME` (the
com.docker.compose.project label); `tail=N` (-1: all; default 500),
`since=10m|RFC3339|unix`, `follow=0|1` (default 1).

Frames sent:
- `{"type": "start", "containers": [{"id", "name"}...]}` (the index is the colour),
- `{"type": "lines", "lines": [[index, "stdout"|"stderr", unix time, text, partial]...]}`,
- `{"type": "end"}` when not following and everything was read,
- `{"type": "error", "message"}` then a close (4404 unknown, 4400 bad query).

Each container is read in its own thread by engine/services/log_follow.py,
which waits on inotify, so a line reaches the browser about as fast as the
websocket can carry it.  Lines are coalesced: at most one `lines` frame every
FRAME_GAP, holding everything read meanwhile (a quiet log's line is not delayed).  Text is decoded as UTF-8 with replacement characters
and always shown by the page as text, never HTML.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import sync_to_async

from console.consumers.base import BadRequest, LiveConsumer, error_code
from console.live.feed import Feed
from engine.config import EngineConfig
from engine.errors import HullError, NotFound

COMPOSE_PROJECT = "com.docker.compose.project"
MAX_TARGETS = 64
FRAME_GAP = 0.02         # s between two `lines` frames at most 50 a second
MAX_FRAME_LINES = 5000


def resolve(cfg: EngineConfig, names: list[str], pod: str | None, project: str | None) -> list[tuple[Any, Any]]:
    """(store, container) for each container the view shows, every name checked first."""
    from engine.services.container_fs import lookup
    from engine.services.container_list import ListOptions, list_containers

    if pod or project:
        filters = {"pod": [pod]} if pod else {"label": [f"{COMPOSE_PROJECT}={project}"]}
        rows = list_containers(cfg, ListOptions(all=True, filters=filters))
        if not rows:
            what = f"pod {pod}" if pod else f"compose project {project}"
            raise NotFound(f"no containers in {what}")
        names = [row.id for row in sorted(rows, key=lambda r: r.created)]
    if not names:
        raise BadRequest("name a container, a pod or a project")
    return [lookup(cfg, name) for name in names[:MAX_TARGETS]]


class LogsConsumer(LiveConsumer):
    feed: Feed | None = None
    wakers: list[Any]

    async def connect(self) -> None:
        await self.accept()
        self.wakers = []
        self.stopping = False
        try:
            from engine.cli.ctr_common import parse_time_arg
            from engine.services.container_io import LogOptions

            query = self.query()
            tail = self.int_param("tail", 500, -1, 10_000_000)
            since_text = self.param("since")
            try:
                since = parse_time_arg(since_text, "since") if since_text else None
            except HullError as exc:
                raise BadRequest(str(exc)) from None
            opts = LogOptions(follow=self.bool_param("follow", True), tail=tail, since=since)
            cfg = EngineConfig()
            targets = await sync_to_async(resolve, thread_sensitive=False)(
                cfg, query.get("container", []), self.param("pod"), self.param("project"))
        except (HullError, BadRequest) as exc:
            await self.fail(str(exc), error_code(exc))
            return
        await self.send_json({"type": "start", "containers": [
            {"id": c.id, "name": c.name} for _, c in targets]})
        self.feed = Feed(asyncio.get_running_loop())
        for index, (store, container) in enumerate(targets):
            self._start_reader(index, store, container, opts)
        self.pump = asyncio.ensure_future(self._pump())

    def _start_reader(self, index: int, store: Any, container: Any, opts: Any) -> None:
        from engine.services.log_follow import Waker, follow_lines

        waker = Waker(str(store.containers.log_path(container.id).parent))
        self.wakers.append(waker)

        def produce():
            for line in follow_lines(store, container, opts, waker, lambda: not self.stopping):
                yield [index, line.stream, round(line.time, 6),
                       line.data.decode("utf-8", "replace"), line.partial]

        assert self.feed is not None
        self.feed.run(produce, f"logs-{container.id[:12]}", on_end=waker.close)

    async def _pump(self) -> None:
        feed = self.feed
        assert feed is not None
        loop = asyncio.get_running_loop()
        sent = 0.0
        while not self.stopping:
            # A line after a quiet spell goes out at once; in a flood, frames leave at most
            # every FRAME_GAP with all the lines that came meanwhile (a browser pays per
            # message: 30,000 one-line frames a second would swamp it).
            gap = sent + FRAME_GAP - loop.time()
            if gap > 0:
                await asyncio.sleep(gap)
            lines = await feed.batch(MAX_FRAME_LINES)
            if lines:
                await self.send_json({"type": "lines", "lines": lines})
                sent = loop.time()
            for exc in feed.take_errors():
                await self.fail(str(exc) if isinstance(exc, HullError) else "cannot read the log",
                                error_code(exc))
                return
            if feed.running == 0 and not feed.items:
                await self.send_json({"type": "end"})
                return

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        pass  # nothing to say: options change by reconnecting

    async def disconnect(self, code: int) -> None:
        self.stopping = True
        for waker in getattr(self, "wakers", []):
            waker.stop()
        if self.feed is not None:
            self.feed.close()
        pump = getattr(self, "pump", None)
        if pump is not None:
            pump.cancel()
