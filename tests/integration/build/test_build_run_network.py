"""RUN's network (engine/build/steps/run.py, engine/network/transient.py): by default a
namespace of its own connected by pasta, as Podman's build gives RUN the default
network (host.containers.internal reaches the host); `--network none` has no route;
`--network host` shares the host's; a named network (`RUN --network=NAME`, `build
--network NAME`) gives the step an address there and its DNS; nothing is left after
the build."""

from __future__ import annotations

import os

import secrets

from tests.integration.build.conftest import run_out, write_context
from tests.integration.network.test_dns import GET, IMAGE, SERVE, make_network
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
    res.assert_error(125, "nosuchnet")
    assert "network not found" in res.stderr
    _build(h, "netbad2", "FROM localhost/busybox\nRUN true\n", "--network", "container:x").assert_error(
        125, "unsupported RUN --network")
    assert not _leftovers(h)


def _reservations(h) -> list[str]:
    top = h.root / "network-reservations"
    return [f for _, _, files in os.walk(top) for f in files] if top.exists() else []


def test_run_on_a_named_network_reaches_containers_by_name(bb):
    """RUN --network=NAME and build --network NAME: an address on the network (no
    container row), the network's DNS names the other containers; given back after."""
    h = bb
    net, prefix = make_network(h)
    tag = "built-" + secrets.token_hex(3)
    h("run", "-d", "--name", "web", "--network", net, IMAGE, "sh", "-c", SERVE.format(tag=tag)).ok()
    df = ("FROM localhost/busybox\n"
          f"RUN --network={net} ({GET.format(host='web')}; ip -4 addr show eth0; cat /etc/resolv.conf) > /got\n"
          "RUN cat /etc/resolv.conf > /default\n")
    _build(h, "netnamed", df).ok()
    got = run_out(h, "localhost/netnamed", "cat", "/got")
    assert tag in got                                     # fetched from web, found by name
    assert f"inet {prefix}." in got and f"nameserver {prefix}.1" in got and "search dns.podman" in got
    assert f"nameserver {prefix}.1" not in run_out(h, "localhost/netnamed", "cat", "/default")
    assert not _reservations(h) and not _leftovers(h)
    # the step's address was given back: the next container gets the one after web's
    h("run", "-d", "--name", "second", "--network", net, IMAGE, "sleep", "300").ok()
    web_ip = h("inspect", "--format", f"{{{{(index .NetworkSettings.Networks \"{net}\").IPAddress}}}}", "web").ok()
    second_ip = h("inspect", "--format", f"{{{{(index .NetworkSettings.Networks \"{net}\").IPAddress}}}}",
                  "second").ok()
    assert int(second_ip.stdout.strip().rsplit(".", 1)[1]) == int(web_ip.stdout.strip().rsplit(".", 1)[1]) + 1
    # hull build --network NAME: every RUN of the build on that network
    _build(h, "netflag", f"FROM localhost/busybox\nRUN {GET.format(host='web')} > /got\n", "--network", net).ok()
    assert tag in run_out(h, "localhost/netflag", "cat", "/got")
    assert not _reservations(h) and not _leftovers(h)
    # a failing step gives its address back too
    _build(h, "netfail", f"FROM localhost/busybox\nRUN --network={net} exit 3\n").assert_error(3, "exit status 3")
    assert not _reservations(h) and not _leftovers(h)
