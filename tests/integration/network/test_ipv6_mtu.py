"""Dual-stack networks (`network create --ipv6`, a v6 `--subnet`, `--ip6`) and the bridge
options `-o mtu=`/`com.docker.network.driver.mtu`, `metric`, `no_default_route`, as root
(bridges in the host) and rootless (in the user's rootless netns).

Real containers and real traffic between them over IPv6, by address and by name (AAAA
answers of the network's DNS responder).  IPv6 egress is not tested: this machine has no
IPv6 route out (a connect to a global address fails with "no route to host").
"""

from __future__ import annotations

import ipaddress
import json
import random
import secrets
import subprocess

import pytest

from tests.fixtures.cli import Hull
from tests.integration.network.test_bridge import SERVE, bbnet, fetch_cmd, links_in, net_state  # noqa: F401

IMAGE = "localhost/busybox"


def make_network(h: Hull, *extra: str) -> tuple[str, str, dict]:
    """(name, bridge, inspect document) of a new dual-stack network on a random IPv4 subnet."""
    name, bridge = "v6" + secrets.token_hex(4), "h6" + secrets.token_hex(4)
    for _ in range(20):
        prefix = f"10.{random.randint(100, 250)}.{random.randint(0, 255)}"
        res = h("network", "create", "--ipv6", "--subnet", f"{prefix}.0/24", "--interface-name", bridge,
                *extra, name)
        if res.returncode == 0:
            return name, bridge, json.loads(h("network", "inspect", name).ok().stdout)[0]
        assert "already used" in res.stderr, res._describe()
    pytest.fail("no free subnet")


def v6_subnet(doc: dict) -> dict:
    return next(s for s in doc["subnets"] if ":" in s["subnet"])


def net_settings(h: Hull, cid: str, net: str) -> dict:
    return json.loads(h("inspect", cid, "--format", "{{json .NetworkSettings.Networks}}").ok().stdout)[net]


def serve(h: Hull, net: str, name: str, tag: str, *extra: str) -> str:
    return h("run", "-d", "--name", name, "--network", net, *extra, IMAGE, "sh", "-c",
             SERVE.format(tag=tag)).ok().stdout.strip()


def run_sh(h: Hull, net: str, script: str, *extra: str) -> str:
    return h("run", "--rm", "--network", net, *extra, IMAGE, "sh", "-c", script).ok().stdout


def test_dual_stack_network_traffic_dns_and_inspect(bbnet):
    net, bridge, doc = make_network(bbnet)
    assert doc["ipv6_enabled"] is True
    assert [ipaddress.ip_network(s["subnet"]).version for s in doc["subnets"]] == [4, 6]
    sub6 = v6_subnet(doc)
    v6net = ipaddress.ip_network(sub6["subnet"])
    assert v6net.prefixlen == 64 and v6net.subnet_of(ipaddress.ip_network("fd00::/8"))
    assert sub6["gateway"] == str(v6net.network_address + 1)

    name = "web" + secrets.token_hex(3)
    tag = "v6-" + secrets.token_hex(3)
    cid = serve(bbnet, net, name, tag)
    ep = net_settings(bbnet, cid, net)
    ip6 = ep["GlobalIPv6Address"]
    assert ipaddress.ip_address(ip6) in v6net and ep["GlobalIPv6PrefixLen"] == 64
    assert ep["IPv6Gateway"] == sub6["gateway"] and ep["IPAddress"].startswith("10.")
    # network inspect lists both addresses of the container's interface
    nets = json.loads(bbnet("network", "inspect", net).ok().stdout)[0]["containers"][cid]["interfaces"]["eth0"]
    assert [s["ipnet"] for s in nets["subnets"]] == [f"{ep['IPAddress']}/24", f"{ip6}/64"]

    # the client's first instruction already has a usable IPv6 address (no DAD wait)
    out = run_sh(bbnet, net, f"{fetch_cmd(ip6, tries=1)}; echo ==; ip -6 route; echo ==; "
                 f"nslookup -type=AAAA {name}; echo ==; cat /etc/hosts")
    fetched, routes, aaaa, hosts = out.split("==\n")
    assert fetched.strip() == tag
    assert f"default via {sub6['gateway']} dev eth0" in routes
    assert f"Address: {ip6}" in aaaa
    assert any(line.startswith(sub6["subnet"].split("::")[0]) for line in hosts.splitlines())
    # by name: the container's resolver gets the AAAA answer too, and the v6 address answers
    out = run_sh(bbnet, net, f"nslookup {name} | tail -n +3; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | "
                 f"nc -w 3 {name} 8080 | tail -n 1")
    assert ip6 in out and out.strip().endswith(tag)
    bbnet("rm", "-f", cid).ok()


def test_v6_only_subnet_gets_an_ipv4_one_and_static_ip6_persists(bbnet):
    """`--subnet <v6>` alone: dual-stack with an automatic IPv4 subnet (Podman's); --ip6 is
    honoured; addresses survive a stop/start and stay taken while the holder is stopped."""
    sub = f"fd{secrets.token_hex(1)}:{secrets.token_hex(2)}:{secrets.token_hex(2)}::/64"
    name = "v6" + secrets.token_hex(4)
    bbnet("network", "create", "--subnet", sub, "--interface-name", "h6" + secrets.token_hex(4), name).ok()
    doc = json.loads(bbnet("network", "inspect", name).ok().stdout)[0]
    assert doc["ipv6_enabled"] is True and doc["subnets"][0]["subnet"] == sub
    assert ipaddress.ip_network(doc["subnets"][1]["subnet"]).version == 4
    # overlapping IPv6 subnets are refused
    wider = sub.replace("::/64", "::/56")
    res = bbnet("network", "create", "--subnet", wider, "v6x" + secrets.token_hex(3))
    assert res.returncode == 125 and "already used" in res.stderr, res._describe()

    prefix = sub.split("::")[0]
    static = f"{prefix}::99"
    a = serve(bbnet, name, "a" + secrets.token_hex(3), "A", "--ip6", static)
    b = bbnet("create", "--network", name, IMAGE, "sleep", "60").ok().stdout.strip()
    bbnet("start", b).ok()
    first_b = net_settings(bbnet, b, name)["GlobalIPv6Address"]
    assert net_settings(bbnet, a, name)["GlobalIPv6Address"] == static
    assert first_b == f"{prefix}::2"
    bbnet("stop", "-t", "0", a, b).ok()
    # a stopped container keeps its addresses: a new one gets the next free one
    res = bbnet("run", "--rm", "--network", name, "--ip6", static, IMAGE, "true")
    assert res.returncode != 0 and "already allocated" in res.stderr, res._describe()
    out = run_sh(bbnet, name, "ip -6 -o addr show eth0 scope global")
    assert f"{prefix}::3/64" in out
    bbnet("start", a, b).ok()
    assert net_settings(bbnet, a, name)["GlobalIPv6Address"] == static
    assert net_settings(bbnet, b, name)["GlobalIPv6Address"] == first_b
    assert run_sh(bbnet, name, fetch_cmd(static)).strip() == "A"
    # network connect --ip6
    other, _, odoc = make_network(bbnet)
    want = str(ipaddress.ip_network(v6_subnet(odoc)["subnet"]).network_address + 0x42)
    bbnet("network", "connect", "--ip6", want, other, b).ok()
    out = bbnet("exec", b, "ip", "-6", "-o", "addr", "show", "eth1", "scope", "global").ok().stdout
    assert f"{want}/64" in out
    assert net_settings(bbnet, b, other)["GlobalIPv6Address"] == want
    bbnet("rm", "-f", "-t", "0", a, b).ok()


def _bridge_mtu(h: Hull, cid: str, bridge: str) -> int:
    host_ns = net_state(h, cid).get("host_netns") or None
    line = next(ln for ln in links_in(h, host_ns).splitlines() if f": {bridge}:" in ln)
    return int(line.split(" mtu ", 1)[1].split()[0])


@pytest.mark.parametrize("option", ["mtu", "com.docker.network.driver.mtu"])
def test_mtu_option(bbnet, option):
    net, bridge, doc = make_network(bbnet, "-o", f"{option}=1400")
    assert doc["options"] == {"mtu": "1400"}
    cid = bbnet("run", "-d", "--network", net, IMAGE, "sleep", "60").ok().stdout.strip()
    assert bbnet("exec", cid, "cat", "/sys/class/net/eth0/mtu").ok().stdout.strip() == "1400"
    assert _bridge_mtu(bbnet, cid, bridge) == 1400
    host_if = net_state(bbnet, cid)["attachments"][0]["host_interface"]
    host_ns = net_state(bbnet, cid).get("host_netns") or None
    assert f"{host_if}@" in links_in(bbnet, host_ns) and " mtu 1400 " in next(
        ln for ln in links_in(bbnet, host_ns).splitlines() if f"{host_if}@" in ln)
    bbnet("rm", "-f", "-t", "0", cid).ok()


def test_metric_and_no_default_route(bbnet):
    routed, _, _ = make_network(bbnet, "-o", "metric=55")
    unrouted, _, _ = make_network(bbnet, "-o", "no_default_route=true")
    out = run_sh(bbnet, routed, "ip route; ip -6 route")
    assert "metric 55" in next(ln for ln in out.splitlines() if ln.startswith("default"))
    out = run_sh(bbnet, unrouted, "ip route; ip -6 route")
    assert "default" not in out
    # the default route comes from the first network that gives one
    out = run_sh(bbnet, f"{unrouted},{routed}", "ip route")
    assert "dev eth1" in next(ln for ln in out.splitlines() if ln.startswith("default"))


def test_root_masquerades_ipv6(hull, busybox_image):
    """Outbound IPv6 of a non-internal network is masqueraded like IPv4 (not reachable
    here: the rule is what can be checked)."""
    hull.load(busybox_image)
    net, bridge, doc = make_network(hull)
    cid = hull("run", "-d", "--network", net, IMAGE, "sleep", "60").ok().stdout.strip()
    rules = subprocess.run(["nft", "list", "chain", "inet", "hull", f"nat-{bridge}"], capture_output=True,
                           text=True, check=True).stdout
    assert f"ip6 saddr {v6_subnet(doc)['subnet']} masquerade" in rules
    assert open("/proc/sys/net/ipv6/conf/all/forwarding").read().strip() == "1"
    hull("rm", "-f", "-t", "0", cid).ok()
