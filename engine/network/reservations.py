"""Addresses on a named network for something that has no container row: a build's
RUN step (`RUN --network=NAME`, engine/network/transient.py).

network_attachments rows belong to containers (a foreign key), so a RUN step's
address is a file instead: `{root}/network-reservations/<network id>/<ip>`, made
with O_EXCL, holding {"holder", "mac", "pid", "starttime"}.  The store's IPAM
(NetworkStore._attach_in) counts the live ones as taken, and `reserve` picks its
address inside the same write transaction (BEGIN IMMEDIATE) as the attachments, so a
container and a build step are never handed the same address.  A reservation whose
process is gone (a killed build) is stale: removed by whoever looks next.  As root
the address is also leased host-wide (engine/network/leases.py), the lease naming
the process so other stores can tell when it is stale.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from engine.network.leases import _read  # a JSON object file, None when missing or broken

DIR = "network-reservations"


def _dir(root: Path | str, network_id: str) -> Path:
    return Path(root) / DIR / network_id


def _alive(doc: dict | None) -> bool:
    from engine.store.containers import pid_alive

    return bool(doc) and pid_alive(int(doc.get("pid") or 0), doc.get("starttime"))  # type: ignore[union-attr]


def taken(root: Path | str, network_id: str) -> dict[str, str]:
    """{ip: holder} of the live reservations on the network (stale ones removed)."""
    d = _dir(root, network_id)
    try:
        names = os.listdir(d)
    except FileNotFoundError:
        return {}
    out: dict[str, str] = {}
    for ip in names:
        doc = _read(d / ip)
        if _alive(doc):
            out[ip] = str(doc.get("holder"))  # type: ignore[union-attr]
        else:
            try:
                os.unlink(d / ip)
            except FileNotFoundError:
                pass
    return out


def owner(pid: int | None = None) -> dict[str, Any]:
    """The pid and start time that identify this process in a reservation or lease."""
    from engine.store.containers import pid_starttime

    pid = pid or os.getpid()
    return {"pid": pid, "starttime": pid_starttime(pid)}


def reserve(store: Any, network_id: str, holder: str) -> dict[str, str]:
    """An address (and MAC) on the network for `holder`: {"ip", "mac", "network_id"}."""
    networks = store.networks
    bridge = networks._leased_bridge(network_id)
    if not bridge:
        return _reserve(store, network_id, holder, "")
    from engine.network import leases

    with leases.host_lock(bridge):
        return _reserve(store, network_id, holder, bridge)


def _reserve(store: Any, network_id: str, holder: str, bridge: str) -> dict[str, str]:
    from engine.network import ipam, leases

    net = store.networks.get(network_id)
    d = _dir(store.cfg.root, network_id)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    with store.db.transaction() as conn:  # the attachments' write lock: see the module doc
        holders = {r[0]: r[1] for r in conn.execute(
            "SELECT ip, container_id FROM network_attachments WHERE network_id = ?", (network_id,))}
        holders.update(taken(store.cfg.root, network_id))
        if bridge:
            holders.update(leases.foreign(bridge, store.db.path))
        address, _ = ipam.pick_address(net.subnets, set(holders), net.name)
        mac = ipam.random_mac()
        body = json.dumps({"holder": holder, "mac": mac, **owner()}).encode()
        fd = os.open(d / address, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with open(fd, "wb") as f:
            f.write(body)
        if bridge:
            other = leases.acquire(bridge, address, store.db.path, store.cfg.root, holder, owner())
            if other:
                os.unlink(d / address)
                from engine.errors import Conflict

                raise Conflict(f"IPAM error: requested ip address {address} is already allocated to "
                               f"container ID {other}")
    return {"ip": address, "mac": mac, "network_id": network_id}


def release(store: Any, network_id: str, ip: str, holder: str) -> None:
    """Give the address back (idempotent; only `holder`'s own reservation)."""
    path = _dir(store.cfg.root, network_id) / ip
    doc = _read(path)
    if doc is not None and doc.get("holder") == holder:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    bridge = store.networks._leased_bridge(network_id)
    if bridge:
        from engine.network import leases

        leases.release(bridge, ip, store.db.path, holder)


__all__ = ["owner", "release", "reserve", "taken"]
