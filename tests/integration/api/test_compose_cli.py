"""`hull compose`: the provider found and run against Hull's socket (a temporary service
when none listens, stopped afterwards; the running one when it does), Podman's notice on
stderr, the provider's exit code passed through; a real docker-compose project."""

from __future__ import annotations

import os

from tests.fixtures.cli import Hull
from tests.integration.api.containers_fixtures import dapi  # noqa: F401

# Asks the service behind DOCKER_HOST for its version, then says where it was pointed.
FAKE_PROVIDER = """#!/bin/sh
sock="${DOCKER_HOST#unix://}"
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"GET /_ping HTTP/1.0\\r\\n\\r\\n")
data = b""
while chunk := s.recv(4096):
    data += chunk
print(data.split(b"\\r\\n\\r\\n", 1)[1].decode())' "$sock"
echo "host=$DOCKER_HOST"
echo "buildkit=$DOCKER_BUILDKIT"
echo "args=$*"
echo "$sock" > "$(dirname "$0")/sock-used"
exit 42
"""


def _fake(hull: Hull) -> str:
    path = hull.base / "fake-compose"
    path.write_text(FAKE_PROVIDER)
    path.chmod(0o755)
    return str(path)


def test_compose_runs_provider_on_a_temporary_service(hull_any):
    hull_any.extra_env["HULL_COMPOSE_PROVIDER"] = _fake(hull_any)
    res = hull_any("compose", "-f", "x.yml", "up", "-d")
    assert res.returncode == 42, res.stderr
    assert res.stderr.startswith(f'>>>> Executing external compose provider "{hull_any.base / "fake-compose"}".')
    out = res.stdout.splitlines()
    assert out[0] == "OK", res.stdout  # the service answered /_ping
    assert out[1].startswith("host=unix://") and out[2] == "buildkit=0" and out[3] == "args=-f x.yml up -d"
    used = (hull_any.base / "sock-used").read_text().strip()
    assert used != str(hull_any.runroot / "hull.sock") and not os.path.exists(used)  # stopped and removed
    hull_any.extra_env["PODMAN_COMPOSE_WARNING_LOGS"] = "false"
    quiet = hull_any("compose", "version")
    assert quiet.returncode == 42 and quiet.stderr == ""


def test_compose_uses_the_running_service(dapi):
    hull = dapi.hull
    assert dapi.socket_path == hull.runroot / "hull.sock"
    hull.extra_env["PODMAN_COMPOSE_PROVIDER"] = _fake(hull)
    res = hull("compose", "ps")
    assert res.returncode == 42 and res.stdout.splitlines()[:2] == ["OK", f"host=unix://{dapi.socket_path}"]
    assert dapi.request("GET", "/_ping").status == 200


def test_compose_missing_provider(hull):
    hull.extra_env["HULL_COMPOSE_PROVIDER"] = "no-such-compose-provider"
    hull("compose", "up").assert_error(125, contains="no-such-compose-provider not found")


def test_compose_docker_compose_project(hull_any, busybox_image):
    hull_any.load(busybox_image)
    hull_any("tag", busybox_image.id.split(":", 1)[1], "busybox").ok()
    d = hull_any.workdir / "proj"
    d.mkdir()
    (d / "docker-compose.yml").write_text(
        "services:\n  app:\n    image: busybox\n    command: [\"sh\", \"-c\", \"echo compose-says-hi; exec sleep 600\"]\n"
        "    stop_signal: SIGKILL\n")
    if hull_any.rootless:
        for p in (d, d / "docker-compose.yml"):
            os.chown(p, hull_any.user.uid, hull_any.user.gid)
    hull_any.extra_env["HULL_COMPOSE_PROVIDER"] = "docker-compose"
    hull_any("compose", "-f", str(d / "docker-compose.yml"), "-p", "hcli", "up", "-d").ok()
    ps = hull_any("ps", "--format", "{{.Names}} {{.Status}}").ok().stdout
    assert "hcli_app_1 Up" in ps, ps
    logs = hull_any("compose", "-f", str(d / "docker-compose.yml"), "-p", "hcli", "logs", "--no-color").ok()
    assert "compose-says-hi" in logs.stdout
    hull_any("compose", "-f", str(d / "docker-compose.yml"), "-p", "hcli", "down").ok()
    assert hull_any("ps", "-aq").ok().stdout == ""
    # docker-compose's own exit code comes back (no such service)
    bad = hull_any("compose", "-f", str(d / "docker-compose.yml"), "-p", "hcli", "logs", "nosuch")
    assert bad.returncode == 1
