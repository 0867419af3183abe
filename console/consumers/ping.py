"""`/ws/ping`: the smallest consumer, proving the websocket wiring end to end.

Send `{"type": "ping"}`, get `{"type": "pong", "version": "<hull version>"}`.
"""

from __future__ import annotations

import json

from channels.generic.websocket import AsyncWebsocketConsumer

import engine

MAX_MESSAGE = 4096


class PingConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            if text_data is None or len(text_data) > MAX_MESSAGE:
                raise ValueError
            message = json.loads(text_data)
        except ValueError:
            await self.close(code=4400)  # 4400: a bad message, in the private 4xxx range
            return
        if isinstance(message, dict) and message.get("type") == "ping":
            await self.send(text_data=json.dumps({"type": "pong", "version": engine.__version__}))
