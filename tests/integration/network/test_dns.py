"""Name resolution for containers (engine/network/dns.py, dns_server.py, hostsfiles.py),
as root (responder in the host netns) and rootless (inside the rootless netns).

Real containers: busybox httpd serves, busybox nslookup/wget ask the network's
responder on the gateway.  Networks get a random subnet and bridge name (as root the
host's interfaces are shared with the other pytest worker).
"""

from __future__ import annotations

import os
import random
import secrets
import time

import pytest

from tests.fixtures.cli import Hull

IMAGE = "localhost/busybox"
SERVE = "mkdir -p /www && echo {tag} > /www/index.html && exec httpd -f -p 8080 -h /www"
# Retry until the server answers (it may still be starting).  Neither -q nor -T: this
# busybox-static's wget segfaults with them.
GET = ("i=0; while [ $i -lt 50 ]; do out=$(wget -O - http://{host}:8080/ 2>/dev/null) && "
       "{{ echo \"$out\"; break; }}; i=$((i+1)); sleep 0.2; done")


@pytest.fixture
def bbnet(hull_any: Hull, busybox_image) -> Hull:
    hull_any.load(busybox_image)
    return hull_any


def make_network(h: Hull, *extra: str) -> tuple[str, str]:
    """(name, subnet prefix "10.x.y") of a new DNS-enabled network."""
    name, bridge = "dn" + secrets.token_hex(4), "hd" + secrets.token_hex(4)
    for _ in range(20):
        prefix = f"10.{random.randint(100, 250)}.{random.randint(0, 255)}"
        res = h("network", "create", "--subnet", f"{prefix}.0/24", "--interface-name", bridge, *extra, name)
        if res.returncode == 0:
            return name, prefix
        assert "already used" in res.stderr, res._describe()
    pytest.fail("no free subnet")


def run_sh(h: Hull, script: str, *args: str) -> str:
    return h("run", "--rm", *args, IMAGE, "sh", "-c", script).ok().stdout


def responder_pid(h: Hull) -> int:
    try:
        pid = int((h.runroot / "networks" / "dns" / "dns.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pid if os.path.exists(f"/proc/{pid}") else 0


def test_containers_resolve_each_other_by_name_and_alias(bbnet):
    net, prefix = make_network(bbnet)
    other, other_prefix = make_network(bbnet)
    tag = "hello-" + secrets.token_hex(3)
    bbnet("run", "-d", "--name", "web", "--network", net, "--network-alias", "www", IMAGE,
          "sh", "-c", SERVE.format(tag=tag)).ok()
    bbnet("run", "-d", "--name", "db", "--network", other, IMAGE, "sleep", "300").ok()
    out = run_sh(bbnet, "cat /etc/resolv.conf; echo ==; nslookup web; echo ==; nslookup WWW; echo ==; "
                 + GET.format(host="web") + "; echo ==; " + GET.format(host="www") + "; echo ==; "
                 "nslookup db; echo rc=$?", "--network", net)
    resolv, web, www, get_web, get_www, db = out.split("==\n")
    assert f"nameserver {prefix}.1\n" in resolv and resolv.count("nameserver") == 1
    assert "search dns.podman" in resolv
    assert f"Address: {prefix}." in web and "web" in web
    assert f"Address: {prefix}." in www
    assert tag in get_web and tag in get_www
    # db lives on the other network: not resolvable from this one
    assert "NXDOMAIN" in db and "rc=1" in db and f"{other_prefix}." not in db
    # and from the other network, db resolves while web does not
    out = run_sh(bbnet, "nslookup db; echo ==; nslookup web; echo rc=$?", "--network", other)
    db, web = out.split("==\n")
    assert f"Address: {other_prefix}." in db
    assert "NXDOMAIN" in web and f"Address: {prefix}." not in web
    # names of containers that stopped are gone; the responder exits with the last one
    assert responder_pid(bbnet)
    bbnet("rm", "-f", "-t", "0", "web", "db").ok()
    deadline = time.monotonic() + 15
    while responder_pid(bbnet) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert responder_pid(bbnet) == 0


def test_short_id_and_reverse_lookup(bbnet):
    net, prefix = make_network(bbnet)
    cid = bbnet("run", "-d", "--name", "named", "--network", net, "--ip", f"{prefix}.77", IMAGE,
                "sleep", "300").ok().stdout.strip()
    out = run_sh(bbnet, f"nslookup {cid[:12]}; echo ==; nslookup {prefix}.77", "--network", net)
    by_id, reverse = out.split("==\n")
    assert f"Address: {prefix}.77" in by_id
    assert "named" in reverse


def test_names_outside_go_to_the_host_resolvers(bbnet):
    """Forwarding: a name the host can resolve resolves in the container too."""
    import socket

    host_name = "localhost"
    for candidate in ("deb.debian.org", "pypi.org"):
        try:
            socket.getaddrinfo(candidate, 80)
            host_name = candidate
            break
        except OSError:
            continue
    if host_name == "localhost":
        pytest.skip("the host resolves no public name (no upstream to forward to)")
    net, _ = make_network(bbnet)
    bbnet("run", "-d", "--name", "anchor", "--network", net, IMAGE, "sleep", "300").ok()
    out = run_sh(bbnet, f"nslookup {host_name}", "--network", net)
    assert "Address:" in out.split(host_name, 1)[-1]


def test_disable_dns_network_has_no_responder(bbnet):
    net, prefix = make_network(bbnet, "--disable-dns")
    out = run_sh(bbnet, "cat /etc/resolv.conf", "--network", net)
    assert f"nameserver {prefix}.1" not in out and "dns.podman" not in out
    assert responder_pid(bbnet) == 0


def test_resolv_conf_flags(bbnet):
    net, prefix = make_network(bbnet)
    out = run_sh(bbnet, "cat /etc/resolv.conf", "--network", net, "--dns", "192.0.2.53", "--dns", "192.0.2.54",
                 "--dns-search", "example.test", "--dns-search", "corp.test", "--dns-option", "ndots:3",
                 "--dns-option", "timeout:1")
    assert out == ("search example.test corp.test\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n"
                   "options ndots:3 timeout:1\n")
    out = run_sh(bbnet, "cat /etc/resolv.conf", "--network", net, "--dns-search", ".")
    assert "search" not in out and f"nameserver {prefix}.1" in out
    out = run_sh(bbnet, "cat /etc/resolv.conf", "--network", "none", "--dns-option", "attempts:2")
    assert "options attempts:2\n" in out
    assert "nameserver 127." not in out  # loopback resolvers mean nothing in a netns
    res = bbnet("run", "--rm", "--dns", "not-an-ip", IMAGE, "true")
    res.assert_error(125, "not-an-ip is not an ip address")


def test_hosts_file(bbnet):
    net, prefix = make_network(bbnet)
    out = run_sh(bbnet, "cat /etc/hosts; echo ==; hostname", "--network", net, "--name", "hoster",
                 "--ip", f"{prefix}.33", "--add-host", "gw:host-gateway", "--add-host", "db.example:192.0.2.9",
                 "--add-host", "one;two:192.0.2.10")
    hosts, hostname = out.split("==\n")
    lines = hosts.splitlines()
    # host.containers.internal: the network's gateway as root; rootless, the address pasta
    # maps to the host in the rootless netns (the host's default gateway)
    internal = next(ln for ln in lines if ln.endswith("host.containers.internal host.docker.internal"))
    host_ip = internal.split("\t")[0]
    if not bbnet.rootless:
        assert host_ip == f"{prefix}.1"
    assert lines[0] == f"{host_ip}\tgw"  # --add-host first; host-gateway = that same address
    assert "192.0.2.9\tdb.example" in lines and "192.0.2.10\tone two" in lines
    assert f"{prefix}.33\t{hostname.strip()} hoster" in lines
    assert any(ln.split("\t")[-1].split()[:1] == ["localhost"] for ln in lines)
    # --no-hosts: the image's own /etc/hosts (busybox has none)
    out = run_sh(bbnet, "cat /etc/hosts 2>&1; echo rc=$?", "--network", net, "--no-hosts")
    assert "host.containers.internal" not in out and f"{prefix}." not in out
    res = bbnet("run", "--rm", "--add-host", "bad:not-an-ip", IMAGE, "true")
    res.assert_error(125, "invalid IP address in add-host")


def test_default_mode_files(bbnet):
    """Rootless default (pasta): its DNS forwarder first, then the host's resolvers;
    root default (bridge on `hull`, DNS disabled there as on Podman's default network):
    the host's resolvers, and the gateway is host.containers.internal."""
    out = run_sh(bbnet, "cat /etc/resolv.conf; echo ==; cat /etc/hosts")
    resolv, hosts = out.split("==\n")
    if bbnet.rootless:
        from engine.network import pasta

        first = [ln for ln in resolv.splitlines() if ln.startswith("nameserver")][0]
        if pasta.available():
            assert first == f"nameserver {pasta.DNS_FORWARD}"
    else:
        assert "nameserver 10.88.0.1" not in resolv and "dns.podman" not in resolv
        assert "nameserver 127." not in resolv
        assert "10.88.0.1\thost.containers.internal host.docker.internal" in hosts
