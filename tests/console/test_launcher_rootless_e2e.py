"""The console as it is meant to run: `manage.py runconsole` started by an unprivileged
user (hulltest, with a subuid range), acting on that user's rootless store.

The launcher joins the user's Hull user namespace before daphne starts; pages and
sockets then see the containers that user's `hull` made.  Logged in with the
printed URL over real HTTP; the logs websocket is read with a minimal RFC 6455
client (no client library is pinned).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

import httpx
import pytest

from tests.console.test_launcher_e2e import REPO, read_login_url

pytestmark = [pytest.mark.timeout(300), pytest.mark.rootless]


def ws_connect(port: int, path: str, cookie: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n"
               f"Cookie: {cookie}\r\n\r\n")
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, f"connection closed during the handshake: {head!r}"
        head += chunk
    assert b" 101 " in head.split(b"\r\n", 1)[0], head
    return sock


def _exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "the server closed the socket"
        data += chunk
    return data


def ws_frames(sock: socket.socket, deadline: float):
    """Text frames from the server (unmasked, not fragmented: what daphne sends)."""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        b0, b1 = _exactly(sock, 2)
        size = b1 & 0x7F
        if size == 126:
            size = struct.unpack("!H", _exactly(sock, 2))[0]
        elif size == 127:
            size = struct.unpack("!Q", _exactly(sock, 8))[0]
        payload = _exactly(sock, size)
        opcode = b0 & 0x0F
        if opcode == 8:
            return
        if opcode == 1:
            yield json.loads(payload)


def test_console_runs_as_the_rootless_user(hull_rootless, busybox_image) -> None:
    h = hull_rootless
    h.load(busybox_image)
    cid = h("run", "-d", "--name", "mine", "--network", "none", "localhost/busybox", "sh", "-c",
            "echo hello-from-hulltest; while :; do sleep 1; echo tick-$(date +%s); done").ok().stdout.strip()
    env = h.env()
    env.update(HULL_ROOT=str(h.root), HULL_RUNROOT=str(h.runroot), PYTHONDONTWRITEBYTECODE="1")
    argv = h.user.argv([sys.executable, "manage.py", "runconsole", "--host", "127.0.0.1", "--port", "0"], env)
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        match = read_login_url(proc, timeout=90)
        base, port = match.group(1), int(match.group(2))
        token_file = h.runroot / "console-token"
        assert token_file.stat().st_uid == h.user.uid  # written by the user's console, not root's

        with httpx.Client(timeout=60, follow_redirects=True) as browser:
            assert browser.get(match.group(0)).status_code == 200
            page = browser.get(f"{base}/containers/")
            assert page.status_code == 200
            assert "mine" in page.text and f'data-container-id="{cid}"' in page.text
            detail = browser.get(f"{base}/containers/mine/")
            assert detail.status_code == 200 and cid in detail.text
            cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())

        # The logs socket streams: the backlog, then lines written after it opened.
        sock = ws_connect(port, f"/ws/logs?container={cid}&tail=-1", cookie)
        with sock:
            texts: list[str] = []
            for frame in ws_frames(sock, time.monotonic() + 60):
                assert frame["type"] != "error", frame
                if frame["type"] == "lines":
                    texts += [line[3] for line in frame["lines"]]
                ticks = [t for t in texts if t.startswith("tick-")]
                if "hello-from-hulltest" in texts and len(ticks) >= len(set(ticks)) >= 3:
                    break
            assert "hello-from-hulltest" in texts, texts[:20]
            assert len({t for t in texts if t.startswith("tick-")}) >= 3, texts[-20:]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        h("rm", "-f", "-t", "0", "mine")
