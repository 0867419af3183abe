"""Named networks and container attachments (the `networks` and `network_attachments`
tables, migration 3).

A network is a record: a name, a 64-hex ID, a bridge name (`hull0` for the default
network `hull`, `hull1`, `hull2`, ... for the others, as Podman's podman0/podman1),
its subnets ({subnet, gateway, lease_range}) and flags.  An attachment says which
container holds which address (and MAC, aliases, interface name) on a network; it
lives from container create to container removal (the container row's deletion
cascades to it), so an address survives restarts, as in Podman.  Addresses are
chosen by engine/network/ipam.py inside the write transaction that records them.

The datapath (bridges, veths, DNS) reads these records; it never writes them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import secrets as _secrets
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Conflict, InUse, InvalidArgument, NetworkNotFound
from engine.store.db import StateDB

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
DEFAULT_NETWORK = "hull"
DEFAULT_BRIDGE = "hull0"
BRIDGE_PREFIX = "hull"
DRIVERS = ("bridge",)
# Podman's default network ID is a constant too (2f259bab...); ours is derived from the name.
DEFAULT_NETWORK_ID = hashlib.sha256(b"hull-default-network").hexdigest()


@dataclass
class Network:
    id: str
    name: str
    driver: str = "bridge"
    network_interface: str = ""
    subnets: list[dict[str, Any]] = field(default_factory=list)   # [{subnet, gateway, lease_range?}]
    ipv6_enabled: bool = False
    internal: bool = False
    dns_enabled: bool = True
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    created: float = 0.0

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_NETWORK

    @property
    def gateways(self) -> list[str]:
        return [s["gateway"] for s in self.subnets if s.get("gateway")]


@dataclass
class Attachment:
    network_id: str
    container_id: str
    ip: str
    mac: str
    aliases: list[str] = field(default_factory=list)
    interface_name: str = "eth0"
    network_name: str = ""
    prefix_len: int = 0          # of the subnet the address is in
    gateway: str = ""
    subnet: str = ""
    ip6: str = ""                # dual-stack networks: the IPv6 address, its subnet's fields
    prefix_len6: int = 0
    gateway6: str = ""
    subnet6: str = ""


def not_found(text: str) -> NetworkNotFound:
    return NetworkNotFound(f"unable to find network with name or ID {text}: network not found")


def _network(row: sqlite3.Row) -> Network:
    return Network(
        id=row["id"], name=row["name"], driver=row["driver"], network_interface=row["network_interface"],
        subnets=json.loads(row["subnets"]), ipv6_enabled=bool(row["ipv6_enabled"]),
        internal=bool(row["internal"]), dns_enabled=bool(row["dns_enabled"]),
        labels=json.loads(row["labels"]), options=json.loads(row["options"]), created=row["created"],
    )


def _subnet_of(subnets: list[dict[str, Any]], ip: str) -> dict[str, Any]:
    addr = ipaddress.ip_address(ip)
    for entry in subnets:
        net = ipaddress.ip_network(entry["subnet"])
        if addr.version == net.version and addr in net:
            return entry
    return {}


def _attachment(row: sqlite3.Row, subnets: list[dict[str, Any]] | None = None) -> Attachment:
    subnets = subnets if subnets is not None else json.loads(row["subnets"])
    entry = _subnet_of(subnets, row["ip"])
    ip6 = row["ip6"]
    entry6 = _subnet_of(subnets, ip6) if ip6 else {}
    return Attachment(
        network_id=row["network_id"], container_id=row["container_id"], ip=row["ip"], mac=row["mac"],
        aliases=json.loads(row["aliases"]), interface_name=row["interface_name"],
        network_name=row["name"],
        prefix_len=ipaddress.ip_network(entry["subnet"]).prefixlen if entry else 0,
        gateway=entry.get("gateway", ""), subnet=entry.get("subnet", ""),
        ip6=ip6, prefix_len6=ipaddress.ip_network(entry6["subnet"]).prefixlen if entry6 else 0,
        gateway6=entry6.get("gateway", ""), subnet6=entry6.get("subnet", ""),
    )


_ATTACH_SELECT = ("SELECT a.*, n.name, n.subnets FROM network_attachments a "
                  "JOIN networks n ON n.id = a.network_id")


class NetworkStore:
    def __init__(self, cfg: Any, db: StateDB) -> None:
        self.cfg = cfg
        self.db = db

    # --- the default network ---
    def ensure_default(self) -> Network:
        """The default network `hull`, recorded the first time anything asks for networks."""
        rows = self.db.query("SELECT * FROM networks WHERE name = ?", (DEFAULT_NETWORK,))
        if rows:
            return _network(rows[0])
        from engine.network.ipam import DEFAULT_SUBNET, first_host

        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO networks (id, name, driver, network_interface, subnets, ipv6_enabled, "
                "internal, dns_enabled, labels, options, created) VALUES (?,?,?,?,?,0,0,0,'{}','{}',?)",
                (DEFAULT_NETWORK_ID, DEFAULT_NETWORK, "bridge", DEFAULT_BRIDGE,
                 json.dumps([{"subnet": DEFAULT_SUBNET,
                              "gateway": first_host(ipaddress.ip_network(DEFAULT_SUBNET))}]), time.time()))
        return _network(self.db.query("SELECT * FROM networks WHERE name = ?", (DEFAULT_NETWORK,))[0])

    # --- create ---
    def create(self, name: str | None, *, subnets: list[dict[str, str]] | None = None, driver: str = "bridge",
               internal: bool = False, dns_enabled: bool = True, ipv6_enabled: bool = False,
               labels: dict[str, str] | None = None, options: dict[str, str] | None = None,
               interface_name: str = "", ignore_existing: bool = False) -> Network:
        """Record a new network.  `subnets` are requests {subnet, gateway?, ip_range?}.  As
        Podman's: a network always has an IPv4 subnet (the first free 10.89.N.0/24 unless one
        is given); an IPv6 subnet makes it dual-stack, and `ipv6_enabled` without one adds a
        random ULA /64.  Everything is checked and chosen inside one write transaction, so two
        concurrent creates never get the same subnet or bridge."""
        from engine.network import ipam

        self.ensure_default()
        if name is not None and not NAME_RE.match(name):
            raise InvalidArgument(f"network name {name} invalid: names must match "
                                  "[a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument")
        if driver not in DRIVERS:
            raise InvalidArgument(f"unsupported driver {driver}: invalid argument")
        host = ipam.host_subnets()
        with self.db.transaction() as conn:
            if name is None:
                name = self._free_name(conn)
            existing = conn.execute("SELECT * FROM networks WHERE name = ?", (name,)).fetchone()
            if existing is not None:
                if ignore_existing:
                    return _network(existing)
                raise Conflict(f"network name {name} already used: network already exists")
            used = [ipaddress.ip_network(s["subnet"]) for r in conn.execute("SELECT subnets FROM networks")
                    for s in json.loads(r[0])]
            entries = []
            for req in subnets or []:
                entry = ipam.make_subnet(req["subnet"], req.get("gateway", ""), req.get("ip_range", ""),
                                         used + host)
                used.append(ipaddress.ip_network(entry["subnet"]))
                entries.append(entry)
            versions = {ipaddress.ip_network(e["subnet"]).version for e in entries}
            ipv6_enabled = ipv6_enabled or 6 in versions
            if 4 not in versions:
                entries.append(ipam.make_subnet(ipam.auto_subnet(used + host)))
            if ipv6_enabled and 6 not in versions:
                entries.append(ipam.make_subnet(ipam.auto_subnet6(used + host)))
            bridge = interface_name or self._free_bridge(conn)
            if conn.execute("SELECT 1 FROM networks WHERE network_interface = ?", (bridge,)).fetchone():
                raise Conflict(f"bridge name {bridge} already in use")
            nid = _secrets.token_hex(32)
            conn.execute(
                "INSERT INTO networks (id, name, driver, network_interface, subnets, ipv6_enabled, internal, "
                "dns_enabled, labels, options, created) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (nid, name, driver, bridge, json.dumps(entries), int(ipv6_enabled), int(internal),
                 int(dns_enabled), json.dumps(labels or {}, sort_keys=True),
                 json.dumps(options or {}, sort_keys=True), time.time()))
        return self.get(nid)

    @staticmethod
    def _free_bridge(conn: sqlite3.Connection) -> str:
        """The lowest hullN that no network of ours uses and no interface of this network
        namespace has (as root, another store's bridges live there too; Podman skips them)."""
        taken = {r[0] for r in conn.execute("SELECT network_interface FROM networks")}
        try:
            taken |= set(os.listdir("/sys/class/net"))
        except OSError:
            pass
        n = 1
        while f"{BRIDGE_PREFIX}{n}" in taken:
            n += 1
        return f"{BRIDGE_PREFIX}{n}"

    @staticmethod
    def _free_name(conn: sqlite3.Connection) -> str:
        """`network create` without a name: hull1, hull2, ... (Podman: podman1, ...)."""
        taken = {r[0] for r in conn.execute("SELECT name FROM networks")}
        n = 1
        while f"{BRIDGE_PREFIX}{n}" in taken:
            n += 1
        return f"{BRIDGE_PREFIX}{n}"

    # --- reading ---
    def get(self, network_id: str) -> Network:
        rows = self.db.query("SELECT * FROM networks WHERE id = ?", (network_id,))
        if not rows:
            raise not_found(network_id)
        return _network(rows[0])

    def lookup(self, text: str) -> Network:
        """Exact name, full ID, then a unique ID prefix (Podman's order)."""
        self.ensure_default()
        rows = self.db.query("SELECT * FROM networks WHERE name = ? OR id = ?", (text, text))
        if rows:
            by_name = [r for r in rows if r["name"] == text]
            return _network(by_name[0] if by_name else rows[0])
        if text and re.fullmatch(r"[0-9a-f]+", text):
            rows = self.db.query("SELECT * FROM networks WHERE id >= ? AND id < ? LIMIT 2", (text, text + "g"))
            if len(rows) == 1:
                return _network(rows[0])
            if len(rows) > 1:
                raise InvalidArgument(f"more than one result for network ID {text}: network already exists")
        raise not_found(text)

    def exists(self, text: str) -> bool:
        try:
            self.lookup(text)
            return True
        except NetworkNotFound:
            return False

    def list(self) -> list[Network]:
        """All networks, by name (as `podman network ls`)."""
        self.ensure_default()
        return [_network(r) for r in self.db.query("SELECT * FROM networks ORDER BY name")]

    # --- removal ---
    def remove(self, network_id: str) -> None:
        """Delete the record; InUse while a container is attached (the caller disconnects
        or removes them first for `rm -f`)."""
        net = self.get(network_id)
        if net.is_default:
            raise Conflict(f"default network {net.name} cannot be removed")
        with self.db.transaction() as conn:
            users = [r[0] for r in conn.execute(
                "SELECT container_id FROM network_attachments WHERE network_id = ?", (network_id,))]
            from engine.network import reservations

            users += list(reservations.taken(self.cfg.root, network_id).values())  # a build's RUN step
            if users:
                raise InUse(f"\"{net.name}\" has associated containers with it. Use -f to forcibly delete "
                            "containers and pods: network is being used")
            conn.execute("DELETE FROM networks WHERE id = ?", (network_id,))

    # --- attachments ---
    def attach(self, network_id: str, container_id: str, *, ip: str = "", mac: str = "",
               aliases: list[str] | None = None, interface_name: str = "", ip6: str = "") -> Attachment:
        """Give `container_id` an address on the network (IPAM: the lowest free one, or the
        static `ip`, checked), and one of its IPv6 subnet too if it has one (or the static
        `ip6`), and record them, all in one write transaction."""
        bridge = self._leased_bridge(network_id)
        if not bridge:
            return self._attach(network_id, container_id, ip, mac, aliases, interface_name, "", ip6)
        from engine.network import leases

        with leases.host_lock(bridge):  # held until our row is committed
            return self._attach(network_id, container_id, ip, mac, aliases, interface_name, bridge, ip6)

    def _leased_bridge(self, network_id: str) -> str:
        """The host bridge whose addresses are leased host-wide (root only: every store
        shares the host's bridges; engine/network/leases.py); "" otherwise."""
        if getattr(self.cfg, "rootless", True):
            return ""
        rows = self.db.query("SELECT driver, network_interface FROM networks WHERE id = ?", (network_id,))
        return rows[0][1] if rows and rows[0][0] == "bridge" else ""

    def _attach(self, network_id: str, container_id: str, ip: str, mac: str, aliases: list[str] | None,
                interface_name: str, bridge: str, ip6: str = "") -> Attachment:
        leased = ""
        try:
            with self.db.transaction() as conn:
                leased = self._attach_in(conn, network_id, container_id, ip, mac, aliases, interface_name, bridge,
                                         ip6)
        except BaseException:
            if leased:  # the row never made it: neither does the lease
                from engine.network import leases

                leases.release(bridge, leased, self.db.path, container_id)
            raise
        return self.attachment(network_id, container_id)

    def _attach_in(self, conn: sqlite3.Connection, network_id: str, container_id: str, ip: str, mac: str,
                   aliases: list[str] | None, interface_name: str, bridge: str, ip6: str = "") -> str:
        from engine.network import ipam

        row = conn.execute("SELECT * FROM networks WHERE id = ?", (network_id,)).fetchone()
        if row is None:
            raise not_found(network_id)
        net = _network(row)
        if conn.execute("SELECT 1 FROM network_attachments WHERE network_id = ? AND container_id = ?",
                        (network_id, container_id)).fetchone():
            raise Conflict(f"container {container_id} is already connected to network {net.name}: "
                           "network is already connected")
        holders = {r[0]: r[1] for r in conn.execute(
            "SELECT ip, container_id FROM network_attachments WHERE network_id = ?", (network_id,))}
        if bridge:  # other stores' containers on the same host bridge
            from engine.network import leases

            holders = {**leases.foreign(bridge, self.db.path), **holders}
        from engine.network import reservations

        holders = {**reservations.taken(self.cfg.root, network_id), **holders}  # running build steps
        if ip:
            address, _ = ipam.check_static(ip, net.subnets, holders, net.name)
        else:
            address, _ = ipam.pick_address(net.subnets, set(holders), net.name)
        address6 = ""
        if ip6 or any(":" in s["subnet"] for s in net.subnets):
            holders6 = {r[0]: r[1] for r in conn.execute(
                "SELECT ip6, container_id FROM network_attachments WHERE network_id = ? AND ip6 != ''",
                (network_id,))}
            if ip6:
                address6, _ = ipam.check_static(ip6, net.subnets, holders6, net.name)
            else:
                address6, _ = ipam.pick_address(net.subnets, set(holders6), net.name, version=6)
        mine = conn.execute("SELECT interface_name, seq FROM network_attachments WHERE container_id = ?",
                            (container_id,)).fetchall()
        names = {r[0] for r in mine}
        if interface_name and interface_name in names:
            raise Conflict(f"interface name {interface_name} is already used by another network "
                           "of the container")
        if not interface_name:
            n = 0
            while f"eth{n}" in names:
                n += 1
            interface_name = f"eth{n}"
        seq = max((r[1] for r in mine), default=-1) + 1
        conn.execute(
            "INSERT INTO network_attachments (network_id, container_id, ip, mac, aliases, interface_name, seq, ip6) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (network_id, container_id, address, ipam.parse_mac(mac) if mac else ipam.random_mac(),
             json.dumps(list(aliases or [])), interface_name, seq, address6))
        if bridge:
            from engine.network import leases

            holder = leases.acquire(bridge, address, self.db.path, self.cfg.root, container_id)
            if holder:  # cannot happen under the host lock unless a lease is unreadable
                raise Conflict(f"IPAM error: requested ip address {address} is already allocated to "
                               f"container ID {holder}")
        return address

    def detach(self, network_id: str, container_id: str) -> bool:
        """Drop the attachment (the address becomes free); False if there was none."""
        leased = self.host_leases(container_id, network_id)
        with self.db.transaction() as conn:
            cur = conn.execute("DELETE FROM network_attachments WHERE network_id = ? AND container_id = ?",
                               (network_id, container_id))
        self._release(container_id, leased)
        return cur.rowcount > 0

    def detach_all(self, container_id: str) -> int:
        leased = self.host_leases(container_id)
        with self.db.transaction() as conn:
            n = conn.execute("DELETE FROM network_attachments WHERE container_id = ?", (container_id,)).rowcount
        self._release(container_id, leased)
        return n

    def host_leases(self, container_id: str, network_id: str = "") -> list[tuple[str, str]]:
        """(bridge, ip) of the container's addresses on host bridges (root only: those are
        leased host-wide, engine/network/leases.py)."""
        if getattr(self.cfg, "rootless", True):
            return []
        sql = ("SELECT n.network_interface, a.ip FROM network_attachments a JOIN networks n ON n.id = a.network_id "
               "WHERE a.container_id = ? AND n.driver = 'bridge'")
        args: tuple = (container_id,)
        if network_id:
            sql, args = sql + " AND a.network_id = ?", (container_id, network_id)
        return [(r[0], r[1]) for r in self.db.query(sql, args)]

    def release_leases(self, container_id: str) -> None:
        """Before the container row goes (its attachments cascade): its host-wide leases go."""
        self._release(container_id, self.host_leases(container_id))

    def _release(self, container_id: str, leased: list[tuple[str, str]]) -> None:
        if not leased:
            return
        from engine.network import leases

        for bridge, ip in leased:
            leases.release(bridge, ip, self.db.path, container_id)

    def attachment(self, network_id: str, container_id: str) -> Attachment:
        rows = self.db.query(_ATTACH_SELECT + " WHERE a.network_id = ? AND a.container_id = ?",
                             (network_id, container_id))
        if not rows:
            raise NetworkNotFound(f"container {container_id} is not connected to network {network_id}: "
                                  "network not found")
        return _attachment(rows[0])

    def of_container(self, container_id: str) -> list[Attachment]:
        """The container's attachments, in the order it joined its networks (eth0 first)."""
        return [_attachment(r) for r in self.db.query(
            _ATTACH_SELECT + " WHERE a.container_id = ? ORDER BY a.seq, a.interface_name", (container_id,))]

    def on_network(self, network_id: str) -> list[Attachment]:
        return [_attachment(r) for r in self.db.query(
            _ATTACH_SELECT + " WHERE a.network_id = ? ORDER BY a.container_id", (network_id,))]

    def users(self, network_id: str) -> list[str]:
        return [r[0] for r in self.db.query(
            "SELECT container_id FROM network_attachments WHERE network_id = ? ORDER BY container_id",
            (network_id,))]

    def set_aliases(self, network_id: str, container_id: str, aliases: list[str]) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE network_attachments SET aliases = ? WHERE network_id = ? AND container_id = ?",
                         (json.dumps(list(aliases)), network_id, container_id))
