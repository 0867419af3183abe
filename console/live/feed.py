"""A blocking producer in a thread, its items handed to an asyncio consumer.

Items are buffered under a lock; the event loop is woken once per batch, not
once per item (a container writing 100,000 lines would otherwise queue 100,000
callbacks).  The producer blocks when `limit` items wait unread, so a slow
browser slows the reader instead of growing memory without bound.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any, Callable, Iterable


class Feed:
    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int = 20000) -> None:
        self.loop = loop
        self.limit = limit
        self.items: deque[Any] = deque()
        self.cond = threading.Condition()
        self.ready = asyncio.Event()
        self.closed = False
        self._woken = False
        self.errors: list[BaseException] = []
        self.running = 0

    # -- producer side (threads) ----------------------------------------------------
    def put(self, item: Any) -> bool:
        """False once the feed is closed: the producer should stop."""
        with self.cond:
            while len(self.items) >= self.limit and not self.closed:
                self.cond.wait(0.5)
            if self.closed:
                return False
            self.items.append(item)
            wake = not self._woken
            self._woken = True
        if wake:
            self.loop.call_soon_threadsafe(self.ready.set)
        return True

    def run(self, produce: Callable[[], Iterable[Any]], name: str, on_end: Callable[[], None] | None = None) -> None:
        """Start a daemon thread putting everything `produce()` yields."""

        def work() -> None:
            try:
                for item in produce():
                    if not self.put(item):
                        break
            except BaseException as exc:  # noqa: BLE001 - reported to the consumer
                with self.cond:
                    self.errors.append(exc)
                self.loop.call_soon_threadsafe(self.ready.set)
            finally:
                with self.cond:
                    self.running -= 1
                if on_end is not None:
                    on_end()
                try:
                    self.loop.call_soon_threadsafe(self.ready.set)
                except RuntimeError:
                    pass  # the loop is gone: the server is stopping

        with self.cond:
            self.running += 1
        threading.Thread(target=work, name=name, daemon=True).start()

    # -- consumer side (event loop) -------------------------------------------------
    async def batch(self, max_items: int = 2000) -> list[Any]:
        """Wait for items; up to max_items of them (empty when only an error or an end came)."""
        await self.ready.wait()
        with self.cond:
            out = []
            while self.items and len(out) < max_items:
                out.append(self.items.popleft())
            if not self.items:
                self.ready.clear()
                self._woken = False
            self.cond.notify_all()
        return out

    def take_errors(self) -> list[BaseException]:
        with self.cond:
            errors, self.errors = self.errors, []
        return errors

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.items.clear()
            self.cond.notify_all()
