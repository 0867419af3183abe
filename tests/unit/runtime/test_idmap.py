"""Parsing /etc/subuid-style text and building Podman's rootless id maps."""

from pathlib import Path

import pytest

from engine.runtime.idmap import (IDMap, IDMapError, SubIDRange, build_id_maps, format_proc_map, host_id,
                                  is_identity_map, newidmap_args, parse_proc_map, parse_subid_text,
                                  user_id_maps)

SUBUID = """\
# comment line
root:200000:1000
alice:100000:65536

bob:165536:65536
1002:300000:10
"""


def test_ranges_by_name():
    assert parse_subid_text(SUBUID, "alice", 1001) == [SubIDRange(100000, 65536)]


def test_ranges_by_uid_number():
    assert parse_subid_text(SUBUID, "carol", 1002) == [SubIDRange(300000, 10)]


def test_ranges_by_name_and_number_in_file_order():
    text = "dave:500000:100\n1003:600000:50\n"
    assert parse_subid_text(text, "dave", 1003) == [SubIDRange(500000, 100), SubIDRange(600000, 50)]


def test_no_range_for_unknown_user():
    assert parse_subid_text(SUBUID, "nobody-here", 4242) == []


def test_other_users_bad_lines_are_ignored():
    assert parse_subid_text("eve:x:y\nalice:100000:10\n", "alice", 1001) == [SubIDRange(100000, 10)]


@pytest.mark.parametrize("line, message", [
    ("alice:100000", "expected NAME:START:COUNT"),
    ("alice:10x:5", "start '10x' is not a number"),
    ("alice:100:-5", "count '-5' is not a number"),
    ("alice:4294967290:100", "goes past the largest id"),
])
def test_parse_errors_name_file_and_line(line, message):
    with pytest.raises(IDMapError) as info:
        parse_subid_text(f"# header\n{line}\n", "alice", 1001, "/etc/subuid")
    assert str(info.value).startswith("/etc/subuid line 2: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_overlapping_ranges_are_refused():
    with pytest.raises(IDMapError, match="overlaps"):
        parse_subid_text("alice:100000:100\nalice:100050:100\n", "alice", 1001)


def test_zero_count_is_skipped():
    assert parse_subid_text("alice:100000:0\n", "alice", 1001) == []


def test_map_root_to_user_then_ranges():
    maps = build_id_maps(1001, [SubIDRange(100000, 65536)])
    assert maps == (IDMap(0, 1001, 1), IDMap(1, 100000, 65536))
    assert newidmap_args(maps) == ["0", "1001", "1", "1", "100000", "65536"]
    assert format_proc_map(maps) == "0 1001 1\n1 100000 65536\n"
    assert host_id(maps, 0) == 1001
    assert host_id(maps, 33) == 100032
    assert host_id(maps, 65536) == 165535
    assert host_id(maps, 65537) is None


def test_several_ranges_are_stacked():
    maps = build_id_maps(1000, [SubIDRange(100000, 10), SubIDRange(200000, 5)])
    assert maps == (IDMap(0, 1000, 1), IDMap(1, 100000, 10), IDMap(11, 200000, 5))
    assert host_id(maps, 12) == 200001


def test_range_holding_own_id_is_refused():
    with pytest.raises(IDMapError, match="own id 1001"):
        build_id_maps(1001, [SubIDRange(1000, 10)])


def test_too_many_ranges():
    ranges = [SubIDRange(100000 + 10 * i, 10) for i in range(400)]
    with pytest.raises(IDMapError, match="too many"):
        build_id_maps(1001, ranges)


def test_user_maps_from_files(tmp_path: Path):
    (tmp_path / "subuid").write_text("alice:100000:65536\n")
    (tmp_path / "subgid").write_text("alice:200000:1000\n")
    maps = user_id_maps(1001, 1005, "alice", tmp_path / "subuid", tmp_path / "subgid")
    assert maps.uid_maps == (IDMap(0, 1001, 1), IDMap(1, 100000, 65536))
    assert maps.gid_maps == (IDMap(0, 1005, 1), IDMap(1, 200000, 1000))
    assert maps.warning is None and not maps.single


def test_single_id_map_when_no_range(tmp_path: Path):
    (tmp_path / "subuid").write_text("bob:100000:65536\n")
    maps = user_id_maps(1001, 1001, "alice", tmp_path / "subuid", tmp_path / "missing")
    assert maps.uid_maps == (IDMap(0, 1001, 1),) and maps.gid_maps == (IDMap(0, 1001, 1),)
    assert maps.single
    assert "single-id map" in maps.warning and "\n" not in maps.warning
    assert str(tmp_path / "subuid") in maps.warning


def test_proc_map_round_trip_and_identity():
    assert is_identity_map(parse_proc_map("         0          0 4294967295\n"))
    maps = parse_proc_map("         0       1001          1\n         1     100000      65536\n")
    assert maps == (IDMap(0, 1001, 1), IDMap(1, 100000, 65536))
    assert not is_identity_map(maps)
