"""Hostile requests against the API service: a malformed JSON body, a huge header, path
traversal in an archive PUT (plain and compressed, and a symlink planted to lead out),
compressed payloads never handed to a decompressor from the container.  Each gets a 4xx
in Docker's error shape, changes nothing, and the service answers /_ping afterwards.
(Another Unix user being refused: test_service.py, test_socket_activation_and_only_owner_or_root_served.)"""

from __future__ import annotations

import io
import os
import socket
import tarfile

import pytest

from tests.fixtures.api import start_service
from tests.integration.api.containers_fixtures import create, dapi  # noqa: F401


def _alive(svc) -> None:
    assert svc.request("GET", "/_ping").body == b"OK"


def _docker_error(reply, low: int = 400, high: int = 499) -> str:
    assert low <= reply.status <= high, (reply.status, reply.body[:300])
    doc = reply.json()
    assert set(doc) == {"message"} and isinstance(doc["message"], str) and doc["message"], doc
    assert "Traceback" not in doc["message"]
    return doc["message"]


def _tar(entries: list[tuple[str, bytes | str]], mode: str = "w") -> bytes:
    """entries: (name, data) files, or (name, "->target") symlinks."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if isinstance(data, str):
                info.type, info.linkname = tarfile.SYMTYPE, data[2:]
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _running(svc, script: str = "sleep 600") -> str:
    cid = create(svc, {"Image": "busybox", "Cmd": ["sh", "-c", script]})
    assert svc.request("POST", f"/containers/{cid}/start").status == 204
    return cid


def _exists(svc, cid: str, path: str) -> bool:
    return svc.request("HEAD", f"/containers/{cid}/archive?path={path}").status == 200


def test_malformed_json_bodies_are_400(dapi):
    for path in ("/containers/create", "/networks/create", "/volumes/create", "/libpod/containers/create"):
        for body in (b"{not json", b'{"Image": "busybox"', b"\xff\xfe\x00", b"[1, 2, 3]", b'"a string"'):
            reply = dapi.request("POST", path, body, headers={"Content-Type": "application/json"})
            if path.startswith("/libpod"):
                assert 400 <= reply.status < 500 and reply.json()["message"], (path, body, reply.body)
            else:
                _docker_error(reply)
            _alive(dapi)
    assert dapi.request("GET", "/containers/json?all=1").json() == []
    assert dapi.request("GET", "/volumes").json()["Volumes"] == []


def _raw(svc, head: bytes) -> bytes:
    """Send a raw request head; what came back before the service closed."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(svc.socket_path))
        try:
            s.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the service answered and closed before reading it all
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    return data


def test_huge_header_is_refused_and_service_survives(dapi):
    # h11 buffers at most 64 KiB of an incomplete head (reads are 64 KiB): past 128 KiB it is
    # always refused, as Go's 1 MiB limit refuses dockerd's.
    big = [b"X-Big: " + b"a" * (256 << 10), b"X-Big: " + b"a" * (1 << 20),
           b"\r\n".join(b"X-H%d: %s" % (i, b"v" * 100) for i in range(3000))]
    for header in big:
        data = _raw(dapi, b"GET /_ping HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n")
        status = data.split(b"\r\n", 1)[0]
        assert status.startswith((b"HTTP/1.1 431", b"HTTP/1.1 400")), data[:300]
        body = data.split(b"\r\n\r\n", 1)[1]
        assert b'"message"' in body and b"Traceback" not in body, body[:300]
        _alive(dapi)


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_archive_put_traversal_changes_nothing(dapi, mode):
    cid = _running(dapi)
    evils = [
        [("good-first.txt", b"x"), ("../../../../escape.txt", b"!")],
        [("good-first.txt", b"x"), ("sub/../../escape.txt", b"!")],
        [("good-first.txt", b"x"), ("hard", b"x"), ("../hard-escape", b"")],
    ]
    for entries in evils:
        reply = dapi.request("PUT", f"/containers/{cid}/archive?path=/tmp", _tar(entries, mode))
        msg = _docker_error(reply)
        assert "'..'" in msg, msg
        _alive(dapi)
        for path in ("/escape.txt", "/hard-escape", "/tmp/escape.txt", "/tmp/good-first.txt", "/tmp/hard"):
            assert not _exists(dapi, cid, path), (entries, path)  # nothing written, not even the good entry
    # A planted symlink leads nowhere outside: the path resolves inside the container's root.
    planted = [("link", "->/"), ("link/via-link.txt", b"!"), ("up", "->../../../../.."), ("up/via-up.txt", b"!")]
    reply = dapi.request("PUT", f"/containers/{cid}/archive?path=/tmp", _tar(planted, mode))
    assert reply.status == 200 or 400 <= reply.status < 500, reply.body
    _alive(dapi)
    for name in ("via-link.txt", "via-up.txt"):
        assert not os.path.exists(f"/{name}") and not os.path.exists(dapi.hull.base / name)
        assert not any(dapi.hull.base.glob(f"*/{name}")) and not any(dapi.hull.base.glob(name))
        if reply.status == 200:
            assert _exists(dapi, cid, f"/{name}")  # landed at the container's own /
    truncated = _tar([("big.txt", b"y" * 100_000)], mode)[:-30_000 if mode == "w" else -40]
    _docker_error(dapi.request("PUT", f"/containers/{cid}/archive?path=/tmp", truncated))
    assert not _exists(dapi, cid, "/tmp/big.txt")
    # the same upload without the hostile entry goes in
    ok = dapi.request("PUT", f"/containers/{cid}/archive?path=/tmp", _tar([("good.txt", b"fine")], mode))
    assert ok.status == 200, ok.body
    assert _exists(dapi, cid, "/tmp/good.txt")


def test_archive_put_never_runs_a_decompressor_from_the_container(dapi):
    """gzip/bzip2/xz/zstd in the container are replaced by scripts that leave a mark:
    a compressed upload is unpacked by Hull in-process, the mark never appears."""
    trap = "; ".join(f"printf '#!/bin/sh\\ntouch /ran-{tool}\\nexit 1\\n' > /bin/{tool}; chmod 755 /bin/{tool}"
                     for tool in ("gzip", "gunzip", "bzip2", "xz", "unxz", "zstd", "tar"))
    cid = _running(dapi, f"rm -f /bin/gzip /bin/gunzip /bin/bzip2 /bin/xz /bin/unxz /bin/tar; {trap}; sleep 600")
    for mode in ("w:gz", "w:bz2", "w:xz"):
        name = f"in-{mode[2:]}.txt"
        reply = dapi.request("PUT", f"/containers/{cid}/archive?path=/tmp", _tar([(name, b"data")], mode))
        assert reply.status == 200, reply.body
        assert _exists(dapi, cid, f"/tmp/{name}")
    # Nor from the host: a second service whose PATH starts with the same traps.
    hull = dapi.hull
    traps = hull.base / "trap-bin"
    traps.mkdir()
    for tool in ("gzip", "gunzip", "bzip2", "xz", "unxz", "zstd", "tar", "pigz"):
        (traps / tool).write_text(f"#!/bin/sh\ntouch {hull.base}/host-ran-{tool}\nexit 1\n")
        (traps / tool).chmod(0o755)
    hull.extra_env["PATH"] = f"{traps}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
    other = start_service(hull, socket_path=hull.runroot / "trap.sock")
    try:
        for mode in ("w:gz", "w:bz2", "w:xz"):
            reply = other.request("PUT", f"/containers/{cid}/archive?path=/tmp", _tar([(f"host-{mode[2:]}", b"d")], mode))
            assert reply.status == 200, reply.body
    finally:
        other.stop()
    assert not list(hull.base.glob("host-ran-*"))
    bomb_like = dapi.request("PUT", f"/containers/{cid}/archive?path=/tmp", b"\x1f\x8b\x08\x00garbage")
    _docker_error(bomb_like)
    _alive(dapi)
    assert _exists(dapi, cid, "/bin/gzip")  # the traps are in place ...
    for tool in ("gzip", "gunzip", "bzip2", "xz", "unxz", "zstd", "tar"):
        assert not _exists(dapi, cid, f"/ran-{tool}"), tool  # ... and none ran


def test_bad_requests_never_kill_the_service(dapi):
    bad = [
        ("GET", "/containers/json?filters={bad", None),
        ("GET", "/containers/json?limit=abc", None),
        ("POST", "/containers/nosuch/start", None),
        ("GET", "/../../../etc/passwd", None),
        ("GET", "/containers/%2e%2e%2f%2e%2e/json", None),
        ("POST", "/containers/create?name=../../x", {"Image": "busybox"}),
        ("POST", "/containers/create", {"Image": "busybox", "HostConfig": {"Memory": "lots"}}),
        ("POST", "/containers/create", {"Image": "busybox", "Cmd": "not-a-list" * 3, "Env": {"A": 1}}),
        ("PUT", "/containers/nosuch/archive?path=/tmp", b"x"),
        ("POST", "/images/create?fromSrc=http://127.0.0.1:1/x", None),
        ("DELETE", "/_ping", None),
    ]
    for method, path, body in bad:
        reply = dapi.request(method, path, body)
        assert 400 <= reply.status < 500, (method, path, reply.status, reply.body[:200])
        if reply.body:
            assert "message" in reply.json(), (method, path, reply.body[:200])
        _alive(dapi)
    assert dapi.request("GET", "/containers/json?all=1").json() == []
