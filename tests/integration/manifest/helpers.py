"""Test images for the manifest tests: the busybox fixture imported under two architectures."""

from __future__ import annotations

import json
import tarfile

from tests.fixtures.images import host_arch

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OTHER_ARCH = "arm64" if host_arch() != "arm64" else "amd64"
MISSING = "sha256:" + "0" * 64


def busybox_layer(busybox_image) -> str:
    """The fixture layer that holds /bin/busybox (a whole runnable tree on its own)."""
    for digest in busybox_image.layer_digests:
        with tarfile.open(busybox_image.blob(digest)) as tar:
            if "bin/busybox" in [m.name.lstrip("./") for m in tar.getmembers()]:
                return str(busybox_image.blob(digest))
    raise AssertionError("no busybox layer in the fixture")


def arch_images(hull, busybox_image) -> dict[str, str]:
    """arch -> manifest digest of a local image that prints its arch when run."""
    layer = busybox_layer(busybox_image)
    digests = {}
    for arch in (host_arch(), OTHER_ARCH):
        hull("import", "--arch", arch, "--change", f'CMD ["/bin/busybox", "echo", "I am {arch}"]', layer,
             f"localhost/bb:{arch}").ok()
        inspected = json.loads(hull("image", "inspect", f"localhost/bb:{arch}").ok().stdout)[0]
        assert inspected["Architecture"] == arch
        digests[arch] = inspected["Digest"]
    return digests


def list_id(hull, name: str) -> str:
    """The full ID of the list `localhost/NAME`, as `manifest create` prints it."""
    return hull("images", "-q", "--no-trunc", f"localhost/{name}").ok().stdout.strip().removeprefix("sha256:")
