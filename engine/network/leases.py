"""Host-wide address leases for rootful bridges.

As root every Hull store (each --root: two pytest workers, a user's stores) plugs its
containers into the host's bridges, the default `hull0` on 10.88.0.0/16 above all, but
each store's IPAM only sees its own database.  A lease file per address makes the
bridge's addresses host-wide: `/run/hull-ipam/<bridge>/<ip>`, made with O_EXCL, holding
{"db": the owner's state DB, "root": its store, "container": the container ID}.

- IPAM (store/networks.py attach) treats the live leases of other stores as taken and
  takes one for the address it picks, under `/run/lock/hull/ipam-<bridge>.lock` held
  around its whole DB transaction: a lease another store is still committing is never
  seen (the lock is held until its row is committed).
- A lease is stale when its owner's database is gone or no longer records that container
  on that address (a removed store, a container removed without release); stale leases
  are reclaimed by whoever wants the address.  Doubt (a locked or unreadable DB) = live.
- At start (lifecycle, bridge mode) `ensure` re-takes the leases of the container's
  addresses: /run is empty after a reboot while the stores' allocations persist.
- rm releases them (`release`); addresses stay leased across stop/start as they stay
  allocated.

Rootless bridges live in a per-user namespace: no leases there.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

LEASE_ROOT = Path("/run/hull-ipam")
LOCK_DIR = Path("/run/lock/hull")

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterator


def lease_dir(bridge: str) -> Path:
    return LEASE_ROOT / bridge


def host_lock(bridge: str) -> Any:
    from engine.store.locks import file_lock

    LOCK_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    return file_lock(LOCK_DIR / f"ipam-{bridge}.lock")


def _read(path: Path) -> dict | None:
    """The JSON object in `path`; None when it is missing, unreadable or not an object
    (also engine/network/reservations.py's reader)."""
    try:
        with open(path) as f:
            doc = json.load(f)
        return doc if isinstance(doc, dict) else None
    except (OSError, ValueError):
        return None


def _holds(db_path: str, cid: str, ip: str) -> bool:
    """Does the database at `db_path` record `cid` on `ip`?  True when unsure."""
    if not os.path.exists(db_path):
        return False
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return True
    try:
        row = conn.execute("SELECT 1 FROM network_attachments WHERE container_id = ? AND ip = ?",
                           (cid, ip)).fetchone()
        return row is not None
    except sqlite3.Error:
        return True
    finally:
        conn.close()


def _live(doc: dict | None, ip: str) -> bool:
    if doc and doc.get("pid"):  # a build step's address (reservations.py): live while its process is
        from engine.store.containers import pid_alive

        return pid_alive(int(doc["pid"]), doc.get("starttime"))
    return bool(doc) and _holds(str(doc.get("db") or ""), str(doc.get("container") or ""), ip)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def foreign(bridge: str, db_path: Path | str) -> dict[str, str]:
    """{ip: container ID} of the live leases other stores hold on `bridge` (stale ones
    are removed on the way).  Call under host_lock(bridge)."""
    d = lease_dir(bridge)
    try:
        names = os.listdir(d)
    except FileNotFoundError:
        return {}
    out: dict[str, str] = {}
    for ip in names:
        doc = _read(d / ip)
        if doc is not None and doc.get("db") == str(db_path):
            continue  # ours: our own rows are the truth
        if _live(doc, ip):
            out[ip] = str(doc.get("container"))  # type: ignore[union-attr]
        else:
            _unlink(d / ip)
    return out


def acquire(bridge: str, ip: str, db_path: Path | str, root: Path | str, cid: str,
            process: dict | None = None) -> str:
    """Take the lease of `ip` for `cid`; "" when done (or already ours), else the
    container ID holding it.  `process` ({"pid", "starttime"}): the holder is a process
    with no container row (a build step), live while it runs.  Call under host_lock(bridge)."""
    d = lease_dir(bridge)
    d.mkdir(mode=0o755, parents=True, exist_ok=True)
    path = d / ip
    body = json.dumps({"db": str(db_path), "root": str(root), "container": cid, **(process or {})}).encode()
    for _ in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:  # a release removed the empty directory meanwhile
            d.mkdir(mode=0o755, parents=True, exist_ok=True)
            continue
        except FileExistsError:
            doc = _read(path)
            if doc is not None and doc.get("db") == str(db_path) and doc.get("container") == cid:
                return ""
            if _live(doc, ip):
                return str(doc.get("container"))  # type: ignore[union-attr]
            _unlink(path)  # stale: reclaimed
            continue
        with open(fd, "wb") as f:
            f.write(body)
        return ""
    return "unknown"


def release(bridge: str, ip: str, db_path: Path | str, cid: str) -> None:
    """Drop the lease of `ip` when it is `cid`'s of this store (idempotent)."""
    path = lease_dir(bridge) / ip
    doc = _read(path)
    if doc is not None and doc.get("db") == str(db_path) and doc.get("container") == cid:
        _unlink(path)
        try:
            path.parent.rmdir()  # the bridge's last lease: no empty directory left behind
        except OSError:
            pass


def ensure(store: Any, cid: str, attachments: Iterator[Any]) -> None:
    """At start: the leases of the container's rootful bridge addresses are (still) ours;
    Podman's "already allocated" error when another store's live container holds one."""
    from engine.errors import Conflict

    for bridge, ip in attachments:
        with host_lock(bridge):
            holder = acquire(bridge, ip, store.db.path, store.cfg.root, cid)
        if holder:
            raise Conflict(f"IPAM error: requested ip address {ip} is already allocated to container ID {holder}")
