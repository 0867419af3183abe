"""`hull system reset` and `hull system prune` with containers, root and rootless."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.cli import wait_for
from tests.integration.cli_containers.conftest import needs_monitor

pytestmark = needs_monitor


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _mounts_below(*dirs: Path) -> list[str]:
    prefixes = tuple(str(d) + "/" for d in dirs)
    with open("/proc/self/mountinfo") as fh:
        return [line.split()[4] for line in fh if line.split()[4].startswith(prefixes)]


def test_system_reset_stops_and_removes_running_containers(bb):
    bb("volume", "create", "data").ok()
    bb("run", "-d", "--name", "svc", "-v", "data:/data", "busybox", "sleep", "1000").ok()
    bb("run", "-d", "--name", "other", "--restart", "always", "busybox", "sleep", "1000").ok()
    pids = []
    for name in ("svc", "other"):
        cid = bb("inspect", "--format", "{{.Id}}", name).ok().stdout.strip()
        run = bb.runroot / "containers" / cid
        pids += [int((run / f).read_text().split()[0]) for f in ("monitor.pid", "pid")]
    assert all(_alive(p) for p in pids)
    if not bb.rootless:
        assert _mounts_below(bb.runroot), "the rootfs should be mounted while running"
    bb("system", "reset", "-f").ok()
    wait_for(lambda: not any(_alive(p) for p in pids), timeout=15, what="monitors and containers to end")
    assert not bb.root.exists() and not bb.runroot.exists()
    assert _mounts_below(bb.root, bb.runroot) == []
    # a fresh engine afterwards
    assert bb("ps", "-aq").ok().stdout == ""
    assert bb("volume", "ls", "-q").ok().stdout == ""


def test_system_prune_containers_images_volumes(bb):
    bb("volume", "create", "used").ok()
    bb("volume", "create", "unused").ok()
    bb("run", "-d", "--name", "up", "-v", "used:/data", "busybox", "sleep", "1000").ok()
    bb("run", "--name", "done", "busybox", "sh", "-c", "echo x > /file").ok()
    dangling = bb("commit", "-q", "done").ok().stdout.strip()
    assert dangling
    images_before = bb("images", "-q", "--no-trunc").ok().stdout
    assert dangling.split(":")[-1][:12] in images_before

    out = bb("system", "prune", "-f").ok().stdout
    assert "Deleted Containers" in out and "Deleted Images" in out and "Total reclaimed space:" in out
    assert bb("ps", "-a", "--format", "{{.Names}}").ok().stdout.split() == ["up"]
    images = bb("images", "-q", "--no-trunc").ok().stdout
    assert dangling.split(":")[-1] not in images
    assert images.strip()  # busybox, used by "up", stays
    assert sorted(bb("volume", "ls", "-q").ok().stdout.split()) == ["unused", "used"]  # no --volumes

    out = bb("system", "prune", "-f", "--volumes").ok().stdout
    assert "Deleted Volumes\nunused\n" in out
    assert bb("volume", "ls", "-q").ok().stdout.split() == ["used"]
    assert bb("ps", "-q").ok().stdout.strip()  # the running container untouched
    assert "Deleted Containers" not in out  # nothing left to prune


def test_commit_short_name_goes_to_localhost(bb):
    """`commit CTR name:tag` tags localhost/name:tag as Podman (Hull gave docker.io/library/)."""
    bb("create", "--name", "src", "busybox", "true").ok()
    bb("commit", "-q", "src", "mine:1").ok()
    assert bb("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=mine").ok().stdout == \
        "localhost/mine:1\n"
    assert bb("run", "--rm", "mine:1", "echo", "ok").ok().stdout == "ok\n"


def test_events_stream_shows_only_new_events(hull_any):
    """`events` without --since streams what happens from now on, as Podman's file backend
    (it tails from the end); Hull replayed the whole log first, so a script waiting for a
    `die` event was woken at once by an old one."""
    import os
    import signal
    import threading

    h = hull_any
    h("volume", "create", "old").ok()
    proc = h.popen("events", "--filter", "type=volume", "--format", "{{.Status}} {{.Name}}")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(l.decode().strip() for l in proc.stdout), daemon=True)
    reader.start()
    created = []
    try:
        def new_event_seen() -> bool:  # the stream starts some time after popen: create until one shows
            created.append(f"new{len(created)}")
            h("volume", "create", created[-1]).ok()
            return bool(lines)
        wait_for(new_event_seen, timeout=30, interval=0.2, what="a streamed event")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        reader.join(timeout=10)
    assert lines and all(line.startswith("create new") for line in lines), lines
