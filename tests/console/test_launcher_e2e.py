"""End to end: `manage.py runconsole` as a subprocess, logged in over real HTTP."""

from __future__ import annotations

import os
import re
import queue
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
URL_RE = re.compile(r"(http://127\.0\.0\.1:(\d+))/login\?token=([A-Za-z0-9_-]+)")


def read_login_url(proc: subprocess.Popen, timeout: float = 30) -> re.Match:
    """Wait for the printed login URL (a thread reads, so a silent process cannot hang us)."""
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if proc.poll() is not None and lines.empty():
                break
            continue
        seen += line
        if match := URL_RE.search(line):
            return match
    raise AssertionError(f"no login URL printed; stdout so far: {seen!r}")


@pytest.fixture
def console(hull_dirs: Path) -> Iterator[tuple[subprocess.Popen, re.Match, Path]]:
    env = dict(os.environ, HULL_ROOT=str(hull_dirs / "root"), HULL_RUNROOT=str(hull_dirs / "run"))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runconsole", "--host", "127.0.0.1", "--port", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, read_login_url(proc), hull_dirs / "run" / "console-token"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def websocket_handshake(port: int, cookie: str | None, origin: str) -> str:
    """A raw RFC 6455 upgrade; returns the status line."""
    lines = [
        "GET /ws/ping HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        f"Origin: {origin}",
    ]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return sock.recv(4096).decode("latin1").split("\r\n", 1)[0]


@pytest.mark.timeout(120)
def test_launcher_prints_url_and_login_works(console: tuple[subprocess.Popen, re.Match, Path]) -> None:
    proc, match, token_path = console
    base, port, token = match.group(1), int(match.group(2)), match.group(3)

    # The token file: 0600 in a 0700 directory, holding the printed token; never in argv.
    assert token_path.read_text().strip() == token
    assert stat.S_IMODE(token_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_path.parent.stat().st_mode) == 0o700
    assert token not in Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()

    with httpx.Client(timeout=10) as anonymous:
        assert anonymous.get(f"{base}/").status_code == 403
        assert anonymous.get(f"{base}/login", params={"token": "wrong"}).status_code == 403
        assert anonymous.get(f"{base}/", headers={"Host": "evil.example"}).status_code == 400

    with httpx.Client(timeout=10, follow_redirects=True) as browser:
        response = browser.get(match.group(0))
        assert response.status_code == 200
        assert str(response.url) == f"{base}/"  # redirected; the token left the URL
        assert "token" not in parse_qs(urlsplit(str(response.url)).query)
        set_cookie = response.history[0].headers["set-cookie"]
        assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
        assert "Overview" in response.text
        assert "default-src 'self'" in response.headers["content-security-policy"]
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())

    assert " 101 " in websocket_handshake(port, cookie, origin=base)
    assert " 403 " in websocket_handshake(port, cookie, origin="http://evil.example")
    assert " 403 " in websocket_handshake(port, None, origin=base)

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert not token_path.exists()  # the token dies with the console


def test_launcher_refuses_a_non_loopback_host(hull_dirs: Path) -> None:
    env = dict(os.environ, HULL_RUNROOT=str(hull_dirs / "run"))
    result = subprocess.run(
        [sys.executable, "manage.py", "runconsole", "--host", "0.0.0.0", "--port", "0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "loopback" in result.stderr
    assert not (hull_dirs / "run" / "console-token").exists()


def test_unix_socket_is_private_and_needs_the_token(hull_dirs: Path) -> None:
    """`runconsole --unix`: the console also answers on {runroot}/console.sock, a 0600
    socket in a 0700 directory, with the same token rule as over TCP."""
    env = dict(os.environ, HULL_ROOT=str(hull_dirs / "root"), HULL_RUNROOT=str(hull_dirs / "run"))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runconsole", "--host", "127.0.0.1", "--port", "0", "--unix"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        match = read_login_url(proc)
        path = hull_dirs / "run" / "console.sock"
        assert stat.S_ISSOCK(path.stat().st_mode) and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        transport = httpx.HTTPTransport(uds=str(path))
        with httpx.Client(transport=transport, base_url="http://localhost") as client:
            assert client.get("/containers/").status_code in (302, 403)  # no session, no page
            login = client.get(f"/login?token={match.group(3)}")
            assert login.status_code in (200, 302)
            page = client.get("/containers/", follow_redirects=True)
            assert page.status_code == 200 and "Containers" in page.text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert not (hull_dirs / "run" / "console.sock").exists()


def test_another_unix_user_cannot_drive_the_console(console: tuple[subprocess.Popen, re.Match, Path]) -> None:
    """Another account on the machine reaches the loopback port, but cannot read the
    token file and gets no page, no action and no websocket without the token."""
    from tests.fixtures.users import rootless_user

    other, why = rootless_user()
    if other is None or os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail(f"the second user must exist in CI: {why}")
        pytest.skip(why or "needs root to act as another user")
    _proc, match, token_path = console
    base, port = match.group(1), int(match.group(2))
    probe = (
        "import sys, urllib.request, urllib.error\n"
        "def status(req):\n"
        "    try:\n"
        "        return urllib.request.urlopen(req, timeout=10).status\n"
        "    except urllib.error.HTTPError as e:\n"
        "        return e.code\n"
        f"base = {base!r}\n"
        "try:\n"
        f"    open({str(token_path)!r}).read(); print('token-readable')\n"
        "except OSError:\n"
        "    print('token-unreadable')\n"
        "print(status(base + '/containers/'))\n"
        "print(status(urllib.request.Request(base + '/containers/create/', data=b'image=busybox', method='POST')))\n"
        "print(status(base + '/login?token=guess'))\n"
    )
    out = subprocess.run(other.argv(["/usr/bin/python3", "-c", probe], other.env()), capture_output=True,
                         text=True, timeout=60)
    lines = out.stdout.split()
    assert lines[0] == "token-unreadable", out
    assert all(code in ("302", "403") for code in lines[1:]), out
    assert " 403 " in websocket_handshake(port, None, origin=base)
