"""Log writer formats and rotation, and the reader (partial lines, tail, since/until,
rotated files, follow across rotation)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from engine.errors import HullError
from engine.monitor.logread import parse_timestamp
from engine.monitor.logs import LogWriter, format_local, read_logs

NS = 1_700_000_000_123_456_789


def test_k8s_format_full_and_partial(tmp_path: Path):
    w = LogWriter("k8s-file", str(tmp_path / "l"))
    w.write("stdout", b"one\ntwo\npar", NS)
    w.write("stderr", b"e\n", NS + 1)
    w.close()
    lines = (tmp_path / "l").read_bytes().split(b"\n")
    stamp = format_local(NS)
    assert lines[:3] == [stamp + b" stdout F one", stamp + b" stdout F two", stamp + b" stdout P par"]
    assert lines[3].endswith(b" stderr F e")
    assert parse_timestamp(stamp) == NS
    assert parse_timestamp(b"2023-11-14T22:13:20.5Z") == 1_700_000_000_500_000_000
    assert parse_timestamp(b"2023-11-14T23:13:20+01:00") == 1_700_000_000_000_000_000


def test_json_file_format_is_dockers(tmp_path: Path):
    w = LogWriter("json-file", str(tmp_path / "l"))
    w.write("stdout", 'héllo "q"\npart'.encode(), NS)
    w.close()
    docs = [json.loads(l) for l in (tmp_path / "l").read_text().splitlines()]
    assert docs == [{"log": 'héllo "q"\n', "stream": "stdout", "time": "2023-11-14T22:13:20.123456789Z"},
                    {"log": "part", "stream": "stdout", "time": "2023-11-14T22:13:20.123456789Z"}]
    got = list(read_logs(tmp_path / "l", "json-file"))
    assert [(l.stream, l.data, l.time) for l in got] == [("stdout", 'héllo "q"\n'.encode(), NS),
                                                          ("stdout", b"part", NS)]


def test_none_driver_writes_nothing_and_cannot_be_read(tmp_path: Path):
    w = LogWriter("none", str(tmp_path / "l"))
    w.write("stdout", b"x\n")
    assert not (tmp_path / "l").exists()
    with pytest.raises(HullError, match="'none' log driver"):
        list(read_logs(tmp_path / "l", "none"))


def test_partial_pieces_join_per_stream(tmp_path: Path):
    w = LogWriter("k8s-file", str(tmp_path / "l"))
    w.write("stdout", b"ab", NS)
    w.write("stderr", b"err\n", NS + 5)
    w.write("stdout", b"cd", NS + 10)
    w.write("stdout", b"ef\nlast", NS + 20)
    w.close()
    got = [(l.stream, l.time, l.data) for l in read_logs(tmp_path / "l")]
    assert got == [("stderr", NS + 5, b"err\n"), ("stdout", NS, b"abcdef\n"), ("stdout", NS + 20, b"last")]


def test_rotation_keeps_max_file(tmp_path: Path):
    path = tmp_path / "ctr.log"
    w = LogWriter("k8s-file", str(path), max_size=300, max_file=3)
    for i in range(40):
        w.write("stdout", f"line {i:02d}\n".encode(), NS + i)
    w.close()
    files = sorted(os.listdir(tmp_path))
    assert files == ["ctr.log", "ctr.log.1", "ctr.log.2"]
    assert all(0 < (tmp_path / f).stat().st_size <= 300 for f in files)
    data = [l.data for l in read_logs(path)]
    assert data[-1] == b"line 39\n"
    numbers = [int(d.split()[1]) for d in data]
    assert numbers == list(range(numbers[0], 40))


def test_rotation_with_max_file_1_truncates(tmp_path: Path):
    path = tmp_path / "ctr.log"
    w = LogWriter("k8s-file", str(path), max_size=200)
    for i in range(20):
        w.write("stdout", f"line {i:02d}\n".encode(), NS + i)
    w.close()
    assert os.listdir(tmp_path) == ["ctr.log"]
    assert path.stat().st_size <= 200
    assert [l.data for l in read_logs(path)][-1] == b"line 19\n"


def test_a_record_bigger_than_max_size_is_written_whole(tmp_path: Path):
    path = tmp_path / "ctr.log"
    w = LogWriter("k8s-file", str(path), max_size=50, max_file=2)
    w.write("stdout", b"x" * 200 + b"\n", NS)
    w.close()
    assert [l.data for l in read_logs(path)] == [b"x" * 200 + b"\n"]


def test_tail_since_until_timestamps(tmp_path: Path):
    path = tmp_path / "l"
    w = LogWriter("k8s-file", str(path))
    for i in range(10):
        w.write("stdout", f"{i}\n".encode(), NS + i * 1_000_000_000)
    w.close()
    assert [l.data for l in read_logs(path, tail=3)] == [b"7\n", b"8\n", b"9\n"]
    assert list(read_logs(path, tail=0)) == []
    since = NS / 1e9 + 5.5  # epoch seconds, as the CLI parses --since
    until = NS / 1e9 + 7.5
    assert [l.data for l in read_logs(path, since=since, until=until)] == [b"6\n", b"7\n"]
    assert [l.data for l in read_logs(path, since=NS + 5_000_000_000, until=NS + 6_000_000_000)] == [b"5\n", b"6\n"]
    stamped = next(iter(read_logs(path, timestamps=True)))
    assert stamped.data == format_local(NS) + b" 0\n"


def test_follow_sees_new_lines_across_rotation(tmp_path: Path):
    path = tmp_path / "ctr.log"
    w = LogWriter("k8s-file", str(path), max_size=120, max_file=2)
    w.write("stdout", b"first\n", NS)
    stop = threading.Event()

    def writer() -> None:
        for i in range(8):
            time.sleep(0.03)
            w.write("stdout", f"more {i}\n".encode(), NS + i + 1)
        time.sleep(0.3)
        stop.set()

    t = threading.Thread(target=writer)
    t.start()
    got = [l.data for l in read_logs(path, follow=lambda: not stop.is_set(), poll_interval=0.01)]
    t.join()
    w.close()
    assert got == [b"first\n"] + [f"more {i}\n".encode() for i in range(8)]
