"""Compose projects against Hull: Debian's docker-compose 1.29 through the socket and
podman-compose (PyPI) through the `hull` CLI, root and rootless, on one project with two
services, a build, a named network and volume, a healthcheck gate, a published port and
an env file.  What is asserted is what a user looks at: the page served on the host
port, the client's log, data kept across stop/up, nothing left after `down -v`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.cli import HULL_BIN, Hull, Result
from tests.integration.api.containers_fixtures import dapi  # noqa: F401

PODMAN_COMPOSE = Path(HULL_BIN).parent / "podman-compose"

START_SH = """\
echo started >> /data/boots
echo "greeting: $GREETING" > /www/index.html
exec httpd -f -p 80 -h /www
"""

DOCKERFILE = """\
FROM busybox
RUN mkdir -p /www /data
COPY start.sh /start.sh
LABEL hull.test=compose
CMD ["sh", "/start.sh"]
"""

# The client prints the page it fetched by the service's name, then waits to be stopped.
COMPOSE = """\
services:
  web:
    build: ./web
    image: {project}-web:latest
    env_file: web.env
    ports:
      - "127.0.0.1:{port}:80"
    volumes:
      - data:/data
    networks:
      - front
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/index.html"]
      interval: 1s
      timeout: 5s
      retries: 60
  client:
    image: busybox
    depends_on:
      web:
        condition: service_healthy
    networks:
      - front
    command: ["sh", "-c", "trap 'exit 0' TERM; wget -q -O - http://web/index.html; sleep 3600 & wait"]
networks:
  front: {{}}
volumes:
  data: {{}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_project(hull: Hull, project: str) -> tuple[Path, int]:
    port = _free_port()
    d = hull.workdir / project
    (d / "web").mkdir(parents=True)
    (d / "web" / "Dockerfile").write_text(DOCKERFILE)
    (d / "web" / "start.sh").write_text(START_SH)
    (d / "web.env").write_text("# from the env file\nGREETING=hello-from-env-file\n")
    (d / "docker-compose.yml").write_text(COMPOSE.format(project=project, port=port))
    if hull.rootless:
        for p in [d, *d.rglob("*")]:
            os.chown(p, hull.user.uid, hull.user.gid)
    return d, port


def fetch(port: int, timeout: float = 60) -> str:
    """The page on the published port, retried while the forwarder comes up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10) as resp:
                return resp.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def wait_log(run, service: str, needle: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        out = run("logs", "--no-color", service).stdout
        if needle in out or time.monotonic() > deadline:
            return out
        time.sleep(0.3)


def run_tool(hull: Hull, argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> Result:
    proc = subprocess.run(hull.user.argv(argv, env), capture_output=True, timeout=timeout, cwd=cwd,
                          stdin=subprocess.DEVNULL)
    return Result(argv, proc.returncode, proc.stdout, proc.stderr, hull.mode)


def test_docker_compose_project(dapi):
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.fail("docker-compose is not installed (.ci/setup-system-deps installs Debian's)")
    hull = dapi.hull
    proj = "hc1"
    d, port = make_project(hull, proj)
    env = hull.env()
    env.update(DOCKER_HOST=dapi.url, DOCKER_CONFIG=str(hull.base / "docker-config"),
               COMPOSE_PROJECT_NAME=proj, DOCKER_BUILDKIT="0", COMPOSE_DOCKER_CLI_BUILD="0")

    def dc(*args: str) -> Result:
        return run_tool(hull, [compose, *args], env, d)

    dc("build").ok()
    up = dc("up", "-d")
    up.ok()
    assert fetch(port) == "greeting: hello-from-env-file\n"
    assert "greeting: hello-from-env-file" in wait_log(dc, "client", "greeting")
    ps = dc("ps").ok().stdout
    web_line = next(line for line in ps.splitlines() if line.startswith(f"{proj}_web_1"))
    assert "Up" in web_line and "(healthy)" in web_line and f"127.0.0.1:{port}->80/tcp" in web_line, ps
    assert any(line.startswith(f"{proj}_client_1") and "Up" in line for line in ps.splitlines()), ps
    assert dc("exec", "-T", "web", "cat", "/data/boots").ok().stdout == "started\n"
    assert dc("exec", "-T", "client", "wget", "-q", "-O", "-", "http://web/index.html").ok().stdout \
        == "greeting: hello-from-env-file\n"

    dc("stop").ok()
    states = dapi.docker("ps", "-a", "--filter", f"label=com.docker.compose.project={proj}",
                         "--format", "{{.Names}} {{.State}}").ok().stdout.split("\n")
    assert sorted(filter(None, states)) == [f"{proj}_client_1 exited", f"{proj}_web_1 exited"]
    dc("up", "-d").ok()
    assert fetch(port) == "greeting: hello-from-env-file\n"
    assert dc("exec", "-T", "web", "cat", "/data/boots").ok().stdout == "started\nstarted\n"

    dc("down", "-v").ok()
    assert dapi.docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={proj}").ok().stdout == ""
    networks = dapi.docker("network", "ls", "--format", "{{.Name}}").ok().stdout.split()
    volumes = dapi.docker("volume", "ls", "--format", "{{.Name}}").ok().stdout.split()
    assert f"{proj}_front" not in networks and f"{proj}_data" not in volumes
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=5)


def test_podman_compose_project(hull_any, busybox_image):
    """podman-compose drives the `hull` CLI (through a two-line wrapper giving the test
    engine's --root/--runroot) as it drives podman."""
    hull = hull_any
    if not PODMAN_COMPOSE.exists():
        pytest.fail("podman-compose is not installed (pyproject.toml's test extras pin it)")
    hull.load(busybox_image)
    hull("tag", busybox_image.id.split(":", 1)[1], "busybox").ok()
    proj = "hc2"
    d, port = make_project(hull, proj)
    wrapper = hull.base / "hull-wrapper"
    wrapper.write_text(f'#!/bin/sh\nexec {HULL_BIN} --root {hull.root} --runroot {hull.runroot} "$@"\n')
    wrapper.chmod(0o755)
    env = hull.env()
    env["COMPOSE_PROJECT_NAME"] = proj

    def pc(*args: str) -> Result:
        return run_tool(hull, [str(PODMAN_COMPOSE), "--podman-path", str(wrapper), *args], env, d)

    pc("build").ok()
    pc("up", "-d").ok()
    assert fetch(port) == "greeting: hello-from-env-file\n"
    assert "greeting: hello-from-env-file" in wait_log(pc, "client", "greeting")
    ps = pc("ps").ok().stdout
    assert f"{proj}_web_1" in ps and f"{proj}_client_1" in ps, ps
    web = hull("inspect", "--format", "{{.State.Status}} {{.State.Health.Status}}", f"{proj}_web_1").ok()
    assert web.stdout.strip() == "running healthy"
    assert pc("exec", "-T", "web", "cat", "/data/boots").ok().stdout == "started\n"
    assert pc("exec", "-T", "client", "wget", "-q", "-O", "-", "http://web/index.html").ok().stdout \
        == "greeting: hello-from-env-file\n"

    pc("stop").ok()
    states = hull("ps", "-a", "--filter", f"label=io.podman.compose.project={proj}",
                  "--format", "{{.Names}} {{.State}}").ok().stdout.split("\n")
    assert sorted(filter(None, states)) == [f"{proj}_client_1 exited", f"{proj}_web_1 exited"]
    pc("up", "-d").ok()
    assert fetch(port) == "greeting: hello-from-env-file\n"
    assert pc("exec", "-T", "web", "cat", "/data/boots").ok().stdout == "started\nstarted\n"

    pc("down", "-v").ok()
    assert hull("ps", "-aq", "--filter", f"label=io.podman.compose.project={proj}").ok().stdout == ""
    assert f"{proj}_front" not in hull("network", "ls", "--format", "{{.Name}}").ok().stdout.split()
    assert f"{proj}_data" not in hull("volume", "ls", "--format", "{{.Name}}").ok().stdout.split()


def test_requires_starts_the_required_containers(hull_any, busybox_image):
    """`--requires` (podman-compose passes it for depends_on): starting the container starts
    the ones it requires first; an unknown one is refused at create."""
    hull_any.load(busybox_image)
    hull_any("create", "--name", "dep", busybox_image.ref_name, "sleep", "600").ok()
    hull_any("create", "--name", "dep2", busybox_image.ref_name, "sleep", "600").ok()
    hull_any("run", "-d", "--name", "main", "--requires", "dep,dep2", busybox_image.ref_name, "sleep", "600").ok()
    states = hull_any("ps", "-a", "--format", "{{.Names}} {{.State}}").ok().stdout.split("\n")
    assert sorted(filter(None, states)) == ["dep running", "dep2 running", "main running"]
    hull_any("create", "--requires", "nosuch", busybox_image.ref_name).assert_error(
        125, contains='no container with name or ID "nosuch" found')
