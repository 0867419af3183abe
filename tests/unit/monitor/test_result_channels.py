"""The monitor's result channels: reading what a finished helper wrote must not spin
when a process the helper forked (a created container's init, before its exec) still
holds the far end: seen as a monitor at 40% CPU for half an hour."""

from __future__ import annotations

import selectors
import signal

from engine.monitor.monitor import Monitor
from engine.monitor.process import pack_msg


def _bare_monitor() -> Monitor:
    mon = Monitor.__new__(Monitor)  # only the result-channel plumbing is exercised
    mon.sel = selectors.DefaultSelector()
    mon.results = {}
    mon.last_channel = -1
    return mon


def test_read_all_results_returns_while_the_far_end_is_still_open():
    mon = _bare_monitor()
    got: list[dict] = []
    theirs = mon._result_channel(got.append)
    theirs.sendall(pack_msg({"created": 42}))
    old = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("spinning")))
    signal.alarm(5)
    try:
        mon._read_all_results(mon.last_channel)  # the far end stays open (held elsewhere)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert got == [{"created": 42}]
    assert mon.last_channel in mon.results  # still watched: its end-of-file comes later
    theirs.close()
    mon._read_all_results(mon.last_channel)
    assert mon.last_channel not in mon.results
