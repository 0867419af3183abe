"""GET /events (Docker's and libpod's): the event log as streamed JSON lines.

Without `until` the stream follows the log until the client goes away.  The
connection's child is single-threaded and sleeps between polls of the log, so a
one-second timer checks whether the peer has hung up (recv MSG_PEEK sees EOF)
and ends the stream; otherwise an idle `docker events` would keep its child forever."""

from __future__ import annotations

import signal
import socket
import time
from typing import Any

from engine.api import context
from engine.api.http import ClientGone, Request
from engine.api.params import filters
from engine.api.router import route
from engine.errors import InvalidArgument

# EventMessage.Type's enum in the swagger: other types (pod, system) are libpod's only.
DOCKER_TYPES = ("builder", "config", "container", "daemon", "image", "network", "node", "plugin", "secret",
                "service", "volume")


def parse_time(text: str | None, now: float) -> float | None:
    """Docker's since/until: Unix seconds (with fraction), RFC 3339, or a Go duration ago."""
    if text in (None, ""):
        return None
    try:
        return float(text)
    except ValueError:
        pass
    from engine.services.images import _parse_until

    try:
        return _parse_until(text)
    except Exception:
        raise InvalidArgument(f"invalid time value {text!r}") from None


def _watch_peer(sock: socket.socket) -> None:
    def check(signum: int, frame: Any) -> None:
        try:
            data = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError:
            raise ClientGone()
        if data == b"":
            raise ClientGone()

    signal.signal(signal.SIGALRM, check)
    signal.setitimer(signal.ITIMER_REAL, 1.0, 1.0)


def _stop_watch() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0, 0)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)


@route("GET", "/events", both=True)
def events(request: Request) -> None:
    from engine.services.events import FILTER_KEYS, read_events

    now = time.time()
    since = parse_time(request.arg("since"), now)
    until = parse_time(request.arg("until"), now)
    found = filters(request)
    for key in found:
        if key not in FILTER_KEYS:
            raise InvalidArgument(f"invalid filter {key!r}")
    follow = request.flag("stream", True) if request.libpod else True
    if until is not None and until <= now:
        follow = False
    if since is None and until is None and not request.libpod:
        # dockerd streams only new events when no `since` is given; docker-compose's `logs`
        # treats every replayed `start` as a live container and crashes on removed ones
        since = now
    cfg = context.config()
    stream = request.stream()
    if follow:
        _watch_peer(request.conn.sock)
    try:
        for event in read_events(cfg, since=since, until=until, filters=found, follow=follow):
            if request.libpod:
                stream.write_json(_libpod_doc(event))
            elif event.type in DOCKER_TYPES:
                stream.write_json(event.docker())
        stream.close()
    finally:
        if follow:
            _stop_watch()


def _libpod_doc(event: Any) -> dict[str, Any]:
    """Podman 5's /libpod/events message: Docker's shape with libpod's type words."""
    doc = event.docker()
    if event.type == "container":
        attrs = doc["Actor"]["Attributes"]
        attrs.setdefault("containerExitCode", str(event.exit_code) if event.exit_code is not None else "0")
    return doc
