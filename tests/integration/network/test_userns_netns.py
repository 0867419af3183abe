"""A new user namespace together with a netns file (engine/runtime/builtin/nsorder.py):
the built-in runtime joins the namespaces the outer user namespace owns (pasta's or a
bridge's netns file) before it creates the container's user namespace, so
`--userns keep-id` (rootless, default network pasta) and `--uidmap` (root, default
bridge) reach the network, also through `exec`."""

from __future__ import annotations

import pytest

from tests.fixtures.cli import Hull
from tests.integration.network.test_netns_modes import HostServer


@pytest.fixture
def server():
    s = HostServer()
    yield s
    s.close()


def _userns_flags(h: Hull) -> list[str]:
    if h.rootless:
        return ["--userns", "keep-id"]
    return ["--uidmap", "0:0:1", "--uidmap", "1:1:2000", "--gidmap", "0:0:3000"]


def test_new_userns_with_the_default_network(hull_any: Hull, busybox_image, server):
    h = hull_any
    h.load(busybox_image)
    # "; true": sh stays pid 1, so timeout can kill nc
    fetch = f"timeout 10 nc host.containers.internal {server.port} </dev/null; true"
    out = h("run", "--rm", *_userns_flags(h), "localhost/busybox", "sh", "-c", f"id -u; {fetch}").ok().stdout
    first, rest = out.split("\n", 1)
    assert first == (str(h.user.uid) if h.rootless else "0")
    assert server.token in rest
    cid = h("run", "-d", *_userns_flags(h), "localhost/busybox", "sleep", "60").ok().stdout.strip()
    assert h("inspect", "--format", "{{.HostConfig.NetworkMode}}", cid).ok().stdout.strip() in ("pasta", "bridge")
    # exec joins the netns file (outer user namespace) before the container's user namespace
    assert server.token in h("exec", cid, "sh", "-c", fetch).ok().stdout
    if h.rootless:
        assert h("exec", cid, "id", "-u").ok().stdout.strip() == str(h.user.uid)
    h("rm", "-f", "-t", "0", cid).ok()
