"""The monitor with real processes (stand-in host runtime): exit codes, logs, the pty,
attach, surviving its launcher, restarts, healthchecks, signals, stop escalation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.errors import CommandNotFound
from engine.monitor.attach_client import AttachClient
from engine.monitor.launch import start_monitor
from engine.monitor.logs import read_logs
from engine.monitor.process import pid_file_alive
from engine.monitor.stop import stop_container

REPO = Path(__file__).resolve().parents[3]


def test_exit_code_log_and_event(make_container):
    c = make_container(["sh", "-c", "echo hello; echo oops >&2; printf tail; exit 3"])
    h = start_monitor(c.cfg, c.cid)
    assert h.pid > 0 and h.monitor_pid > 0 and h.monitor_pid != os.getpid()
    assert c.wait_exit().code == 3
    c.wait_monitor_gone()
    lines = c.log_text().splitlines()
    # two pipes: the order across stdout and stderr is not defined, within each it is
    assert sorted(l.split(" ", 1)[1] for l in lines) == ["stderr F oops", "stdout F hello", "stdout P tail"]
    got = [(l.stream, l.data) for l in read_logs(c.mcfg.log_path)]
    assert [g for g in got if g[0] == "stdout"] == [("stdout", b"hello\n"), ("stdout", b"tail")]
    assert [g for g in got if g[0] == "stderr"] == [("stderr", b"oops\n")]
    died = [e for e in c.events() if e.get("action") == "died" or e.get("Action") == "died"]
    assert died, c.events()
    assert not os.path.exists(c.paths.run("attach"))  # cleaned up at the end


def test_killed_by_signal_is_128_plus_n(make_container):
    c = make_container(["sh", "-c", "kill -9 $$"])
    start_monitor(c.cfg, c.cid)
    assert c.wait_exit().code == 137


def test_command_not_found_is_127(make_container):
    c = make_container(["no-such-command-here"])
    with pytest.raises(CommandNotFound) as err:
        start_monitor(c.cfg, c.cid)
    assert err.value.exit_code == 127
    assert "executable file not found" in str(err.value)
    c.wait_monitor_gone()


def test_survives_sigkill_of_the_launcher(make_container, tmp_path):
    flag = tmp_path / "go"
    c = make_container(["sh", "-c", f"while [ ! -e {flag} ]; do sleep 0.05; done; echo done; exit 7"])
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from engine.config import EngineConfig\n"
        "from engine.monitor.launch import start_monitor\n"
        f"cfg = EngineConfig(root=Path({str(c.cfg.root)!r}), runroot=Path({str(c.cfg.runroot)!r}), rootless=False)\n"
        f"h = start_monitor(cfg, {c.cid!r})\n"
        "print(h.monitor_pid, flush=True)\n"
        "time.sleep(60)\n")
    launcher = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE)
    monitor_pid = int(launcher.stdout.readline())
    launcher.kill()
    launcher.wait()
    time.sleep(0.2)
    assert pid_file_alive(c.paths.run("monitor.pid")) == monitor_pid
    assert pid_file_alive(c.paths.run("pid")) is not None
    flag.touch()
    assert c.wait_exit().code == 7
    assert "stdout F done" in c.log_text()


def test_pty_output(make_container):
    c = make_container(["sh", "-c", "tty; stty size; echo hi"], terminal=True)
    start_monitor(c.cfg, c.cid)
    assert c.wait_exit().code == 0
    c.wait_monitor_gone()
    text = c.log_text()
    assert "stdout F /dev/pts/" in text, text
    assert "stdout F hi\r" in text, text  # the pty's ONLCR, as Podman logs it
    assert "stderr" not in text


def test_attach_live_output_and_stdin(make_container):
    c = make_container(["sh", "-c", "echo ready; read line; echo got:$line; cat >/dev/null; echo eof"],
                       stdin_open=True)
    h = start_monitor(c.cfg, c.cid)
    with AttachClient(h.attach_path) as a, AttachClient(h.attach_path) as watcher:
        time.sleep(0.2)
        a.send_stdin(b"hello\n")
        watcher.send_stdin(b"ignored: stdin belongs to the first client\n")
        a.send_stdin(b"more\n")
        a.close_stdin()
        out, err, code = a.collect()
        seen, _, code2 = watcher.collect()
    assert code == 0 and code2 == 0
    assert b"got:hello\n" in out and out.endswith(b"eof\n"), out
    assert b"got:hello" in seen and b"ignored" not in out


def test_attach_replays_output_for_the_promised_client(make_container):
    c = make_container(["sh", "-c", "echo first; echo second >&2; exit 4"])
    h = start_monitor(c.cfg, c.cid, attach=True)
    time.sleep(0.5)  # the container is long done: the monitor kept its output for us
    with AttachClient(h.attach_path) as a:
        out, err, code = a.collect()
    assert (out, err, code) == (b"first\n", b"second\n", 4)


def test_pty_attach_resize(make_container):
    c = make_container(["sh", "-c", "read x; stty size"], terminal=True, stdin_open=True)
    h = start_monitor(c.cfg, c.cid)
    with AttachClient(h.attach_path) as a:
        a.resize(33, 101)
        time.sleep(0.1)
        a.send_stdin(b"go\n")
        out, _, code = a.collect()
    assert code == 0
    assert b"33 101" in out, out


def test_log_rotation_at_max_size(make_container):
    c = make_container(["sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done"],
                       log_max_size=4000, log_max_file=3)
    start_monitor(c.cfg, c.cid)
    c.wait_exit()
    c.wait_monitor_gone()
    log = Path(c.mcfg.log_path)
    sizes = [p.stat().st_size for p in (log, Path(f"{log}.1"), Path(f"{log}.2"))]
    assert all(0 < s <= 4000 for s in sizes), sizes
    assert not Path(f"{log}.3").exists()
    lines = [l.data for l in read_logs(log)]
    assert lines[-1] == b"line-299\n"
    numbers = [int(l.split(b"-")[1]) for l in lines]
    assert numbers == list(range(numbers[0], 300))  # oldest rotated file first, nothing out of order
    assert [l.data for l in read_logs(log, tail=2)] == [b"line-298\n", b"line-299\n"]


def test_restart_on_failure_2(make_container):
    c = make_container(["sh", "-c", "echo run; exit 1"], restart_policy="on-failure", restart_max_retries=2)
    start_monitor(c.cfg, c.cid)
    c.wait_monitor_gone(30)
    assert c.log_text().count("stdout F run") == 3
    assert c.wait_exit().code == 1
    actions = [e.get("action") or e.get("Action") for e in c.events()]
    assert actions.count("restart") == 2, actions


def test_restart_always_but_not_after_user_stop(make_container):
    c = make_container(["sh", "-c", "trap '' TERM; echo up; while :; do sleep 0.05; done"],
                       restart_policy="always", stop_timeout=1)
    start_monitor(c.cfg, c.cid)
    time.sleep(0.3)
    t0 = time.monotonic()
    info = stop_container(c.cfg, c.cid)
    assert info is not None and info.code == 137  # TERM ignored: SIGKILL after the timeout
    assert time.monotonic() - t0 >= 0.9
    c.wait_monitor_gone()
    assert c.log_text().count("up") == 1


def test_sig_proxy(make_container):
    c = make_container(["sh", "-c", "trap 'echo term; exit 9' TERM; while :; do sleep 0.05; done"])
    start_monitor(c.cfg, c.cid)
    time.sleep(0.3)
    os.kill(pid_file_alive(c.paths.run("monitor.pid")), signal.SIGTERM)
    assert c.wait_exit().code == 9
    assert "stdout F term" in c.log_text()


def test_healthcheck_transitions(make_container, tmp_path):
    flag = tmp_path / "sick"
    from engine.monitor.config import HealthSpec

    c = make_container(["sh", "-c", "sleep 60"], healthcheck=HealthSpec(
        ["CMD-SHELL", f"echo probe; test ! -e {flag}"], interval=0.2, timeout=5, retries=2))
    start_monitor(c.cfg, c.cid)

    def status() -> dict:
        try:
            return json.loads(Path(c.paths.health_json).read_text())
        except (OSError, ValueError):
            return {}

    seen = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not seen or seen[-1] != "unhealthy"):
        s = status().get("Status")
        if s and (not seen or seen[-1] != s):
            seen.append(s)
        if s == "healthy":
            flag.touch()
        time.sleep(0.02)
    assert seen == ["starting", "healthy", "unhealthy"], seen
    doc = status()
    assert doc["FailingStreak"] >= 2
    assert 1 <= len(doc["Log"]) <= 5
    assert doc["Log"][-1]["ExitCode"] == 1 and doc["Log"][-1]["Output"] == "probe\n"
    deadline = time.monotonic() + 10  # events are written by a helper, a moment later
    while time.monotonic() < deadline:
        actions = [(e.get("action"), (e.get("attributes") or {}).get("health_status")) for e in c.events()]
        if ("health_status", "unhealthy") in actions:
            break
        time.sleep(0.05)
    assert ("health_status", "healthy") in actions and ("health_status", "unhealthy") in actions, actions
    with AttachClient(c.paths.run("attach")) as a:  # `hull healthcheck run` through the monitor
        assert a.healthcheck()["exit_code"] == 1
    stop_container(c.cfg, c.cid, timeout=0)


def test_health_on_failure_kill_then_restart_policy(make_container):
    from engine.monitor.config import HealthSpec

    c = make_container(["sh", "-c", "echo up; sleep 60"], restart_policy="on-failure", restart_max_retries=1,
                       healthcheck=HealthSpec(["CMD", "false"], interval=0.1, timeout=5, retries=1,
                                              on_failure="kill"))
    start_monitor(c.cfg, c.cid)
    c.wait_monitor_gone(30)
    assert c.wait_exit().code == 137
    assert c.log_text().count("stdout F up") == 2


def test_monitor_memory_uss(make_container):
    """Not asserted: printed for docs/benchmarks (compare conmon's ~1-2 MB)."""
    c = make_container(["sleep", "30"])
    h = start_monitor(c.cfg, c.cid)
    time.sleep(0.5)
    fields = {}
    for line in Path(f"/proc/{h.monitor_pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        fields[key] = int(value.split()[0])
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    print(f"\nmonitor USS: {uss} kB (Private_Dirty {fields['Private_Dirty']} kB, "
          f"Private_Clean {fields['Private_Clean']} kB, Pss {fields['Pss']} kB, Rss {fields['Rss']} kB)")
    modules = Path(f"/proc/{h.monitor_pid}/cmdline").read_bytes().split(b"\0")
    assert b"-S" in modules
    stop_container(c.cfg, c.cid, timeout=0)


def test_as_unprivileged_user(test_user):
    """The monitor as the rootless test user: detaches, logs, records the exit."""
    from tests.fixtures.users import remove_tree, user_tmpdir

    work = user_tmpdir(test_user, "monitor")
    script = f'''
import json, os, secrets, sys, time
from pathlib import Path
sys.path.insert(0, {str(REPO)!r})
from engine.config import EngineConfig
from engine.monitor.config import ContainerPaths, MonitorConfig
from engine.monitor.launch import start_monitor
from engine.monitor.exitfile import read_exit
cfg = EngineConfig(root=Path({str(work)!r}) / "root", runroot=Path({str(work)!r}) / "run", rootless=True)
cid = secrets.token_hex(32)
p = ContainerPaths(cfg.root, cfg.runroot, cid)
os.makedirs(p.userdata); os.makedirs(p.rundir)
Path(p.spec).write_text(json.dumps({{"process": {{"args": ["sh", "-c", "id -u; exit 5"],
    "env": ["PATH=/usr/bin:/bin"], "cwd": "/", "terminal": False}}}}))
MonitorConfig(runtime="tests.integration.monitor.hostruntime:HostRuntime", log_path=p.default_log).save(p.monitor_json)
h = start_monitor(cfg, cid)
for _ in range(400):
    e = read_exit(p.run("exit"))
    if e: break
    time.sleep(0.025)
time.sleep(0.2)
print(e.code, Path(p.default_log).read_text().split(" ", 1)[1].strip())
'''
    try:
        res = test_user.run([str(REPO / ".venv" / "bin" / "python"), "-c", script], capture_output=True,
                            text=True, timeout=60, cwd=str(work))
        assert res.returncode == 0, res.stderr
        assert res.stdout.split() == ["5", "stdout", "F", str(test_user.uid)], res.stdout
    finally:
        remove_tree(work, test_user)
