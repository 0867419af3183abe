"""RUN's network (engine/build/steps/run.py, engine/network/transient.py): by default a
namespace of its own connected by pasta, as Podman's build gives RUN the default
network (host.containers.internal reaches the host); `--network none` has no route;
`--network host` shares the host's; nothing is left after the build."""

from __future__ import annotations

import os

from tests.integration.build.conftest import run_out, write_context
from tests.integration.network.test_netns_modes import HostServer, _pids_of


def _build(h, name: str, containerfile: str, *flags: str):
    return h("build", *flags, "-t", name, str(write_context(h, name, {"Containerfile": containerfile})))


def _leftovers(h) -> list[str]:
    d = h.runroot / "netns"
    return [n for n in os.listdir(d) if n.startswith("build-")] if d.exists() else []


def test_run_reaches_the_host_by_name(bb):
    h = bb
    server = HostServer()
    try:
        # "; true": sh stays pid 1, so timeout can kill nc
        _build(h, "netfetch", "FROM localhost/busybox\n"
               f"RUN timeout 10 nc host.containers.internal {server.port} </dev/null >/got; true\n"
               "RUN cat /proc/net/dev > /links\n").ok()
    finally:
        server.close()
    assert server.token in run_out(h, "localhost/netfetch", "cat", "/got")
    links = {ln.split(":")[0].strip() for ln in run_out(h, "localhost/netfetch", "cat", "/links").splitlines()
             if ":" in ln}
    assert "lo" in links and len(links) >= 2  # not the host's list: a namespace of its own
    assert not os.path.exists("/proc/net/dev") or links != {
        ln.split(":")[0].strip() for ln in open("/proc/net/dev").read().splitlines() if ":" in ln}
    assert not _leftovers(h) and not _pids_of("pasta", str(h.runroot / "netns" / "build-"))


def test_run_network_none_has_no_route(bb):
    h = bb
    _build(h, "netnone", "FROM localhost/busybox\n"
           "RUN (ip route; ip -6 route; cat /proc/net/dev) > /net\n", "--network", "none").ok()
    out = run_out(h, "localhost/netnone", "cat", "/net")
    assert "default" not in out and "via" not in out
    assert {ln.split(":")[0].strip() for ln in out.splitlines() if ":" in ln} == {"lo"}
    # RUN --network= of one step says the same
    _build(h, "netnone2", "FROM localhost/busybox\nRUN --network=none ip route > /r; cat /proc/net/dev > /d\n").ok()
    assert run_out(h, "localhost/netnone2", "cat", "/r").strip() == ""
    assert not _leftovers(h)


def test_run_network_host_and_bad_names(bb):
    h = bb
    _build(h, "nethost", "FROM localhost/busybox\nRUN cat /proc/net/dev > /d\n", "--network", "host").ok()
    names = {ln.split(":")[0].strip() for ln in run_out(h, "localhost/nethost", "cat", "/d").splitlines() if ":" in ln}
    assert "lo" in names and len(names) >= 2
    res = _build(h, "netbad", "FROM localhost/busybox\nRUN true\n", "--network", "nosuchnet")
    res.assert_error(125, "unsupported RUN --network")
