"""podman-py 5.x (PodmanClient over the unix socket) against the libpod routes:
images, containers, pods, volumes, networks, secrets; root and rootless."""

from __future__ import annotations

from pathlib import Path

import pytest

BUSYBOX_TAR = Path("/work/shared/images/busybox.docker.tar")
BUSYBOX_ID = "a1650e46735caa638ff50713280371bb8a5a3f9b3e987521fc875151ab4a7264"

podman = pytest.importorskip("podman", reason="podman-py is a pinned test extra")


@pytest.fixture
def client(api_any):
    from podman import PodmanClient

    with PodmanClient(base_url=f"unix://{api_any.socket_path}", timeout=120) as c:
        yield c


def test_ping_version_info(client, api_any):
    assert client.ping() is True
    assert client.version()["ApiVersion"] == "1.44"
    assert client.info()["store"]["graphRoot"] == str(api_any.hull.root)


def test_images_pull_list_exists_remove(client, api_any, registry):
    hull = api_any.hull
    hull("load", "-i", str(BUSYBOX_TAR)).ok()
    hull("push", "--tls-verify=false", "busybox", f"{registry.host}/pp/busybox:1").ok()
    hull("rmi", "-a", "-f").ok()
    image = client.images.pull(f"{registry.host}/pp/busybox", tag="1", tls_verify=False)
    assert image.id.removeprefix("sha256:") == BUSYBOX_ID
    assert [i.id.removeprefix("sha256:") for i in client.images.list()] == [BUSYBOX_ID]
    assert client.images.exists(f"{registry.host}/pp/busybox:1")
    assert not client.images.exists("nothing:here")
    assert client.images.get(f"{registry.host}/pp/busybox:1").attrs["Id"] == BUSYBOX_ID
    image.tag("localhost/again", "2")
    removed = client.images.remove("localhost/again:2")
    assert any("Untagged" in r for r in removed)
    removed = client.images.remove(BUSYBOX_ID, force=True)
    assert {"Deleted": BUSYBOX_ID} in removed
    assert client.images.list() == []
    from podman.errors import ImageNotFound

    with pytest.raises(ImageNotFound):
        client.images.get("nothing:here")


def test_containers_create_start_logs_wait_remove(client, api_any):
    api_any.hull("load", "-i", str(BUSYBOX_TAR)).ok()
    ctr = client.containers.create("busybox", command=["sh", "-c", "echo out; echo err >&2; exit 3"],
                                   name="ppc", labels={"k": "v"}, environment={"A": "b"})
    assert ctr.name == "ppc"
    ctr.start()
    assert ctr.wait() == 3
    logs = b"".join(ctr.logs(stdout=True, stderr=False))
    assert logs == b"out\n"
    assert b"err" in b"".join(ctr.logs(stdout=False, stderr=True))
    ctr.reload()
    assert ctr.status == "exited" and ctr.labels["k"] == "v"
    assert client.containers.exists("ppc")
    assert [c.name for c in client.containers.list(all=True)] == ["ppc"]
    ctr.remove()
    assert not client.containers.exists("ppc")


def test_pods_create_list_start_stop_remove(client, api_any):
    api_any.hull("load", "-i", str(BUSYBOX_TAR)).ok()
    pod = client.pods.create(name="pp-pod", labels={"a": "1"})
    ctr = client.containers.create("busybox", command=["sleep", "300"], pod=pod.id, name="in-pod")
    assert [p.name for p in client.pods.list()] == ["pp-pod"]
    pod.start()
    pod.reload()
    assert pod.attrs["State"] == "Running"
    ctr.reload()
    assert ctr.status == "running"
    # the member's row has the numbers `hull pod stats` shows (sleep is one process)
    rows = {r["Name"]: r for r in client.pods.stats(name="pp-pod", decode=True)}
    assert rows["in-pod"]["PIDS"] == "1" and rows["in-pod"]["Pod"] == pod.id[:12]
    assert rows["in-pod"]["CPU"].endswith("%") and not rows["in-pod"]["MemUsage"].startswith("0B")
    pod.stop(timeout=2)
    pod.reload()
    assert pod.attrs["State"] in ("Exited", "Stopped")
    assert client.pods.exists("pp-pod")
    pod.remove(force=True)
    assert not client.pods.exists("pp-pod")
    assert not client.containers.exists("in-pod")


def test_volumes_networks_secrets(client):
    vol = client.volumes.create("ppvol", labels={"x": "y"})
    assert vol.name == "ppvol" and client.volumes.exists("ppvol")
    assert [v.name for v in client.volumes.list()] == ["ppvol"]
    assert client.volumes.get("ppvol").attrs["Labels"] == {"x": "y"}
    vol.remove()
    assert not client.volumes.exists("ppvol")

    net = client.networks.create("ppnet", internal=True, labels={"n": "1"})
    assert net.name == "ppnet" and client.networks.exists("ppnet")
    assert "ppnet" in [n.name for n in client.networks.list()]
    assert client.networks.get("ppnet").attrs["internal"] is True
    net.remove()
    assert not client.networks.exists("ppnet")

    secret = client.secrets.create("ppsecret", b"s3cr3t")
    assert client.secrets.exists("ppsecret")
    assert [s.name for s in client.secrets.list()] == ["ppsecret"]
    assert client.secrets.get("ppsecret").attrs["Spec"]["Name"] == "ppsecret"
    secret.remove()
    assert not client.secrets.exists("ppsecret")
