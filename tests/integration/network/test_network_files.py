"""/etc/hosts and /etc/resolv.conf follow the datapath (lifecycle.setup and network
connect/disconnect call hostsfiles.write_network_files), and `--network container:X`
gets X's files as in Podman; `--add-host NAME:host-gateway` works there too."""

from __future__ import annotations

import random
import secrets

import pytest

from tests.fixtures.cli import Hull


@pytest.fixture
def bb(hull_any: Hull, busybox_image) -> Hull:
    hull_any.load(busybox_image)
    return hull_any


def _network(h: Hull, *extra: str) -> tuple[str, str]:
    """(name, "10.x.y") of a new network with a random subnet."""
    name = "nf" + secrets.token_hex(4)
    for _ in range(20):
        prefix = f"10.{random.randint(100, 250)}.{random.randint(0, 255)}"
        res = h("network", "create", "--subnet", f"{prefix}.0/24", "--interface-name", "hf" + secrets.token_hex(4),
                *extra, name)
        if res.returncode == 0:
            return name, prefix
        assert "already used" in res.stderr, res._describe()
    pytest.fail("no free subnet")


def _hosts_address(hosts: str, name: str) -> str:
    for line in hosts.splitlines():
        words = line.split()
        if len(words) > 1 and name in words[1:]:
            return words[0]
    return ""


def test_container_network_gets_the_joined_containers_files(bb):
    x = bb("run", "-d", "--name", "x", "--add-host", "foo.example:10.1.2.3", "--dns", "192.0.2.53",
           "--dns-search", "example.test", "localhost/busybox", "sleep", "600").ok().stdout.strip()
    x_hosts = bb("exec", x, "cat", "/etc/hosts").ok().stdout
    gateway = _hosts_address(x_hosts, "host.containers.internal")
    assert gateway, x_hosts
    out = bb("run", "--rm", "--name", "y", "--network", "container:x", "--add-host", "gw.example:host-gateway",
             "localhost/busybox", "sh", "-c", "cat /etc/hosts; echo ===; cat /etc/resolv.conf").ok().stdout
    hosts, resolv = out.split("===\n")
    assert _hosts_address(hosts, "foo.example") == "10.1.2.3"  # X's --add-host
    assert _hosts_address(hosts, "gw.example") == gateway  # host-gateway of X's network
    assert _hosts_address(hosts, "x")  # X's own name, from X's file
    assert _hosts_address(hosts, "y") == _hosts_address(hosts, "x")  # ours on X's addresses
    assert "nameserver 192.0.2.53" in resolv and "example.test" in resolv
    bb("rm", "-f", "-t", "0", x).ok()


def test_connect_and_disconnect_rewrite_the_files_of_a_running_container(bb):
    net1, _ = _network(bb, "--disable-dns")
    net2, prefix2 = _network(bb)  # DNS on: its gateway becomes a nameserver
    cid = bb("run", "-d", "--name", "c1", "--network", net1, "localhost/busybox", "sleep", "600").ok().stdout.strip()
    assert prefix2 not in bb("exec", cid, "cat", "/etc/hosts").ok().stdout
    bb("network", "connect", net2, cid).ok()
    hosts = bb("exec", cid, "cat", "/etc/hosts").ok().stdout
    assert any(line.startswith(f"{prefix2}.") and "c1" in line.split() for line in hosts.splitlines()), hosts
    assert f"nameserver {prefix2}.1" in bb("exec", cid, "cat", "/etc/resolv.conf").ok().stdout
    bb("network", "disconnect", net2, cid).ok()
    assert prefix2 not in bb("exec", cid, "cat", "/etc/hosts", "/etc/resolv.conf").ok().stdout
    bb("rm", "-f", "-t", "0", cid).ok()
    bb("network", "rm", net1, net2).ok()
