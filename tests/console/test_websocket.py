"""Websockets: the session and the exact Origin are checked before accept."""

from __future__ import annotations

import asyncio
from importlib import import_module

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings

from console.asgi import application
from console.session import SESSION_FLAG

HOST = "127.0.0.1:8470"
ORIGIN = "http://127.0.0.1:8470"


def owner_session_key() -> str:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_FLAG] = True
    store.save()
    return store.session_key


def stranger_session_key() -> str:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["something"] = "else"
    store.save()
    return store.session_key


def headers(host: str | None = HOST, origin: str | None = ORIGIN, session: str | None = None) -> list:
    out = []
    if host is not None:
        out.append((b"host", host.encode()))
    if origin is not None:
        out.append((b"origin", origin.encode()))
    if session is not None:
        out.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()))
    return out


async def try_connect(hdrs: list, path: str = "/ws/ping") -> tuple[bool, object]:
    communicator = WebsocketCommunicator(application, path, headers=hdrs)
    connected, code = await communicator.connect(timeout=5)
    await communicator.disconnect()
    return connected, code


def connects(hdrs: list) -> bool:
    return asyncio.run(try_connect(hdrs))[0]


def test_refused_without_session() -> None:
    assert not connects(headers())


def test_refused_with_a_session_that_never_logged_in() -> None:
    assert not connects(headers(session=stranger_session_key()))


def test_refused_with_a_made_up_session_key() -> None:
    assert not connects(headers(session="abcdefghijklmnopqrstuvwxyz012345"))


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "http://evil.example",
        "http://127.0.0.1:9999",  # another local server, another port: cookies are shared, origins are not
        "http://localhost:8470",  # another name for the same socket is another origin
        "https://127.0.0.1:8470",
        "null",
    ],
)
def test_refused_with_foreign_or_missing_origin(origin: str | None) -> None:
    assert not connects(headers(origin=origin, session=owner_session_key()))


def test_refused_with_rebound_host() -> None:
    hdrs = headers(host="evil.example:8470", origin="http://evil.example:8470", session=owner_session_key())
    assert not connects(hdrs)


def test_refused_with_two_origins() -> None:
    hdrs = headers(session=owner_session_key()) + [(b"origin", b"http://evil.example")]
    assert not connects(hdrs)


def test_accepted_with_session_and_origin_and_answers_ping() -> None:
    async def scenario() -> dict:
        communicator = WebsocketCommunicator(application, "/ws/ping", headers=headers(session=owner_session_key()))
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        await communicator.send_json_to({"type": "ping"})
        reply = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return reply

    import engine

    assert asyncio.run(scenario()) == {"type": "pong", "version": engine.__version__}


def test_bad_message_closes_the_socket() -> None:
    async def scenario() -> dict:
        communicator = WebsocketCommunicator(application, "/ws/ping", headers=headers(session=owner_session_key()))
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        await communicator.send_to(text_data="{not json")
        message = await communicator.receive_output(timeout=5)
        await communicator.disconnect()
        return message

    assert asyncio.run(scenario()) == {"type": "websocket.close", "code": 4400}
