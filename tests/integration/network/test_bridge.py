"""Bridge networks' datapath (engine/network/bridge.py, rootless_netns.py, firewall.py),
as root (bridges in the host) and rootless (bridges in the user's rootless netns).

Real containers and real traffic: busybox httpd serves, `nc` fetches (busybox-static's
wget crashes on this Debian).  Networks get a random subnet and bridge name: as root
the host's interfaces are shared with the other pytest worker.  DNS is disabled on
them so these tests are about the datapath only.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from tests.fixtures.cli import Hull, wait_for

SERVE = "mkdir -p /www && echo {tag} > /www/index.html && exec httpd -f -p 8080 -h /www"
# Retry until the server answers (it may still be starting); one try when `once`.
FETCH = ("(i=0; while [ $i -lt {tries} ]; do "
         "out=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {ip} {port} 2>/dev/null | tail -n 1); "
         "[ -n \"$out\" ] && {{ echo \"$out\"; exit 0; }}; i=$((i+1)); sleep 0.2; done; echo unreachable; exit 1)")


def fetch_cmd(ip: str, port: int = 8080, tries: int = 50) -> str:
    return FETCH.format(ip=ip, port=port, tries=tries)


@pytest.fixture
def bbnet(hull_any: Hull, busybox_image) -> Hull:
    hull_any.load(busybox_image)
    return hull_any


def make_network(h: Hull, *extra: str) -> tuple[str, str, str]:
    """(name, bridge, subnet prefix "10.x.y") of a new DNS-less network."""
    name, bridge = "bn" + secrets.token_hex(4), "hb" + secrets.token_hex(4)
    for _ in range(20):
        prefix = f"10.{random.randint(100, 250)}.{random.randint(0, 255)}"
        res = h("network", "create", "--disable-dns", "--subnet", f"{prefix}.0/24", "--interface-name", bridge,
                *extra, name)
        if res.returncode == 0:
            return name, bridge, prefix
        assert "already used" in res.stderr, res._describe()
    pytest.fail("no free subnet")


def serve(h: Hull, net: str, ip: str, tag: str, name: str = "") -> str:
    args = ["run", "-d", "--network", net, "--ip", ip]
    if name:
        args += ["--name", name]
    return h(*args, "localhost/busybox", "sh", "-c", SERVE.format(tag=tag)).ok().stdout.strip()


def run_sh(h: Hull, net: str, script: str) -> subprocess.CompletedProcess:
    return h("run", "--rm", "--network", net, "localhost/busybox", "sh", "-c", script)


def net_state(h: Hull, cid: str) -> dict:
    return json.loads((h.runroot / "containers" / cid / "network.json").read_text())


def host_default_gateway() -> str:
    with open("/proc/net/route") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000" and int(fields[3], 16) & 2:
                return socket.inet_ntoa(bytes.fromhex(fields[2])[::-1])
    pytest.skip("the host has no IPv4 default route (pasta needs one)")


def links_in(h: Hull, netns: str | None) -> str:
    """`ip -o link` where the host ends live: the host (root) or a netns file."""
    if netns is None:
        return subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    return h("unshare", "nsenter", f"--net={netns}", "ip", "-o", "link").ok().stdout


class HostServer:
    """A TCP server on the host (all addresses) that answers one line."""

    def __init__(self, reply: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.reply = reply.encode()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + self.reply + b"\n")
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def host_server():
    srv = HostServer("from-the-host-" + secrets.token_hex(3))
    yield srv
    srv.close()


# --------------------------------------------------------------------------- tests
def test_two_containers_on_one_network_reach_each_other(bbnet):
    net, _, prefix = make_network(bbnet)
    serve(bbnet, net, f"{prefix}.10", "hello-from-web")
    out = run_sh(bbnet, net, "ip -4 -o addr show eth0; ip route; " + fetch_cmd(f"{prefix}.10")).ok().stdout
    assert "hello-from-web" in out
    assert f"inet {prefix}." in out
    assert f"default via {prefix}.1 dev eth0" in out


def test_default_network_reaches_a_server_on_the_host(bbnet, host_server):
    if bbnet.rootless:
        # rootless default mode is pasta; the default *bridge* network is asked for by name,
        # and pasta (in the rootless netns) maps the host's default gateway to the host
        args, target = ["--network", "hull"], host_default_gateway()
    else:
        args, target = [], "10.88.0.1"  # root's default: bridge on `hull`, the host is its gateway
    out = bbnet("run", "--rm", *args, "localhost/busybox", "sh", "-c",
                "ip -4 -o addr show eth0; " + fetch_cmd(target, host_server.port, tries=10)).ok().stdout
    assert "inet 10.88." in out
    assert host_server.reply.decode() in out


def test_internal_network_has_no_way_out(bbnet, host_server):
    open_net, _, open_prefix = make_network(bbnet)
    internal, _, in_prefix = make_network(bbnet, "--internal")
    targets = [host_default_gateway()] if bbnet.rootless else [f"{open_prefix}.1"]
    for target in targets:  # the same fetch works from a normal network...
        assert host_server.reply.decode() in run_sh(bbnet, open_net, fetch_cmd(target, host_server.port, 10)).ok().stdout
    gateway = f"{in_prefix}.1"
    script = "ip route; " + "; ".join(f"{fetch_cmd(t, host_server.port, 1)}" for t in targets + [gateway]) + "; true"
    out = run_sh(bbnet, internal, script).ok().stdout
    assert "default" not in out          # ... but the internal one has no route out
    assert host_server.reply.decode() not in out
    assert out.count("unreachable") == len(targets) + 1


def test_networks_are_isolated_from_each_other(bbnet):
    net_a, _, pa = make_network(bbnet)
    net_b, _, pb = make_network(bbnet)
    serve(bbnet, net_a, f"{pa}.10", "web-a")
    assert "web-a" in run_sh(bbnet, net_a, fetch_cmd(f"{pa}.10")).ok().stdout
    out = run_sh(bbnet, net_b, fetch_cmd(f"{pa}.10", tries=2) + "; true").ok().stdout
    assert "web-a" not in out and "unreachable" in out


def test_connect_and_disconnect_a_running_container(bbnet):
    net_a, _, pa = make_network(bbnet)
    net_b, _, pb = make_network(bbnet)
    serve(bbnet, net_b, f"{pb}.10", "web-b")
    cid = bbnet("run", "-d", "--network", net_a, "localhost/busybox", "sleep", "1000").ok().stdout.strip()
    assert "eth1" not in bbnet("exec", cid, "ip", "-o", "link").ok().stdout
    bbnet("network", "connect", net_b, cid).ok()
    links = bbnet("exec", cid, "ip", "-o", "-4", "addr").ok().stdout
    assert "eth1" in links and f"{pb}." in links, links
    assert "web-b" in bbnet("exec", cid, "sh", "-c", fetch_cmd(f"{pb}.10")).ok().stdout
    # the default route stays on the first network
    assert f"default via {pa}.1 dev eth0" in bbnet("exec", cid, "ip", "route").ok().stdout
    state = net_state(bbnet, cid)
    bbnet("network", "disconnect", net_b, cid).ok()
    assert "eth1" not in bbnet("exec", cid, "ip", "-o", "link").ok().stdout
    out = bbnet("exec", cid, "sh", "-c", fetch_cmd(f"{pb}.10", tries=1) + "; true").ok().stdout
    assert "web-b" not in out
    host_if = [a["host_interface"] for a in state["attachments"] if a["network"] == net_b][0]
    host_ns = str(bbnet.runroot / "netns" / "rootless-netns") if bbnet.rootless else None
    assert host_if not in links_in(bbnet, host_ns)  # the host end of eth1 is gone too


def test_stop_and_rm_leave_no_veth_and_a_restart_works(bbnet):
    net, bridge, prefix = make_network(bbnet)
    cid = serve(bbnet, net, f"{prefix}.10", "first")
    state = net_state(bbnet, cid)
    host_ns = str(bbnet.runroot / "netns" / "rootless-netns") if bbnet.rootless else None
    host_if = state["attachments"][0]["host_interface"]
    links = links_in(bbnet, host_ns)
    assert host_if in links and f"master {bridge}" in links
    assert "first" in run_sh(bbnet, net, fetch_cmd(f"{prefix}.10")).ok().stdout

    bbnet("stop", "-t", "0", cid).ok()
    # the monitor tears the network down after the final exit
    if bbnet.rootless:  # the last user of the rootless netns is gone: so is the netns
        wait_for(lambda: not os.path.exists(host_ns), what="rootless netns removal")
    else:
        # the veth and then the bridge it was the last port of
        wait_for(lambda: not Path(f"/sys/class/net/{bridge}").exists(), what=f"bridge {bridge} removal")
        assert host_if not in links_in(bbnet, None)

    bbnet("start", cid).ok()
    assert "first" in run_sh(bbnet, net, fetch_cmd(f"{prefix}.10")).ok().stdout
    bbnet("rm", "-f", cid).ok()
    if bbnet.rootless:
        assert not os.path.exists(host_ns)
    else:
        assert f"master {bridge}" not in links_in(bbnet, None)
        out = subprocess.run(["nft", "list", "table", "inet", "hull"], capture_output=True, text=True).stdout
        assert f'"{bridge}"' not in out  # its firewall rules are gone


def test_four_containers_started_at_once(bbnet):
    net, _, prefix = make_network(bbnet)
    procs = [bbnet.popen("run", "-d", "--network", net, "localhost/busybox", "sh", "-c", SERVE.format(tag=f"c{i}"))
             for i in range(4)]
    cids = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()
        cids.append(out.decode().strip())
    ips = []
    for cid in cids:
        line = bbnet("exec", cid, "ip", "-4", "-o", "addr", "show", "eth0").ok().stdout
        ips.append(line.split(" inet ", 1)[1].split("/", 1)[0])
    assert len(set(ips)) == 4 and all(ip.startswith(prefix + ".") for ip in ips), ips
    script = "; ".join(fetch_cmd(ip) for ip in ips)
    out = run_sh(bbnet, net, script).ok().stdout
    assert [line for line in out.split() if line.startswith("c")] == [f"c{i}" for i in range(4)]
