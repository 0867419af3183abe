"""engine/store/networks.py: records, the default network, attachments and IPAM under
concurrency (several processes allocating on one network at once)."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from engine.config import EngineConfig
from engine.errors import Conflict, InUse, NetworkNotFound
from engine.store import Store
from engine.store.networks import DEFAULT_NETWORK


def _container(store: Store, name: str) -> str:
    return store.containers.create(name, None, "", options={}, labels={}, command=["true"]).id


def test_default_network_made_once(store):
    nets = store.networks.list()
    assert [n.name for n in nets] == [DEFAULT_NETWORK]
    default = nets[0]
    assert default.network_interface == "hull0" and not default.dns_enabled
    assert default.subnets == [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]
    assert store.networks.ensure_default().id == default.id
    with pytest.raises(Conflict, match="default network hull cannot be removed"):
        store.networks.remove(default.id)


def test_lookup_by_name_id_and_prefix(store):
    net = store.networks.create("web")
    assert store.networks.lookup("web").id == net.id
    assert store.networks.lookup(net.id).name == "web"
    assert store.networks.lookup(net.id[:8]).name == "web"
    with pytest.raises(NetworkNotFound, match="unable to find network with name or ID nope: network not found"):
        store.networks.lookup("nope")


def _free_bridges(count: int) -> list[str]:
    """The first `count` hullN names this network namespace does not have (other stores'
    bridges are skipped, as Podman skips existing interfaces)."""
    present, out, n = set(os.listdir("/sys/class/net")), [], 1
    while len(out) < count:
        if f"hull{n}" not in present:
            out.append(f"hull{n}")
        n += 1
    return out


def test_bridge_names_reused_lowest_first(store):
    expected = _free_bridges(2)
    a, b = store.networks.create("a"), store.networks.create("b")
    assert [a.network_interface, b.network_interface] == expected
    store.networks.remove(a.id)
    assert store.networks.create("c").network_interface == expected[0]


def test_attach_detach_and_cascade(store):
    net = store.networks.create("n", subnets=[{"subnet": "10.150.0.0/24"}])
    c1, c2 = _container(store, "c1"), _container(store, "c2")
    a1 = store.networks.attach(net.id, c1, aliases=["db"])
    a2 = store.networks.attach(net.id, c2, ip="10.150.0.9", mac="02:11:22:33:44:55")
    assert (a1.ip, a1.prefix_len, a1.gateway, a1.interface_name) == ("10.150.0.2", 24, "10.150.0.1", "eth0")
    assert (a2.ip, a2.mac) == ("10.150.0.9", "02:11:22:33:44:55")
    with pytest.raises(Conflict, match="already connected"):
        store.networks.attach(net.id, c1)
    with pytest.raises(InUse, match="has associated containers"):
        store.networks.remove(net.id)
    other = store.networks.create("o")
    assert store.networks.attach(other.id, c1).interface_name == "eth1"
    assert [a.network_name for a in store.networks.of_container(c1)] == ["n", "o"]
    assert store.networks.detach(net.id, c2) and not store.networks.detach(net.id, c2)
    store.containers.delete(c1)  # the row going takes its addresses with it
    assert store.networks.users(net.id) == [] and store.networks.users(other.id) == []
    store.networks.remove(net.id)


def _allocate(root: str, run: str, network_id: str, count: int, queue) -> None:
    store = Store.open(EngineConfig(root=Path(root), runroot=Path(run), rootless=False))
    got = []
    for i in range(count):
        cid = store.containers.create(None, None, "", options={}, labels={}, command=["true"]).id
        got.append(store.networks.attach(network_id, cid).ip)
    queue.put(got)


def test_parallel_processes_never_share_an_address(cfg, store):
    net = store.networks.create("race", subnets=[{"subnet": "10.151.0.0/24"}])
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_allocate, args=(str(cfg.root), str(cfg.runroot), net.id, 10, queue))
             for _ in range(6)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    ips = [ip for r in results for ip in r]
    assert len(ips) == 60 and len(set(ips)) == 60
    # lowest-free: together they hold exactly .2 .. .61
    assert sorted(int(ip.rsplit(".", 1)[1]) for ip in ips) == list(range(2, 62))


def test_parallel_network_creates_get_distinct_subnets_and_bridges(cfg, store):
    ctx = multiprocessing.get_context("fork")

    def make(i: int) -> None:
        s = Store.open(EngineConfig(root=cfg.root, runroot=cfg.runroot, rootless=False))
        s.networks.create(f"net{i}")

    procs = [ctx.Process(target=make, args=(i,)) for i in range(5)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    nets = [n for n in store.networks.list() if n.name != DEFAULT_NETWORK]
    assert len(nets) == 5
    assert len({n.subnets[0]["subnet"] for n in nets}) == 5
    assert len({n.network_interface for n in nets}) == 5


def test_dual_stack_network_and_addresses(store):
    """--ipv6: an IPv4 subnet plus a ULA /64 (Podman's order); an IPv6 subnet alone gets an
    IPv4 one added; each attachment gets one address of each family, static ones checked."""
    net = store.networks.create("d", ipv6_enabled=True)
    assert net.ipv6_enabled and [s["subnet"].count(":") > 0 for s in net.subnets] == [False, True]
    only6 = store.networks.create("s", subnets=[{"subnet": "fd31::/64"}])
    assert only6.ipv6_enabled and only6.subnets[0]["subnet"] == "fd31::/64" and ":" not in only6.subnets[1]["subnet"]
    with pytest.raises(Conflict, match="subnet fd31::/96 is already used"):
        store.networks.create("t", subnets=[{"subnet": "fd31::/96"}])
    c1, c2, c3 = _container(store, "c1"), _container(store, "c2"), _container(store, "c3")
    a1 = store.networks.attach(only6.id, c1)
    assert (a1.ip6, a1.prefix_len6, a1.gateway6, a1.subnet6) == ("fd31::2", 64, "fd31::1", "fd31::/64")
    assert a1.ip.count(".") == 3 and a1.prefix_len == 24
    a2 = store.networks.attach(only6.id, c2, ip6="fd31::9")
    assert a2.ip6 == "fd31::9"
    with pytest.raises(Conflict, match="fd31::9 is already allocated to container ID"):
        store.networks.attach(only6.id, c3, ip6="fd31::9")
    assert store.networks.attach(only6.id, c3).ip6 == "fd31::3"
    # the default (IPv4-only) network gives no IPv6 address
    assert store.networks.attach(store.networks.ensure_default().id, c1).ip6 == ""
    store.containers.delete(c1)  # its v6 address is free again
    c4 = _container(store, "c4")
    assert store.networks.attach(only6.id, c4).ip6 == "fd31::2"
