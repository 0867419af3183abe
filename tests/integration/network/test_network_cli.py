"""`hull network create|ls|inspect|rm|prune|exists|connect|disconnect|reload` and the
records `run/create --network` makes (addresses, aliases, inspect), root and rootless.

Records only: these tests create containers but do not start them, so they hold
whatever the datapath (bridges, DNS) does; traffic tests live beside them.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess

import pytest


@pytest.fixture
def bb(hull_any, busybox_image):
    hull_any.load(busybox_image)
    return hull_any


def _inspect(h, name: str) -> dict:
    docs = json.loads(h("network", "inspect", name).ok().stdout)
    assert len(docs) == 1
    return docs[0]


def _addresses(doc: dict) -> dict[str, str]:
    """container name -> ip of the network's containers map."""
    out = {}
    for info in doc["containers"].values():
        (iface,) = info["interfaces"].values()
        out[info["name"]] = iface["subnets"][0]["ipnet"].split("/")[0]
    return out


# ---------------------------------------------------------------- create / ls / inspect
def test_default_network_listed_and_inspected(hull_any):
    out = hull_any("network", "ls").ok().stdout.splitlines()
    assert out[0].split() == ["NETWORK", "ID", "NAME", "DRIVER"]
    assert [line.split()[1:] for line in out[1:]] == [["hull", "bridge"]]
    doc = _inspect(hull_any, "hull")
    assert doc["name"] == "hull" and len(doc["id"]) == 64
    assert doc["network_interface"] == "hull0"
    assert doc["subnets"] == [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]
    assert doc["dns_enabled"] is False and doc["internal"] is False and doc["ipv6_enabled"] is False
    assert doc["ipam_options"] == {"driver": "host-local"} and doc["containers"] == {}
    hull_any("network", "rm", "hull").assert_error(125, "default network hull cannot be removed")
    hull_any("network", "exists", "hull").ok()


def test_create_auto_subnets_and_bridges(hull_any):
    assert hull_any("network", "create", "n1").ok().stdout == "n1\n"
    assert hull_any("network", "create", "n2").ok().stdout == "n2\n"
    d1, d2 = _inspect(hull_any, "n1"), _inspect(hull_any, "n2")
    assert d1["subnets"][0]["subnet"] != d2["subnets"][0]["subnet"]
    for doc in (d1, d2):
        net = ipaddress.ip_network(doc["subnets"][0]["subnet"])
        assert net.prefixlen == 24 and net.subnet_of(ipaddress.ip_network("10.89.0.0/16"))
        assert doc["subnets"][0]["gateway"] == str(net.network_address + 1)
        assert doc["dns_enabled"] is True
    # hull1, hull2, ... skipping names this network namespace already has (other stores' bridges)
    bridges = [d1["network_interface"], d2["network_interface"]]
    assert all(re.fullmatch(r"hull[1-9][0-9]*", b) for b in bridges) and bridges[0] != bridges[1]
    # a name that exists, and --ignore
    hull_any("network", "create", "n1").assert_error(125, "network name n1 already used: network already exists")
    assert hull_any("network", "create", "--ignore", "n1").ok().stdout == "n1\n"
    assert _inspect(hull_any, "n1")["id"] == d1["id"]
    # an explicit subnet that overlaps n1's
    hull_any("network", "create", "--subnet", d1["subnets"][0]["subnet"], "n3").assert_error(
        125, f"subnet {d1['subnets'][0]['subnet']} is already used on the host or by another config")
    assert hull_any("network", "exists", "n3").returncode == 1


def test_create_options(hull_any):
    hull_any("network", "create", "--subnet", "10.123.4.9/24", "--gateway", "10.123.4.254",
             "--ip-range", "10.123.4.128/26", "--internal", "--disable-dns", "--label", "team=web",
             "--label", "tier", "-o", "com.docker.network.bridge.name=hullopts", "opts").ok()
    doc = _inspect(hull_any, "opts")
    assert doc["subnets"] == [{"subnet": "10.123.4.0/24", "gateway": "10.123.4.254",
                               "lease_range": {"start_ip": "10.123.4.129", "end_ip": "10.123.4.191"}}]
    assert doc["internal"] is True and doc["dns_enabled"] is False
    assert doc["labels"] == {"team": "web", "tier": ""}
    assert doc["network_interface"] == "hullopts" and "options" not in doc
    fmt = hull_any("network", "inspect", "--format", "{{.Name}} {{.NetworkInterface}} {{.Internal}} "
                   "{{range .Subnets}}{{.Subnet}}/{{.Gateway}}{{end}}", "opts").ok().stdout
    assert fmt == f"opts {doc['network_interface']} true 10.123.4.0/24/10.123.4.254\n"


@pytest.mark.parametrize("args, message", [
    (["--subnet", "10.124.0.0/24", "--gateway", "10.125.0.1"], "gateway 10.125.0.1 not in subnet 10.124.0.0/24"),
    (["--ip-range", "10.124.0.0/25"], "cannot set gateway or range without subnet"),
    (["--gateway", "10.124.0.1"], "cannot set gateway or range without subnet"),
    (["--subnet", "10.124.0.0/24", "--ip-range", "10.130.0.0/25"], "not in subnet 10.124.0.0/24"),
    (["--subnet", "10.124.0.300/24"], "invalid CIDR address: 10.124.0.300/24"),
    (["-d", "macvlan"], "unsupported driver macvlan: invalid argument"),
    (["-o", "color=blue"], "unsupported bridge network option color"),
    (["-o", "vlan=3"], "unsupported bridge network option vlan: VLAN-tagged bridges are not supported"),
    (["-o", "mtu=abc"], 'invalid mtu value "abc"'),
    (["--ipv6", "-o", "mtu=1000"], "mtu 1000 is too small for IPv6"),
    (["-o", "isolate=maybe"], 'invalid isolate value "maybe"'),
    (["--subnet", "fd00:1::/64", "--gateway", "fd00:2::1"], "gateway fd00:2::1 not in subnet fd00:1::/64"),
    (["--interface-name", "a-bridge-name-too-long"], "bridge name a-bridge-name-too-long invalid"),
])
def test_create_bad_input(hull_any, args, message):
    hull_any("network", "create", *args, "bad").assert_error(125, message)
    assert hull_any("network", "exists", "bad").returncode == 1


def test_create_bad_name(hull_any):
    hull_any("network", "create", "bad/name").assert_error(
        125, "network name bad/name invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument")


def test_ls_filters_formats(hull_any):
    hull_any("network", "create", "--label", "app=a", "alpha").ok()
    hull_any("network", "create", "--label", "app=b", "beta").ok()
    ids = {d["name"]: d["id"] for d in (_inspect(hull_any, "alpha"), _inspect(hull_any, "beta"))}
    assert hull_any("network", "ls", "-q").ok().stdout.split() == ["alpha", "beta", "hull"]
    assert hull_any("network", "ls", "-q", "--filter", "label=app=a").ok().stdout.split() == ["alpha"]
    assert hull_any("network", "ls", "-q", "--filter", "label=app").ok().stdout.split() == ["alpha", "beta"]
    assert hull_any("network", "ls", "-q", "--filter", "name=^b").ok().stdout.split() == ["beta"]
    assert hull_any("network", "ls", "-q", "--filter", "name=alpha", "--filter", "name=beta"
                    ).ok().stdout.split() == ["alpha", "beta"]
    assert hull_any("network", "ls", "-q", "--filter", f"id={ids['beta'][:10]}").ok().stdout.split() == ["beta"]
    assert "hull" in hull_any("network", "ls", "-q", "--filter", "driver=bridge").ok().stdout.split()
    hull_any("network", "ls", "--filter", "color=red").assert_error(125, 'invalid filter "color"')
    out = hull_any("network", "ls", "--format", "{{.Name}} {{.ID}} {{.Driver}}").ok().stdout.splitlines()
    assert f"alpha {ids['alpha'][:12]} bridge" in out
    out = hull_any("network", "ls", "--no-trunc", "--format", "{{.ID}}").ok().stdout.split()
    assert ids["alpha"] in out
    table = hull_any("network", "ls", "--format", "table {{.Name}} {{.Driver}}").ok().stdout.splitlines()
    assert table[0].split() == ["NAME", "DRIVER"]
    docs = json.loads(hull_any("network", "ls", "--format", "json").ok().stdout)
    assert [d["name"] for d in docs] == ["alpha", "beta", "hull"]
    assert docs[0]["labels"] == {"app": "a"}


def test_inspect_missing(hull_any):
    r = hull_any("network", "inspect", "nope")
    r.assert_error(125, "Error: unable to find network with name or ID nope: network not found")
    assert json.loads(r.stdout) == []


# ---------------------------------------------------------------- rm / prune
def test_rm_and_prune(hull_any):
    for name in ("keep", "p1", "p2"):
        hull_any("network", "create", "--label", f"n={name}", name).ok()
    assert hull_any("network", "rm", "p1").ok().stdout == "p1\n"
    hull_any("network", "rm", "p1").assert_error(1, "unable to find network with name or ID p1: network not found")
    r = hull_any("network", "rm", "nope", "p2")
    assert r.returncode == 1 and r.stdout == "p2\n"
    hull_any("network", "create", "--label", "n=x", "p3").ok()
    assert hull_any("network", "prune", "-f", "--filter", "label=n=x").ok().stdout == "p3\n"
    hull_any("network", "prune", "-f", "--filter", "color=x").assert_error(125, 'invalid filter "color"')
    assert hull_any("network", "prune", "-f").ok().stdout == "keep\n"
    assert hull_any("network", "ls", "-q").ok().stdout.split() == ["hull"]


def test_prune_asks(hull_any):
    hull_any("network", "create", "asked").ok()
    r = hull_any("network", "prune", input="n\n").ok()
    assert "Are you sure you want to continue? [y/N]" in r.stdout
    hull_any("network", "exists", "asked").ok()


# ---------------------------------------------------------------- containers
def test_create_allocates_lowest_free_addresses(bb):
    bb("network", "create", "--subnet", "10.140.0.0/24", "app").ok()
    bb("create", "--name", "c1", "--network", "app", "busybox", "true").ok()
    bb("create", "--name", "c2", "--network", "app:alias=db,alias=store", "busybox", "true").ok()
    bb("create", "--name", "c3", "--network", "app", "--ip", "10.140.0.50", "busybox", "true").ok()
    doc = _inspect(bb, "app")
    assert _addresses(doc) == {"c1": "10.140.0.2", "c2": "10.140.0.3", "c3": "10.140.0.50"}
    for info in doc["containers"].values():
        iface = info["interfaces"]["eth0"]
        assert iface["subnets"][0]["gateway"] == "10.140.0.1"
        assert iface["subnets"][0]["ipnet"].endswith("/24")
        mac = bytes.fromhex(iface["mac_address"].replace(":", ""))
        assert len(mac) == 6 and mac[0] & 0x02 and not mac[0] & 0x01  # locally administered unicast
    # a freed address is the next one handed out
    bb("rm", "c1").ok()
    bb("create", "--name", "c4", "--network", "app", "busybox", "true").ok()
    assert _addresses(_inspect(bb, "app"))["c4"] == "10.140.0.2"


def test_static_ip_refused(bb):
    bb("network", "create", "--subnet", "10.141.0.0/24", "st").ok()
    bb("create", "--name", "s1", "--network", "st", "--ip", "10.141.0.7", "busybox", "true").ok()
    bb("create", "--name", "s2", "--network", "st", "--ip", "10.141.0.7", "busybox", "true").assert_error(
        125, "requested ip address 10.141.0.7 is already allocated to container ID")
    bb("create", "--name", "s3", "--network", "st:ip=10.99.0.7", "busybox", "true").assert_error(
        125, "requested static ip 10.99.0.7 not in any subnet on network st")
    bb("create", "--name", "s4", "--network", "st", "--ip", "10.141.0.1", "busybox", "true").assert_error(125)
    bb("create", "--name", "s5", "--network", "st", "--ip", "10.141", "busybox", "true").assert_error(
        125, '"10.141" is not an ip address')
    names = bb("ps", "-a", "--format", "{{.Names}}").ok().stdout.split()
    assert names == ["s1"]  # nothing half-made
    assert list(_addresses(_inspect(bb, "st"))) == ["s1"]


def test_unknown_network(bb):
    bb("create", "--name", "u1", "--network", "nope", "busybox", "true").assert_error(
        125, "unable to find network with name or ID nope: network not found")
    bb("create", "--name", "u2", "--network", "none", "--network", "hull", "busybox", "true").assert_error(
        125, "cannot set multiple networks without bridge network mode")
    assert bb("ps", "-aq").ok().stdout == ""


def test_container_inspect_network_fields(bb):
    bb("network", "create", "--subnet", "10.142.0.0/24", "i1").ok()
    bb("network", "create", "--subnet", "10.143.0.0/24", "i2").ok()
    cid = bb("create", "--name", "multi", "--network", "i1:alias=web", "--network", "i2", "busybox",
             "true").ok().stdout.strip()
    doc = json.loads(bb("inspect", "multi").ok().stdout)[0]
    assert doc["HostConfig"]["NetworkMode"] == "bridge"
    nets = doc["NetworkSettings"]["Networks"]
    assert sorted(nets) == ["i1", "i2"]
    assert nets["i1"]["NetworkID"] == _inspect(bb, "i1")["id"]
    assert nets["i1"]["Aliases"] == [cid[:12], "web"]
    assert nets["i2"]["Aliases"] == [cid[:12]]
    net_doc = _inspect(bb, "i2")["containers"][cid]
    assert net_doc["name"] == "multi" and list(net_doc["interfaces"]) == ["eth1"]
    assert list(_inspect(bb, "i1")["containers"][cid]["interfaces"]) == ["eth0"]
    # the other modes
    for flag, mode in (("none", "none"), ("host", "host"), ("private", "private")):
        bb("create", "--name", f"m-{flag}", "--network", flag, "busybox", "true").ok()
        assert bb("inspect", "--format", "{{.HostConfig.NetworkMode}}", f"m-{flag}").ok().stdout == mode + "\n"
    bb("create", "--name", "m-bridge", "--network", "bridge", "busybox", "true").ok()
    assert bb("inspect", "--format", "{{.HostConfig.NetworkMode}}", "m-bridge").ok().stdout == "bridge\n"
    assert "m-bridge" in _addresses(_inspect(bb, "hull"))


def test_connect_disconnect(bb):
    bb("network", "create", "--subnet", "10.144.0.0/24", "front").ok()
    bb("network", "create", "--subnet", "10.145.0.0/24", "back").ok()
    cid = bb("create", "--name", "cc", "--network", "front", "busybox", "true").ok().stdout.strip()
    bb("network", "connect", "--alias", "api", "--ip", "10.145.0.9", "back", "cc").ok()
    back = _inspect(bb, "back")["containers"][cid]
    assert back["interfaces"]["eth1"]["subnets"][0]["ipnet"] == "10.145.0.9/24"
    doc = json.loads(bb("inspect", "cc").ok().stdout)[0]
    assert doc["NetworkSettings"]["Networks"]["back"]["Aliases"] == [cid[:12], "api"]
    bb("network", "connect", "back", "cc").assert_error(125, "network is already connected")
    bb("network", "connect", "nope", "cc").assert_error(
        125, "unable to find network with name or ID nope: network not found")
    bb("network", "connect", "back", "nobody").assert_error(125, 'no container with name or ID "nobody" found')
    bb("network", "disconnect", "back", "cc").ok()
    assert _inspect(bb, "back")["containers"] == {}
    bb("network", "disconnect", "back", "cc").assert_error(125, "is not connected to network back")
    assert sorted(json.loads(bb("inspect", "cc").ok().stdout)[0]["NetworkSettings"]["Networks"]) == ["front"]
    bb("create", "--name", "nonet", "--network", "none", "busybox", "true").ok()
    bb("network", "connect", "back", "nonet").assert_error(125, "invalid network mode")


def test_rm_in_use_and_force(bb):
    bb("network", "create", "used").ok()
    bb("create", "--name", "user1", "--network", "used", "busybox", "true").ok()
    bb("network", "rm", "used").assert_error(2, "has associated containers with it")
    bb("network", "prune", "-f").ok()
    bb("network", "exists", "used").ok()
    assert bb("network", "rm", "-f", "-t", "0", "used").ok().stdout == "used\n"
    assert bb("ps", "-aq").ok().stdout == ""
    assert bb("network", "exists", "used").returncode == 1


def test_rm_container_frees_address(bb):
    bb("network", "create", "--subnet", "10.146.0.0/24", "fr").ok()
    bb("create", "--name", "f1", "--network", "fr", "busybox", "true").ok()
    bb("rm", "f1").ok()
    assert _inspect(bb, "fr")["containers"] == {}
    bb("network", "rm", "fr").ok()


def test_network_events(bb):
    bb("network", "create", "ev").ok()
    bb("create", "--name", "evc", "--network", "ev", "busybox", "true").ok()
    bb("network", "disconnect", "ev", "evc").ok()
    bb("network", "connect", "ev", "evc").ok()
    bb("network", "rm", "-f", "ev").ok()
    out = bb("events", "--stream=false", "--filter", "type=network", "--format", "{{.Type}} {{.Status}} {{.Name}}"
             ).ok().stdout.splitlines()
    assert out == ["network create ev", "network disconnect evc", "network connect evc", "network remove ev"]


def test_concurrent_creates_get_distinct_addresses(bb):
    """Seven `hull create` at once on a /29 range (.9 to .15): seven different addresses."""
    bb("network", "create", "--subnet", "10.147.0.0/24", "--ip-range", "10.147.0.8/29", "race").ok()
    procs = [bb.popen("create", "--name", f"r{i}", "--network", "race", "busybox", "true",
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(7)]
    results = [p.communicate(timeout=180) + (p.returncode,) for p in procs]
    assert all(rc == 0 for _, _, rc in results), results
    ips = list(_addresses(_inspect(bb, "race")).values())
    assert len(ips) == 7 and len(set(ips)) == 7
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.147.0.8/29") for ip in ips)
    # the range is now full
    bb("create", "--name", "r8", "--network", "race", "busybox", "true").assert_error(
        125, "failed to find free IP in range")
