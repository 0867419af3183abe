"""podman-py 5.x `client.manifests` against the libpod /manifests routes: create,
add, get, push, remove an entry, delete; root and rootless."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.fixtures.images import host_arch
from tests.integration.manifest.helpers import MISSING, OCI_INDEX, OTHER_ARCH, arch_images

podman = pytest.importorskip("podman", reason="podman-py is a pinned test extra")


@pytest.fixture
def client(api_any):
    from podman import PodmanClient

    with PodmanClient(base_url=f"unix://{api_any.socket_path}", timeout=120) as c:
        yield c


def _insecure(hull, registry) -> None:
    """podman-py's push has no tls_verify: registries.conf marks the test registry insecure."""
    conf = hull.base / "config" / "containers" / "registries.conf"
    conf.parent.mkdir(exist_ok=True)
    conf.write_text(f'[[registry]]\nlocation = "{registry.host}"\ninsecure = true\n')
    for path in (conf.parent, conf):
        os.chown(path, hull.user.uid, hull.user.gid)


def test_create_add_push_remove(client, api_any, busybox_image, registry):
    from podman.errors import APIError, ImageNotFound

    hull = api_any.hull
    digests = arch_images(hull, busybox_image)
    _insecure(hull, registry)
    manifest = client.manifests.create("pplist", images=[f"localhost/bb:{host_arch()}"])
    assert manifest.media_type == OCI_INDEX
    assert [m["digest"] for m in manifest.attrs["manifests"]] == [digests[host_arch()]]
    assert manifest.id == digests[host_arch()].removeprefix("sha256:")  # podman-py's id: the first entry
    assert client.manifests.exists("pplist")
    assert not client.manifests.exists("nosuch")

    manifest.add([f"localhost/bb:{OTHER_ARCH}"], annotation={"org.example": "yes"}, variant="v9")
    entries = {m["digest"]: m for m in manifest.attrs["manifests"]}
    assert entries[digests[OTHER_ARCH]]["platform"]["architecture"] == OTHER_ARCH
    assert entries[digests[OTHER_ARCH]]["platform"]["variant"] == "v9"
    assert entries[digests[OTHER_ARCH]]["annotations"] == {"org.example": "yes"}

    manifest.push(f"{registry.host}/pp/list:1", all=True)
    served = httpx.get(f"{registry.url}/v2/pp/list/manifests/1", headers={"Accept": OCI_INDEX})
    assert served.status_code == 200
    assert sorted(m["digest"] for m in served.json()["manifests"]) == sorted(digests.values())

    manifest.remove(digests[OTHER_ARCH])
    assert [m["digest"] for m in manifest.attrs["manifests"]] == [digests[host_arch()]]
    with pytest.raises(ImageNotFound):
        manifest.remove(MISSING)
    with pytest.raises(APIError):
        client.manifests.get("nosuch")
    report = client.manifests.remove("pplist")
    assert report["Untagged"] == ["localhost/pplist:latest"] and report["ExitCode"] == 200
    assert not client.manifests.exists("pplist")
    assert hull("image", "exists", f"localhost/bb:{host_arch()}").returncode == 0
