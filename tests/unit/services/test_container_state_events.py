"""Reconcile (dead monitor -> exited), the events log, userdata files, ps status and filters."""

from __future__ import annotations

import os
import threading
import time

import pytest

from engine.config import EngineConfig
from engine.errors import InvalidArgument
from engine.services import events
from engine.services.container_create import hosts_file, resolv_conf
from engine.services.container_list import ListOptions, human_duration, list_containers, status_text
from engine.services.container_state import reconcile, status_word
from engine.spec.options import ContainerOptions
from engine.store import Store
from engine.store.containers import ContainerState, pid_starttime

S = ContainerState


@pytest.fixture
def cfg(tmp_path):
    return EngineConfig(root=tmp_path / "root", runroot=tmp_path / "run", rootless=False)


@pytest.fixture
def store(cfg):
    s = Store.open(cfg)
    yield s
    s.close()


def _running(store, name="c", started=None):
    c = store.containers.create(name, None, "img")
    store.containers.transition(c.id, S.CREATED)
    c = store.containers.transition(c.id, S.RUNNING, started_at=started or time.time(), pid=999999)
    store.containers.make_run_dir(c.id)
    return c


def test_dead_monitor_without_exit_file_reads_as_killed(store):
    c = _running(store)
    fixed = reconcile(store, c)  # no monitor.pid at all: as after a reboot
    assert fixed.state == S.EXITED and fixed.exit_code == 137 and fixed.finished_at > 0
    assert store.containers.get(c.id).state == S.EXITED
    assert any(e.action == "died" and e.id == c.id for e in events.read_events(store.cfg))


def test_dead_monitor_exit_file_gives_the_code(store):
    c = _running(store, started=time.time() - 5)
    run = store.containers.run_dir(c.id)
    (run / "monitor.pid").write_text("999999 1\n")  # a pid that is not alive
    finished_ns = time.time_ns()
    (run / "exit").write_text(f"3 {finished_ns}\n")
    fixed = reconcile(store, c)
    assert (fixed.state, fixed.exit_code) == (S.EXITED, 3)


def test_live_monitor_keeps_running(store):
    c = _running(store)
    (store.containers.run_dir(c.id) / "monitor.pid").write_text(f"{os.getpid()} {pid_starttime(os.getpid())}\n")
    assert reconcile(store, c).state == S.RUNNING
    # same pid, other start time: a recycled pid is not our monitor
    (store.containers.run_dir(c.id) / "monitor.pid").write_text(f"{os.getpid()} 1\n")
    assert reconcile(store, c).state == S.EXITED


def test_status_words():
    assert status_word(S.STOPPED) == "exited" and status_word(S.CONFIGURED) == "created"
    assert status_word(S.RUNNING) == "running" and status_word(S.PAUSED) == "paused"


def test_events_roundtrip_filters_and_rotation(cfg, monkeypatch):
    cfg.prepare()
    events.emit(cfg, "container", "start", id="a" * 64, name="web", image="docker.io/library/busybox:latest",
                attributes={"tier": "front"})
    events.emit(cfg, "container", "died", id="b" * 64, name="db", image="localhost/x:1", exit_code=2)
    events.emit(cfg, "volume", "create", id="v", name="v")
    all_ = list(events.read_events(cfg))
    assert [e.action for e in all_] == ["start", "died", "create"]
    assert [e.name for e in events.read_events(cfg, filters={"container": ["web"]})] == ["web"]
    assert [e.name for e in events.read_events(cfg, filters={"event": ["die"]})] == ["db"]
    assert [e.name for e in events.read_events(cfg, filters={"image": ["busybox"]})] == ["web"]
    assert [e.name for e in events.read_events(cfg, filters={"label": ["tier=front"]})] == ["web"]
    assert [e.type for e in events.read_events(cfg, filters={"type": ["volume"]})] == ["volume"]
    assert list(events.read_events(cfg, since=time.time() + 10)) == []
    doc = all_[1].podman()
    assert doc["Status"] == "died" and doc["ContainerExitCode"] == 2
    assert all_[0].docker()["Actor"]["Attributes"]["name"] == "web"
    with pytest.raises(InvalidArgument):
        events.parse_filters(["bogus=1"])
    monkeypatch.setattr(events, "MAX_LOG_SIZE", 400)
    for i in range(10):
        events.emit(cfg, "container", "start", id=str(i), name=f"n{i}")
    assert (cfg.root / "events.log.1").exists()
    assert os.path.getsize(cfg.root / "events.log") <= 400
    names = [e.name for e in events.read_events(cfg) if e.name.startswith("n")]
    assert names[-1] == "n9"


def test_events_follow_sees_new_lines(cfg):
    cfg.prepare()
    got = []

    def reader():
        for e in events.read_events(cfg, follow=True, until=time.time() + 2, poll_interval=0.05):
            got.append(e.name)

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.2)
    events.emit(cfg, "container", "start", name="late")
    t.join(5)
    assert got == ["late"]


def test_resolv_conf_drops_loopback(tmp_path):
    host = tmp_path / "resolv.conf"
    host.write_text("search example.com\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nnameserver ::1\n")
    text = resolv_conf(ContainerOptions(), str(host))
    assert "127.0.0.53" not in text and "::1" not in text
    assert "nameserver 10.0.0.1" in text and "search example.com" in text
    host.write_text("nameserver 127.0.0.1\n")
    assert "nameserver 8.8.8.8" in resolv_conf(ContainerOptions(), str(host))  # nothing usable left
    assert resolv_conf(ContainerOptions(dns=["1.1.1.1"]), str(host)).count("nameserver") == 1
    assert "127.0.0.1" in resolv_conf(ContainerOptions(network="host"), str(host))


def test_hosts_file(tmp_path):
    base = tmp_path / "hosts"
    base.write_text("# host file\n10.9.9.9 buildhost\n")
    text = hosts_file(ContainerOptions(network="none", add_hosts=["db:10.1.2.3", "v6=fe80::1"]), "abc123", "web",
                      str(base))
    assert "10.9.9.9\tbuildhost" in text  # the host's /etc/hosts is the base (Podman 5)
    assert "127.0.0.1\tlocalhost" in text and "::1\tlocalhost" in text
    assert "10.1.2.3\tdb" in text and "fe80::1\tv6" in text
    assert "127.0.0.1\tabc123 web" in text  # no network: the names on loopback (Podman)
    with pytest.raises(InvalidArgument):
        hosts_file(ContainerOptions(add_hosts=["nohost"]), "h", "n")


def test_ps_status_and_filters(cfg, store):
    now = time.time()
    running = _running(store, "run1", started=now - 5)
    (store.containers.run_dir(running.id) / "monitor.pid").write_text(
        f"{os.getpid()} {pid_starttime(os.getpid())}\n")
    done = store.containers.create("done", None, "img", labels={"a": "1"})
    store.containers.transition(done.id, S.CREATED)
    store.containers.transition(done.id, S.EXITED, exit_code=3, finished_at=now - 120)
    assert status_text(store.containers.get(running.id), now) == "Up 5 seconds"
    assert status_text(store.containers.get(done.id), now) == "Exited (3) 2 minutes ago"
    assert human_duration(0.5) == "Less than a second" and human_duration(3700) == "About an hour"
    assert [c.names[0] for c in list_containers(cfg)] == ["run1"]
    assert [c.names[0] for c in list_containers(cfg, ListOptions(all=True))] == ["done", "run1"]
    assert [c.names[0] for c in list_containers(cfg, ListOptions(latest=True))] == ["done"]
    one = ListOptions(filters={"status": ["exited"]})
    assert [c.names[0] for c in list_containers(cfg, one)] == ["done"]
    assert [c.names[0] for c in list_containers(cfg, ListOptions(all=True, filters={"exited": ["3"]}))] == ["done"]
    assert [c.names[0] for c in list_containers(cfg, ListOptions(all=True, filters={"label": ["a=1"]}))] == ["done"]
    assert [c.names[0] for c in list_containers(cfg, ListOptions(all=True, filters={"name": ["^run"]}))] == ["run1"]
    assert [c.names[0] for c in list_containers(cfg, ListOptions(all=True, filters={"before": ["done"]}))] == ["run1"]
    with pytest.raises(InvalidArgument):
        list_containers(cfg, ListOptions(filters={"bogus": ["1"]}))
