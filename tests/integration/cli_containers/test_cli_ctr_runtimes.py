"""The scenarios that exercise the OCI runtime, through the real CLI, with each
runtime (`--runtime builtin|crun|runc`), as root and rootless: the same assertions
hold for all six.  One engine per (mode, runtime) for the module, busybox loaded once,
to keep this to a couple of minutes.  The whole container suite can also be run with
another runtime: `HULL_TEST_RUNTIME=crun pytest tests/integration/cli_containers`."""

from __future__ import annotations

import glob
import os
import shutil
import time
import uuid

import pytest

from tests.fixtures.cli import make_hull, wait_for
from tests.integration.cli_containers.conftest import needs_monitor
from tests.integration.cli_containers.test_cli_ctr_tty import Pty

pytestmark = needs_monitor

RUNTIMES = ("builtin", "crun", "runc")
# Podman 5's default capability set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID
# SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP.
PODMAN_CAPS = 0x800405FB


def _variant(mode: str, runtime: str) -> object:
    marks = [pytest.mark.rootless] if mode == "rootless" else []
    return pytest.param((mode, runtime), id=f"{mode}-{runtime}", marks=marks)


@pytest.fixture(scope="module", params=[_variant(m, r) for r in RUNTIMES for m in ("root", "rootless")])
def ctr(request, busybox_image):
    mode, runtime = request.param
    if runtime != "builtin" and not shutil.which(runtime):
        pytest.skip(f"{runtime} is not installed")
    if mode == "root" and os.geteuid() != 0:
        pytest.skip("not running as root: the root variant needs root")
    h = make_hull(mode, f"rt-{mode}-{runtime}")
    h.runtime = runtime
    try:
        h.load(busybox_image)
        yield h
    finally:
        h.cleanup()


@pytest.fixture
def bb(ctr):
    """The module's engine; containers a test leaves behind are removed after it."""
    yield ctr
    ctr("rm", "-af", "-t", "0")


def test_exit_codes_streams_env_user_workdir(bb):
    res = bb("run", "--rm", "-e", "FOO=bar", "-u", "33:44", "-w", "/tmp", "busybox", "sh", "-c",
             "echo out $FOO $(id -u):$(id -g) $(pwd); echo err >&2; exit 3")
    assert (res.returncode, res.stdout, res.stderr) == (3, "out bar 33:44 /tmp\n", "err\n"), res._describe()
    assert bb("run", "--rm", "--entrypoint", "/bin/echo", "busybox", "hi").ok().stdout == "hi\n"
    assert bb("run", "--rm", "-i", "busybox", "cat", input="piped\n").ok().stdout == "piped\n"
    bb("run", "--rm", "busybox", "no-such-command").assert_error(127, "not found")
    bb("run", "--rm", "busybox", "/etc").assert_error(126, "permission denied")


def test_capabilities_masked_paths_and_the_host_stays_untouched(bb):
    marker = f"hull-escape-{uuid.uuid4().hex[:8]}"
    script = ("grep -E '^Cap(Eff|Bnd):' /proc/self/status; grep '^Seccomp:' /proc/self/status; "
              "echo masked=$(cat /proc/timer_list /proc/interrupts | wc -c)/$(ls -A /proc/acpi)$(ls -A /sys/firmware)/; "
              "echo x > /proc/sys/kernel/domainname 2>/dev/null || echo procsys=ro; "
              "echo s > /proc/sysrq-trigger 2>/dev/null || echo sysrq=ro; "
              "touch /sys/kernel/x 2>/dev/null || echo sys=ro; "
              # the host's cgroup hierarchies (v1: one mount each under /sys/fs/cgroup): checked from the host
              f"for d in /sys/fs/cgroup /sys/fs/cgroup/*/; do mkdir $d/{marker} 2>/dev/null; done; "
              "mount -t tmpfs none /mnt 2>/dev/null || echo mount=refused; "
              f"touch /{marker} /etc/{marker} && echo rootfs=rw; "
              "mknod /tmp/sda b 8 0 2>/dev/null || echo mknod=refused")
    out = bb("run", "--rm", "busybox", "sh", "-c", script).ok().lines
    assert f"CapEff:\t{PODMAN_CAPS:016x}" in out and f"CapBnd:\t{PODMAN_CAPS:016x}" in out, out
    assert "Seccomp:\t2" in out, out
    assert out[3:] == ["masked=0//", "procsys=ro", "sysrq=ro", "sys=ro", "mount=refused", "rootfs=rw",
                       "mknod=refused"], out
    assert not os.path.exists(f"/{marker}") and not os.path.exists(f"/etc/{marker}")
    assert not glob.glob(f"/sys/fs/cgroup/*/{marker}") and not os.path.exists(f"/sys/fs/cgroup/{marker}")
    # --cap-add / --cap-drop change the set the same way everywhere
    out = bb("run", "--rm", "--cap-drop", "all", "--cap-add", "NET_ADMIN", "busybox",
             "grep", "^CapEff:", "/proc/self/status").ok().stdout
    assert out == f"CapEff:\t{1 << 12:016x}\n"


def test_volumes_read_only_binds_and_read_only_root(bb):
    shared = bb.workdir / "shared"
    shared.mkdir()
    (shared / "in").write_text("from host\n")
    for path in (shared, shared / "in"):
        os.chown(path, bb.user.uid, bb.user.gid)
    res = bb("run", "--rm", "-v", f"{shared}:/ro:ro", "busybox", "sh", "-c",
             "cat /ro/in; touch /ro/new || echo refused; rm /ro/in || echo refused")
    assert res.returncode == 0 and res.stdout == "from host\nrefused\nrefused\n", res._describe()
    assert "Read-only file system" in res.stderr
    assert sorted(os.listdir(shared)) == ["in"]
    bb("run", "--rm", "-v", f"{shared}:/rw", "busybox", "sh", "-c", "echo back > /rw/out").ok()
    assert (shared / "out").read_text() == "back\n"
    bb("run", "--rm", "-v", "keep:/data", "busybox", "sh", "-c", "echo persisted > /data/f").ok()
    assert bb("run", "--rm", "-v", "keep:/data:ro", "busybox", "cat", "/data/f").ok().stdout == "persisted\n"
    res = bb("run", "--rm", "--read-only", "busybox", "sh", "-c", "touch /x || echo ro; touch /tmp/y && echo tmp")
    assert res.returncode == 0 and res.stdout == "ro\ntmp\n", res._describe()
    bb("volume", "rm", "keep").ok()


def test_tty_detach_exec_and_attach_again(bb):
    term = Pty(bb, "run", "-it", "--name", "tty", "busybox", "sh")
    try:
        term.read_until(b"# ")
        term.type(b"tty; echo $((6*7))\r")
        seen = term.read_until(b"42")
        assert b"/dev/pts/0" in seen
        term.type(b"\x10\x11")  # ctrl-p ctrl-q
        assert term.wait() == 0
    finally:
        term.close()
    ex = Pty(bb, "exec", "-it", "tty", "sh")
    try:
        ex.read_until(b"# ")
        ex.type(b"echo in$((3*3)) $(tty | grep -c pts)\r")
        ex.read_until(b"in9 1")
        ex.type(b"exit 4\r")
        assert ex.wait() == 4
    finally:
        ex.close()
    again = Pty(bb, "attach", "tty")
    try:
        again.wait_raw()
        again.type(b"echo again$((1+1))\r")
        again.read_until(b"again2")
        again.type(b"exit 5\r")
        assert again.wait() == 5
    finally:
        again.close()
    assert bb("ps", "-a", "--format", "{{.Names}} {{.ExitCode}}").ok().stdout == "tty 5\n"


def test_detached_exec_pause_stop_kill_logs_rm(bb):
    bb("run", "-d", "--name", "svc", "busybox", "sh", "-c",
       "echo started; trap 'echo bye; exit 0' TERM; while :; do date +%s%N > /tmp/t; usleep 20000; done").ok()
    wait_for(lambda: "started" in bb("logs", "svc").stdout, what="the first log line")
    res = bb("exec", "-e", "V=1", "-u", "33", "-w", "/tmp", "svc", "sh", "-c", "echo $V $(id -u) $(pwd); exit 2")
    assert (res.returncode, res.stdout) == (2, "1 33 /tmp\n"), res._describe()
    bb("exec", "svc", "nope").assert_error(127)
    assert "sh -c" in bb("top", "svc").ok().stdout
    stats = bb("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "svc").ok().stdout
    name, pids = stats.split()
    assert name == "svc" and int(pids) >= 1, stats  # sh, and usleep at times

    def stamp() -> str:
        return bb("cp", "svc:/tmp/t", "-").ok().stdout  # a tar of the file: changes with it

    bb("pause", "svc").ok()
    assert bb("inspect", "--format", "{{.State.Status}}", "svc").ok().stdout == "paused\n"
    first = stamp()
    time.sleep(0.3)  # the loop writes every 20 ms when it runs
    assert stamp() == first
    bb("unpause", "svc").ok()
    wait_for(lambda: stamp() != first, what="the loop to run again")

    assert bb("stop", "-t", "10", "svc").ok().stdout == "svc\n"
    assert bb("inspect", "--format", "{{.State.ExitCode}}", "svc").ok().stdout == "0\n"
    assert bb("logs", "svc").ok().stdout.splitlines()[-1] == "bye"
    bb("start", "svc").ok()
    bb("kill", "-s", "KILL", "svc").ok()
    assert bb("wait", "svc").ok().stdout == "137\n"
    bb("rm", "svc").ok()
    bb("run", "-d", "--name", "busy", "busybox", "sleep", "1000").ok()
    bb("rm", "-f", "-t", "0", "busy").ok()
    assert bb("ps", "-aq").ok().stdout == ""


def test_ulimits_clamped_and_limits_applied_or_warned(bb):
    res = bb("run", "--rm", "--ulimit", "nofile=2000000000:2000000000", "--ulimit", "nproc=500:600",
             "busybox", "sh", "-c", "ulimit -Hn; ulimit -u").ok()
    hard = int(res.lines[0])
    assert 0 < hard < 2000000000 and res.lines[1] == "500", res._describe()
    assert f"--ulimit nofile lowered to {hard}:{hard}" in res.stderr, res._describe()
    res = bb("run", "--rm", "-m", "64m", "--pids-limit", "77", "busybox", "sh", "-c",
             "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes "
             "/sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max 2>/dev/null; true").ok()
    if "Resource limits are not supported" not in res.stderr:  # no warning: the limits hold
        assert sorted(res.lines) == ["67108864", "77"], res._describe()
