"""Start/stop/rm/wait with real containers through the services (needs the monitor):
exit codes, stop escalation, rm -f of a running container, a SIGKILLed monitor, a
wiped runroot (simulated reboot), named volumes across containers."""

from __future__ import annotations

import os
import shutil
import signal
import time

import pytest

from engine.services import containers
from engine.spec.options import ContainerOptions, MountSpec
from tests.integration.services.conftest import needs_monitor

pytestmark = pytest.mark.usefixtures("_monitor")


@pytest.fixture
def _monitor():
    needs_monitor()


def _opts(*cmd: str, **kw) -> ContainerOptions:
    return ContainerOptions(image="busybox", command=list(cmd), network="none", **kw)


def _monitor_pid(cfg, cid) -> int:
    return int((cfg.runroot / "containers" / cid / "monitor.pid").read_text().split()[0])


def test_create_start_wait_exit_code(root_engine):
    cfg, _ = root_engine
    r = containers.create(cfg, _opts("sh", "-c", "exit 3"))
    containers.start(cfg, [r.id])
    assert containers.wait(cfg, [r.id]) == [3]
    [doc] = containers.inspect(cfg, [r.id])
    assert doc["State"]["Status"] == "exited" and doc["State"]["ExitCode"] == 3
    assert not doc["State"]["Running"] and doc["State"]["FinishedAt"] != "0001-01-01T00:00:00Z"
    containers.start(cfg, [r.id])  # an exited container starts again
    assert containers.wait(cfg, [r.id]) == [3]


def test_stop_escalates_to_sigkill(root_engine):
    cfg, _ = root_engine
    r = containers.create(cfg, _opts("sh", "-c", "trap '' TERM; while true; do sleep 0.1; done", stop_timeout=1))
    containers.start(cfg, [r.id])
    t0 = time.monotonic()
    [c] = containers.stop(cfg, [r.id])
    took = time.monotonic() - t0
    assert c.state.value == "exited" and c.exit_code == 137
    assert 0.9 <= took < 8, took
    assert containers.inspect(cfg, [r.id])[0]["State"]["Status"] == "exited"


def test_stop_with_term_is_quick(root_engine):
    cfg, _ = root_engine
    r = containers.create(cfg, _opts("sh", "-c", "trap 'exit 0' TERM; touch /ready; while true; do sleep 0.1; done"))
    containers.start(cfg, [r.id])
    # Stop only once the trap is set: before that, sh as PID 1 ignores TERM.
    ready = cfg.containers_dir / r.id / "upper" / "ready"
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    [c] = containers.stop(cfg, [r.id], timeout=30)
    assert c.exit_code == 0  # the TERM handler ran: a SIGKILL would have made it 137
    assert containers.inspect(cfg, [r.id])[0]["State"]["Status"] == "exited"


def test_rm_force_running(root_engine):
    cfg, _ = root_engine
    r = containers.create(cfg, _opts("sleep", "1000"))
    containers.start(cfg, [r.id])
    report = containers.remove(cfg, [r.id])
    assert report.exit_code == 2 and "container state improper" in str(report.errors[0])
    report = containers.remove(cfg, [r.id], containers.RmOptions(force=True))
    assert report.exit_code == 0 and not containers.exists(cfg, r.id)
    assert r.id not in open("/proc/self/mountinfo").read()


def test_sigkill_of_monitor(root_engine):
    cfg, _ = root_engine
    r = containers.create(cfg, _opts("sleep", "1000"))
    containers.start(cfg, [r.id])
    os.kill(_monitor_pid(cfg, r.id), signal.SIGKILL)
    time.sleep(0.2)
    [doc] = containers.inspect(cfg, [r.id])
    assert doc["State"]["Status"] == "exited" and doc["State"]["ExitCode"] == 137
    containers.start(cfg, [r.id])
    assert containers.inspect(cfg, [r.id])[0]["State"]["Status"] == "running"
    assert containers.remove(cfg, [r.id], containers.RmOptions(force=True)).exit_code == 0


def test_wiped_runroot_reads_exited_and_starts_again(root_engine):
    cfg, _ = root_engine
    r = containers.create(cfg, _opts("sleep", "1000"))
    containers.start(cfg, [r.id])
    # a reboot: every process gone, runroot wiped
    pid = int((cfg.runroot / "containers" / r.id / "pid").read_text().split()[0])
    os.kill(_monitor_pid(cfg, r.id), signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    from engine.store import Store

    store = Store.open(cfg)
    containers.unmount_rootfs(store, store.containers.get(r.id))
    shutil.rmtree(cfg.runroot)
    [summary] = containers.list_containers(cfg, containers.ListOptions(all=True))
    assert summary.state == "exited"
    containers.start(cfg, [r.id])
    assert containers.inspect(cfg, [r.id])[0]["State"]["Running"] is True


def test_named_volume_persists(root_engine):
    cfg, _ = root_engine
    vol = [MountSpec(type="volume", source="keep", destination="/data")]
    a = containers.create(cfg, _opts("sh", "-c", "echo kept > /data/f", mounts=vol, rm=False))
    containers.start(cfg, [a.id])
    assert containers.wait(cfg, [a.id]) == [0]
    containers.remove(cfg, [a.id], containers.RmOptions(volumes=True))
    b = containers.create(cfg, _opts("sh", "-c", "test \"$(cat /data/f)\" = kept", mounts=vol))
    containers.start(cfg, [b.id])
    assert containers.wait(cfg, [b.id]) == [0]


def test_copy_up_into_empty_volume(root_engine):
    cfg, _ = root_engine
    vol = [MountSpec(type="volume", source="etc", destination="/etc")]
    a = containers.create(cfg, _opts("true", mounts=vol))
    containers.start(cfg, [a.id])
    containers.wait(cfg, [a.id])
    data = cfg.root / "volumes" / "etc" / "_data"
    assert (data / "passwd").is_file()


def test_rootless_lifecycle(rootless_engine):
    out = rootless_engine.run("""
        from engine.services import containers
        from engine.spec.options import ContainerOptions, MountSpec
        vol = [MountSpec(type="volume", source="v", destination="/data")]
        a = containers.create(cfg, ContainerOptions(image="busybox", network="none", mounts=vol,
                              command=["sh", "-c", "echo x > /data/f; exit 4"]))
        containers.start(cfg, [a.id])
        code = containers.wait(cfg, [a.id])[0]
        b = containers.create(cfg, ContainerOptions(image="busybox", network="none", stop_timeout=1,
                              command=["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"]))
        containers.start(cfg, [b.id])
        stopped = containers.stop(cfg, [b.id])[0].exit_code
        c = containers.create(cfg, ContainerOptions(image="busybox", network="none", command=["sleep", "100"]))
        containers.start(cfg, [c.id])
        forced = containers.remove(cfg, [c.id], containers.RmOptions(force=True)).exit_code
        d = containers.create(cfg, ContainerOptions(image="busybox", network="none", mounts=vol,
                              command=["cat", "/data/f"]))
        containers.start(cfg, [d.id])
        code_d = containers.wait(cfg, [d.id])[0]
        result({"code": code, "stopped": stopped, "forced": forced, "code_d": code_d})
    """)
    assert out == {"code": 4, "stopped": 137, "forced": 0, "code_d": 0}
