"""Pure pieces of the monitor: attach framing, restart decisions and back-off, the
healthcheck state machine, monitor.json, the exit file, minijson."""

from __future__ import annotations

import json

import pytest

from engine.monitor import attach as proto
from engine.monitor.config import HealthSpec, MonitorConfig
from engine.monitor.exitfile import ExitInfo, exit_code_from_status, read_exit, write_exit
from engine.monitor.health import HealthState
from engine.monitor.minijson import dumps
from engine.monitor.process import pack_msg, unpack_msgs
from engine.monitor.restart import Backoff, should_restart


def test_frames_round_trip_in_pieces():
    data = proto.frame(proto.STDOUT, b"hello") + proto.frame(proto.EXIT, b"3") + proto.frame(proto.RESIZE, b"24 80")
    assert data[:5] == b"\x01\x00\x00\x00\x05"
    dec = proto.FrameDecoder()
    got = []
    for i in range(len(data)):  # one byte at a time
        got += dec.feed(data[i:i + 1])
    assert got == [(1, b"hello"), (3, b"3"), (5, b"24 80")]
    assert dec.feed(proto.frame(proto.STDIN)) == [(0, b"")]


def test_oversized_frame_is_refused():
    with pytest.raises(proto.ProtocolError):
        proto.FrameDecoder().feed(b"\x00" + (proto.MAX_FRAME + 1).to_bytes(4, "big"))


@pytest.mark.parametrize("policy,retries,code,count,by_user,rm,expected", [
    ("no", 0, 1, 0, False, False, False),
    ("on-failure", 0, 0, 0, False, False, False),
    ("on-failure", 0, 1, 50, False, False, True),    # 0: no limit
    ("on-failure", 2, 1, 1, False, False, True),
    ("on-failure", 2, 1, 2, False, False, False),
    ("always", 0, 0, 9, False, False, True),
    ("unless-stopped", 0, 0, 0, False, False, True),
    ("always", 0, 0, 0, True, False, False),          # never after a user stop
    ("always", 0, 1, 0, False, True, False),          # never with --rm
])
def test_should_restart(policy, retries, code, count, by_user, rm, expected):
    assert should_restart(policy, retries, code, count, by_user, rm) is expected


def test_backoff_doubles_caps_and_resets():
    b = Backoff()
    assert [b.next_delay(0.1) for _ in range(4)] == [0.1, 0.2, 0.4, 0.8]
    for _ in range(20):
        b.next_delay(0.1)
    assert b.next_delay(0.1) == 60.0
    assert b.next_delay(15.0) == 0.1  # a run of 10 s or more starts over


def test_health_starting_healthy_unhealthy():
    h = HealthState(retries=2, start_period=0, started=0.0)
    assert h.status == "starting"
    assert h.record(0, "ok", 1, 2, now=1.0) == "healthy"
    assert h.record(1, "bad", 3, 4, now=2.0) is None and h.failing_streak == 1
    assert h.record(1, "bad", 5, 6, now=3.0) == "unhealthy"
    assert h.record(0, "ok", 7, 8, now=4.0) == "healthy" and h.failing_streak == 0
    for i in range(10):
        h.record(0, "x" * 5000, i, i, now=5.0)
    doc = json.loads(h.to_json())
    assert len(doc["Log"]) == 5 and len(doc["Log"][0]["Output"]) == 4096
    assert set(doc) == {"Status", "FailingStreak", "Log"}
    assert doc["Log"][0]["Start"].endswith("Z")


def test_health_start_period():
    h = HealthState(retries=1, start_period=10, started=0.0)
    assert h.record(1, "", 0, 0, now=5.0) is None and h.status == "starting"  # not counted
    assert h.failing_streak == 0
    assert h.record(1, "", 0, 0, now=11.0) == "unhealthy"
    h2 = HealthState(retries=1, start_period=10, started=0.0)
    h2.record(0, "", 0, 0, now=1.0)  # a pass ends the start period
    assert h2.record(1, "", 0, 0, now=2.0) == "unhealthy"


def test_health_spec_argv():
    assert HealthSpec(["CMD-SHELL", "curl -f x"]).argv == ["/bin/sh", "-c", "curl -f x"]
    assert HealthSpec(["CMD", "true", "a"]).argv == ["true", "a"]
    assert HealthSpec(["NONE"]).argv is None and HealthSpec([]).argv is None


def test_monitor_config_round_trip(tmp_path):
    cfg = MonitorConfig(runtime="crun", log_driver="json-file", log_path="/x/ctr.log", log_max_size=1024,
                        log_max_file=3, tty=True, stdin_open=True, restart_policy="on-failure",
                        restart_max_retries=2, healthcheck=HealthSpec(["CMD", "true"], 1, 2, 3, 4, "kill"),
                        stop_signal=2, stop_timeout=5, rm=True, name="n", image="i")
    cfg.save(tmp_path / "monitor.json")
    assert (tmp_path / "monitor.json").stat().st_mode & 0o777 == 0o600
    assert MonitorConfig.load(tmp_path / "monitor.json") == cfg
    assert MonitorConfig.from_dict(json.loads(cfg.to_json())) == cfg
    with pytest.raises(ValueError):
        MonitorConfig(log_driver="journald")
    with pytest.raises(ValueError):
        MonitorConfig(restart_policy="sometimes")


def test_exit_file(tmp_path):
    p = str(tmp_path / "exit")
    assert read_exit(p) is None
    write_exit(p, 137, 1_700_000_000_123_456_789)
    assert read_exit(p) == ExitInfo(137, 1_700_000_000_123_456_789)
    assert (tmp_path / "exit").read_text() == "137 1700000000.123456789\n"
    assert exit_code_from_status(0x0900) == 9      # exited 9
    assert exit_code_from_status(15) == 143        # killed by SIGTERM


def test_minijson_and_messages():
    doc = {"a": [1, 2.5, None, True, False], "s": 'q"\n\u00e9', "n": {"x": -3}}
    assert json.loads(dumps(doc)) == doc
    buf = bytearray(pack_msg({"ready": 5}) + pack_msg({"error": "x", "code": 127}) + b"\x00\x00")
    assert unpack_msgs(buf) == [{"ready": 5}, {"error": "x", "code": 127}]
    assert buf == b"\x00\x00"
