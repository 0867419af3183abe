"""`hull build --pull=...` against the local registry: missing keeps the local FROM
image, newer pulls when the registry's digest differs, `--pull` alone is always,
never refuses an image that is not local."""

from __future__ import annotations

import gzip

from tests.fixtures.images import PATH_ENV, host_arch
from tests.fixtures.registry import make_layer_tar, push_raw_image
from tests.integration.build.conftest import run_out, write_context


def _push(registry, busybox_image, version: str) -> None:
    layers = [gzip.decompress(busybox_image.blob(d).read_bytes()) for d in busybox_image.layer_digests]
    layers.append(make_layer_tar({"version": version + "\n"}))
    push_raw_image(registry, "base", "latest", layers, architecture=host_arch(),
                   extra_config={"config": {"Env": [PATH_ENV]}})


def test_pull_policies(hull_any, registry, busybox_image):
    h = hull_any
    ref = f"{registry.host}/base:latest"
    _push(registry, busybox_image, "1")
    h("pull", "-q", "--tls-verify=false", ref).ok()
    _push(registry, busybox_image, "2")
    ctx = write_context(h, "pulls", {"Containerfile": f"FROM {ref}\nRUN cat /version > /seen\n"})

    def build(*flags: str) -> str:
        h("build", "-q", "--no-cache", "--tls-verify=false", *flags, "-t", "pulled", str(ctx)).ok()
        return run_out(h, "pulled", "cat", "/seen").strip()

    assert build() == "1"                    # missing (the default): the local image
    assert build("--pull=never") == "1"
    assert build("--pull=newer") == "2"      # the registry's digest differs: pulled
    assert h("image", "inspect", "--format", "{{.Id}}", ref).ok().stdout.strip() != ""
    _push(registry, busybox_image, "3")
    assert build("--pull") == "3"            # --pull alone: always
    assert build("--pull=newer") == "3"      # same digest: the local one
    registry.stop()
    assert build("--pull=newer") == "3"      # registry unreachable: the local image, as Podman
    h("rmi", "-f", ref).ok()
    h("build", "--pull=never", str(ctx)).assert_error(125, "image not known")
    h("build", "--pull=sometimes", str(ctx)).assert_error(125, 'invalid pull policy "sometimes"')
