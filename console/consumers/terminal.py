"""`/ws/terminal`: a shell in a running container (exec -it), for xterm.js.

Query: `container=ID`, `shell=auto|/bin/sh|/bin/bash|...` (a path), `user=NAME[:GROUP]`,
`rows`, `cols`.  Browser -> server: binary frames are keystrokes; text frames are
`{"type": "resize", "rows", "cols"}` or `{"type": "input", "data": "..."}`.
Server -> browser: binary frames are terminal output; text frames `{"type":
"exit", "code"}` (then close) or `{"type": "error", "message"}`.

The session runs in a helper process (console/live/pty_exec.py says why).
"""

from __future__ import annotations

import asyncio
import re

from console.consumers.base import CLOSE_CONFLICT, BadRequest, LiveConsumer, error_code
from engine.config import EngineConfig
from engine.errors import Conflict, HullError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,253}$")
USER_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,63})?$")
SHELL_RE = re.compile(r"^/[A-Za-z0-9_./+-]{1,255}$")
MAX_PENDING = 1 << 20


def check_running(cfg: EngineConfig, name: str) -> str:
    from engine.services.container_fs import lookup

    _store, container = lookup(cfg, name)
    state = str(getattr(container.state, "value", container.state))
    if state != "running":
        raise Conflict(f"container {container.name} is {state}: a terminal needs a running container")
    return container.id


class TerminalConsumer(LiveConsumer):
    session = None

    async def connect(self) -> None:
        await self.accept()
        self.pending = bytearray()
        try:
            name = self.param("container") or ""
            if not NAME_RE.match(name):
                raise BadRequest("name a container")
            shell = self.param("shell") or "auto"
            if shell != "auto" and not SHELL_RE.match(shell):
                raise BadRequest("the shell must be an absolute path")
            user = self.param("user") or None
            if user is not None and not USER_RE.match(user):
                raise BadRequest("bad user name")
            rows = self.int_param("rows", 24, 2, 500)
            cols = self.int_param("cols", 80, 2, 1000)
            cid = await asyncio.to_thread(check_running, EngineConfig(), name)
            from console.live.pty_exec import PtySession

            self.session = await asyncio.to_thread(
                PtySession, cid, None if shell == "auto" else [shell], user, rows, cols)
        except (HullError, BadRequest, OSError) as exc:
            await self.fail(str(exc), error_code(exc) if not isinstance(exc, OSError) else CLOSE_CONFLICT)
            return
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(self.session.master, self._readable)

    def _readable(self) -> None:
        session = self.session
        if session is None or session.master < 0:
            return
        data = session.read()
        if data is None:
            return
        if data:
            asyncio.ensure_future(self.send(bytes_data=data))
            return
        self.loop.remove_reader(session.master)
        asyncio.ensure_future(self._ended())

    async def _ended(self) -> None:
        session = self.session
        if session is None:
            return
        code = await asyncio.to_thread(session.wait)
        await self.send_json({"type": "exit", "code": code})
        await self.close(code=1000)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.session is None:
            return
        if bytes_data is not None:
            self._input(bytes_data)
            return
        doc = self.parse_message(text_data)
        if doc is None:
            await self.close(code=4400)
            return
        kind = doc.get("type")
        if kind == "input" and isinstance(doc.get("data"), str):
            self._input(doc["data"].encode("utf-8", "replace"))
        elif kind == "resize":
            rows, cols = doc.get("rows"), doc.get("cols")
            if isinstance(rows, int) and isinstance(cols, int) and 2 <= rows <= 500 and 2 <= cols <= 1000:
                self.session.resize(rows, cols)

    def _input(self, data: bytes) -> None:
        session = self.session
        if session is None or session.master < 0 or len(self.pending) + len(data) > MAX_PENDING:
            return  # a paste bigger than the pty can hold while the shell is stuck: dropped
        was_empty = not self.pending
        self.pending += data
        if was_empty:
            self._flush()

    def _flush(self) -> None:
        session = self.session
        if session is None or session.master < 0:
            return
        n = session.write(bytes(self.pending))
        del self.pending[:n]
        if self.pending:
            self.loop.call_later(0.02, self._flush)  # the pty is full: the shell reads soon

    async def disconnect(self, code: int) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        if session.master >= 0:
            try:
                self.loop.remove_reader(session.master)
            except (ValueError, OSError):
                pass
        session.close()
        await asyncio.to_thread(session.wait)
