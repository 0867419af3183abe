"""As root every store shares the host's default bridge hull0 (10.88.0.0/16): the
host-wide leases (engine/network/leases.py, /run/hull-ipam/<bridge>/<ip>) keep two
stores -- e.g. the two pytest workers of CI -- from handing out the same address."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.fixtures.cli import Hull

LEASES = Path("/run/hull-ipam/hull0")


@pytest.fixture
def two_stores(hull_factory, busybox_image) -> tuple[Hull, Hull]:
    a, b = hull_factory("root"), hull_factory("root")
    a.load(busybox_image)
    b.load(busybox_image)
    return a, b


def _ips(h: Hull, cid: str) -> list[str]:
    return json.loads((h.runroot / "containers" / cid / "network.json").read_text())["ips"]


def _random_ip() -> str:
    return f"10.88.{random.randint(200, 250)}.{random.randint(2, 250)}"


def test_two_stores_running_at_once_never_share_an_address(two_stores):
    a, b = two_stores
    procs = [(h, h.popen("run", "-d", "localhost/busybox", "sleep", "600")) for h in (a, b) for _ in range(4)]
    started: list[tuple[Hull, str]] = []
    for h, p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()
        started.append((h, out.decode().strip()))
    ips = [ip for h, cid in started for ip in _ips(h, cid)]
    assert len(ips) == 8 and len(set(ips)) == 8, ips
    for h, cid in started:  # each address's lease names its store and container
        doc = json.loads((LEASES / _ips(h, cid)[0]).read_text())
        assert doc["container"] == cid and doc["root"] == str(h.root)
    # and the datapath agrees: a container of one store reaches one of the other
    (ha, ca), (hb, cb) = started[0], started[-1]
    assert ha is not hb
    hb("exec", cb, "sh", "-c", "mkdir -p /w && echo from-b > /w/i && httpd -p 8080 -h /w").ok()
    out = ha("exec", ca, "sh", "-c", f"for i in 1 2 3 4 5; do printf 'GET /i HTTP/1.0\\r\\n\\r\\n' | "
             f"nc -w 3 {_ips(hb, cb)[0]} 8080 && break; sleep 0.3; done").ok().stdout
    assert "from-b" in out
    for h, cid in started:
        ip = _ips(h, cid)[0]
        h("rm", "-f", "-t", "0", cid).ok()
        assert not (LEASES / ip).exists() or json.loads((LEASES / ip).read_text())["container"] != cid


def test_a_static_address_of_another_store_is_refused(two_stores):
    a, b = two_stores
    ip = _random_ip()
    cid = a("run", "-d", "--ip", ip, "localhost/busybox", "sleep", "600").ok().stdout.strip()
    b("create", "--ip", ip, "localhost/busybox", "true").assert_error(
        125, f"requested ip address {ip} is already allocated to container ID {cid}")
    a("rm", "-f", "-t", "0", cid).ok()
    assert not (LEASES / ip).exists()
    b("create", "--ip", ip, "localhost/busybox", "true").ok()  # free again


def test_a_stale_lease_is_reclaimed(two_stores):
    a, _ = two_stores
    ip = _random_ip()
    LEASES.mkdir(parents=True, exist_ok=True)
    (LEASES / ip).write_text(json.dumps({"db": "/nonexistent/state.db", "root": "/nonexistent",
                                         "container": "f" * 64}))
    cid = a("create", "--ip", ip, "localhost/busybox", "true").ok().stdout.strip()
    assert json.loads((LEASES / ip).read_text())["container"] == cid


def test_a_lease_taken_while_stopped_blocks_the_start(two_stores):
    """After a reboot /run is empty while allocations persist: start takes its lease back,
    and refuses when another store's live container got the address meanwhile."""
    a, b = two_stores
    ip = _random_ip()
    cid = a("create", "--ip", ip, "localhost/busybox", "sleep", "600").ok().stdout.strip()
    (LEASES / ip).unlink()  # as after a reboot
    other = b("run", "-d", "--ip", ip, "localhost/busybox", "sleep", "600").ok().stdout.strip()
    a("start", cid).assert_error(125, f"requested ip address {ip} is already allocated to container ID {other}")
    b("rm", "-f", "-t", "0", other).ok()
    a("start", cid).ok()
    assert json.loads((LEASES / ip).read_text())["container"] == cid
    a("rm", "-f", "-t", "0", cid).ok()
