"""Shared by the container/exec API tests: a service with busybox loaded and tagged
`busybox` (so the docker CLI's short name resolves), and helpers for streams."""

from __future__ import annotations

import json
import struct

import pytest


@pytest.fixture
def dapi(hull_any, busybox_image, api_service):
    """The API service of a root or rootless engine with `busybox` loaded."""
    hull_any.load(busybox_image)
    hull_any("tag", busybox_image.id.split(":", 1)[1], "busybox").ok()
    return api_service(hull_any)


@pytest.fixture
def dapi_root(hull, busybox_image, api_service):
    hull.load(busybox_image)
    hull("tag", busybox_image.id.split(":", 1)[1], "busybox").ok()
    return api_service(hull)


def demux(data: bytes) -> tuple[bytes, bytes]:
    """(stdout, stderr) of an 8-byte-framed stream; fails on a malformed frame."""
    out, err = b"", b""
    while data:
        assert len(data) >= 8, f"truncated frame header: {data!r}"
        stream, size = struct.unpack(">BxxxI", data[:8])
        assert stream in (1, 2), f"bad stream byte {stream} in {data[:16]!r}"
        payload = data[8:8 + size]
        assert len(payload) == size, "truncated frame"
        if stream == 1:
            out += payload
        else:
            err += payload
        data = data[8 + size:]
    return out, err


def create(svc, body: dict, name: str | None = None) -> str:
    path = "/v1.44/containers/create" + (f"?name={name}" if name else "")
    reply = svc.request("POST", path, body)
    assert reply.status == 201, (reply.status, reply.body)
    return reply.json()["Id"]


def lines(reply) -> list[dict]:
    return [json.loads(x) for x in reply.body.splitlines() if x.strip()]
