"""exec, cp, export, diff, commit, top, stats and logs on real containers through the
real `hull` binary, as root and as the rootless test user (hull_any).

Includes the two cp attacks of issue 3: a symlink inside the container pointing at
a host path, and the CVE-2018-15664 swap race (the container flips a path between a
directory and a symlink to a host directory while cp runs again and again)."""

import io
import os
import tarfile
import time
import uuid

import pytest

from tests.fixtures.cli import wait_for

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def h(hull_any, busybox_image):
    hull_any.load(busybox_image)
    return hull_any


RUNTIME = os.environ.get("HULL_TEST_RUNTIME")  # e.g. runc: the same scenarios on another runtime


def run_d(h, *args, name=None):
    name = name or "c" + uuid.uuid4().hex[:8]
    runtime = ["--runtime", RUNTIME] if RUNTIME else []
    h(*runtime, "run", "-d", "--name", name, "--network", "none", *args).ok()
    return name


def sleeper(h, name=None):
    return run_d(h, "localhost/busybox", "sleep", "1000", name=name)


def make_world_writable(path):
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o777)
    return path


# -- exec ------------------------------------------------------------------------------------
def test_exec_exit_codes_env_user_workdir(h):
    c = sleeper(h)
    r = h("exec", c, "sh", "-c", "exit 7")
    assert r.returncode == 7, r._describe()
    out = h("exec", "-e", "FOO=bar", "-w", "/tmp", "-u", "nobody", c, "sh", "-c",
            'echo "$FOO $(pwd) $(id -u)"').ok().stdout
    assert out.strip() == "bar /tmp 65534"
    assert h("exec", c, "sh", "-c", "echo $PATH").ok().stdout.strip().startswith("/")
    h("exec", c, "no-such-command").assert_error(127, "executable file")
    h("exec", c, "/etc/passwd").assert_error(126)
    assert h("exec", "-i", c, "cat", input="piped").ok().stdout == "piped"
    caps = lambda *flags: int(h("exec", *flags, c, "sh", "-c", "grep CapEff /proc/self/status").ok()
                              .stdout.split()[1], 16)
    plain, privileged = caps(), caps("--privileged")
    assert plain & privileged == plain and privileged & (1 << 21) and not plain & (1 << 21)  # CAP_SYS_ADMIN


def test_exec_in_stopped_container_fails(h):
    c = run_d(h, "localhost/busybox", "true")
    wait_for(lambda: h("ps", "-a", "--filter", f"name={c}", "--format", "{{.State}}").stdout.strip()
             in ("exited", "stopped"), timeout=30, what="container exit")
    h("exec", c, "true").assert_error(125, "container state improper")


# -- cp --------------------------------------------------------------------------------------
def test_cp_both_ways_and_tar_streams(h):
    c = sleeper(h)
    work = h.workdir
    (work / "in.txt").write_text("into the container\n")
    h("cp", str(work / "in.txt"), f"{c}:/tmp/").ok()
    assert h("exec", c, "cat", "/tmp/in.txt").ok().stdout == "into the container\n"
    h("cp", f"{c}:/etc/passwd", str(work / "passwd")).ok()
    assert (work / "passwd").read_text().startswith("root:")
    h("exec", c, "sh", "-c", "mkdir -p /d/sub && echo x > /d/sub/f").ok()
    h("cp", f"{c}:/d", str(work / "dcopy")).ok()
    assert (work / "dcopy" / "sub" / "f").read_text() == "x\n"
    # tar to stdout, tar from stdin
    data = h("cp", f"{c}:/d", "-").ok().stdout_bytes
    assert "d/sub/f" in tarfile.open(fileobj=io.BytesIO(data)).getnames()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        info = tarfile.TarInfo("fromstdin.txt")
        info.size = 3
        t.addfile(info, io.BytesIO(b"abc"))
    h("cp", "-", f"{c}:/tmp", input=buf.getvalue()).ok()
    assert h("exec", c, "cat", "/tmp/fromstdin.txt").ok().stdout == "abc"
    # a stopped container too
    h("stop", "-t", "0", c).ok()
    h("cp", str(work / "in.txt"), f"{c}:/in-stopped.txt").ok()
    h("cp", f"{c}:/in-stopped.txt", str(work / "back.txt")).ok()
    assert (work / "back.txt").read_text() == "into the container\n"
    h("cp", f"{c}:/nope", str(work)).assert_error(125, "could not be found")


def test_cp_symlink_to_host_path_resolves_inside(h):
    victim = make_world_writable(h.workdir / "victim")
    (victim / "secret").write_text("host secret")
    os.chmod(victim / "secret", 0o666)
    before = sorted(os.listdir(victim))
    c = sleeper(h)
    h("exec", c, "sh", "-c", f"ln -s {victim} /evil && ln -s / /up && mkdir -p {victim}").ok()
    (h.workdir / "payload").write_text("pwned")
    h("cp", str(h.workdir / "payload"), f"{c}:/evil/")       # lands in the container's {victim}
    h("cp", str(h.workdir / "payload"), f"{c}:/up/payload2").ok()
    assert h("exec", c, "cat", "/payload2").ok().stdout == "pwned"
    r = h("cp", f"{c}:/evil/secret", str(h.workdir / "stolen"))
    assert r.returncode != 0 or (h.workdir / "stolen").read_text() != "host secret"
    assert sorted(os.listdir(victim)) == before and (victim / "secret").read_text() == "host secret"


def test_cp_swap_race_cve_2018_15664(h):
    victim = make_world_writable(h.workdir / "race-victim")
    (victim / "secret").write_text("host secret")
    os.chmod(victim / "secret", 0o666)
    c = run_d(h, "localhost/busybox", "sh", "-c",
              f"while true; do mkdir -p /swap; rm -rf /swap; ln -s {victim} /swap; rm -f /swap; done")
    (h.workdir / "payload").write_text("pwned")
    deadline = time.monotonic() + 20
    rounds = 0
    while time.monotonic() < deadline and rounds < 40:
        h("cp", str(h.workdir / "payload"), f"{c}:/swap/x")
        h("cp", str(h.workdir / "payload"), f"{c}:/swap")
        h("cp", f"{c}:/swap/secret", str(h.workdir / f"out{rounds}"))
        rounds += 1
    assert rounds >= 10
    assert sorted(os.listdir(victim)) == ["secret"] and (victim / "secret").read_text() == "host secret"
    for i in range(rounds):
        out = h.workdir / f"out{i}"
        assert not out.exists() or out.read_text() != "host secret"


# -- export, diff, commit --------------------------------------------------------------------
def test_export_diff_commit(h):
    c = sleeper(h)
    h("exec", c, "sh", "-c", "echo new > /added.txt && echo changed >> /etc/passwd && rm -rf /home").ok()
    diff = h("diff", c).ok().lines
    assert "A /added.txt" in diff and "C /etc/passwd" in diff and "D /home" in diff
    out = h.workdir / "exp.tar"
    h("export", "-o", str(out), c).ok()
    with tarfile.open(out) as t:
        names = t.getnames()
        assert "added.txt" in names and "bin/busybox" in names and "home" not in names
    iid = h("commit", "-c", "ENV COMMITTED=yes", "-m", "msg", c, "localhost/committed:v1").ok().stdout.strip()
    assert len(iid) == 64
    runtime = ["--runtime", RUNTIME] if RUNTIME else []
    got = h(*runtime, "run", "--rm", "--network", "none", "localhost/committed:v1", "sh", "-c",
            'cat /added.txt; echo "$COMMITTED"; ls /home 2>&1 || true').ok().stdout
    assert got.startswith("new\nyes\n") and "No such file" in got


# -- top, stats, logs ------------------------------------------------------------------------
def test_top_stats_logs(h):
    c = run_d(h, "localhost/busybox", "sh", "-c", "echo hello; echo oops >&2; exec sleep 1000")
    lines = h("top", c).ok().lines
    assert lines[0].split()[:7] == ["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME"]
    assert any(l.split()[0] == "root" and l.split()[1] == "1" and "sleep 1000" in l for l in lines[1:])
    assert h("top", c, "pid,args").ok().lines[0].split() == ["PID", "COMMAND"]
    stats = h("stats", "--no-stream", c).ok().lines
    assert len(stats) == 2 and c in stats[1], stats
    r = wait_for(lambda: (lambda x: x if "hello" in x.stdout else None)(h("logs", c)), timeout=20, what="logs")
    assert r.stdout == "hello\n" and r.stderr == "oops\n"


def test_attach_service_gets_output_and_exit_code(h):
    """container_io.attach against the real monitor, in-process (root only: the
    rootless variant would have to run inside the test user's namespace)."""
    if h.rootless:
        pytest.skip("in-process attach runs as root")
    from engine.config import EngineConfig
    from engine.services import container_io

    c = run_d(h, "localhost/busybox", "sh", "-c", "sleep 2; echo from-ctr; echo oops >&2; exit 4")
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    cfg = EngineConfig(root=h.root, runroot=h.runroot, rootless=False)
    res = container_io.attach(cfg, c, container_io.AttachOptions(stdin=False, stdout_fd=out_w, stderr_fd=err_w,
                                                                 tty=False))
    assert res.exit_code == 4 and not res.detached
    assert os.read(out_r, 100) == b"from-ctr\n" and os.read(err_r, 100) == b"oops\n"


def test_update_records_limits(h):
    c = sleeper(h)
    r = h("update", "--memory", "64m", "--pids-limit", "50", c).ok()
    assert r.stdout.strip() and "Traceback" not in r.stderr
    assert h("inspect", c, "--format", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}").ok().stdout.split() == [
        str(64 << 20), "50"]
    h("update", c).assert_error(125, "must specify at least one")
