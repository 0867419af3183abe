"""Per-container user namespace maps (--userns=auto, --uidmap/--gidmap) and the id
blocks --userns=auto takes from a pool.

A row holds a container's final maps and, for auto, the host block it was given.
Allocation is first fit inside one `BEGIN IMMEDIATE` transaction, so two concurrent
creates never get overlapping blocks; the row goes with the container's (ON DELETE
CASCADE), which releases the block.
"""

from __future__ import annotations

import json

from engine.errors import HullError
from engine.record import Record
from engine.store.db import StateDB

Maps = list[tuple[int, int, int]]  # (container id, host id, size)


class NoFreeRange(HullError):
    pass


class IDRanges(Record):
    container_id: str
    uid_maps: Maps
    gid_maps: Maps
    uid_start: int = 0
    uid_size: int = 0
    gid_start: int = 0
    gid_size: int = 0
    copy_key: str = ""


def first_fit(pool: list[tuple[int, int]], taken: list[tuple[int, int]], size: int) -> int | None:
    """The lowest start of `size` free ids inside one (start, size) extent of `pool`."""
    busy = sorted(taken)
    for start, length in pool:
        pos, end = start, start + length
        for t_start, t_size in busy:
            if t_start + t_size <= pos or t_start >= end:
                continue
            if t_start - pos >= size:
                return pos
            pos = max(pos, t_start + t_size)
        if end - pos >= size:
            return pos
    return None


class IDRangeStore:
    def __init__(self, db: StateDB) -> None:
        self.db = db

    def record(self, cid: str, uid_maps: Maps, gid_maps: Maps, *, auto_size: int = 0,
               uid_pool: list[tuple[int, int]] | None = None, gid_pool: list[tuple[int, int]] | None = None,
               place=None, uid_reserved: list[tuple[int, int]] = (), gid_reserved: list[tuple[int, int]] = (),
               ) -> IDRanges:
        """Store the container's maps.  With `auto_size`, first take a free block of
        that many ids from each pool and call `place(uid_start, gid_start) -> (uid_maps,
        gid_maps)` to build the maps around it (all in one write transaction)."""
        with self.db.transaction() as conn:
            ustart = gstart = 0
            if auto_size:
                rows = conn.execute("SELECT uid_start, uid_size, gid_start, gid_size FROM id_ranges "
                                    "WHERE uid_size > 0").fetchall()
                ustart = first_fit(uid_pool or [], [(r[0], r[1]) for r in rows] + list(uid_reserved), auto_size)
                gstart = first_fit(gid_pool or [], [(r[2], r[3]) for r in rows] + list(gid_reserved), auto_size)
                if ustart is None or gstart is None:
                    raise NoFreeRange(f"could not find enough available IDs for a user namespace of size "
                                      f"{auto_size}: every range of the pool is in use")
                uid_maps, gid_maps = place(ustart, gstart)
            conn.execute("INSERT OR REPLACE INTO id_ranges (container_id, uid_start, uid_size, gid_start, "
                         "gid_size, uid_maps, gid_maps) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (cid, ustart, auto_size, gstart, auto_size, json.dumps(uid_maps), json.dumps(gid_maps)))
        return IDRanges(cid, uid_maps, gid_maps, ustart, auto_size, gstart, auto_size)

    def get(self, cid: str) -> IDRanges | None:
        rows = self.db.query("SELECT * FROM id_ranges WHERE container_id = ?", (cid,))
        if not rows:
            return None
        r = rows[0]
        return IDRanges(cid, [tuple(m) for m in json.loads(r["uid_maps"])],
                        [tuple(m) for m in json.loads(r["gid_maps"])], r["uid_start"], r["uid_size"],
                        r["gid_start"], r["gid_size"], r["copy_key"])

    def set_copy_key(self, cid: str, key: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE id_ranges SET copy_key = ? WHERE container_id = ?", (key, cid))

    def copy_keys_in_use(self) -> set[str]:
        return {r[0] for r in self.db.query("SELECT DISTINCT copy_key FROM id_ranges WHERE copy_key != ''")}

    def release(self, cid: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM id_ranges WHERE container_id = ?", (cid,))
