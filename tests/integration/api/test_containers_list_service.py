"""The service's container list is kept warm by the child made ready ahead of each
connection (rows decoded, running containers watched through pidfds): it must still
show every change made since, and notice a container whose monitor was SIGKILLed."""

from __future__ import annotations

import os
import signal
import time

from tests.fixtures.cli import wait_for


def _states(svc) -> dict[str, str]:
    return {d["Names"][0].lstrip("/"): d["State"] for d in svc.request("GET", "/containers/json?all=1").json()}


def _pid(path) -> int:
    return int(path.read_text().split()[0])


def test_list_sees_changes_and_killed_monitors(hull_any, busybox_image, api_service):
    hull_any.load(busybox_image)
    hull_any("tag", busybox_image.id.split(":", 1)[1], "busybox").ok()
    for name in ("quiet", "killed", "orphan"):
        hull_any("run", "-d", "--name", name, "busybox", "sleep", "1000").ok()
    svc = api_service(hull_any)
    assert _states(svc) == {"quiet": "running", "killed": "running", "orphan": "running"}
    time.sleep(1)  # the next child is ready and watching by now (not a timing assert: both paths must pass)
    hull_any("create", "--name", "later", "busybox", "true").ok()
    assert _states(svc)["later"] == "created"
    time.sleep(1)
    run = hull_any.runroot / "containers"
    killed = hull_any("inspect", "-f", "{{.Id}}", "killed").ok().stdout.strip()
    orphan = hull_any("inspect", "-f", "{{.Id}}", "orphan").ok().stdout.strip()
    init = _pid(run / killed / "pid")
    os.kill(_pid(run / killed / "monitor.pid"), signal.SIGKILL)
    os.kill(init, signal.SIGKILL)
    os.kill(_pid(run / orphan / "monitor.pid"), signal.SIGKILL)  # its container process lives on
    wait_for(lambda: not os.path.exists(f"/proc/{init}/cmdline") or
             open(f"/proc/{init}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", 10,
             what="the container process to die")
    assert _states(svc) == {"quiet": "running", "killed": "exited", "orphan": "exited", "later": "created"}
    docker = svc.docker("ps", "-a", "--format", "{{.Names}} {{.State}}").ok().stdout.split("\n")
    assert sorted(filter(None, docker)) == ["killed exited", "later created", "orphan exited", "quiet running"]
    hull_any("rm", "-f", "-t", "0", "quiet", "killed", "orphan", "later").ok()
    assert _states(svc) == {}
