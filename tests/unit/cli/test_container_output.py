"""Container command output: ps rows/columns/templates/JSON, status strings, events
lines, stats rows, the raw terminal and the signal proxy, and ps's lean imports."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import termios
import time

import pytest

from engine.cli import events as events_cli
from engine.cli import ps
from engine.cli.humanize import stats_fields
from engine.cli.output import Printer, format_spec
from engine.cli.terminal import RawMode, SignalProxy, attach_streams, parse_detach_keys
from engine.errors import InvalidArgument
from engine.services.container_list import ContainerSummary, status_text
from engine.store.containers import Container, ContainerState

NOW = 1_700_000_000.0


def summary(**kw) -> ContainerSummary:
    base = dict(id="ab" * 32, names=["web"], image="docker.io/library/busybox:latest", image_id="cd" * 32,
                command=["sh", "-c", "sleep 1000 && echo done"], created=NOW - 120, state="running",
                status="Up 2 minutes", exit_code=0, exited=False, pid=4242, started_at=NOW - 119,
                finished_at=0.0, labels={"a": "b"}, mounts=["/data"])
    base.update(kw)
    return ContainerSummary(**base)


def container(state: str, **kw) -> Container:
    return Container(id="ef" * 32, name="c", image_id=None, image_name="busybox", created=NOW - 10,
                     state=ContainerState(state), **kw)


@pytest.mark.parametrize("state,kw,expected", [
    ("created", {}, "Created"),
    ("running", {"started_at": NOW - 2}, "Up 2 seconds"),
    ("running", {"started_at": NOW - 0.5}, "Up Less than a second"),
    ("running", {"started_at": NOW - 1}, "Up 1 second"),
    ("running", {"started_at": NOW - 90}, "Up About a minute"),
    ("running", {"started_at": NOW - 7200, "health": "healthy"}, "Up 2 hours (healthy)"),
    ("exited", {"exit_code": 0, "finished_at": NOW - 3}, "Exited (0) 3 seconds ago"),
    ("exited", {"exit_code": 137, "finished_at": NOW - 600}, "Exited (137) 10 minutes ago"),
    ("stopped", {"exit_code": 3, "finished_at": NOW - 3}, "Exited (3) 3 seconds ago"),
    ("paused", {}, "Paused"),
])
def test_status_strings_as_podman(state, kw, expected):
    assert status_text(container(state, **kw), now=NOW) == expected


def test_ps_row_fields_and_truncation():
    row = ps.ps_row(summary(), NOW)
    assert row["ID"] == "ab" * 6
    assert row["Command"] == "sh -c sleep 1000 ..."  # 17 characters then "..."
    assert row["CreatedHuman"] == "2 minutes ago"
    assert (row["State"], row["Status"], row["Names"]) == ("running", "Up 2 minutes", "web")
    assert row["Labels"] == {"a": "b"} and row["Mounts"] == ["/data"] and row["Pid"] == 4242
    # Podman's psReporter: ImageID cut to 12 unless --no-trunc, CreatedAt is Go's time String()
    assert row["ImageID"] == "cd" * 6
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+", row["CreatedAt"]), row["CreatedAt"]
    from engine.cli.gotemplate import parse_format
    assert parse_format("{{.Mounts}}").render_row(row) == "[/data]\n"
    full = ps.ps_row(summary(), NOW, no_trunc=True)
    assert full["ID"] == "ab" * 32 and full["Command"] == "sh -c sleep 1000 && echo done"
    assert full["ImageID"] == "cd" * 32


def test_ps_default_table_has_podman_columns():
    out = io.StringIO()
    rows = [ps.ps_row(summary(), NOW), ps.ps_row(summary(id="12" * 32, names=["old"], state="exited",
                                                         status="Exited (3) 3 seconds ago", command=["false"]), NOW)]
    Printer(out).table(rows, ps.COLUMNS)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    assert lines[0].startswith("CONTAINER ID  IMAGE")
    assert "Exited (3) 3 seconds ago" in lines[2] and lines[2].endswith("old")


def test_ps_template_and_table_template():
    rows = [ps.ps_row(summary(), NOW)]
    out = io.StringIO()
    Printer(out).formatted(format_spec("{{.ID}} {{.State}} {{.Names}} {{.ExitCode}} {{.Labels}}", ps.HEADERS), rows)
    assert out.getvalue() == f"{'ab' * 6} running web 0 map[a:b]\n"
    out = io.StringIO()
    Printer(out).formatted(format_spec("table {{.ID}}\t{{.Names}}", ps.HEADERS), rows)
    assert out.getvalue().splitlines()[0].split() == ["CONTAINER", "ID", "NAMES"]


def test_ps_json_has_podman_keys():
    doc = ps.container_json(summary(size_rw=10, size_root_fs=110))
    for key in ("Id", "Names", "Image", "ImageID", "Command", "Created", "State", "Status", "ExitCode", "Exited",
                "Labels", "Mounts", "Pid", "Ports", "StartedAt", "AutoRemove", "Size"):
        assert key in doc, key
    assert doc["Names"] == ["web"] and doc["Command"][0] == "sh" and doc["Size"]["rwSize"] == 10


def test_ps_ports_and_size_text():
    assert ps.ports_text([{"host_ip": "", "host_port": 8080, "container_port": 80, "protocol": "tcp"},
                          {"container_port": 53, "protocol": "udp"}]) == "0.0.0.0:8080->80/tcp, 53/udp"
    # go-units HumanSizeWithPrecision(3) as Podman's ps: no space before the unit
    assert ps.size_text(summary(size_rw=0, size_root_fs=2_130_000)) == "0B (virtual 2.13MB)"
    assert ps.size_text(summary(size_rw=12, size_root_fs=1_990_000)) == "12B (virtual 1.99MB)"


def test_ps_sort_is_ascending_as_podman():
    """Podman lists the oldest container first (SortPsOutput: created ascending); the
    service hands rows newest first, so the default order is reversed."""
    rows = [ps.ps_row(summary(id=c * 64, names=[n], created=NOW - age, started_at=NOW - age, state=st), NOW)
            for c, n, age, st in (("3", "new", 1, "running"), ("2", "mid", 5, "exited"), ("1", "old", 9, "created"))]
    assert [r["Names"] for r in ps.sort_rows(rows, "created")] == ["old", "mid", "new"]
    assert [r["Names"] for r in ps.sort_rows(rows, "runningfor")] == ["old", "mid", "new"]
    assert [r["Names"] for r in ps.sort_rows(rows, "names")] == ["mid", "new", "old"]
    assert [r["Names"] for r in ps.sort_rows(rows, "status")] == ["old", "mid", "new"]


def test_event_lines_as_podman():
    from engine.services.events import Event

    ev = Event("container", "died", int(NOW * 1e9), id="ab" * 32, name="web", image="busybox",
               attributes={"x": "1"}, exit_code=3)
    line = events_cli.human(ev)
    assert " container died " + "ab" * 32 + " (image=busybox, name=web, x=1, container_exit_code=3)" in line
    assert line.startswith(time.strftime("%Y-%m-%d", time.localtime(NOW)))
    vol = Event("volume", "create", int(NOW * 1e9), id="v1", name="v1")
    assert events_cli.human(vol).endswith(" volume create v1")


def test_stats_row_fields():
    from engine.services.container_stats import Stats

    row = stats_fields(Stats(id="ab" * 32, name="web", cpu_nano=1_500_000_000, cpu_percent=12.345,
                               mem_usage=1_000_000, mem_limit=2_000_000, mem_percent=50.0, pids=3))
    assert row["ID"] == "ab" * 6 and row["CPUPerc"] == "12.35%" and row["PIDs"] == "3"
    # go-units HumanSize / BytesSize as Podman's stats ("0B / 0B")
    assert row["MemUsage"] == "1MB / 2MB" and row["MemPerc"] == "50.00%" and row["CPU"] == "1.5s"
    assert row["MemUsageBytes"] == "976.6KiB / 1.907MiB"


def test_detach_keys_and_attach_streams():
    assert parse_detach_keys("ctrl-p,ctrl-q") == b"\x10\x11"
    assert parse_detach_keys("") == b""
    with pytest.raises(InvalidArgument):
        parse_detach_keys("ctrl-1")
    assert attach_streams([], interactive=False) == (False, True, True)
    assert attach_streams([], interactive=True) == (True, True, True)
    assert attach_streams(["stdout"], interactive=True) == (False, True, False)


def test_raw_mode_is_set_and_restored_on_a_pty():
    master, slave = os.openpty()
    try:
        before = termios.tcgetattr(slave)
        assert before[3] & termios.ICANON
        with RawMode(slave):
            assert not termios.tcgetattr(slave)[3] & (termios.ICANON | termios.ECHO)
        assert termios.tcgetattr(slave) == before
        with pytest.raises(RuntimeError):  # restored on errors too
            with RawMode(slave):
                raise RuntimeError("boom")
        assert termios.tcgetattr(slave) == before
        with RawMode(slave, enabled=False):
            assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_raw_mode_ignores_non_terminals(tmp_path):
    fd = os.open(tmp_path / "f", os.O_CREAT | os.O_RDWR)
    try:
        with RawMode(fd) as raw:
            assert raw.saved is None
    finally:
        os.close(fd)


def test_signal_proxy_forwards_and_restores():
    got: list[int] = []
    before = signal.getsignal(signal.SIGUSR1)
    with SignalProxy(got.append):
        os.kill(os.getpid(), signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGINT)  # would be KeyboardInterrupt without the proxy
        time.sleep(0.01)
    assert got == [signal.SIGUSR1, signal.SIGINT]
    assert signal.getsignal(signal.SIGUSR1) == before
    with SignalProxy(got.append, enabled=False):
        assert signal.getsignal(signal.SIGUSR1) == before


def test_ps_path_imports_are_lean(tmp_path):
    code = ("import sys; from engine.cli.main import main; "
            f"sys.argv=['hull','--root','{tmp_path}/root','--runroot','{tmp_path}/run','ps','-a']\n"
            "assert main() == 0\n"
            "bad=[m for m in sys.modules if m.split('.')[0] in ('rich','cffi','_cffi_backend','httpx','django','yaml')"
            " or m.startswith(('engine.spec','engine.runtime','engine.monitor','engine.cli.gotemplate'))]\n"
            "print('HEAVY:' + ','.join(sorted(bad)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY:", out


def test_time_args_as_podmans_parse_input_time():
    """A duration goes back for --since and forward for --until (Podman's ParseInputTime),
    so `logs --until 1h` shows everything; Hull read it as an hour ago and showed nothing."""
    from engine.cli.ctr_common import parse_time_arg

    assert parse_time_arg("1h", "--since", now=NOW) == NOW - 3600
    assert parse_time_arg("1h", "--until", now=NOW) == NOW + 3600
    assert parse_time_arg("1700000000.5", "--until", now=NOW) == 1700000000.5
    with pytest.raises(InvalidArgument, match='parsing --until "soon": unable to interpret time value'):
        parse_time_arg("soon", "--until", now=NOW)
