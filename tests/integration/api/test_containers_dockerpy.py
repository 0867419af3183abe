"""docker-py (pinned in pyproject's test extras) against Hull's socket: containers.run,
create/start/logs/wait/remove, exec_run and attach_socket."""

from __future__ import annotations

import socket

import docker
import pytest

from tests.integration.api.containers_fixtures import dapi, demux  # noqa: F401


@pytest.fixture
def client(dapi):
    c = docker.DockerClient(base_url=dapi.url, version="1.44", timeout=120)
    yield c
    c.close()


def test_run_create_logs_wait_remove(client):
    assert client.containers.run("busybox", ["echo", "hello"], remove=True) == b"hello\n"
    with pytest.raises(docker.errors.ContainerError) as info:
        client.containers.run("busybox", ["sh", "-c", "exit 3"], remove=True)
    assert info.value.exit_status == 3
    ctr = client.containers.create("busybox", ["sh", "-c", "echo a; echo b >&2; exit 2"], name="py1",
                                   environment={"K": "v"}, labels={"l": "1"})
    assert ctr.name == "py1" and ctr.status == "created" and ctr.labels == {"l": "1"}
    ctr.start()
    assert ctr.wait(timeout=60) == {"StatusCode": 2}
    assert ctr.logs(stdout=True, stderr=False) == b"a\n"
    assert ctr.logs(stdout=False, stderr=True) == b"b\n"
    ctr.reload()
    assert ctr.status == "exited" and ctr.attrs["State"]["ExitCode"] == 2
    ctr.remove()
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("py1")
    with pytest.raises(docker.errors.ImageNotFound):
        client.containers.create("no-such-image-anywhere:1")


def test_exec_run_and_attach(client):
    ctr = client.containers.run("busybox", ["sleep", "300"], detach=True, name="py2")
    res = ctr.exec_run(["sh", "-c", "echo out; echo err >&2; exit 6"], demux=True)
    assert res.exit_code == 6 and res.output == (b"out\n", b"err\n")
    res = ctr.exec_run("cat /etc/hostname", tty=True)
    assert res.exit_code == 0 and res.output.strip()
    assert [c.name for c in client.containers.list()] == ["py2"]
    ctr.kill()
    ctr.remove(force=True)
    cat = client.containers.create("busybox", ["sh", "-c", "read x; echo got $x"], stdin_open=True, name="py3")
    sock = cat.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
    raw = sock._sock if hasattr(sock, "_sock") else sock
    cat.start()
    raw.sendall(b"ping\n")
    raw.shutdown(socket.SHUT_WR)
    data = b""
    raw.settimeout(60)
    while True:
        chunk = raw.recv(65536)
        if not chunk:
            break
        data += chunk
    raw.close()
    assert demux(data) == (b"got ping\n", b"")
    assert cat.wait(timeout=60)["StatusCode"] == 0
    cat.remove()
