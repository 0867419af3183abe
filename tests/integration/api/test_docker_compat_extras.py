"""Docker API routes beyond what the docker CLI uses: websocket attach
(`/containers/{id}/attach/ws`), `HostConfig.Links`, and image import from a URL
(`POST /images/create?fromSrc=URL`); root and rootless."""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import socket
import struct
import threading
from pathlib import Path

import docker
import pytest

from tests.fixtures.swagger import validate_response
from tests.integration.api.containers_fixtures import create, dapi  # noqa: F401


@pytest.fixture
def client(dapi):
    c = docker.DockerClient(base_url=dapi.url, version="1.44", timeout=120)
    yield c
    c.close()


# ---------------------------------------------------------------- websocket attach
def _ws_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A client frame: always masked (RFC 6455 5.3)."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    return struct.pack(">BB", 0x80 | opcode, 0x80 | len(payload)) + mask + masked


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "connection closed inside a frame"
        data += chunk
    return data


def _ws_read(sock: socket.socket) -> tuple[int, bytes]:
    first, second = _read_exact(sock, 2)
    assert not second & 0x80, "server frames are never masked"
    length = second & 0x7F
    if length == 126:
        length = struct.unpack(">H", _read_exact(sock, 2))[0]
    elif length == 127:
        length = struct.unpack(">Q", _read_exact(sock, 8))[0]
    return first & 0x0F, _read_exact(sock, length)


def _ws_open(dapi, path: str) -> tuple[socket.socket, bytes, bytes]:
    key = base64.b64encode(os.urandom(16)).decode()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(60)
    sock.connect(str(dapi.socket_path))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, head
        head += chunk
    expected = base64.b64encode(hashlib.sha1(key.encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    return sock, head, expected


def test_attach_websocket(dapi):
    cid = create(dapi, {"Image": "busybox", "OpenStdin": True,
                        "Cmd": ["sh", "-c", "read line; echo got:$line; echo oops >&2"]})
    assert dapi.request("POST", f"/v1.44/containers/{cid}/start").status == 204
    sock, head, accept = _ws_open(dapi, f"/v1.44/containers/{cid}/attach/ws?stream=1&stdin=1&stdout=1&stderr=1")
    with sock:
        status, *fields = head.decode().rstrip("\r\n").split("\r\n")
        assert status.startswith("HTTP/1.1 101"), head
        headers = {k.lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
        assert headers["sec-websocket-accept"] == accept.decode() and headers["upgrade"].lower() == "websocket"
        sock.sendall(_ws_frame(b"", 0x9))             # a ping first: answered with a pong
        assert _ws_read(sock) == (0xA, b"")
        sock.sendall(_ws_frame(b"hello\n"))
        output, opcode = b"", 0
        while opcode != 0x8:
            opcode, payload = _ws_read(sock)
            if opcode in (0x1, 0x2):
                assert opcode == 0x2  # binary frames, as dockerd since API 1.42
                output += payload
        # raw bytes (no 8-byte stream headers) of both streams, then a normal close
        assert sorted(output.splitlines()) == [b"got:hello", b"oops"]
        assert payload[:2] == struct.pack(">H", 1000)
    assert dapi.request("POST", f"/v1.44/containers/{cid}/wait").json()["StatusCode"] == 0

    plain = dapi.request("GET", f"/v1.44/containers/{cid}/attach/ws?stream=1")
    assert plain.status == 400 and "websocket" in plain.json()["message"]


# ---------------------------------------------------------------- console size
def test_console_size_is_the_ptys_size_from_the_first_instruction(dapi):
    # `docker run -t` sends its terminal's size in HostConfig.ConsoleSize; the container's
    # first `stty size` sees it without any resize call
    cid = create(dapi, {"Image": "busybox", "Tty": True, "Cmd": ["stty", "size"],
                        "HostConfig": {"ConsoleSize": [33, 101]}})
    assert dapi.request("GET", f"/v1.44/containers/{cid}/json").json()["HostConfig"]["ConsoleSize"] == [33, 101]
    assert dapi.request("POST", f"/v1.44/containers/{cid}/start").status == 204
    assert dapi.request("POST", f"/v1.44/containers/{cid}/wait").json()["StatusCode"] == 0
    logs = dapi.request("GET", f"/v1.44/containers/{cid}/logs?stdout=1")
    assert logs.body.strip() == b"33 101"
    bad = dapi.request("POST", "/v1.44/containers/create", {"Image": "busybox", "Tty": True,
                                                            "HostConfig": {"ConsoleSize": [33]}})
    assert bad.status == 400 and "ConsoleSize" in bad.json()["message"]


# ---------------------------------------------------------------- links
def test_links_alias_reaches_the_linked_container(client):
    client.networks.create("linknet")
    db = client.containers.run("busybox", ["sh", "-c", "mkdir /www && echo linked > /www/index.html && "
                                                       "exec httpd -f -p 8080 -h /www"],
                               name="db", network="linknet", detach=True)
    db.reload()
    ip = db.attrs["NetworkSettings"]["Networks"]["linknet"]["IPAddress"]
    out = client.containers.run("busybox", ["sh", "-c", "cat /etc/hosts; "
                                            "for i in 1 2 3 4 5 6 7 8 9 10; do "
                                            "wget -qO- http://database:8080/ && exit 0; sleep 1; done; exit 1"],
                                links={"db": "database"}, network="linknet", remove=True)
    hosts = [line.split() for line in out.decode().splitlines() if line.strip() and not line.startswith("#")]
    assert [ip, "database"] in hosts and [ip, "db"] in hosts
    assert out.decode().splitlines()[-1] == "linked"

    with pytest.raises(docker.errors.APIError) as info:  # no network shared with db
        client.containers.create("busybox", ["true"], links={"db": "x"}, network_mode="none")
    assert info.value.status_code == 400 and "shares no network" in str(info.value)
    with pytest.raises(docker.errors.NotFound):
        client.containers.create("busybox", ["true"], links={"nothere": "x"}, network="linknet")
    db.remove(force=True)


# ---------------------------------------------------------------- import from a URL
@pytest.fixture
def tar_server(tmp_path):
    """A tiny HTTP server on 127.0.0.1 serving tmp_path."""
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_import_from_url(dapi, client, tar_server):
    directory, base = tar_server
    hull = dapi.hull
    hull("run", "--name", "src", "busybox", "sh", "-c", "echo imported > /hello").ok()
    exported = hull("export", "src").ok().stdout_bytes
    Path(directory, "rootfs.tar").write_bytes(exported)

    reply = dapi.request("POST", "/v1.44/images/create?fromSrc=" + base + "/rootfs.tar"
                         "&repo=localhost/imported&tag=1&changes=CMD%20%5B%22cat%22%2C%22%2Fhello%22%5D")
    assert reply.status == 200, reply.body
    image_id = reply.json()["status"]
    assert image_id.startswith("sha256:")
    validate_response(client.api.inspect_image("localhost/imported:1"), "/images/{name}/json")
    assert client.images.get("localhost/imported:1").id == image_id
    assert client.containers.run("localhost/imported:1", remove=True) == b"imported\n"

    # docker-py's own call for it
    client.api.import_image(src=base + "/rootfs.tar", repository="localhost/again", tag="2")
    assert client.containers.run("localhost/again:2", ["cat", "/hello"], remove=True) == b"imported\n"

    missing = dapi.request("POST", "/v1.44/images/create?fromSrc=" + base + "/nothere.tar")
    assert missing.status == 400 and "404" in missing.json()["message"]
    wrong = dapi.request("POST", "/v1.44/images/create?fromSrc=ftp://127.0.0.1/x.tar")
    assert wrong.status == 400 and "only http and https" in wrong.json()["message"]
