"""`hull system service`: the socket, who may use it, the common headers and
errors, versioned paths, idle exit, socket activation, and the real docker CLI."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import time

import pytest

from tests.fixtures.cli import HULL_BIN, wait_for


def test_ping_headers_and_head(api_any):
    reply = api_any.request("GET", "/_ping")
    assert reply.status == 200 and reply.body == b"OK"
    assert reply.headers["api-version"] == "1.44"
    assert reply.headers["libpod-api-version"].startswith("5.")
    assert reply.headers["server"].startswith("Libpod/")
    head = api_any.request("HEAD", "/v1.40/_ping")
    assert head.status == 200 and head.body == b""
    assert api_any.request("GET", "/libpod/_ping").body == b"OK"


def test_version_paths_and_docker_cli(api_any):
    for path in ("/version", "/v1.41/version", "/v5.0.0/libpod/version"):
        doc = api_any.request("GET", path).json()
        assert doc["ApiVersion"] == "1.44" and doc["Os"] == "linux", path
    res = api_any.docker("version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}").ok()
    assert res.stdout.strip() == "1.44 linux"
    info = api_any.docker("info", "--format", "{{.Driver}} {{.Containers}}").ok()
    assert info.stdout.strip() == "overlay 0"


def test_libpod_info_is_podmans_shape(api_any):
    doc = api_any.request("GET", "/v5.0.0/libpod/info").json()
    assert doc["store"]["graphRoot"] == str(api_any.hull.root)
    assert doc["host"]["security"]["rootless"] == api_any.hull.rootless


def test_errors_have_dockers_and_podmans_shapes(api_any):
    missing = api_any.request("GET", "/v1.44/no/such/thing")
    assert missing.status == 404 and "page not found" in missing.json()["message"]
    libpod = api_any.request("GET", "/v5.0.0/libpod/no/such/thing")
    doc = libpod.json()
    assert libpod.status == 404 and doc["response"] == 404 and doc["message"] and doc["cause"]
    old = api_any.request("GET", "/v1.12/info")
    assert old.status == 400 and "1.12" in old.json()["message"]
    wrong_method = api_any.request("DELETE", "/version")
    assert wrong_method.status == 405


def test_malformed_request_gets_400_and_service_goes_on(api_any):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(str(api_any.socket_path))
        s.sendall(b"\x00\x01garbage that is not http\r\n\r\n")
        data = s.recv(4096)
    assert data.startswith(b"HTTP/1.1 400"), data[:200]
    assert b"Traceback" not in data
    assert api_any.request("GET", "/_ping").status == 200


def test_keep_alive_serves_several_requests_on_one_connection(api_any):
    conn = api_any.connection()
    try:
        for _ in range(3):
            conn.request("GET", "/_ping")
            resp = conn.getresponse()
            assert resp.status == 200 and resp.read() == b"OK"
    finally:
        conn.close()


def test_socket_is_private(api_any):
    st = os.stat(api_any.socket_path)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    parent = os.stat(api_any.socket_path.parent)
    assert stat.S_IMODE(parent.st_mode) == 0o700


def test_second_service_on_a_live_socket_refuses(api_any):
    res = api_any.hull("system", "service", "--time", "0", api_any.url, timeout=30)
    res.assert_error(125, contains="already listening")
    assert api_any.request("GET", "/_ping").status == 200


def test_idle_service_exits_after_time_and_removes_its_socket(hull):
    path = hull.runroot / "idle.sock"
    proc = hull.popen("system", "service", "--time", "1", f"unix://{path}")
    wait_for(path.exists, 30, what="the socket")
    assert proc.wait(30) == 0
    assert not path.exists()


def _serve_activated(hull, sock: socket.socket) -> subprocess.Popen:
    """Start the service as systemd would: the listening socket is fd 3."""
    fd = sock.fileno()
    argv = ["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"', "sh", str(HULL_BIN),
            "--root", str(hull.root), "--runroot", str(hull.runroot), "system", "service", "--time", "0"]
    return subprocess.Popen(argv, env=hull.env(), pass_fds=(3,), preexec_fn=lambda: os.dup2(fd, 3),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _get_ping_as(uid: int, path: str) -> bytes:
    """Connect as another uid (a forked child drops to it) and return what came back."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(path)
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
                if b"OK" in data:
                    break
            os.write(w, data[:4000] or b"<closed>")
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            os.write(w, f"<error {exc}>".encode())
        finally:
            os._exit(0)
    os.close(w)
    out = b""
    while chunk := os.read(r, 4096):
        out += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return out


def test_socket_activation_and_only_owner_or_root_served(hull, rootless_user_or_skip):
    """A socket any user may connect to (as a careless unit could make): the service
    still answers only its owner and root."""
    if os.geteuid() != 0:
        pytest.skip("needs root to connect as another uid")
    other = rootless_user_or_skip
    d = hull.workdir / "open"
    d.mkdir(mode=0o755)
    path = d / "api.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    os.chmod(path, 0o666)
    sock.listen(16)
    proc = _serve_activated(hull, sock)
    try:
        sock.close()
        assert b"200 OK" in _get_ping_as(0, str(path))
        refused = _get_ping_as(other.uid, str(path))
        assert refused == b"<closed>" or refused.startswith(b"<error"), refused
        assert b"200 OK" in _get_ping_as(0, str(path))  # still serving
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(10)


@pytest.fixture
def rootless_user_or_skip():
    from tests.fixtures.users import rootless_user

    user, why = rootless_user()
    if user is None:
        if os.environ.get("CI"):
            pytest.fail(f"the rootless user must exist in CI: {why}")
        pytest.skip(why)
    return user


def test_bad_arguments(hull):
    hull("system", "service", "--time", "soon").assert_error(125, contains="--time")
    hull("system", "service", "--time", "0", "http://x").assert_error(125, contains="unix://")


def _with_busybox(hull, busybox_image) -> None:
    hull.load(busybox_image)
    hull("tag", busybox_image.id.split(":", 1)[1], "busybox").ok()


def test_service_sees_the_store_as_it_is_after_a_reset(hull_any, busybox_image):
    """The service keeps a child ready with the state database open: after `hull system
    reset` its clients see the new, empty store, not the removed one."""
    from tests.fixtures.api import start_service

    _with_busybox(hull_any, busybox_image)
    hull_any("create", "--name", "before", "busybox", "true").ok()
    svc = start_service(hull_any, socket_path=hull_any.base / "svc" / "api.sock")  # outside the reset dirs
    try:
        assert svc.docker("ps", "-a", "--format", "{{.Names}}").ok().stdout.split() == ["before"]
        time.sleep(1)  # the next child is made and ready by now (not a timing assert: both paths must pass)
        hull_any("system", "reset", "--force").ok()
        assert svc.docker("ps", "-a", "--format", "{{.Names}}").ok().stdout.split() == []
        assert svc.docker("images", "-q").ok().stdout.split() == []
    finally:
        svc.stop()


@pytest.mark.rootless
def test_containers_run_through_the_service_after_the_pause_process_went(hull_rootless, busybox_image,
                                                                           api_service):
    """Rootless: once the pause process is gone (`system migrate` and `reset` stop it), the
    service's next containers share the new pause process's user namespace, as the CLI's
    do (not the old namespace a child made ready beforehand had joined)."""
    _with_busybox(hull_rootless, busybox_image)
    svc = api_service(hull_rootless)
    svc.docker("ps").ok()
    time.sleep(1)  # the next child has joined this pause process's namespaces by now
    pid_file = hull_rootless.runroot / "pause.pid"
    old = int(pid_file.read_text().split()[0])
    os.kill(old, 9)
    wait_for(lambda: not os.path.exists(f"/proc/{old}"), 10, what="the pause process to end")
    svc.docker("run", "-d", "--name", "after", "busybox", "sleep", "300").ok()
    pid = int(hull_rootless("inspect", "-f", "{{.State.Pid}}", "after").ok().stdout)
    new = int(pid_file.read_text().split()[0])
    assert new != old and os.readlink(f"/proc/{pid}/ns/user") == os.readlink(f"/proc/{new}/ns/user")
    assert hull_rootless("exec", "after", "echo", "inside").ok().stdout.strip() == "inside"
    svc.docker("rm", "-f", "after").ok()
