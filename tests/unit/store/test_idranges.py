"""engine/store/idranges.py and the pure parts of engine/services/container_userns.py:
first fit inside pools, holes around pinned ids, the rootless split at namespace id 1,
rows released with their container."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.services import container_userns as cu
from engine.store.idranges import IDRangeStore, NoFreeRange, first_fit


def test_first_fit_skips_taken_and_crosses_extents():
    pool = [(100, 10), (1000, 50)]
    assert first_fit(pool, [], 5) == 100
    assert first_fit(pool, [(100, 3)], 5) == 103
    assert first_fit(pool, [(102, 2)], 5) == 104
    assert first_fit(pool, [(100, 6)], 5) == 1000  # 4 left in the first extent: too few
    assert first_fit(pool, [(1000, 50), (100, 10)], 1) is None
    assert first_fit(pool, [(0, 2000)], 1) is None


def test_holes_and_fill_around_pins():
    assert cu._holes(10, []) == [(0, 10)]
    assert cu._holes(10, [(0, 500, 1)]) == [(1, 9)]
    assert cu._holes(10, [(3, 7, 2), (8, 9, 5)]) == [(0, 3), (5, 3)]
    assert cu._fill([(0, 3), (5, 3)], 1000) == [(0, 1000, 3), (5, 1003, 3)]


def test_rootless_split_at_namespace_id_1():
    rootless, root = SimpleNamespace(rootless=True), SimpleNamespace(rootless=False)
    assert cu._split([(0, 0, 5)], rootless) == [(0, 0, 1), (1, 1, 4)]
    assert cu._split([(0, 0, 5)], root) == [(0, 0, 5)]
    assert cu._split([(0, 1, 5)], rootless) == [(0, 1, 5)]


def test_pins_parse_and_refuse():
    assert cu._parse_pins("0:5:1;10:20:3", "uidmapping") == [(0, 5, 1), (10, 20, 3)]
    with pytest.raises(Exception, match="invalid uidmapping"):
        cu._parse_pins("0:5", "uidmapping")


def test_store_allocates_disjoint_blocks_and_releases(tmp_path):
    from engine.store.db import StateDB

    db = StateDB(tmp_path / "state.db")
    with db.transaction() as conn:  # the FK target
        for cid in ("a", "b", "c"):
            conn.execute("INSERT INTO containers (id, name, image_id, image_name, created, state, options, "
                         "labels, command) VALUES (?, ?, NULL, '', 0, 'configured', '{}', '{}', '[]')", (cid, cid))
    rs = IDRangeStore(db)

    def place(u: int, g: int):
        return [(0, u, 10)], [(0, g, 10)]

    a = rs.record("a", [], [], auto_size=10, uid_pool=[(100, 25)], gid_pool=[(100, 25)], place=place)
    b = rs.record("b", [], [], auto_size=10, uid_pool=[(100, 25)], gid_pool=[(100, 25)], place=place)
    assert (a.uid_start, b.uid_start) == (100, 110)
    with pytest.raises(NoFreeRange):
        rs.record("c", [], [], auto_size=10, uid_pool=[(100, 25)], gid_pool=[(100, 25)], place=place)
    with db.transaction() as conn:
        conn.execute("DELETE FROM containers WHERE id = 'a'")  # the row goes with the container
    assert rs.get("a") is None
    c = rs.record("c", [], [], auto_size=10, uid_pool=[(100, 25)], gid_pool=[(100, 25)], place=place)
    assert c.uid_start == 100 and rs.get("c").uid_maps == [(0, 100, 10)]
