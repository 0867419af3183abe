"""`hull run` through the real binary, as root and rootless: output, exit codes,
stdout/stderr separation, -e/-w/-u/--entrypoint, --rm, -d, --cidfile, -a."""

from __future__ import annotations

import time

import pytest

from tests.integration.cli_containers.conftest import needs_monitor

pytestmark = needs_monitor


def test_run_rm_echo_hi(bb):
    res = bb("run", "--rm", "busybox", "echo", "hi").ok()
    assert res.stdout == "hi\n"
    assert res.stderr == ""
    assert bb("ps", "-aq").ok().stdout == ""  # --rm honoured


def test_run_rm_mounts_the_root_volatile_as_podman(bb):
    """--rm: overlayfs never syncs the upper dir (unmounting then flushes nothing)."""
    root = bb("run", "--rm", "busybox", "grep", " / ", "/proc/mounts").ok().stdout
    assert "volatile" in root
    kept = bb("run", "--name", "kept", "busybox", "grep", " / ", "/proc/mounts").ok().stdout
    assert "volatile" not in kept


def test_rm_container_mounted_before_starts_and_goes(bb_root):
    """A volatile mount leaves a mark that blocks remounting: a --rm container mounted
    (and unmounted) before its start still starts, runs and is removed."""
    cid = bb_root("create", "--rm", "busybox", "cat", "/put-there").ok().stdout.strip()
    mnt = bb_root("mount", cid).ok().stdout.strip()
    with open(f"{mnt}/put-there", "w") as fh:
        fh.write("before start\n")
    bb_root("umount", cid).ok()
    assert bb_root("start", "-a", cid).ok().stdout == "before start\n"
    deadline = time.monotonic() + 30  # the monitor removes it after the exit
    while bb_root("ps", "-aq").ok().stdout and time.monotonic() < deadline:
        time.sleep(0.1)
    assert bb_root("ps", "-aq").ok().stdout == ""


@pytest.mark.parametrize("argv,code", [
    (["true"], 0),
    (["sh", "-c", "exit 3"], 3),
    (["false"], 1),
])
def test_run_returns_the_container_exit_code(bb, argv, code):
    assert bb("run", "--rm", "busybox", *argv).returncode == code


def test_run_command_not_found_is_127(bb):
    line = bb("run", "--rm", "busybox", "/no/such/program").assert_error(127)
    assert "/no/such/program" in line or "not found" in line.lower()
    assert bb("ps", "-aq").ok().stdout == ""


def test_run_cannot_invoke_is_126(bb):
    bb("run", "--rm", "busybox", "/etc/passwd").assert_error(126)


def test_run_missing_image_is_125(bb):
    bb("run", "--rm", "--pull", "never", "localhost/nothing-here:1", "true").assert_error(125, "image not known")


def test_run_bad_flag_value_is_one_line_125(bb):
    bb("run", "--rm", "--memory", "lots", "busybox", "true").assert_error(125, "invalid size")
    bb("run", "--rm", "--bogus", "busybox", "true").assert_error(125, "unknown flag: --bogus")
    bb("run", "--rm", "--restart", "sometimes", "busybox", "true").assert_error(125, "restart policy")
    assert bb("ps", "-aq").ok().stdout == ""  # nothing was created


def test_run_without_image_is_125(bb):
    bb("run", "--rm").assert_error(125, "requires at least 1 arg")


def test_stdout_and_stderr_stay_separate(bb):
    res = bb("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; echo out2").ok()
    assert res.stdout == "out\nout2\n"
    assert res.stderr == "err\n"


def test_options_after_image_belong_to_the_command(bb):
    assert bb("run", "--rm", "busybox", "echo", "-e", "--rm", "x").ok().stdout in ("--rm x\n", "-e --rm x\n")
    assert bb("run", "--rm", "busybox", "ls", "-d", "/tmp").ok().stdout == "/tmp\n"


def test_env_workdir_user_entrypoint(bb):
    assert bb("run", "--rm", "-e", "FOO=bar", "busybox", "sh", "-c", "echo $FOO").ok().stdout == "bar\n"
    assert bb("run", "--rm", "-w", "/tmp", "busybox", "pwd").ok().stdout == "/tmp\n"
    assert bb("run", "--rm", "-u", "33", "busybox", "id", "-u").ok().stdout == "33\n"
    assert bb("run", "--rm", "--user", "www-data", "busybox", "id", "-un").ok().stdout == "www-data\n"
    assert bb("run", "--rm", "--entrypoint", "/bin/echo", "busybox", "hello").ok().stdout == "hello\n"
    assert bb("run", "--rm", "--entrypoint", "", "busybox", "echo", "cleared").ok().stdout == "cleared\n"


def test_env_from_host_and_env_file(bb):
    env_file = bb.workdir / "env"
    env_file.write_text("FROM_FILE=yes\n")
    env_file.chmod(0o644)
    res = bb("run", "--rm", "--env-file", str(env_file), "-e", "OVERRIDE=1", "busybox",
             "sh", "-c", "echo $FROM_FILE $OVERRIDE").ok()
    assert res.stdout == "yes 1\n"


def test_stdin_with_interactive(bb):
    assert bb("run", "--rm", "-i", "busybox", "cat", input="piped\n").ok().stdout == "piped\n"
    # without -i the container's stdin is not the CLI's
    assert bb("run", "--rm", "busybox", "cat", input="ignored\n").ok().stdout == ""


def test_run_rm_removes_anonymous_volumes(bb):
    """--rm takes the container's anonymous volumes with it (Podman); named ones stay.
    Hull's attached --rm removed the container first, without them, so they piled up."""
    bb("run", "--rm", "-v", "/anon", "-v", "keep:/keep", "busybox", "true").ok()
    assert bb("volume", "ls", "-q").ok().lines == ["keep"]


def test_restart_prints_the_name_given(bb):
    """Podman prints each container as typed (RawInput); Hull printed the full ID."""
    cid = bb("run", "-d", "--name", "rs", "busybox", "sleep", "1000").ok().stdout.strip()
    try:
        assert bb("restart", "-t", "0", "rs").ok().stdout == "rs\n"
        assert bb("restart", "-t", "0", "-a").ok().stdout == cid + "\n"
    finally:
        bb("rm", "-f", "-t", "0", "rs")


def test_logs_of_several_containers_prefix_short_ids(bb):
    """libpod prefixes lines of several containers with the short ID (the name with
    --names) and one container's lines with nothing; Hull used names by default."""
    ids = {}
    for name, text in (("one", "1"), ("two", "2")):
        bb("run", "--name", name, "busybox", "echo", text).ok()
        ids[name] = bb("inspect", "-f", "{{.Id}}", name).ok().stdout.strip()[:12]
    assert sorted(bb("logs", "one", "two").ok().lines) == sorted([f"{ids['one']} 1", f"{ids['two']} 2"])
    assert sorted(bb("logs", "--names", "one", "two").ok().lines) == ["one 1", "two 2"]
    assert bb("logs", "--names", "one").ok().stdout == "1\n"


def test_attach_only_stdout(bb):
    res = bb("run", "--rm", "-a", "stdout", "busybox", "sh", "-c", "echo out; echo err >&2").ok()
    assert res.stdout == "out\n" and res.stderr == ""


def test_detached_run_ps_logs_stop_rm(bb):
    cid = bb("run", "-d", "--name", "web", "busybox", "sh", "-c",
             "echo started; trap 'exit 0' TERM; while :; do sleep 0.1; done").ok().stdout.strip()
    assert len(cid) == 64 and all(c in "0123456789abcdef" for c in cid)
    try:
        ps_line = bb("ps", "--format", "{{.ID}} {{.Names}} {{.State}} {{.Status}}").ok().stdout
        assert ps_line.startswith(f"{cid[:12]} web running Up "), ps_line
        table = bb("ps").ok().lines
        assert table[0].split()[:2] == ["CONTAINER", "ID"] and "NAMES" in table[0]
        assert table[1].endswith("web")
        from tests.fixtures.cli import wait_for

        wait_for(lambda: "started" in bb("logs", "web").stdout, what="the log line")
        assert bb("stop", "-t", "5", "web").ok().stdout == "web\n"
        status = bb("ps", "-a", "--format", "{{.Status}}").ok().stdout
        assert status.startswith("Exited (0) "), status
        assert bb("ps", "-q").ok().stdout == ""  # not running: only -a shows it
        assert bb("rm", "web").ok().stdout == "web\n"  # Podman prints the name as typed
    finally:
        bb("rm", "-f", "--ignore", cid)
    assert bb("ps", "-aq").ok().stdout == ""


def test_create_prints_id_and_cidfile(bb):
    cidfile = bb.workdir / "cid"
    cid = bb("create", "--cidfile", str(cidfile), "busybox", "echo", "later").ok().stdout.strip()
    assert len(cid) == 64 and cidfile.read_text().strip() == cid
    assert bb("ps", "-a", "--format", "{{.State}}").ok().stdout == "created\n"
    res = bb("start", "-a", cid).ok()
    assert res.stdout == "later\n"
    assert bb("rm", cid[:12]).ok().stdout == cid[:12] + "\n"


def test_rm_prints_names_as_typed_and_all_prints_ids(bb):
    """Podman's rm prints each argument as given (-f -v too); -a prints full IDs."""
    bb("create", "--name", "one", "-v", "/anon", "busybox", "true").ok()
    res = bb("rm", "-f", "-v", "one", "nosuch")
    assert res.returncode == 1 and res.stdout == "one\n"
    two = bb("create", "--name", "two", "busybox", "true").ok().stdout.strip()
    assert bb("rm", "-a").ok().stdout == two + "\n"


def test_run_name_conflict_and_replace(bb):
    bb("create", "--name", "dup", "busybox", "true").ok()
    line = bb("run", "--rm", "--name", "dup", "busybox", "true").assert_error(125, "already in use")
    assert line.startswith('Error: creating container storage: the container name "dup" is already in use by ')
    assert bb("run", "--rm", "--replace", "--name", "dup", "busybox", "echo", "new").ok().stdout == "new\n"


def test_cp_follows_symlink_source_and_podman_errors(bb):
    """Podman's cp copies what a symlink SRC points to (resolved in the container), names
    the container as typed in its errors, and words the stdin cases as Podman 5."""
    import io
    import os
    import tarfile

    bb("create", "--name", "cpc", "busybox", "true").ok()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("target.txt")
        info.size = 6
        t.addfile(info, io.BytesIO(b"inside"))
        link = tarfile.TarInfo("lnk")
        link.type, link.linkname = tarfile.SYMTYPE, "/target.txt"
        t.addfile(link)
    bb("cp", "-", "cpc:/", input=buf.getvalue()).ok()
    out = bb.workdir / "out"
    bb("cp", "cpc:/lnk", str(out)).ok()
    assert not os.path.islink(out) and out.read_text() == "inside"
    bb("cp", "cpc:/nonexist", str(bb.workdir)).assert_error(
        125, '"/nonexist" could not be found on container cpc: no such file or directory')
    bb("cp", "nosuch:/x", str(bb.workdir)).assert_error(125, 'container "nosuch" does not exist')
    bb("cp", "-", "cpc:/target.txt", input=buf.getvalue()).assert_error(
        125, "destination must be a directory when copying from stdin")
    bb("cp", "-", "cpc:/nodir/", input=buf.getvalue()).assert_error(
        125, '"/nodir/" could not be found on container cpc')
