"""Socket activation of `hull system service` (systemd-socket-activate hands it the
listening socket as fd 3 with LISTEN_FDS/LISTEN_PID), the contrib units, and the
restart-on-boot unit's `hull start --all --filter restart-policy=always` (and `stop
--filter` for its ExecStop); socket activation into containers (`hull run`/`start`)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.systemd.conftest import verify_units

CONTRIB = Path(__file__).resolve().parents[3] / "contrib" / "systemd"


def _get(path: str, url: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(path)
        s.sendall(f"GET {url} HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data.decode(errors="replace")


def test_system_service_socket_activated(hull_any):
    h = hull_any
    tool = shutil.which("systemd-socket-activate")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-socket-activate is missing in CI (.ci/setup-system-deps installs systemd)")
        pytest.skip("systemd-socket-activate is not installed")
    sock = h.workdir / "api.sock"
    argv = h.user.argv([tool, "-l", str(sock), str(h.binary), "--root", str(h.root), "--runroot", str(h.runroot),
                        "system", "service", "--time", "0"], h.env())
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()
            time.sleep(0.05)
        # the socket exists before hull runs: the first request starts it (systemd's way)
        ping = _get(str(sock), "/_ping")
        assert ping.startswith("HTTP/1.1 200") and ping.endswith("OK"), ping
        listed = _get(str(sock), "/v1.44/containers/json?all=1")
        assert listed.startswith("HTTP/1.1 200"), listed
        assert not (h.runroot / "hull.sock").exists()  # it served the passed socket, not its own
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_contrib_units_verify(tmp_path):
    from tests.fixtures.cli import HULL_BIN

    for flavour in ("system", "user"):
        d = tmp_path / flavour
        d.mkdir()
        for unit in (CONTRIB / flavour).iterdir():
            (d / unit.name).write_text(unit.read_text().replace("/opt/hull/.venv/bin/hull", str(HULL_BIN)))
        verify_units(sorted(d.iterdir()))


def test_start_filter_restart_policy(hull_any, busybox_image):
    """What hull-restart.service runs at boot: only `always` containers start."""
    h = hull_any
    h.load(busybox_image)
    h("create", "--name", "a", "--restart", "always", "busybox", "sleep", "1000").ok()
    h("create", "--name", "n", "busybox", "sleep", "1000").ok()
    h("start", "--all", "--filter", "restart-policy=always").ok()
    states = h("ps", "-a", "--format", "{{.Names}} {{.State}}").ok().lines
    assert sorted(states) == ["a running", "n created"]
    # ...and what its ExecStop runs: only the running `always` ones stop
    h("start", "n").ok()
    stopped = h("stop", "--all", "--filter", "restart-policy=always", "-t", "0").ok().stdout.split()
    assert stopped == [h("inspect", "a", "--format", "{{.Id}}").ok().stdout.strip()]
    states = h("ps", "-a", "--format", "{{.Names}} {{.State}}").ok().lines
    assert sorted(states) == ["a exited", "n running"]
    h("stop", "--filter", "name=n", "n").assert_error(125, "--filter takes no arguments")


# ---------------------------------------------------------------- into a container
SERVE = ('use IO::Socket::INET; my $s = IO::Socket::INET->new_from_fd(3, "r") or die "fd 3: $!"; '
         'while (my $c = $s->accept) { print $c "hello $ENV{LISTEN_FDS} $ENV{LISTEN_PID} $ENV{LISTEN_FDNAMES}\\n"; '
         'close $c }')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ask(port: int, proc: subprocess.Popen) -> str:
    """Connect (systemd-socket-activate starts hull on the first connection) and read
    the container's answer."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
                return data.decode()
        except ConnectionRefusedError:  # not listening yet
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()
            time.sleep(0.05)
        except ConnectionResetError:  # hull failed: say why
            proc.kill()
            pytest.fail("connection reset: " + proc.stderr.read().decode())


def _activate(h, port: int, *hull_args: str) -> subprocess.Popen:
    tool = shutil.which("systemd-socket-activate")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-socket-activate is missing in CI (.ci/setup-system-deps installs systemd)")
        pytest.skip("systemd-socket-activate is not installed")
    inner = [str(h.binary), "--root", str(h.root), "--runroot", str(h.runroot),
             *(["--runtime", h.runtime] if h.runtime else []), *hull_args]
    argv = h.user.argv([tool, "-l", f"127.0.0.1:{port}", "--fdname=web", *inner], h.env())
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            cwd=h.workdir)


def test_socket_activation_into_container(hull_any, debian_image):
    """`systemd-socket-activate -l PORT hull run ...`: the listening socket is fd 3 in the
    container (LISTEN_FDS=1, LISTEN_PID=1, LISTEN_FDNAMES kept) and answers; `hull start`
    of a created container passes it the same way."""
    h = hull_any
    h.load(debian_image)
    port = _free_port()
    proc = _activate(h, port, "run", "--rm", "--name", "sa", "debian:bookworm", "perl", "-e", SERVE)
    try:
        assert _ask(port, proc) == "hello 1 1 web\n"
        assert _ask(port, proc) == "hello 1 1 web\n"  # the same listening socket, still open
    finally:
        h("rm", "-f", "-t", "0", "sa")
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)

    h("create", "--name", "sb", "debian:bookworm", "perl", "-e", SERVE).ok()
    port = _free_port()
    proc = _activate(h, port, "start", "sb")
    try:
        assert _ask(port, proc) == "hello 1 1 web\n"
        proc.wait(timeout=60)  # hull start returned; the container keeps the socket
        assert proc.returncode == 0, proc.stderr.read().decode()
        assert _ask(port, proc) == "hello 1 1 web\n"
    finally:
        h("rm", "-f", "-t", "0", "sb")
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
