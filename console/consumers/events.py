"""`/ws/events`: the engine's event log, live (what `hull events` streams).

Query: `since=SECONDS` of history to send first (default 0: only new events,
at most one day), `type=container|image|pod|volume|network` (repeatable).
Frames: `{"type": "events", "events": [{type, action, time, id, name, image,
attributes, exit_code}...]}`.  Pages use them to refresh the rows that changed
(static/console/js/events.js).

engine/services/events.read_events follows `{root}/events.log`; its wait
between reads is an inotify wait (log_follow.Waker on the root directory), so
an event shows up as soon as the command that caused it has written it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from console.consumers.base import BadRequest, LiveConsumer, error_code
from console.live.feed import Feed
from engine.config import EngineConfig
from engine.errors import HullError

TYPES = ("container", "image", "pod", "volume", "network", "system", "secret")


def event_doc(event: Any) -> dict[str, Any]:
    return {"type": event.type, "action": event.action, "time": event.time_ns / 1e9, "id": event.id,
            "name": event.name, "image": event.image, "attributes": event.attributes,
            "exit_code": event.exit_code}


class EventsConsumer(LiveConsumer):
    feed: Feed | None = None

    async def connect(self) -> None:
        await self.accept()
        self.stopping = False
        self.waker = None
        try:
            history = self.int_param("since", 0, 0, 86400)
            types = self.query().get("type", [])
            if any(t not in TYPES for t in types):
                raise BadRequest(f"type must be one of {', '.join(TYPES)}")
        except BadRequest as exc:
            await self.fail(str(exc), error_code(exc))
            return
        from engine.services.events import read_events
        from engine.services.log_follow import Waker

        cfg = EngineConfig()
        waker = self.waker = Waker(str(cfg.root))
        poll = 1.0 if waker.fd is not None else 0.2  # no root yet: nothing to watch, poll
        since = time.time() - history
        filters = {"type": types} if types else None

        def produce():
            for event in read_events(cfg, since=since, filters=filters, follow=True, poll_interval=poll,
                                     sleep=waker, keep_going=lambda: not self.stopping):
                yield event_doc(event)

        self.feed = Feed(asyncio.get_running_loop())
        self.feed.run(produce, "events", on_end=waker.close)
        self.pump = asyncio.ensure_future(self._pump())

    async def _pump(self) -> None:
        feed = self.feed
        assert feed is not None
        while not self.stopping:
            events = await feed.batch(500)
            if events:
                await self.send_json({"type": "events", "events": events})
            for exc in feed.take_errors():
                await self.fail(str(exc) if isinstance(exc, HullError) else "cannot read events", error_code(exc))
                return
            if feed.running == 0 and not feed.items:
                return

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        pass

    async def disconnect(self, code: int) -> None:
        self.stopping = True
        if self.waker is not None:
            self.waker.stop()
        if self.feed is not None:
            self.feed.close()
        pump = getattr(self, "pump", None)
        if pump is not None:
            pump.cancel()
