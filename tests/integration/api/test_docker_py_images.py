"""docker-py (docker.DockerClient over the unix socket): images, volumes, networks,
events; root and rootless."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.fixtures.registry import registries_conf_insecure

BUSYBOX_TAR = Path("/work/shared/images/busybox.docker.tar")
BUSYBOX_ID = "a1650e46735caa638ff50713280371bb8a5a3f9b3e987521fc875151ab4a7264"

docker = pytest.importorskip("docker", reason="docker-py is a pinned test extra")


def test_images_pull_list_get_remove(hull_any, api_service, registry):
    hull_any("load", "-i", str(BUSYBOX_TAR)).ok()
    hull_any("push", "--tls-verify=false", "busybox", f"{registry.host}/dp/busybox:1").ok()
    hull_any("rmi", "-a", "-f").ok()
    hull_any.extra_env["CONTAINERS_REGISTRIES_CONF"] = str(
        registries_conf_insecure(hull_any.workdir / "registries.conf", registry.host))
    svc = api_service(hull_any)
    client = docker.DockerClient(base_url=svc.url, timeout=120)
    try:
        image = client.images.pull(f"{registry.host}/dp/busybox", tag="1")
        assert image.id == "sha256:" + BUSYBOX_ID
        assert [i.id for i in client.images.list()] == ["sha256:" + BUSYBOX_ID]
        got = client.images.get(f"{registry.host}/dp/busybox:1")
        assert got.tags == [f"{registry.host}/dp/busybox:1"]
        assert got.history()[0]["Id"] == "sha256:" + BUSYBOX_ID
        with pytest.raises(docker.errors.ImageNotFound):
            client.images.get("nothing:here")
        client.images.remove(f"{registry.host}/dp/busybox:1")
        assert client.images.list() == []
    finally:
        client.close()


def test_volumes_networks_events(api_any):
    client = docker.DockerClient(base_url=api_any.url, timeout=60)
    try:
        since = int(time.time()) - 1
        vol = client.volumes.create("dpvol", labels={"a": "b"})
        assert vol.name == "dpvol" and client.volumes.get("dpvol").attrs["Labels"] == {"a": "b"}
        assert [v.name for v in client.volumes.list()] == ["dpvol"]
        vol.remove()
        with pytest.raises(docker.errors.NotFound):
            client.volumes.get("dpvol")
        net = client.networks.create("dpnet", labels={"n": "1"})
        assert client.networks.get(net.id).name == "dpnet"
        assert "dpnet" in [n.name for n in client.networks.list()]
        net.remove()
        with pytest.raises(docker.errors.NotFound):
            client.networks.get("dpnet")
        events = list(client.events(since=since, until=int(time.time()) + 1, decode=True))
        seen = [(e["Type"], e["Action"], e["Actor"]["ID"]) for e in events]
        assert ("volume", "create", "dpvol") in seen and ("volume", "remove", "dpvol") in seen
        assert ("network", "create", net.id) in seen
    finally:
        client.close()
