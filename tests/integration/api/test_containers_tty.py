"""`docker run -it` and `docker exec -it` through a real pty: type a command, read
its output, exit; the TTY size set by the CLI's resize reaches the container."""

from __future__ import annotations

import os
import shutil
import subprocess

from tests.fixtures.pty import PtyProcess
from tests.integration.api.containers_fixtures import dapi  # noqa: F401


class DockerPty(PtyProcess):
    """The docker CLI against the API service, on a 33x101 terminal."""

    read_timeout = 60.0

    def __init__(self, svc, *args: str) -> None:
        super().__init__(size=(33, 101))
        env = svc.hull.env()
        env["DOCKER_HOST"] = svc.url
        env["DOCKER_CONFIG"] = str(svc.hull.base / "docker-config")
        argv = svc.hull.user.argv([shutil.which("docker"), *args], env)
        self.proc = subprocess.Popen(argv, stdin=self.slave, stdout=self.slave, stderr=self.slave,
                                     start_new_session=True, cwd=svc.hull.workdir)

    def close(self) -> int:
        try:
            return self.proc.wait(60)
        finally:
            os.close(self.master)
            os.close(self.slave)


def test_run_it_and_exec_it(dapi):
    t = DockerPty(dapi, "run", "-it", "--name", "tty1", "busybox", "sh")
    t.read_until(b"# ")
    t.type(b"echo $((6*7)); stty size\r")
    t.read_until(b"42")
    t.read_until(b"33 101")
    t.type(b"exit 4\r")
    assert t.close() == 4
    dapi.docker("run", "-d", "--name", "tty2", "busybox", "sleep", "300").ok()
    e = DockerPty(dapi, "exec", "-it", "tty2", "sh")
    e.read_until(b"# ")
    e.type(b"tty; stty size; echo $((5*5))\r")
    e.read_until(b"/dev/pts/")
    e.read_until(b"25")
    e.read_until(b"33 101")
    e.type(b"exit 3\r")
    assert e.close() == 3
    dapi.docker("rm", "-f", "tty1", "tty2").ok()
