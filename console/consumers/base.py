"""What every live consumer shares: query parameters, JSON frames, engine errors.

The gatekeepers in console/ws_security.py have already checked the Origin and
the session before any of these runs.  Consumers accept first and then report
a problem as `{"type": "error", "message": ...}` followed by a close with a
4xxx code, so the page can show the engine's one-line message.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer

MAX_MESSAGE = 64 * 1024
CLOSE_BAD_REQUEST = 4400
CLOSE_NOT_FOUND = 4404
CLOSE_CONFLICT = 4409
CLOSE_ENGINE_ERROR = 4500


class BadRequest(ValueError):
    pass


class LiveConsumer(AsyncWebsocketConsumer):
    def query(self) -> dict[str, list[str]]:
        raw = self.scope.get("query_string", b"")
        try:
            return parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=64)
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("bad query string") from None

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query().get(name)
        return values[-1] if values else default

    def int_param(self, name: str, default: int, low: int, high: int) -> int:
        text = self.param(name)
        if text in (None, ""):
            return default
        try:
            value = int(text)
        except ValueError:
            raise BadRequest(f"{name} must be a number") from None
        if not low <= value <= high:
            raise BadRequest(f"{name} must be between {low} and {high}")
        return value

    def bool_param(self, name: str, default: bool) -> bool:
        text = self.param(name)
        if text in (None, ""):
            return default
        return text.lower() in ("1", "true", "yes", "on")

    async def send_json(self, doc: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(doc, separators=(",", ":")))

    async def fail(self, message: str, code: int) -> None:
        """Report and close (the socket must have been accepted)."""
        await self.send_json({"type": "error", "message": message})
        await self.close(code=code)

    def parse_message(self, text_data: str | None) -> dict[str, Any] | None:
        if text_data is None or len(text_data) > MAX_MESSAGE:
            return None
        try:
            doc = json.loads(text_data)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None


def error_code(exc: BaseException) -> int:
    from engine.errors import Conflict, InvalidArgument, NotFound

    if isinstance(exc, NotFound):
        return CLOSE_NOT_FOUND
    if isinstance(exc, Conflict):
        return CLOSE_CONFLICT
    if isinstance(exc, (InvalidArgument, BadRequest)):
        return CLOSE_BAD_REQUEST
    return CLOSE_ENGINE_ERROR
