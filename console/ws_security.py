"""Websocket gatekeepers, applied before any consumer can accept.

Browsers do not apply the same-origin policy to websockets, and cookies are
not separated by port: a page on http://localhost:9999 (any local user's
server) would carry our session cookie to ws://localhost:8470. So besides
channels' AllowedHostsOriginValidator (host names only) the Origin must be
exactly this console: same scheme, host and port as the Host header.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from console.session import is_logged_in

Scope = dict[str, Any]


def _single_header(scope: Scope, name: bytes) -> str | None:
    values = [v for k, v in scope.get("headers", []) if k.lower() == name]
    if len(values) != 1:
        return None  # missing or ambiguous
    try:
        return values[0].decode("ascii").strip().lower()
    except UnicodeDecodeError:
        return None


def same_origin(scope: Scope) -> bool:
    host = _single_header(scope, b"host")
    origin = _single_header(scope, b"origin")
    if not host or not origin:
        return False
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return origin == f"http://{host}"


async def deny(scope: Scope, receive: Any, send: Any) -> None:
    await WebsocketDenier()(scope, receive, send)


class SameOriginValidator:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and same_origin(scope):
            return await self.inner(scope, receive, send)
        return await deny(scope, receive, send)


class SessionRequired:
    """Needs channels' SessionMiddlewareStack outside it (scope["session"])."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        session = scope.get("session")
        if session is not None and await sync_to_async(is_logged_in)(session):
            return await self.inner(scope, receive, send)
        return await deny(scope, receive, send)
