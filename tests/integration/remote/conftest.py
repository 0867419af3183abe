"""Remote use: a `hull system service` (the server engine, busybox loaded) and a client
engine with its own empty --root, so anything the client shows came over the API."""

from __future__ import annotations

import pytest

from tests.fixtures.cli import Hull


class RemoteClient:
    def __init__(self, hull: Hull, url: str) -> None:
        self.hull = hull
        self.url = url

    def __call__(self, *args: str, **kw):
        return self.hull("--url", self.url, *args, **kw)


@pytest.fixture
def server(hull_any, busybox_image, api_service):
    hull_any.load(busybox_image)
    hull_any("tag", busybox_image.id.split(":", 1)[1], "busybox").ok()
    return api_service(hull_any)


@pytest.fixture
def client_engine(hull_any, hull_factory) -> Hull:
    """Another engine of the same user and mode: its own (empty) storage."""
    return hull_factory(hull_any.mode)


@pytest.fixture
def remote(server, client_engine) -> RemoteClient:
    return RemoteClient(client_engine, server.url)
