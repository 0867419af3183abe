"""Restart policies and healthchecks end to end through the real `hull`, root and
rootless: the monitor restarts, counts, runs checks and reports them in inspect/ps."""

from __future__ import annotations

import os
import signal
import time

from tests.fixtures.cli import wait_for
from tests.integration.cli_containers.conftest import needs_monitor

pytestmark = needs_monitor


def _inspect(h, name: str, fmt: str) -> str:
    return h("inspect", "--format", fmt, name).ok().stdout.strip()


def _state(h, name: str) -> tuple[str, int, int]:
    """(Status, RestartCount, ExitCode) as inspect reports them."""
    status, count, code = _inspect(h, name, "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}").split()
    return status, int(count), int(code)


def _pid(h, name: str) -> int:
    return int(_inspect(h, name, "{{.State.Pid}}"))


# ---------------------------------------------------------------- restart policies
def test_on_failure_2_restarts_twice_then_stays_exited(bb):
    bb("run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3").ok()
    wait_for(lambda: _state(bb, "flaky") == ("exited", 2, 3), timeout=30, what="two restarts then exited")
    time.sleep(1.5)  # no third run after the back-off
    assert _state(bb, "flaky") == ("exited", 2, 3)
    assert "Exited (3)" in bb("ps", "-a", "--format", "{{.Status}}").ok().stdout


def test_on_failure_does_not_restart_a_clean_exit(bb):
    bb("run", "-d", "--name", "fine", "--restart", "on-failure", "busybox", "true").ok()
    wait_for(lambda: _state(bb, "fine")[0] == "exited", timeout=20, what="exit")
    time.sleep(1)
    assert _state(bb, "fine") == ("exited", 0, 0)


def _restarts_after_death_not_after_stop(bb, policy: str) -> None:
    bb("run", "-d", "--name", "svc", "--restart", policy, "busybox", "sleep", "1000").ok()
    wait_for(lambda: _state(bb, "svc")[0] == "running", timeout=20, what="running")
    first = _pid(bb, "svc")
    # the process dies by itself (SIGKILL from outside, not through hull): it runs again
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: _state(bb, "svc")[:2] == ("running", 1) and _pid(bb, "svc") not in (0, first),
             timeout=30, what=f"restart by --restart {policy}")
    # a user stop is final
    bb("stop", "-t", "1", "svc").ok()
    status, count, _ = _state(bb, "svc")
    assert status == "exited" and count == 1
    time.sleep(2)
    assert _state(bb, "svc")[:2] == ("exited", 1)
    assert bb("ps", "-q").ok().stdout == ""


def test_restart_always_after_death_never_after_stop(bb):
    _restarts_after_death_not_after_stop(bb, "always")


def test_restart_unless_stopped_after_death_never_after_stop(bb):
    _restarts_after_death_not_after_stop(bb, "unless-stopped")


def test_restart_always_not_after_hull_kill(bb):
    # Podman: kill marks the container stopped by the user, its policy does not apply
    bb("run", "-d", "--name", "svc", "--restart", "always", "busybox", "sleep", "1000").ok()
    wait_for(lambda: _state(bb, "svc")[0] == "running", timeout=20, what="running")
    bb("kill", "svc").ok()
    wait_for(lambda: _state(bb, "svc")[0] == "exited", timeout=20, what="exit after kill")
    time.sleep(2)
    assert _state(bb, "svc") == ("exited", 0, 137)
    bb("start", "svc").ok()  # a new start lifts the user stop
    assert _state(bb, "svc")[0] == "running"


def test_restart_always_when_the_program_exits_by_itself(bb):
    bb("run", "-d", "--name", "loop", "--restart", "always", "busybox", "sh", "-c", "sleep 0.3; exit 0").ok()
    wait_for(lambda: _state(bb, "loop")[1] >= 2, timeout=30, what="repeated restarts of a clean exit")
    bb("stop", "-t", "0", "loop").ok()
    count = _state(bb, "loop")[1]
    time.sleep(2)
    assert _state(bb, "loop")[:2] == ("exited", count)


# ---------------------------------------------------------------- healthchecks
HEALTH = ("--health-cmd", "test -f /tmp/ok", "--health-interval", "1s", "--health-retries", "2")


def _health(h, name: str) -> str:
    return _inspect(h, name, "{{.State.Health.Status}}")


def test_health_starting_unhealthy_then_healthy(bb):
    bb("run", "-d", "--name", "hc", *HEALTH, "busybox", "sleep", "1000").ok()
    assert _health(bb, "hc") == "starting"
    assert "(starting)" in bb("ps", "--format", "{{.Status}}").ok().stdout
    wait_for(lambda: _health(bb, "hc") == "unhealthy", timeout=30, what="unhealthy after 2 failures")
    assert "(unhealthy)" in bb("ps", "--format", "{{.Status}}").ok().stdout
    assert int(_inspect(bb, "hc", "{{.State.Health.FailingStreak}}")) >= 2
    bb("exec", "hc", "touch", "/tmp/ok").ok()
    wait_for(lambda: _health(bb, "hc") == "healthy", timeout=30, what="healthy once /tmp/ok exists")
    assert "(healthy)" in bb("ps", "--format", "{{.Status}}").ok().stdout
    assert _inspect(bb, "hc", "{{.State.Health.FailingStreak}}") == "0"
    assert _state(bb, "hc")[0] == "running"  # unhealthy alone (on-failure none) kills nothing


def test_healthcheck_run_exit_codes(bb):
    bb("run", "-d", "--name", "hc", "--health-cmd", "test -f /tmp/ok", "--health-interval", "1h",
       "--health-retries", "1", "busybox", "sleep", "1000").ok()
    res = bb("healthcheck", "run", "hc")
    assert res.returncode == 1, res._describe()
    assert res.stdout.strip() == "unhealthy"
    assert _health(bb, "hc") == "unhealthy"
    bb("exec", "hc", "touch", "/tmp/ok").ok()
    res = bb("healthcheck", "run", "hc").ok()
    assert res.stdout == ""
    assert _health(bb, "hc") == "healthy"


def test_healthcheck_run_without_healthcheck_or_not_running(bb):
    bb("run", "-d", "--name", "plain", "busybox", "sleep", "1000").ok()
    bb("healthcheck", "run", "plain").assert_error(125, "has no defined healthcheck")
    bb("create", "--name", "idle", "--health-cmd", "true", "busybox", "true").ok()
    bb("healthcheck", "run", "idle").assert_error(125, "is not running")
    bb("healthcheck", "run", "nosuch").assert_error(125, "no such container")


def test_health_on_failure_kill(bb):
    bb("run", "-d", "--name", "hk", "--health-cmd", "false", "--health-interval", "1s", "--health-retries", "1",
       "--health-on-failure", "kill", "busybox", "sleep", "1000").ok()
    wait_for(lambda: _state(bb, "hk")[0] == "exited", timeout=30, what="killed when unhealthy")
    assert _state(bb, "hk")[2] == 137
    assert _state(bb, "hk")[1] == 0  # no restart policy: it stays down
