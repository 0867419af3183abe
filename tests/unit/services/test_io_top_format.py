"""ps-like descriptors of `top` and the numbers `stats` reads, on this test's own processes."""

import os
import subprocess
import sys

import pytest

from engine.errors import InvalidArgument
from engine.services import container_stats as cs


def test_default_and_parsed_descriptors():
    assert cs.parse_descriptors([]) == ["user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"]
    assert cs.parse_descriptors(["pid,user", "%CPU"]) == ["pid", "user", "pcpu"]
    assert cs.parse_descriptors(["-eo", "pid,comm"]) == ["pid", "comm"]
    with pytest.raises(InvalidArgument, match="'bogus': unknown descriptor"):
        cs.parse_descriptors(["pid,bogus"])
    assert [cs.HEADERS[d] for d in cs.DEFAULT_DESCRIPTORS] == [
        "USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"]


@pytest.mark.parametrize("seconds,text", [
    (0, "0s"), (1.5, "1.5s"), (0.25, "250ms"), (62.5, "1m2.5s"), (3600, "1h0m0s"),
    (2.516484226, "2.516484226s"), (0.000001, "1µs"),
])
def test_go_duration(seconds, text):
    assert cs.go_duration(seconds) == text


def test_tty_names():
    assert cs.tty_name(0) == "?"
    assert cs.tty_name(os.makedev(136, 3)) == "pts/3"
    assert cs.tty_name(os.makedev(4, 1)) == "tty1"


def test_cells_of_a_real_process():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "marker-arg"])
    try:
        for _ in range(200):  # until the child has exec'd python
            proc = cs.read_proc(child.pid)
            if proc is not None and proc.args.endswith("marker-arg") and proc.rss_pages:
                break
            import time
            time.sleep(0.01)
        assert proc is not None and proc.ppid == os.getpid()
        acc = cs.Accounts(None)
        acc.users[proc.uids[1]] = "someone"
        now = cs._uptime_ticks()
        row = {d: cs.cell(d, proc, acc, now) for d in cs.HEADERS}
        assert row["user"] == "someone" and row["args"].endswith("marker-arg")
        assert row["pid"] == str(child.pid) and row["hpid"] == str(child.pid)
        assert float(row["pcpu"]) >= 0 and row["time"] == "0s"
        assert row["tty"] == "?" or row["tty"].startswith(("pts/", "tty"))
        assert row["comm"].startswith("python")
        assert int(row["rss"]) > 0
        mine = cs.members(os.getpid())
        assert child.pid in [p.pid for p in mine]
        assert [p.ns_pid for p in mine] == sorted(p.ns_pid for p in mine)
    finally:
        child.kill()
        child.wait()
