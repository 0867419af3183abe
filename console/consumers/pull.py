"""`/ws/pull?reference=NAME&insecure=0|1`: pull an image with per-layer progress.

Frames: `{"type": "progress", "kind": "blob"|"config"|"manifest", "digest", "status":
"downloading"|"exists"|"done"|"extracting"|"writing", "done", "total"}` (downloading
reports at most ~10 a second per layer), then `{"type": "pulled", "id"}` or an error.
The pull goes on to the end if the page goes away (a half-pulled image helps nobody);
the gatekeepers (Origin + session) make this GET safe from other sites.
"""

from __future__ import annotations

import asyncio
import time

from console.consumers.base import BadRequest, LiveConsumer, error_code
from console.live.feed import Feed
from engine.config import EngineConfig
from engine.errors import HullError

MIN_INTERVAL = 0.1


class PullConsumer(LiveConsumer):
    async def connect(self) -> None:
        await self.accept()
        reference = (self.param("reference") or "").strip()
        try:
            if not reference or len(reference) > 512:
                raise BadRequest("type the name of an image to pull")
            from engine.oci.reference import parse_reference

            parse_reference(reference)
        except (HullError, BadRequest) as exc:
            await self.fail(str(exc), error_code(exc))
            return
        from engine.services import image_registry

        insecure = self.bool_param("insecure", False)
        feed = self.feed = Feed(asyncio.get_running_loop())
        last: dict[str, float] = {}

        def progress(event) -> None:
            now = time.monotonic()
            if event.status == "downloading" and now - last.get(event.digest, 0) < MIN_INTERVAL:
                return
            last[event.digest] = now
            feed.put({"type": "progress", "kind": event.kind, "digest": event.digest, "status": event.status,
                      "done": event.done, "total": event.total})

        def produce():
            opts = image_registry.PullOptions(tls_verify=False if insecure else None, progress=progress)
            yield {"type": "pulled", "id": image_registry.pull(EngineConfig(), reference, opts)}

        feed.run(produce, "pull")
        self.pump = asyncio.ensure_future(self._pump())

    async def _pump(self) -> None:
        feed = self.feed
        while True:
            for doc in await feed.batch(200):
                await self.send_json(doc)
            for exc in feed.take_errors():
                message = str(exc).strip().splitlines()[0] if isinstance(exc, HullError) else "the pull failed"
                await self.fail(message, error_code(exc))
                return
            if feed.running == 0 and not feed.items:
                await self.close(code=1000)
                return

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        pass

    async def disconnect(self, code: int) -> None:
        feed = getattr(self, "feed", None)
        if feed is not None:
            feed.close()  # the pull finishes; its reports are dropped
        pump = getattr(self, "pump", None)
        if pump is not None:
            pump.cancel()
